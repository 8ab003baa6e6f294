"""Pure domain values and rules of comparative_eval (none yet: the package arrives with the canary/rollback issue)."""
