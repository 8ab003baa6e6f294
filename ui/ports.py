"""The UI's only dependency: business_logic, seen through this port."""

from __future__ import annotations

import abc
from collections.abc import Mapping

from ui.domain.reply import Reply


class BusinessLogic(abc.ABC):
    """Relays the business_logic API; replies carry its status and body as they came."""

    @abc.abstractmethod
    def list_restaurants(self, filters: Mapping[str, str]) -> Reply:
        """``GET /v1/restaurants`` with the given query filters (city_id, q, limit)."""

    @abc.abstractmethod
    def get_restaurant(self, restaurant_id: str) -> Reply:
        """``GET /v1/restaurants/{id}``: a restaurant with its menu."""

    @abc.abstractmethod
    def quote_etd(self, body: object) -> Reply:
        """``POST /v1/etd`` with the caller's JSON body."""

    @abc.abstractmethod
    def problem(self) -> str | None:
        """``None`` when business_logic answers, else a one-line reason (for readiness)."""


class FeatureDirectory(abc.ABC):
    """data_processing's feature directory API, for the data scientists' /features page (relayed unchanged)."""

    @abc.abstractmethod
    def list_groups(self, text: str) -> Reply:
        """``GET /v1/feature-groups?q=``: groups with their freshness."""

    @abc.abstractmethod
    def get_group(self, name: str) -> Reply:
        """``GET /v1/feature-groups/{name}``: schema, freshness and users of one group."""

    @abc.abstractmethod
    def get_feature(self, expression: str) -> Reply:
        """``GET /v1/features/{@group:feature}``: one feature and who uses it."""


class ModelTrees(abc.ABC):
    """The inference engine's model API, for the operators' /models pages (relayed unchanged)."""

    @abc.abstractmethod
    def get_tree(self, name: str, version: str | None) -> Reply:
        """``GET /v1/models/{name}/tree[?version=N]``: every node of a partitioned model and who serves it."""

    @abc.abstractmethod
    def list_models(self) -> Reply:
        """``GET /v1/models``: the served models with version and alias."""

    @abc.abstractmethod
    def versions(self, name: str) -> Reply:
        """``GET /v1/models/{name}/versions``: kind, every registered version with metrics and run, the serving one."""


class Deployments(abc.ABC):
    """comparative_eval's read API, for the model pages' deployment history (relayed unchanged)."""

    @abc.abstractmethod
    def history(self, name: str) -> Reply:
        """``GET /v1/deployments/{name}/history``: every record, newest first, with action, actor and reason."""


class HelpCentre(abc.ABC):
    """business_logic's help-centre chatbot API, for the customers' /help page (relayed unchanged)."""

    @abc.abstractmethod
    def list_questions(self) -> Reply:
        """``GET /v1/help/questions``: the predefined questions."""

    @abc.abstractmethod
    def ask(self, body: object) -> Reply:
        """``POST /v1/help/ask`` with the caller's JSON body."""

    @abc.abstractmethod
    def give_feedback(self, question_id: str, body: object) -> Reply:
        """``POST /v1/help/questions/{question_id}/feedback`` with the caller's JSON body."""


class LakeCatalog(abc.ABC):
    """The data lake's catalog and analysis API, for the data scientists' /lake pages (relayed unchanged)."""

    @abc.abstractmethod
    def overview(self) -> Reply:
        """``GET /v1/overview``: every table with zone, version, rows, freshness and rows per partition."""

    @abc.abstractmethod
    def table(self, name: str) -> Reply:
        """``GET /v1/tables/{name}``: schema, partitions and commits of one table."""

    @abc.abstractmethod
    def profile(self, name: str, version: str | None) -> Reply:
        """``GET /v1/tables/{name}/profile[?version=N]``: per-column statistics and histograms."""

    @abc.abstractmethod
    def diff(self, name: str, first: str | None, second: str | None) -> Reply:
        """``GET /v1/tables/{name}/diff?from=A&to=B``: what changed between two versions."""

    @abc.abstractmethod
    def lineage(self, name: str) -> Reply:
        """``GET /v1/tables/{name}/lineage``: tables upstream and downstream."""


class MetricsHistory(abc.ABC):
    """Prometheus's HTTP API (or anything that answers it), for the operators' /operations page (relayed unchanged).

    Embedded default: the Prometheus `strata run` starts (``prometheus_url``); a deployment points the setting at
    its own Prometheus.
    """

    @abc.abstractmethod
    def query_range(self, query: str, start: float, end: float, step: float) -> Reply:
        """``GET /api/v1/query_range``: the series of a PromQL expression over a window."""

    @abc.abstractmethod
    def alerts(self) -> Reply:
        """``GET /api/v1/alerts``: every active alert (pending and firing) with its labels and annotations."""
