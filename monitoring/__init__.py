"""monitoring deployable."""
