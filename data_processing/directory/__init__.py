"""The feature directory: registration of feature groups, their features, data availability and usage.

``ports.FeatureDirectory`` is the store (SQLAlchemy adapter in ``data_processing.adapters.sql_directory``);
``services`` holds the use cases (register, deprecate, describe); ``usage.UsageRecorder`` counts feature
reads in memory and flushes them periodically; ``api`` registers the REST routes on the service app.
"""
