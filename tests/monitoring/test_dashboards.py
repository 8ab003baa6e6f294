"""The Grafana dashboards as code (monitoring/grafana) and the /operations page's panels are valid: the JSON parses
into dashboards Grafana provisions, every query is PromQL that promtool accepts, and every metric a query reads is
one the code exports or the alert rules use (a renamed metric breaks this test, not a dashboard in production)."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from ui.domain.operations import PANELS

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "monitoring" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
RULES = sorted((REPO / "monitoring" / "prometheus" / "rules").glob("*.yml"))
DATASOURCE_UID = "strata-prometheus"
#: packages whose metrics are named strata_<package>_<what> (strata_kernel's apply to each of them)
COMPONENTS = ("ui", "business_logic", "data_processing", "inference_engine", "data_lake", "data_collection",
              "comparative_eval")  # fmt: skip
#: what Prometheus itself provides
BUILT_IN = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}
#: Grafana's variables, replaced by a value of theirs before promtool reads a query
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right",
             "inf", "nan", "atan2"}  # fmt: skip


def _dashboard(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def _queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL with the dashboard's variables replaced by a value) of every panel target."""
    values = {f"${v['name']}": _a_value(v) for v in board["templating"]["list"]}
    found = []
    for panel in _panels(board):
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in sorted({**GRAFANA_VARIABLES, **values}.items(), key=lambda kv: -len(kv[0])):
                expr = expr.replace(name, value)
            found.append((f"{board['uid']} panel {panel['id']} {target['refId']} ({panel['title']})", expr))
    return found


def _a_value(variable: dict[str, Any]) -> str:
    if variable["type"] == "custom":
        return str(variable["query"]).split(",")[0]
    return ".*" if variable.get("includeAll") else "x"


def _all_queries() -> list[tuple[str, str]]:
    queries = [query for path in DASHBOARDS for query in _queries(_dashboard(path))]
    return queries + [(f"/operations panel {p.id}", p.query) for p in PANELS]


def metric_names(expr: str) -> tuple[set[str], set[str]]:
    """The metric names a PromQL expression reads, and the ``__name__`` regexes it selects by."""
    patterns = set(re.findall(r'__name__\s*=~?\s*"([^"]*)"', expr))
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range and subquery selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    names = {
        match.group(1)
        for match in re.finditer(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?", text)
        if not match.group(2) and match.group(1) not in _KEYWORDS
    }
    return names, patterns


_NAME_PART = re.compile(r"[a-z][a-z0-9_]+")


def _literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _NAME_PART.fullmatch(node.value)
    }


def _owners(package: str) -> tuple[str, ...]:
    """Whose names a package's literals make: strata_kernel's metrics are every component's; the monitoring
    sidecars' data monitors are ``strata_monitor_*`` (notes/METRICS-12 names)."""
    if package == "strata_kernel":
        return COMPONENTS
    return ("monitor",) if package == "monitoring" else (package,)


def _exposed(name: str) -> set[str]:
    """The series names prometheus_client exposes for a metric named ``name`` (counter, histogram or gauge)."""
    base = name.removesuffix("_total")
    return {name, base + "_total", name + "_bucket", name + "_sum", name + "_count"}


@cache
def known_metrics() -> frozenset[str]:
    """Every metric name the code exports (literals of the modules that define metrics) and the rules use."""
    known = set(BUILT_IN)
    for package in (*COMPONENTS, "monitoring", "strata_kernel"):
        for path in (REPO / package).rglob("*.py"):
            source = path.read_text()
            if "prometheus_client" not in source and "metric_name(" not in source:
                continue
            for literal in _literals(path):
                owners = _owners(package)
                names = {literal} if literal.startswith("strata_") else {f"strata_{c}_{literal}" for c in owners}
                for name in names:
                    known |= _exposed(name)
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                known |= {rule["record"]} if "record" in rule else set()
                known |= metric_names(str(rule["expr"]))[0]
    return frozenset(known)


def test_there_is_a_dashboard_for_every_layer_and_flow() -> None:
    assert {p.stem for p in DASHBOARDS} == {
        "strata-overview", "strata-ml-runtime", "strata-comparative-eval", "strata-business",
    }  # fmt: skip


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_a_dashboard_is_one_grafana_provisions(path: Path) -> None:
    board = _dashboard(path)
    assert board["uid"] == path.stem and board["title"].startswith("Strata · ")
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"] for v in board["templating"]["list"]}
    for panel in _panels(board):
        assert panel["title"] and panel["description"], panel["id"]
        assert panel["targets"] and panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
            used = set(re.findall(r"\$(\w+)", target["expr"])) - {"__rate_interval", "__interval", "__range"}
            assert used <= variables, f"{panel['title']}: undefined variables {used - variables}"


def test_grafana_provisions_the_datasource_the_dashboards_name_and_their_folder() -> None:
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    [datasource] = datasources["datasources"]
    assert (datasource["uid"], datasource["type"], datasource["url"]) == (
        DATASOURCE_UID, "prometheus", "http://prometheus:9090",
    )  # fmt: skip
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "strata.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_every_query_is_promql_that_promtool_accepts(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt-get install prometheus; .ci/run does it)")
    queries = _all_queries()
    # one recording rule per query: `promtool check rules` parses each expression with Prometheus's own parser
    rules = [{"record": f"check:query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    for i, (where, _) in enumerate(queries):  # name the panel whose query is wrong
        assert f'check:query_{i}"' not in output or result.returncode == 0, f"{where}: {output}"
    assert result.returncode == 0, output
    assert f"SUCCESS: {len(queries)} rules found" in output


def test_every_query_reads_metrics_the_code_or_the_rules_export() -> None:
    known = known_metrics()
    unknown = []
    for where, expr in _all_queries():
        names, patterns = metric_names(expr)
        unknown += [f"{where}: {name}" for name in sorted(names - known)]
        unknown += [f"{where}: /{p}/ matches nothing" for p in patterns if not any(re.fullmatch(p, n) for n in known)]
    assert not unknown, "\n".join(unknown)


def test_the_name_check_can_fail() -> None:
    names, patterns = metric_names(
        'histogram_quantile(0.99, sum by (le) (rate(strata_ui_http_request_duration_seconds_bucket{a="b"}[5m])))'
        ' / on (x) group_left () foo:bar offset 5m > bool 1e3 and {__name__=~"strata_.+_ready"}'
    )
    assert names == {"strata_ui_http_request_duration_seconds_bucket", "foo:bar"}
    assert patterns == {"strata_.+_ready"}
    assert "strata_ui_http_request_duration_seconds_bucket" in known_metrics()
    assert "strata_ui_http_requests_totl" not in known_metrics()
    assert "strata_business_logic_etd_quotes_total" in known_metrics()  # a component's own metric
    assert "strata_ui_etd_quotes_total" not in known_metrics()  # not another component's
