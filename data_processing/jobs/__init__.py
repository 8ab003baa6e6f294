"""Batch jobs (Spark and DuckDB). Each module imports its engine lazily, inside the job."""
