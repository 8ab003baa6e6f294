"""Composition root: ``bootstrap(settings, *, <port>=None, ...)`` -> the UI process's :class:`Dependencies`.

Settings pick the HTTP adapters of the UI's ports; tests pass fakes instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, partial
from typing import TypeVar

from strata_kernel.composition import Dependencies as KernelDependencies
from ui.adapters.business_logic_http import HttpBusinessLogic
from ui.adapters.data_lake_http import HttpLakeCatalog
from ui.adapters.deployments_http import HttpDeployments
from ui.adapters.feature_directory_http import HttpFeatureDirectory
from ui.adapters.help_http import HttpHelpCentre
from ui.adapters.inference_engine_http import HttpModelTrees
from ui.adapters.prometheus_http import HttpMetricsHistory
from ui.ports import (
    BusinessLogic,
    Deployments,
    FeatureDirectory,
    HelpCentre,
    LakeCatalog,
    MetricsHistory,
    ModelTrees,
)
from ui.settings import Settings

R = TypeVar("R")


class Dependencies(KernelDependencies[Settings]):
    @cached_property
    def business_logic(self) -> BusinessLogic:
        return self.port("business_logic", self._business_logic(HttpBusinessLogic), closes=True)

    @cached_property
    def help_centre(self) -> HelpCentre:
        return self.port("help_centre", self._business_logic(HttpHelpCentre), closes=True)

    @cached_property
    def feature_directory(self) -> FeatureDirectory:
        settings = self.settings
        return self.port("feature_directory", self._adapter(HttpFeatureDirectory, settings.data_processing_url,
                                                            settings.http_timeout_seconds), closes=True)  # fmt: skip

    @cached_property
    def model_trees(self) -> ModelTrees:
        url, timeout = self.settings.inference_engine_url, self.settings.inference_engine_timeout_seconds
        return self.port("model_trees", self._adapter(HttpModelTrees, url, timeout), closes=True)

    @cached_property
    def deployments(self) -> Deployments:
        url, timeout = self.settings.comparative_eval_url, self.settings.http_timeout_seconds
        build = partial(HttpDeployments, url, timeout_seconds=timeout, retries=self.settings.http_retries)
        return self.port("deployments", build, closes=True)

    @cached_property
    def lake_catalog(self) -> LakeCatalog:
        settings = self.settings
        return self.port("lake_catalog", self._adapter(HttpLakeCatalog, settings.data_lake_url,
                                                       settings.data_lake_timeout_seconds), closes=True)  # fmt: skip

    @cached_property
    def metrics_history(self) -> MetricsHistory:
        url, timeout = self.settings.prometheus_url, self.settings.prometheus_timeout_seconds
        build = partial(HttpMetricsHistory, url, timeout_seconds=timeout, retries=self.settings.http_retries)
        return self.port("metrics_history", build, closes=True)

    def _adapter(self, adapter: Callable[..., R], url: str, timeout: float) -> Callable[[], R]:
        """An HTTP adapter of another deployable's API, calling with the UI's own credential."""
        return partial(adapter, url, timeout_seconds=timeout, retries=self.settings.http_retries,
                       credential=self.settings.service_credential())  # fmt: skip

    def _business_logic(self, adapter: Callable[..., R]) -> Callable[[], R]:
        """An adapter of business_logic's API (the ETD page's and the help page's share its URL and budget)."""
        settings = self.settings
        return self._adapter(adapter, settings.business_logic_url, settings.business_logic_timeout_seconds)


def bootstrap(
    settings: Settings,
    *,
    business_logic: BusinessLogic | None = None,
    help_centre: HelpCentre | None = None,
    feature_directory: FeatureDirectory | None = None,
    model_trees: ModelTrees | None = None,
    deployments: Deployments | None = None,
    lake_catalog: LakeCatalog | None = None,
    metrics_history: MetricsHistory | None = None,
) -> Dependencies:
    overrides = {
        "business_logic": business_logic,
        "help_centre": help_centre,
        "feature_directory": feature_directory,
        "model_trees": model_trees,
        "deployments": deployments,
        "lake_catalog": lake_catalog,
        "metrics_history": metrics_history,
    }
    return Dependencies(settings, overrides)
