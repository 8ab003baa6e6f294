"""A partitioned model's tree as the inference engine's ``GET /v1/models/{name}/tree`` returns it (tiny)."""

from __future__ import annotations

import json
from typing import Any

PARTITION_BY = ["country_code", "city_id"]
MARKUP = "<img src=x onerror=alert(1)>"


def _node(key: list[str], status: str, rows: int, metric: float | None, parent: float | None, served_by: str,
          reason: str = "") -> dict[str, Any]:  # fmt: skip
    node_id = "/".join(f"{c}={v}" for c, v in zip(PARTITION_BY, key, strict=False)) or "global"
    compared_with = None if not key else served_by if status != "trained" else _parent_id(key)
    return {"node": node_id, "level": len(key), "key": key, "status": status, "reason": reason, "rows": rows,
            "rows_valid": rows // 5, "metric": metric, "parent_metric": parent, "compared_with": compared_with,
            "served_by": served_by, "metrics": {"mae": metric} if metric is not None else {}, "fitted_params": {},
            "attempt": 1, "seconds": 0.1}  # fmt: skip


def _parent_id(key: list[str]) -> str:
    return "/".join(f"{c}={v}" for c, v in zip(PARTITION_BY, key[:-1], strict=False)) or "global"


NL, PT, FR = "country_code=NL", "country_code=PT", "country_code=FR"
NODES = [
    _node([], "trained", 2280, 3.1, None, "global", "the root always trains"),
    _node(["FR"], "skipped_min_rows", 120, None, None, "global", "120 rows < min_rows 150"),
    _node(["NL"], "trained", 1400, 2.4, 3.0, NL, "mae 2.4000 beats global's 3.0000"),
    _node(["PT"], "trained", 760, 1.2, 1.9, PT, "mae 1.2000 beats global's 1.9000"),
    _node(["FR", "c-lyo"], "skipped_min_rows", 40, None, None, "global", "40 rows < min_rows 150"),
    _node(["FR", "c-par"], "skipped_min_rows", 80, None, None, "global", "80 rows < min_rows 150"),
    _node(["NL", "c-ams"], "trained", 900, 1.1, 4.2, f"{NL}/city_id=c-ams", "mae 1.1000 beats NL's 4.2000"),
    _node(["NL", "c-rot"], "worse_than_parent", 500, 1.3, 1.0, NL, f"mae 1.3000 does not beat NL's 1.0000 {MARKUP}"),
    _node(["PT", "c-lis"], "skipped_min_rows", 60, None, None, PT, "60 rows < min_rows 150"),
    _node(["PT", "c-opo"], "trained", 700, 0.9, 1.0, f"{PT}/city_id=c-opo", "mae 0.9000 beats PT's 1.0000"),
]


def etd_tree(version: int = 3) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for node in NODES:
        counts[node["status"]] = counts.get(node["status"], 0) + 1
    return {"model": "etd", "version": version, "partition_by": PARTITION_BY, "metric": "mae",
            "algorithm": "linear_regression", "min_rows": 150, "hyperparameters": {}, "counts": counts,
            "run_id": "run-1", "data_version": 4, "training_seconds": 12.5, "holdout_start": "2024-03-18",
            "holdout_rows": 400, "holdout": {"mae": 1.7},
            "holdout_global_only": {"mae": 2.9}, "nodes": NODES}  # fmt: skip


def not_partitioned(name: str) -> dict[str, Any]:
    return {"error": {"code": "model_not_found", "message": f"no registered model named {name}"}}


#: what version 3 was built from, as the engine lists it
PROVENANCE = {"code_commit": "4f2a9c1e" + "0" * 32, "code_dirty": "false", "dvc_lock": "sha256:" + "ab12" * 16,
              "params": '{"demo":{"size":"tiny"}}', "lake_tables": '{"processed.etd_training_set":4}',
              "xgboost": "3.1.2", "tensorflow": "2.21.0", "numpy": "2.3.5"}  # fmt: skip


class FakeInferenceEngine:
    """A WSGI stand-in for the inference engine's tree route (served over real HTTP by werkzeug)."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        self.requests.append(request.full_path.rstrip("?"))
        status, body = self.answer(request.path, request.args.get("version"))
        return Response(json.dumps(body), status=status, mimetype="application/json")(environ, start_response)

    @staticmethod
    def answer(path: str, version: str | None) -> tuple[int, dict[str, Any]]:
        if path == "/v1/models":
            return 200, {"models": [{"name": "etd", "version": "3", "alias": "production", "features": [],
                                     "loaded_at": "2025-03-01T12:00:00+00:00"}]}  # fmt: skip
        if path.endswith("/versions"):
            name = path.removeprefix("/v1/models/").removesuffix("/versions")
            if name != "etd":
                return 404, {"error": {"code": "model_not_found", "message": f"no registered model named {name}"}}
            registered = {"version": "3", "framework": "partitioned", "aliases": ["production"],
                          "created_at": "2025-03-01T12:00:00+00:00", "run_id": "0123456789abcdef",
                          "experiment_id": "1", "metrics": {"mae": 3.15, "rmse": 4.07},
                          "provenance": PROVENANCE}  # fmt: skip
            return 200, {"model": "etd", "kind": "partitioned", "serving_version": "3", "versions": [registered]}
        name = path.removeprefix("/v1/models/").removesuffix("/tree")
        if name != "etd":
            return 404, not_partitioned(name)
        if version is None:
            return 200, etd_tree()
        if not version.isdigit():
            return 400, {"error": {"code": "bad_request", "message": "version must be an integer", "field": "version"}}
        if version != "3":
            return 404, {"error": {"code": "version_not_found", "message": f"model etd has no version {version}"}}
        return 200, etd_tree(int(version))
