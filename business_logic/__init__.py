"""business_logic deployable."""
