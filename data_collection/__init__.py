"""data_collection deployable."""
