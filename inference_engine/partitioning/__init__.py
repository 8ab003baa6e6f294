"""Partitioned models: one model per node of a hierarchy (global -> country -> city), trained, judged and
served as one logical model (Michelangelo's partitioned models)."""
