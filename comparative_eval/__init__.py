"""comparative_eval deployable: not built yet.

It will compare a candidate model with the serving one on live traffic (canary share, shadow predictions) and
drive the rollback of the `production` alias; it arrives with the canary/rollback issue. Until then this package
holds no code, has no `serve` command and no service in docker-compose.yml (its port, 8006, is reserved in
docs/contracts.md).
"""
