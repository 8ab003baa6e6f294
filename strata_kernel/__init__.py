"""Strata's shared kernel: settings, errors, service scaffolding, metrics, HTTP and event-log clients.

Deployables may import this package; it imports none of them (enforced by import-linter).
"""
