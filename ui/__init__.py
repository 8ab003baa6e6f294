"""ui deployable."""
