"""Routing between a model's stable and candidate versions: the deployment a request reads, validation of a
version, shadow scoring, the prediction log port and the comparative_eval poller."""
