"""data_processing deployable: batch jobs, the feature store and the ETD runtime.

- Jobs (``python -m data_processing ...``): ``process-orders`` (Spark: raw -> processed.orders),
  ``build-features <group>`` (Spark: feature group code -> offline table features.<group> + a versioned
  bulk load of the newest row per entity into the online store), ``training-set <model>`` (DuckDB
  point-in-time join -> processed.<model>_training_set).
- Feature store: groups are YAML metadata + code (``feature_groups/``); offline store = lake tables
  partitioned by the date of the nominal time; online store = versioned atomic bulk loads (SQLite
  embedded; the port admits Redis/Cassandra); features are named ``@group:feature`` / ``group__feature``.
- Runtime (``serve``, port 8002): ``POST /v1/etd/estimate`` = online features + order features computed
  by the SAME functions as the training set (``domain/etd_features.py``) -> inference engine.
"""
