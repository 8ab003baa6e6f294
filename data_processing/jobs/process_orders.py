"""process-orders: raw.order_placed + raw.order_delivered -> processed.orders (one row per delivered order)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from data_processing.jobs.lake_io import read_table, require_rows, table_ref, write_table
from strata_kernel.lake import LakeClient

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

JOB = "data_processing process-orders"
PLACED, DELIVERED, ORDERS = "raw.order_placed", "raw.order_delivered", "processed.orders"
ORDER_COLUMNS = (
    "order_id", "restaurant_id", "city_id", "country_code", "placed_at", "delivered_at",
    "n_items", "subtotal", "prep_minutes", "delivery_minutes", "nominal_date",
)  # fmt: skip


def run_process_orders(spark: SparkSession, lake: LakeClient) -> dict[str, Any]:
    placed_info, delivered_info = lake.table(PLACED), lake.table(DELIVERED)
    for info in (placed_info, delivered_info):
        require_rows(info, "run `python -m data_collection collect` first")
    orders = build_orders(read_table(spark, placed_info), read_table(spark, delivered_info))
    return write_table(lake, orders, ORDERS, job=JOB, inputs=[table_ref(placed_info), table_ref(delivered_info)])


def build_orders(placed: DataFrame, delivered: DataFrame) -> DataFrame:
    """Deduplicate both event streams (by event_id, then the newest event per order) and join them on order_id."""
    from pyspark.sql import functions as F  # noqa: N812

    placed_rows = _newest_per_order(placed).select(
        "order_id",
        "restaurant_id",
        "city_id",
        "country_code",
        F.col("placed_at").cast("timestamp_ntz").alias("placed_at"),
        F.col("n_items").cast("long").alias("n_items"),
        F.col("subtotal").cast("double").alias("subtotal"),
    )
    delivered_rows = _newest_per_order(delivered).select(
        "order_id",
        F.col("delivered_at").cast("timestamp_ntz").alias("delivered_at"),
        F.col("prep_minutes").cast("double").alias("prep_minutes"),
        F.col("delivery_minutes").cast("double").alias("delivery_minutes"),
    )
    joined = placed_rows.join(delivered_rows, on="order_id", how="inner")
    return joined.withColumn("nominal_date", F.date_format("placed_at", "yyyy-MM-dd")).select(*ORDER_COLUMNS)


def _newest_per_order(events: DataFrame) -> DataFrame:
    """At-least-once delivery repeats events (same event_id); a re-sent order keeps its newest event."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    newest_first = Window.partitionBy("order_id").orderBy(F.col("event_time").desc(), F.col("event_id").desc())
    return (
        events.dropDuplicates(["event_id"])
        .withColumn("_rank", F.row_number().over(newest_first))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    )
