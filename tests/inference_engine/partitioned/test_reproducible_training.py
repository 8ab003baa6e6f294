"""Determinism: the same inputs trained twice give the same bytes — XGBoost per node on Spark (the nodes' rows are
put back in the split's order before fitting, fixed seed and thread count) and one global XGBoost in-process —
and every version names what it was built from (provenance tags, a fingerprint, a sample with its predictions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FakeLake, etd_spec, options, train
from inference_fakes import RecordingRegistry

from inference_engine import artifact_identity as identity

pytestmark = pytest.mark.spark

XGBOOST = {"algorithm": "xgboost_regressor", "hyperparameters": {"num_boost_round": 40, "max_depth": 3}}


def twice(spec_changes: dict[str, Any], spark: Any, lake: FakeLake, tmp_path: Path) -> RecordingRegistry:
    """Train the same spec on the same table twice, in separate run directories (nothing reused)."""
    registry = RecordingRegistry(tmp_path / "registry")
    for run in ("first", "second"):
        train(etd_spec(**spec_changes), lake, registry, spark, options(tmp_path / run))
    return registry


@pytest.fixture(scope="module")
def partitioned_twice(spark: Any, etd_lake: FakeLake, tmp_path_factory: pytest.TempPathFactory) -> RecordingRegistry:
    return twice(XGBOOST, spark, etd_lake, tmp_path_factory.mktemp("twice"))


def test_partitioned_xgboost_trained_twice_gives_the_same_bytes_for_every_node(
    partitioned_twice: RecordingRegistry,
) -> None:
    registry = partitioned_twice
    first, second = (identity.fingerprint(registry.model_path(n), "partitioned") for n in (1, 2))

    assert len([name for name in first if name.startswith("models/")]) >= 3  # global, countries, a city
    assert first == second
    tags = [c.tags for c in registry.candidates]
    assert tags[0]["provenance.fingerprint"] == tags[1]["provenance.fingerprint"] == identity.digest(first)


def test_a_global_xgboost_trained_twice_gives_the_same_ubj_bytes(
    spark: Any, etd_lake: FakeLake, tmp_path: Path
) -> None:
    registry = twice({**XGBOOST, "partition_by": []}, spark, etd_lake, tmp_path)

    assert [c.framework for c in registry.candidates] == ["xgboost", "xgboost"]
    first, second = (registry.model_path(n).read_bytes() for n in (1, 2))
    assert first == second
    # the tag written before publishing names the bytes the registry stored
    assert registry.candidates[0].tags["provenance.fingerprint"] == identity.digest(
        identity.fingerprint(registry.model_path(1), "xgboost")
    )


def test_a_version_records_its_inputs_and_its_predictions_on_a_held_out_sample(
    partitioned_twice: RecordingRegistry,
) -> None:
    registry = partitioned_twice
    candidate = registry.candidates[0]
    tags = candidate.tags

    assert json.loads(tags["provenance.lake_tables"]) == {"processed.etd_training_set": 1}
    assert len(tags["provenance.code_commit"]) == 40 and tags["provenance.code_dirty"] in {"true", "false"}
    assert tags["provenance.dvc_lock"].startswith(("sha256:", "none"))
    assert tags["provenance.xgboost"][0].isdigit() and tags["provenance.numpy"][0].isdigit()
    sample = candidate.documents[identity.SAMPLE_DOCUMENT]
    assert len(sample["x"]) == identity.SAMPLE_ROWS and len(sample["keys"]) == identity.SAMPLE_ROWS
    # the registered files predict the recorded values exactly
    again = identity.predict_sample(registry.model_path(1), "partitioned", sample)
    np.testing.assert_array_equal(again, np.asarray(sample["predictions"]))
