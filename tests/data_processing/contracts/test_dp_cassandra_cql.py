"""The CQL the Cassandra online store would run, checked without a server (none exists on these machines):
statements agree with the tables they touch, placeholders match bound values, names respect Cassandra's rules.
The behaviour itself is the contract suite's job, run when STRATA_CASSANDRA_HOSTS is set."""

from __future__ import annotations

import re

import pytest

from data_processing.adapters import online_cassandra as cql
from data_processing.adapters.online_cassandra import CassandraOnlineStore

KS = "strata_online"
TABLE = cql.version_table_name("restaurant_stats", 12, "a1b2c3")
#: CQL reserved keywords (cassandra.apache.org/doc/latest/cassandra/developing/cql/appendices.html), the ones a
#: column name could plausibly collide with
RESERVED = {"add", "allow", "alter", "and", "apply", "asc", "authorize", "batch", "begin", "by", "columnfamily",
            "create", "delete", "desc", "describe", "drop", "entries", "execute", "from", "full", "grant", "if",
            "in", "index", "infinity", "insert", "into", "is", "keyspace", "limit", "materialized", "mbean",
            "modify", "nan", "norecursive", "not", "null", "of", "on", "or", "order", "primary", "rename", "replace",
            "revoke", "schema", "select", "set", "table", "to", "token", "truncate", "unlogged", "update", "use",
            "using", "view", "where", "with"}  # fmt: skip


def _created_columns(statement: str) -> dict[str, str]:
    body = re.search(r"\((.*)\)", statement.split(" WITH ")[0])
    assert body is not None, statement
    columns = [part.strip().split() for part in body.group(1).split(",")]
    return {c[0]: c[1] for c in columns}


def _balanced(statement: str) -> bool:
    depth = 0
    for char in statement:
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and statement.count("'") % 2 == 0


def test_the_version_table_is_keyed_by_entity_and_its_statements_match_it() -> None:
    create = cql.version_table_cql(KS, TABLE)
    insert = cql.insert_row_cql(KS, TABLE)
    select = cql.select_row_cql(KS, TABLE)

    columns = _created_columns(create)
    assert columns == {"entity_id": "text", "feature_time": "text", "payload": "text"}
    assert re.search(r"entity_id text PRIMARY KEY", create)
    inserted = re.search(r"\(([^)]*)\) VALUES \(([^)]*)\)", insert)
    assert inserted is not None
    assert [c.strip() for c in inserted.group(1).split(",")] == list(columns)
    assert inserted.group(2).replace(" ", "") == ",".join("?" * len(columns))
    assert select.endswith("WHERE entity_id = ?")  # a single-partition read, no ALLOW FILTERING
    assert all(f'"{KS}"."{TABLE}"' in s for s in (create, insert, select))


def test_the_pointer_statements_agree_with_the_pointer_table() -> None:
    columns = _created_columns(cql.pointer_table_cql(KS))
    first = cql.first_flip_cql(KS)
    following = cql.next_flip_cql(KS)
    read = cql.select_pointer_cql(KS)

    inserted = re.search(r"\(([^)]*)\) VALUES \(([^)]*)\) IF NOT EXISTS$", first)
    assert inserted is not None
    assert sorted(c.strip() for c in inserted.group(1).split(",")) == sorted(columns)
    assert inserted.group(2).count("?") == len(columns)
    assigned = re.findall(r"(\w+) = \?", following.split(" WHERE ")[0])
    assert sorted(assigned) == sorted(set(columns) - {"group_name"})
    assert following.endswith("WHERE group_name = ? IF version = ?")  # compare-and-set on the partition key
    selected = re.search(r"SELECT (.*) FROM", read)
    assert selected is not None
    assert sorted(c.strip() for c in selected.group(1).split(",")) == sorted(columns)
    assert read.endswith("WHERE group_name IN ?")
    assert columns["version"] == "int" and columns["row_count"] == "bigint"


def test_streaming_upserts_touch_only_the_serving_versions_metadata() -> None:
    columns = _created_columns(cql.pointer_table_cql(KS))
    touch = cql.touch_pointer_cql(KS)

    assigned = re.findall(r"(\w+) = \?", touch.split(" WHERE ")[0])
    assert set(assigned) <= set(columns) and "version" not in assigned and "data_table" not in assigned
    assert touch.endswith("WHERE group_name = ? IF version = ?")  # never overwrites a concurrent bulk flip
    assert touch.count("?") == len(assigned) + 2


def test_every_statement_is_well_formed_and_uses_no_reserved_word_as_a_name() -> None:
    statements = [cql.pointer_table_cql(KS), cql.version_table_cql(KS, TABLE), cql.insert_row_cql(KS, TABLE),
                  cql.select_row_cql(KS, TABLE), cql.select_pointer_cql(KS), cql.first_flip_cql(KS),
                  cql.next_flip_cql(KS), cql.touch_pointer_cql(KS), cql.list_tables_cql(),
                  cql.drop_table_cql(KS, TABLE)]  # fmt: skip
    names = {**_created_columns(cql.pointer_table_cql(KS)), **_created_columns(cql.version_table_cql(KS, TABLE))}

    assert all(_balanced(s) and not s.rstrip().endswith(";") for s in statements)
    assert not RESERVED & set(names)
    assert "LeveledCompactionStrategy" in cql.version_table_cql(KS, TABLE)


def test_table_names_follow_cassandras_rules() -> None:
    assert TABLE == "fg_restaurant_stats__v12_a1b2c3"
    assert re.fullmatch(r"[a-z0-9_]{1,48}", TABLE)
    with pytest.raises(ValueError, match="too long for a Cassandra table name"):
        cql.version_table_name("restaurant_stats_with_a_very_long_descriptive_name", 1, "a1b2c3")
    with pytest.raises(ValueError, match="single underscores"):
        cql.version_table_name("Restaurant-Stats", 1, "a1b2c3")
    with pytest.raises(ValueError, match="single underscores"):
        cql.version_table_name("a__v1", 1, "a1b2c3")  # would be mistaken for a version of group "a"


@pytest.mark.parametrize("url", ["cassandra:///strata", "cassandra://db1,db2/", "cassandra://db1/Bad-Keyspace"])
def test_a_malformed_cassandra_url_is_refused_before_any_connection(url: str) -> None:
    with pytest.raises(ValueError, match=r"keyspace|cassandra://"):
        CassandraOnlineStore.from_url(url)
