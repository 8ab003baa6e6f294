"""The `strata` operator and developer CLI."""
