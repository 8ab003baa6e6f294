"""comparative_eval deployable: deployments as data, canary/shadow analysis, automatic promotion and rollback.

It keeps an append-only history of deployment records per model, pushes each change to the inference engine's
routing, consumes the prediction log and the outcome topics, and compares a candidate version with the stable one
on live traffic (see docs/contracts.md, "Comparative evaluation").
"""
