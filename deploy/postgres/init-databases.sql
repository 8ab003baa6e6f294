-- One PostgreSQL server, one database per owner (run once, on first start of the postgres volume).
CREATE DATABASE strata_business_logic;  -- business_logic: restaurants, menus (STRATA_DATABASE_URL)
CREATE DATABASE strata_catalog;
CREATE DATABASE strata_features;        -- data_processing: feature directory (STRATA_DIRECTORY_URL)         -- data_lake: table catalog, versions, lineage (STRATA_CATALOG_URL)
CREATE DATABASE mlflow;                 -- MLflow tracking + model registry (STRATA_MLFLOW_TRACKING_URI)
CREATE DATABASE strata_comparative_eval;  -- comparative_eval: deployment records, verdicts, joined samples (STRATA_DATABASE_URL)
