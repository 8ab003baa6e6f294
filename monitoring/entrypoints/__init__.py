"""Entry points of the monitoring deployable: the sidecar's HTTP app and the CLI."""
