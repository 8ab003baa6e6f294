"""Use cases of deployments: deploy, canary weight, shadow, promote, rollback, and the read side.

Every change runs the same way: checked, validated (a new version only), then under the model's lock the
current record is re-read, the next record appended and committed; only then is the routing pushed to the
engine. A failed push leaves the record standing (the engine's poller converges on it) and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from comparative_eval.domain import deployment as rules
from comparative_eval.domain.deployment import Change, ChangeRefused, DeploymentRecord, Mode
from comparative_eval.domain.verdicts import Verdict
from comparative_eval.errors import ChangeConflict, InvalidChange, UnknownModel, ValidationFailed
from comparative_eval.metrics import EvalMetrics
from comparative_eval.ports import Clock, EngineClient, ModelLocks, SampleFiles, TemplateSource, UnitOfWorkFactory
from strata_kernel.errors import NotFound, StrataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChangeResult:
    record: DeploymentRecord
    pushed: bool
    push_reason: str | None  # why the engine did not take the routing now (None when it did)


class DeploymentService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        engine: EngineClient,
        locks: ModelLocks,
        templates: TemplateSource,
        sample_files: SampleFiles,
        clock: Clock,
        metrics: EvalMetrics | None = None,
        validation_sample_size: int = 200,
    ) -> None:
        self._uow = uow_factory
        self._engine = engine
        self._locks = locks
        self._templates = templates
        self._samples = sample_files
        self._clock = clock
        self._metrics = metrics
        self._sample_size = validation_sample_size

    # -- changes ----------------------------------------------------------------------------------
    def deploy(
        self, model: str, version: Any, mode: str, weight: int | None = None, reason: str = "", actor: str = "operator"
    ) -> ChangeResult:
        model, version = _checked(lambda: (rules.check_model_name(model), rules.check_version(version)))
        if mode not in rules.MODES:
            raise InvalidChange(f"mode must be one of {list(rules.MODES)}, got {mode!r}", field="mode")
        if weight is not None and mode != "canary":
            raise InvalidChange(f"weight applies to mode canary only (mode is {mode})", field="weight")
        template = self._templates.template(model)
        self._validate(model, version, template.latency_budget_ms, actor, reason)

        def change(current: DeploymentRecord | None) -> Change:
            if mode == "full":
                return rules.full(version, template.steps)
            stable = current.stable_version if current is not None else self._engine_stable(model)
            return rules.deploy_candidate(stable, version, _mode(mode), weight, template.steps)

        return self._apply(model, actor, reason, change)

    def set_weight(self, model: str, weight: int, reason: str = "", actor: str = "operator") -> ChangeResult:
        _checked(lambda: (rules.check_model_name(model), rules.check_weight(weight)))
        steps = self._templates.template(model).steps
        return self._apply(
            model, actor, reason, lambda current: rules.set_canary_weight(_known(model, current), weight, steps)
        )

    def shadow(self, model: str, version: Any = None, reason: str = "", actor: str = "operator") -> ChangeResult:
        if version is not None:
            return self.deploy(model, version, "shadow", reason=reason, actor=actor)
        _checked(lambda: rules.check_model_name(model))
        return self._apply(model, actor, reason, lambda current: rules.to_shadow(_known(model, current)))

    def promote(
        self,
        model: str,
        reason: str = "",
        full: bool = False,
        actor: str = "operator",
        expected_revision: int | None = None,
        force: bool = False,
        judged: Verdict | None = None,
    ) -> ChangeResult:
        """Next step (or ``full``). Against a ``hold`` or ``rollback`` verdict on the candidate it is refused unless
        ``force``, which the record's reason and the audit keep. ``judged``: the verdict of the current revision
        the caller acts on (the analysis loop's own; the operator's: what ``status`` shows); none, no objection."""
        _checked(lambda: rules.check_model_name(model))
        steps = self._templates.template(model).steps

        def change(history: list[DeploymentRecord]) -> Change:
            current = _known(model, history[0] if history else None)
            next_change = rules.promote(current, steps, straight_to_full=full)
            objection = judged if judged is not None and judged.revision == current.revision else None
            if objection is not None and objection.verdict in {"hold", "rollback"}:
                why = "; ".join(objection.reasons) or "no reason given"
                if not force:
                    raise ChangeConflict(
                        f"the analysis says {objection.verdict} for candidate v{current.candidate_version} "
                        f"(revision {objection.revision}: {why}); promote with --force to override it (recorded)"
                    )
                return replace(next_change, note=f"forced over analysis verdict {objection.verdict} ({why})")
            return next_change

        return self._apply(model, actor, reason, change, expected_revision, with_history=True)

    def rollback(
        self,
        model: str,
        reason: str = "",
        node: str | None = None,
        actor: str = "operator",
        expected_revision: int | None = None,
        to_version: Any = None,
    ) -> ChangeResult:
        """Drop the candidate, or after a full promotion return to the previous stable version, or ``to_version``
        (a version that served as stable before); ``node`` pins one node of a partitioned model instead."""
        _checked(lambda: rules.check_model_name(model))
        if node is not None:
            _checked(lambda: rules.check_node(node))
        target = None if to_version is None else _checked(lambda: rules.check_version(to_version, "to_version"))
        steps = self._templates.template(model).steps

        def change(history: list[DeploymentRecord]) -> Change:
            _known(model, history[0] if history else None)
            return rules.rollback(history, steps, node, target)

        result = self._apply(model, actor, reason, change, expected_revision, with_history=True)
        if self._metrics is not None:
            self._metrics.rollbacks.labels(model, actor).inc()
        return result

    def record_initial(self, model: str, version: Any, actor: str, reason: str) -> DeploymentRecord:
        """The first record of a model whose version already serves (the build deployed it by alias): stable at
        100%, so status, history and rollback know it from the start. Not pushed (the engine serves it already)."""
        model, version = _checked(lambda: (rules.check_model_name(model), rules.check_version(version)))
        steps = self._templates.template(model).steps

        def change(current: DeploymentRecord | None) -> Change:
            if current is not None:
                raise ChangeConflict(f"model {model} already has deployment records (revision {current.revision})")
            return rules.full(version, steps)

        record, _ = self._append(model, actor, reason, change)
        return record

    # -- reads ------------------------------------------------------------------------------------
    def current(self, model: str) -> DeploymentRecord:
        _checked(lambda: rules.check_model_name(model))
        with self._uow() as uow:
            return _known(model, uow.deployments.current(model))

    def all_current(self) -> list[DeploymentRecord]:
        with self._uow() as uow:
            return uow.deployments.currents()

    def history(self, model: str, at: datetime | None = None) -> list[DeploymentRecord]:
        _checked(lambda: rules.check_model_name(model))
        with self._uow() as uow:
            records = uow.deployments.history(model)
            if not records:
                raise UnknownModel(f"model {model} has no deployment record", field="model")
            if at is None:
                return records
            in_force = uow.deployments.at(model, at)
            return [] if in_force is None else [in_force]

    def latest_verdict(self, model: str) -> Verdict | None:
        with self._uow() as uow:
            return uow.verdicts.latest(model)

    def audit(self, model: str, limit: int = 50) -> list[dict[str, Any]]:
        with self._uow() as uow:
            return uow.audit.recent(model, limit)

    # -- internals --------------------------------------------------------------------------------
    def _engine_stable(self, model: str) -> str:
        """A model's first candidate needs a stable version: the one the engine serves (its production alias)."""
        version = self._engine.serving_version(model)
        if version is None:
            raise UnknownModel(
                f"model {model} has no stable version: no deployment record and the inference engine serves none "
                f"(deploy one with mode full first)",
                field="model",
            )
        return rules.check_version(version, "stable_version")

    def _validate(self, model: str, version: str, budget_ms: float, actor: str, reason: str) -> None:
        """Before any traffic: the engine loads the version and scores a recorded sample within the budget."""
        with self._uow() as uow:
            instances = uow.samples.recent_instances(model, self._sample_size)
        source = f"the last {len(instances)} logged instances of {model}"
        if not instances:
            instances, path = self._samples.instances(model)
            source = f"sample file {path}"
        problems: list[str]
        if not instances:
            problems = [f"no sample to validate with: no logged predictions of model {model} and no {source}"]
            report_detail: dict[str, Any] = {}
        else:
            try:
                report = self._engine.validate(model, version, instances[: self._sample_size], budget_ms)
            except NotFound as exc:
                self._audit(
                    model, "validate", actor, "refused", reason, {"version": version, "problems": [exc.message]}
                )
                raise
            if report.ok:
                return
            problems = list(report.problems) or ["the engine refused the version without a reason"]
            report_detail = {"p99_ms": report.p99_ms, "instances": report.instances}
        self._audit(
            model,
            "validate",
            actor,
            "refused",
            reason,
            {"version": version, "problems": problems, "sample": source, **report_detail},
        )
        raise ValidationFailed(f"version {version} of {model} failed validation: {'; '.join(problems)}")

    def _audit(self, model: str, action: str, actor: str, outcome: str, reason: str, detail: dict[str, Any]) -> None:
        with self._uow() as uow:
            uow.audit.add(model, action, actor, outcome, reason, detail, self._clock())
            uow.commit()

    def _apply(
        self,
        model: str,
        actor: str,
        reason: str,
        change_of: Callable[[Any], Change],
        expected_revision: int | None = None,
        with_history: bool = False,
    ) -> ChangeResult:
        """Append the next record and push it; ``change_of`` gets the current record (or, ``with_history``, every
        record newest first)."""
        record, change = self._append(model, actor, reason, change_of, expected_revision, with_history)
        return self._push(record, change.action)

    def _append(
        self,
        model: str,
        actor: str,
        reason: str,
        change_of: Callable[[Any], Change],
        expected_revision: int | None = None,
        with_history: bool = False,
    ) -> tuple[DeploymentRecord, Change]:
        with self._locks.hold(model), self._uow() as uow:
            history = uow.deployments.history(model) if with_history else []
            current = history[0] if with_history and history else uow.deployments.current(model)
            if expected_revision is not None and (current is None or current.revision != expected_revision):
                raise ChangeConflict(f"model {model} changed since revision {expected_revision} was judged")
            change = _checked(lambda: change_of(history if with_history else current))
            revision = 1 if current is None else current.revision + 1
            reason = f"[{change.note}] {reason}".strip() if change.note else reason
            record = change.as_record(model, revision, actor, reason, self._clock())
            uow.deployments.append(record)
            detail: dict[str, Any] = {"revision": revision, **({"forced": change.note} if change.note else {})}
            uow.audit.add(model, change.action, actor, "applied", reason, detail, record.created_at)
            uow.commit()
        log.info("model %s revision %d: %s by %s (%s)", model, revision, change.action, actor, reason or "no reason")
        if self._metrics is not None:
            self._metrics.changes.labels(model, change.action).inc()
            self._metrics.observe_record(record)
        return record, change

    def _push(self, record: DeploymentRecord, action: str) -> ChangeResult:
        try:
            self._engine.push_routing(record.routing_record())
        except StrataError as exc:
            log.warning(
                "routing of %s revision %d not pushed (%s); the engine's poller will converge",
                record.model,
                record.revision,
                exc.message,
            )
            if self._metrics is not None:
                self._metrics.push_failures.labels(record.model).inc()
            return ChangeResult(record, False, f"{exc.message} (recorded; the engine converges when it next polls)")
        if self._metrics is not None:
            assert record.created_at is not None
            decided_to_applied = (self._clock() - record.created_at).total_seconds()
            self._metrics.push_seconds.labels(action).observe(max(decided_to_applied, 0.0))
        return ChangeResult(record, True, None)


def _mode(mode: str) -> Mode:
    return "shadow" if mode == "shadow" else "canary" if mode == "canary" else "full"


def _known(model: str, record: DeploymentRecord | None) -> DeploymentRecord:
    if record is None:
        raise UnknownModel(f"model {model} has no deployment record", field="model")
    return record


def _checked(check: Callable[[], Any]) -> Any:
    """Domain refusals become 400 (bad input) or 409 (the model's state forbids it)."""
    try:
        return check()
    except ChangeRefused as exc:
        if exc.conflict:
            raise ChangeConflict(str(exc), field=exc.field) from exc
        raise InvalidChange(str(exc), field=exc.field) from exc
