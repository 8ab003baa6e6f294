"""XGBoost runtime: a Booster read from the saved model file, scored with ``inplace_predict``.

No pandas, DMatrix or MLflow pyfunc on the hot path: instances go straight into a float32 array in
the model's feature order (missing -> NaN, which XGBoost treats as missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xgboost as xgb

from inference_engine.domain.signature import Instance
from inference_engine.ports import ModelRuntime


class XGBoostRuntime(ModelRuntime):
    _booster: Any = None

    def load(self) -> None:
        booster = xgb.Booster()
        booster.load_model(str(self.artifact.model_file))
        # a request holds a handful of rows: one thread each beats contention between gunicorn threads
        booster.set_param({"nthread": 1})
        self._booster = booster

    def predict(self, instances: Sequence[Instance]) -> list[float]:
        if self._booster is None:
            raise RuntimeError("XGBoostRuntime.predict called before load()")
        rows = np.array(list(self.signature.rows(instances)), dtype=np.float32)
        rows = rows.reshape(len(instances), len(self.signature.features))
        scores = self._booster.inplace_predict(rows, missing=np.nan)
        return [float(score) for score in np.asarray(scores).ravel()]
