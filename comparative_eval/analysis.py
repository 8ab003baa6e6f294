"""The analysis loop: for each model with a candidate, judge the current step window when its interval is due,
store the verdict with its decision time, then act on it — promote to the next step or roll back (actor
``analysis``). The change is made only if the model is still at the judged revision.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from comparative_eval.domain.deployment import DeploymentRecord
from comparative_eval.domain.verdicts import Verdict, judge
from comparative_eval.errors import NoAnalysis
from comparative_eval.metrics import EvalMetrics
from comparative_eval.ports import Clock, TemplateSource, UnitOfWorkFactory
from comparative_eval.services import DeploymentService
from strata_kernel.errors import StrataError

log = logging.getLogger(__name__)

ACTOR = "analysis"


class AnalysisService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        templates: TemplateSource,
        deployments: DeploymentService,
        clock: Clock,
        metrics: EvalMetrics | None = None,
    ) -> None:
        self._uow = uow_factory
        self._templates = templates
        self._deployments = deployments
        self._clock = clock
        self._metrics = metrics

    def evaluate(self, record: DeploymentRecord) -> Verdict:
        """Judge the candidate of ``record`` on the samples since the record was made (no storing, no action)."""
        assert record.candidate_version is not None and record.created_at is not None
        template = self._templates.template(record.model)
        candidate_routes = ["shadow"] if record.mode == "shadow" else ["canary"]
        with self._uow() as uow:
            stable = uow.samples.window(record.model, record.stable_version, ["stable"], record.created_at)
            candidate = uow.samples.window(record.model, record.candidate_version, candidate_routes, record.created_at)
        verdict = judge(template, record.model, record.revision, record.mode, stable, candidate)
        return replace(verdict, at=self._clock())

    def latest(self, model: str) -> Verdict:
        """The verdict on the current candidate (a fresh, unstored one while it has none yet); without a candidate,
        the verdict on the revision just before the current one (the verdict that ended it), else NoAnalysis.

        Not simply the newest stored verdict: the analysis records its action's revision before its verdict, and
        in between the newest stored verdict is an earlier candidate's (a worse candidate's rollback showed as
        the previous candidate's "promote")."""
        record = self._deployments.current(model)
        with self._uow() as uow:
            stored = uow.verdicts.latest(model)
        if record.candidate_version is not None and (stored is None or stored.revision != record.revision):
            return self.evaluate(record)
        if stored is None or (record.candidate_version is None and stored.revision != record.revision - 1):
            raise NoAnalysis(f"model {model} has no analysis: it has no candidate (mode {record.mode})")
        return stored

    def run_once(self, force: bool = False) -> list[Verdict]:
        """Judge every model whose interval is due (every model with a candidate when ``force``); act on each."""
        verdicts = []
        for record in self._deployments.all_current():
            if self._metrics is not None:
                self._metrics.observe_record(record)
            if record.candidate_version is None or not (force or self._due(record)):
                continue
            try:
                verdicts.append(self._judge_and_act(record))
            except StrataError as exc:  # one model's trouble must not stop the others
                log.warning("analysis of %s revision %d failed: %s", record.model, record.revision, exc.message)
        return verdicts

    def _due(self, record: DeploymentRecord) -> bool:
        assert record.created_at is not None
        interval = self._templates.template(record.model).interval_seconds
        with self._uow() as uow:
            last = uow.verdicts.latest(record.model, record.revision)
        since = record.created_at if last is None or last.at is None else max(last.at, record.created_at)
        return (self._clock() - since).total_seconds() >= interval

    def _judge_and_act(self, record: DeploymentRecord) -> Verdict:
        verdict = self.evaluate(record)
        action = None
        try:
            if verdict.verdict == "rollback":
                result = self._deployments.rollback(
                    record.model, reason="; ".join(verdict.reasons), actor=ACTOR, expected_revision=record.revision
                )
                action = f"rolled back: revision {result.record.revision}"
            elif verdict.verdict == "promote":
                result = self._deployments.promote(
                    record.model, reason="; ".join(verdict.reasons), actor=ACTOR, expected_revision=record.revision,
                    judged=verdict,
                )  # fmt: skip
                action = f"promoted: revision {result.record.revision} ({_describe(result.record)})"
        except StrataError as exc:
            action = f"not applied: {exc.message}"
        verdict = replace(verdict, action=action)
        with self._uow() as uow:
            uow.verdicts.add(verdict)
            uow.commit()
        if self._metrics is not None:
            self._metrics.observe_verdict(verdict)
        log.info(
            "analysis of %s revision %d: %s (%s) %s",
            record.model,
            record.revision,
            verdict.verdict,
            "; ".join(verdict.reasons),
            action or "",
        )
        return verdict


def _describe(record: DeploymentRecord) -> str:
    if record.mode == "full":
        return f"version {record.stable_version} is stable"
    return f"candidate {record.candidate_version} at {record.weight}%"
