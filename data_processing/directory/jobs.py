"""What the batch jobs tell the feature directory: registration before computing, the produced types and the
newest nominal time after a build, and the reads of a training-set run (with deprecation warnings)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from data_processing.directory.ports import FeatureDirectory
from data_processing.directory.services import (
    deprecation_warnings,
    record_reads,
    register_all,
    registration_summary,
    stored_expressions,
)
from data_processing.directory.usage import job_consumer
from data_processing.domain.feature_code import spark_type_kind
from data_processing.domain.feature_groups import FeatureGroup
from data_processing.domain.features import FeatureSet
from data_processing.domain.registry_rules import check_output_types

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)


def register_groups(directory: FeatureDirectory, groups_dir: Path, now: datetime) -> dict[str, Any]:
    """``register-groups``: every group under ``groups_dir``; a refusal is the command's failure."""
    return {"feature_groups": [registration_summary(plan) for plan in register_all(directory, groups_dir, now=now)]}


def check_computed_types(frame: DataFrame, group: FeatureGroup) -> None:
    """After the code ran: its output schema (Spark, no action) must give each feature its declared type."""
    produced = {
        spec.name: spark_type_kind(frame.schema[spec.name].dataType.simpleString())
        for spec in group.features
        if spec.name in frame.columns
    }
    check_output_types(group, produced, group.code)


def newest_nominal_time(frame: DataFrame, group: FeatureGroup) -> datetime | None:
    """The newest nominal time a build wrote (one aggregate over the cached frame)."""
    from pyspark.sql import functions as F  # noqa: N812

    found = frame.agg(F.max(group.nominal_time)).first()
    return found[0] if found is not None else None


def record_availability(directory: FeatureDirectory, built: dict[str, Any], now: datetime) -> None:
    """After build-features committed: the group's data is available up to its newest nominal time."""
    newest = built.get("newest_nominal_time")
    if isinstance(newest, datetime):
        directory.record_availability(built["group"], newest, now)


def record_training_reads(
    directory: FeatureDirectory, feature_set: FeatureSet, result: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """A training-set run read its model's stored features once; deprecated ones are warned about."""
    consumer = job_consumer("training-set", feature_set.model)
    expressions = stored_expressions(feature_set)
    warnings = deprecation_warnings(directory, expressions, consumer)
    for warning in warnings:
        log.warning("%s", warning)
    record_reads(directory, consumer, expressions, 1, now)
    return {**result, "warnings": warnings} if warnings else result
