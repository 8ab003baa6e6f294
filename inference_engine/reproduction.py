"""Use cases of `strata reproduce`: compare a rebuilt engine with a registered version, and register the rebuild.

The verdict is ``bytes identical`` (the rebuild's fingerprint is the one the version recorded), ``predictions
identical`` (other bytes, the same predictions on the version's recorded sample — with which files differ), or
``different`` (with the largest difference and what differs in the recorded provenance). The registered files are
not needed: the fingerprint is a version tag and the sample a run document, so a version whose model files were
deleted can still be compared — and brought back by registering the rebuild.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference_engine import artifact_identity as identity
from inference_engine.domain.models import ModelArtifact, ModelVersion
from inference_engine.errors import VersionNotFound
from inference_engine.ports import ModelDocuments, ModelRegistry, TrainedCandidate
from strata_kernel import provenance
from strata_kernel.errors import StrataError
from strata_kernel.profiles.reference import ARTIFACT_PATH as REFERENCE_DOCUMENT

FINGERPRINT_TAG = provenance.PREFIX + "fingerprint"
REPRODUCES_TAG = "reproduces_version"
#: provenance keys whose difference explains a rebuild that differs
EXPLAINING = ("code_commit", "code_dirty", "params", "xgboost", "tensorflow", "numpy")


@dataclass(frozen=True)
class Rebuild:
    version: ModelVersion
    artifact: ModelArtifact


def compare(
    registry: ModelRegistry, documents: ModelDocuments, name: str, version: int, rebuild: Rebuild, scratch: Path
) -> dict[str, Any]:
    """The verdict of ``rebuild`` against registered ``name`` v``version``."""
    registered = registry.version(name, version)
    recorded = registered.tags.get(FINGERPRINT_TAG)
    if recorded is None:
        raise VersionNotFound(f"{name} v{version} records no fingerprint: it was trained before provenance existed")
    framework = rebuild.artifact.model_version.framework
    found = identity.fingerprint(rebuild.artifact.model_file, framework)
    base = {"model": name, "version": version, "rebuilt_fingerprint": identity.digest(found),
            "recorded_fingerprint": recorded, "framework": framework}  # fmt: skip
    if identity.digest(found) == recorded:
        return {**base, "verdict": "bytes identical", "why": f"every file that decides predictions ({len(found)}) "
                "has the bytes the version recorded"}  # fmt: skip
    sample = documents.document(registered, identity.SAMPLE_DOCUMENT)
    rebuilt = identity.predict_sample(rebuild.artifact.model_file, framework, sample)
    expected = np.asarray(sample["predictions"], dtype=np.float64)
    files = _differing_files(registry, registered, found, scratch)
    if rebuilt.shape == expected.shape and np.array_equal(rebuilt, expected):
        return {**base, "verdict": "predictions identical", "differing_files": files,
                "why": f"other bytes ({', '.join(files) or 'registered files gone'}), the same predictions on the "
                f"{len(expected)} recorded sample rows"}  # fmt: skip
    gap = float(np.max(np.abs(rebuilt - expected))) if rebuilt.shape == expected.shape else float("inf")
    return {**base, "verdict": "different", "differing_files": files, "max_abs_difference": gap,
            "why": _why_different(registered.tags, rebuild.version.tags, gap)}  # fmt: skip


def _differing_files(
    registry: ModelRegistry, registered: ModelVersion, found: dict[str, str], scratch: Path
) -> list[str]:
    try:
        artifact = registry.fetch(registered, scratch / "registered")
    except StrataError:
        return []  # the registered files are gone: only the recorded fingerprint is left
    return identity.differing(identity.fingerprint(artifact.model_file, registered.framework), found)


def _why_different(recorded: dict[str, str], rebuilt: dict[str, str], gap: float) -> str:
    before, now = provenance.read(recorded), provenance.read(rebuilt)
    changes = [f"{key} {before.get(key, '?')} -> {now.get(key, '?')}" for key in EXPLAINING
               if before.get(key) != now.get(key)]  # fmt: skip
    if before.get("code_dirty") == "true":
        changes.append("the version was trained from uncommitted changes: its code is not in any commit")
    reason = "; ".join(changes) if changes else "same commit, params and libraries: the inputs differ (lake data)"
    return f"predictions differ by up to {gap:.6g}: {reason}"


def adopt(registry: ModelRegistry, rebuild: Rebuild, source: ModelDocuments, reproduces: int) -> ModelVersion:
    """Register the rebuild as a new version of its model: its files, tags (plus ``reproduces_version``),
    reference profile and sample — ready for comparative evaluation like any trained version."""
    version, artifact = rebuild.version, rebuild.artifact
    documents = {}
    for path in (REFERENCE_DOCUMENT, identity.SAMPLE_DOCUMENT):
        try:
            documents[path] = source.document(version, path)
        except StrataError:
            continue
    tags = {k: v for k, v in version.tags.items() if k != "run_id"}
    tags[REPRODUCES_TAG] = str(reproduces)
    metrics = {f"holdout_{k.removeprefix('metric_')}": float(v) for k, v in tags.items() if k.startswith("metric_")}
    candidate = TrainedCandidate(version.name, version.framework, _model(artifact), version.features,
                                 _params(artifact, reproduces), metrics, tags, documents=documents)  # fmt: skip
    return registry.publish(candidate)


def _model(artifact: ModelArtifact) -> Any:
    if artifact.model_version.framework != "xgboost":
        return artifact.model_file  # a directory (partitioned, tensorflow)
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(str(artifact.model_file))
    return booster


def _params(artifact: ModelArtifact, reproduces: int) -> dict[str, Any]:
    params: dict[str, Any] = {"reproduces_version": reproduces}
    if artifact.model_version.framework == "tensorflow":  # the registry's signature needs the input and output sizes
        from inference_engine.helpbot.numpy_scorer import NumpyScorer

        scorer = NumpyScorer.read(artifact.model_file / identity.KERAS_FILE)
        params.update(max_length=scorer.max_length, classes=scorer.classes)
    return params


def latest_rebuild(registry: ModelRegistry, name: str, into: Path | None = None) -> Rebuild:
    """The newest version of ``name`` in a reproduction's own registry, fetched to local disk."""
    version = registry.latest_version(name)
    target = into or Path(tempfile.mkdtemp(prefix="rebuild-"))
    return Rebuild(version, registry.fetch(version, target))
