"""data_lake deployable."""
