"""Routing between a model's stable and candidate versions (issue 6): the record, the sticky split, node pins,
the prediction log and the comparative_eval poller."""
