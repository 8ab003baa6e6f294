"""After the code ran on Spark: the output schema must give each feature its declared type."""

from __future__ import annotations

from typing import Any

import pytest

from data_processing.directory.jobs import check_computed_types, newest_nominal_time
from data_processing.domain.registry_rules import RegistrationRefused
from data_processing.registry import FeatureGroupRegistry
from tests.data_processing.directory.groups import PACKAGED

pytestmark = pytest.mark.spark
GROUP = FeatureGroupRegistry.load(PACKAGED).get("restaurant_stats")
COLUMNS = "restaurant_id string, feature_time timestamp_ntz, avg_prep_minutes_7d double, avg_delivery_minutes_7d double"


def test_a_produced_type_other_than_the_declared_one_is_refused(spark: Any) -> None:
    from datetime import datetime

    good = spark.createDataFrame([("r-1", datetime(2025, 1, 2), 10.0, 30.0, 3)], f"{COLUMNS}, order_count_7d int")
    bad = spark.createDataFrame([("r-1", datetime(2025, 1, 2), 10.0, 30.0, 3.5)], f"{COLUMNS}, order_count_7d double")

    check_computed_types(good, GROUP)  # int where int64 is declared: fine
    assert newest_nominal_time(good, GROUP) == datetime(2025, 1, 2)
    with pytest.raises(RegistrationRefused, match="'order_count_7d' is declared int64 but its code produces float64"):
        check_computed_types(bad, GROUP)
