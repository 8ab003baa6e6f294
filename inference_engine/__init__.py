"""inference_engine deployable."""
