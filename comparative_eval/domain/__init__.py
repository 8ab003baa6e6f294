"""Pure domain values and rules of comparative_eval: deployment records, analysis templates, statistics, verdicts."""
