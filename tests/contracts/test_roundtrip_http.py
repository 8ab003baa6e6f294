"""Every HTTP conversation between deployables, producer -> consumer: each side's real adapter or handler code on
one end, the other side's parse on the other, JSON in between (httpx's MockTransport carries the bytes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from business_logic.adapters.answer_http import HttpHelpAnswerEngine
from business_logic.adapters.etd_http import HttpEtdEstimator
from business_logic.domain.restaurants import EtdQuery
from comparative_eval.adapters.engine_http import HttpEngineClient
from comparative_eval.domain import deployment as rules
from data_processing.adapters.help_http import HttpHelpEngine
from data_processing.adapters.inference_http import HttpInferenceEngine
from data_processing.domain.help import HelpAnswer, parse_question
from data_processing.domain.orders import parse_order
from inference_engine.domain.models import Prediction, ServedModel
from inference_engine.domain.routing import RoutingRecord
from inference_engine.domain.signature import parse_instances
from inference_engine.helpbot.encoding import Article, Decisions, Labels, answers
from inference_engine.routing.deployment import RoutedPrediction
from inference_engine.routing.validation import check_version
from strata_cli.operator import read_token
from strata_cli.settings import Settings as CliSettings
from strata_kernel.contracts import headers
from strata_kernel.contracts.auth import OPERATOR, Credential, authenticate, issue_operator_token
from strata_kernel.contracts.etd import Estimate
from strata_kernel.contracts.prediction import ValidationRequest
from strata_kernel.http import ServiceClient

Handler = Callable[[httpx.Request], httpx.Response]


def client(service: str, handler: Handler) -> ServiceClient:
    return ServiceClient(service, f"http://{service}.test", retries=0, transport=httpx.MockTransport(handler))


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_an_etd_quote_business_logic_asks_is_the_order_data_processing_estimates() -> None:
    seen = []

    def data_processing(request: httpx.Request) -> httpx.Response:
        order = parse_order(body(request))
        seen.append(order)
        return httpx.Response(200, json=Estimate(31.5, "etd", "7", 3600.0, "country_code=PT").to_wire())

    query = EtdQuery("r-1", "c-1", "PT", datetime(2026, 3, 14, 12, 30), 3, Decimal("24.40"), customer_id="cust-1")
    estimate = HttpEtdEstimator(client("data_processing", data_processing)).estimate(query)
    [order] = seen
    assert (order.restaurant_id, order.city_id, order.country_code, order.placed_at) == ("r-1", "c-1", "PT",
                                                                                       query.placed_at)  # fmt: skip
    assert (order.n_items, order.subtotal, order.customer_id) == (3, 24.4, "cust-1")
    assert (estimate.minutes, estimate.model, estimate.version) == (31.5, "etd", "7")
    assert estimate.extra == {"node": "country_code=PT", "features_age_seconds": 3600.0}


def test_a_help_question_business_logic_asks_is_the_one_data_processing_answers() -> None:
    asked = []
    answer = HelpAnswer(True, "refunds", 0.93, "Refunds", "http://help/refunds.html", "Within 5 days.", "helpbot", "4")

    def data_processing(request: httpx.Request) -> httpx.Response:
        asked.append(parse_question(body(request)))
        return httpx.Response(200, json=answer.to_wire())

    got = HttpHelpAnswerEngine(client("data_processing", data_processing)).answer("  how long do refunds take? ")
    assert asked == ["how long do refunds take?"]
    assert (got.known, got.article_id, got.confidence, got.title, got.url, got.answer, got.model, got.version) == (
        True, "refunds", 0.93, "Refunds", "http://help/refunds.html", "Within 5 days.", "helpbot", "4"
    )  # fmt: skip


@pytest.mark.parametrize("routed", [False, True])
def test_an_etd_prediction_data_processing_asks_is_scored_and_read_back(routed: bool) -> None:
    seen: list[tuple[Any, str | None]] = []

    def engine(request: httpx.Request) -> httpx.Response:
        instances = parse_instances(body(request), 1000)
        seen.append((instances, request.headers.get(headers.ROUTING_KEY)))
        answer: Prediction
        if routed:
            answer = RoutedPrediction("etd", 3, [27.5], ["country_code=NL"], route="canary", versions=None)
        else:
            answer = Prediction("etd", 3, [27.5], ["country_code=NL"])
        return httpx.Response(200, json=answer.to_dict())

    instance = {"order__n_items": 2.0, "restaurant_stats__avg_prep_minutes_7d": None, "country_code": "NL"}
    [prediction] = HttpInferenceEngine(client("inference_engine", engine)).predict("etd", [instance], "cust-1")
    assert seen == [([instance], "cust-1")]
    assert (prediction.model, prediction.version, prediction.value, prediction.node) == ("etd", "3", 27.5,
                                                                                        "country_code=NL")  # fmt: skip


def test_a_help_prediction_the_engine_makes_is_the_answer_data_processing_reads() -> None:
    labels = Labels((Article("refunds", "Refunds", "http://help/refunds.html", "Within 5 days."),))
    predictions = answers(Decisions(np.array([0]), np.array([0.93]), np.array([True])), labels)
    sent: list[Any] = []

    def engine(request: httpx.Request) -> httpx.Response:
        sent.append((parse_instances(body(request), 1000), request.headers.get(headers.VECTORISER)))
        return httpx.Response(200, json=Prediction("helpbot", 4, predictions).to_dict())

    answer = HttpHelpEngine(client("inference_engine", engine)).answer("helpbot", [11, 42])
    assert sent[0][0] == [{"token_ids": [11, 42]}] and sent[0][1]
    assert (answer.known, answer.article_id, answer.confidence, answer.answer, answer.version) == (
        True, "refunds", 0.93, "Within 5 days.", "4"
    )  # fmt: skip


def test_the_routing_record_comparative_eval_writes_is_the_one_the_engine_applies() -> None:
    steps = (5, 25, 50, 100)
    canary = rules.deploy_candidate("3", "4", "canary", 25, steps).as_record("etd", 7, "op", "", datetime(2026, 3, 1))
    pinned = rules.rollback([canary], steps, node="country_code=NL/city_id=c-0007")
    record = pinned.as_record("etd", 8, "op", "bad city", datetime(2026, 3, 1, 0, 5))
    applied = RoutingRecord.from_wire(json.loads(json.dumps(record.routing())), "etd")
    assert applied == RoutingRecord("etd", 8, 3, 4, "canary", 25, {"country_code=NL/city_id=c-0007": 3})
    assert applied.versions() == {3, 4}


def test_what_comparative_eval_validates_and_reads_the_engine_answers() -> None:
    class Runtime:
        def predict(self, instances: list[dict[str, Any]]) -> list[float]:
            return [30.0 for _ in instances]

    class Loaded:
        served = ServedModel("etd", 4, None, ("a__x",), datetime(2026, 3, 1, 12))
        runtime = Runtime()

    def engine(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(
                200, json=ServedModel("etd", 3, "production", ("a__x",), datetime(2026, 3, 1)).to_dict()
            )
        validation = ValidationRequest.from_wire(body(request))
        return httpx.Response(200, json=check_version(Loaded(), ["a__x"], validation))  # type: ignore[arg-type]

    comparative_eval = HttpEngineClient(client("inference_engine", engine), client("inference_engine", engine))
    assert comparative_eval.serving_version("etd") == "3"
    report = comparative_eval.validate("etd", "4", [{"a__x": 1.0}, {"a__x": None}], 50.0)
    assert (report.ok, report.problems, report.instances) == (True, [], 2)


def test_the_operator_token_comparative_eval_issues_is_the_one_the_cli_sends_and_the_engine_accepts(
    tmp_path: Path,
) -> None:
    issued, created = issue_operator_token(tmp_path)
    assert created and issue_operator_token(tmp_path) == (issued, False)
    sent = read_token(CliSettings(var_dir=tmp_path))
    assert sent == issued
    header = Credential(OPERATOR, sent).header()["Authorization"]
    assert authenticate(header, [Credential(OPERATOR, issued)]) == OPERATOR
