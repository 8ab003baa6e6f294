"""Adapters of the sidecar monitor: the HTTP target and the Prometheus recorder."""
