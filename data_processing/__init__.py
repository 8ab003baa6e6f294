"""data_processing deployable."""
