"""Near-real-time feature groups: a worker applies event-log events to per-entity window state, writes the
changed entities' values to the online store, and appends the same rows to the offline store (lake).

Modules: ``windows`` (pure window maths), ``group`` (the streaming-group protocol and its loader),
``state_sqlite`` (window state + outbox, one transaction per batch), ``offline`` (outbox -> lake),
``worker`` (the consume/apply/write/commit loop), ``metrics`` (freshness and lag); the worker is wired in
``data_processing.entrypoints.stream_worker``.
"""
