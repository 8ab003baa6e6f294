"""Strata's published language: every payload that crosses a deployable's boundary, as code both sides use.

One module per conversation between deployables; each wire type is a frozen dataclass with ``to_wire()`` (the
JSON-ready dict the producer sends) and ``from_wire(...)`` (the consumer's parse, raising a 400-class
:class:`strata_kernel.errors.StrataError` that names the bad field):

- :mod:`.topics`      every event-log topic with its key field;  :mod:`.headers` every header between services
- :mod:`.events`      the event payloads: ``etd.order_*``, ``help.questions`` / ``help.feedback``,
                      ``inference.predictions``
- :mod:`.etd`         business_logic -> data_processing ``POST /v1/etd/estimate``
- :mod:`.help`        business_logic -> data_processing ``POST /v1/help/answer``
- :mod:`.prediction`  data_processing / comparative_eval -> inference_engine: predict, validate, a served model
- :mod:`.routing`     comparative_eval <-> inference_engine: the routing record
- :mod:`.lake_commit` every writer -> data_lake ``POST /v1/tables/{table}/commits`` and the catalog's answer
- :mod:`.deployment_api` the operator's CLI -> comparative_eval: deployment changes and the records answered
- :mod:`.auth`        the operator token (where it is looked up) and the bearer check of mutating calls
- :mod:`.deadline`    one deadline carried from the top of a request chain down every hop

This package imports the standard library and :mod:`strata_kernel.errors` only — no framework, no deployable
(import-linter and ``tests/contracts`` check it), so any deployable, tool or sidecar can use it.
"""
