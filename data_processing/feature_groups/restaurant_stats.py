"""Feature group restaurant_stats: the code half (see restaurant_stats.yaml for the metadata).

Each delivered order contributes to the 7 daily snapshots D with D-7d <= delivered_at < D, i.e.
D = day(delivered_at) + k days for k = 1..7. Exploding each order into those 7 rows and grouping by
(restaurant, D) computes every day's sliding-window aggregate in one shuffle, instead of a window
join per day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 - the usual PySpark alias

WINDOW_DAYS = 7


def compute(orders: DataFrame, as_of: datetime | None = None) -> DataFrame:
    """``restaurant_id, feature_time, order_count_7d, avg_prep_minutes_7d, avg_delivery_minutes_7d``.

    Snapshots later than ``as_of`` (default: the day after the newest delivery, the first day whose
    window the data cannot complete any further) are not produced: they would describe days not yet lived.
    """
    delivered_day = F.date_trunc("day", F.col("delivered_at").cast("timestamp_ntz")).cast("timestamp_ntz")
    contributions = orders.select(
        "restaurant_id",
        F.col("prep_minutes").cast("double").alias("prep_minutes"),
        F.col("delivery_minutes").cast("double").alias("delivery_minutes"),
        F.explode(
            F.transform(F.sequence(F.lit(1), F.lit(WINDOW_DAYS)), lambda k: delivered_day + F.make_dt_interval(k))
        ).alias("feature_time"),
    )
    limit = _timestamp(as_of) if as_of is not None else _day_after_newest_delivery(orders)
    return (
        contributions.where(F.col("feature_time") <= limit)
        .groupBy("restaurant_id", "feature_time")
        .agg(
            F.count(F.lit(1)).cast("long").alias("order_count_7d"),
            F.avg("prep_minutes").alias("avg_prep_minutes_7d"),
            F.avg("delivery_minutes").alias("avg_delivery_minutes_7d"),
        )
    )


def _day_after_newest_delivery(orders: DataFrame) -> Column:
    newest = orders.agg(F.max(F.col("delivered_at").cast("timestamp_ntz"))).first()
    if newest is None or newest[0] is None:
        return F.lit(None).cast("timestamp_ntz")
    return _timestamp(newest[0].replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1))


def _timestamp(value: datetime) -> Column:
    # via text: a naive datetime literal would be shifted by the driver's time zone
    return F.lit(value.replace(tzinfo=None).isoformat(sep=" ")).cast("timestamp_ntz")
