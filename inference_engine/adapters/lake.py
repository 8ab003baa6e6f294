"""Training data located through the data lake catalog (strata_kernel.lake.LakeClient)."""

from __future__ import annotations

from inference_engine.ports import TableLocation, TrainingDataSource
from strata_kernel.lake import LakeClient


class LakeTrainingData(TrainingDataSource):
    def __init__(self, lake: LakeClient) -> None:
        self._lake = lake

    def locate(self, table: str, version: int | None = None) -> TableLocation:
        info = self._lake.table(table, version)  # NotFound / Unavailable come from the catalog client already typed
        return TableLocation(name=info.name, location=info.location, version=info.version, files=info.files)

    def hold(self, table: str, version: int, holder: str) -> None:
        self._lake.hold(table, version, holder)
