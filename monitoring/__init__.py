"""monitoring deployable: Yokoyama's sidecar monitoring for every Strata component.

- ``python -m monitoring sidecar --component C``: a process next to component C that probes its /healthz and
  /readyz over loopback and exports ``strata_sidecar_probe_*`` on its own /metrics.
- ``prometheus/``: scrape config, alert rules (with promtool unit tests); ``alertmanager/``: routing.
"""
