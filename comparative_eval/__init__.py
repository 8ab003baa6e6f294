"""comparative_eval deployable."""
