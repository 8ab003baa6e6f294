"""help-text: raw help-centre articles and held-out questions -> processed tables the chatbot trains and is
evaluated on, vectorised by ``data_processing.text`` (the code the runtime endpoint runs).

- processed.help_articles: the latest version of each article (by crawled_at)
- processed.help_examples: one example per article title, listed question, and sentence of its answer and body
- processed.help_heldout: the held-out paraphrases (article_id null = out of scope), never trained on

The tables are small (tens of articles), so this is pyarrow and plain Python, not Spark. Each table is rewritten
whole (mode overwrite), so a rerun on the same inputs gives the same rows; its commit names the raw versions read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from data_processing.jobs.lake_io import PARTITION_COLUMN, require_rows, table_ref
from data_processing.text import VECTORISER_ID, normalise, vectorise
from strata_kernel.errors import NotFound
from strata_kernel.lake import LakeClient, TableInfo, committed_files

JOB = "data_processing help-text"
RAW_ARTICLES, RAW_HELDOUT = "raw.help_articles", "raw.help_heldout_questions"
ARTICLES, EXAMPLES, HELDOUT = "processed.help_articles", "processed.help_examples", "processed.help_heldout"
_HINTS = {
    RAW_ARTICLES: "run `python -m data_collection crawl` first",
    RAW_HELDOUT: "run `python -m data_collection land-heldout` first",
}

ARTICLE_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("url", pa.string()), ("title", pa.string()), ("category", pa.string()),
    ("answer", pa.string()), ("content_hash", pa.string()), (PARTITION_COLUMN, pa.string()),
])  # fmt: skip
#: ``vectoriser`` (VECTORISER_ID) goes beyond the contract's columns: the trainer tags the model with it
EXAMPLE_SCHEMA = pa.schema([
    ("example_id", pa.string()), ("article_id", pa.string()), ("source", pa.string()), ("text", pa.string()),
    ("normalised", pa.string()), ("token_ids", pa.list_(pa.int32())), ("vectoriser", pa.string()),
    (PARTITION_COLUMN, pa.string()),
])  # fmt: skip


def run_help_text(lake: LakeClient) -> dict[str, Any]:
    articles_info, heldout_info = _input(lake, RAW_ARTICLES), _input(lake, RAW_HELDOUT)
    articles = latest_articles(_rows(articles_info))
    examples, duplicates = article_examples(articles)
    heldout = heldout_examples(_rows(heldout_info))
    trained = {row["normalised"] for row in examples}
    versions: dict[str, int] = {}
    for table, rows, schema, info in (
        (ARTICLES, [{c: a[c] for c in ARTICLE_SCHEMA.names} for a in articles], ARTICLE_SCHEMA, articles_info),
        (EXAMPLES, examples, EXAMPLE_SCHEMA, articles_info),
        (HELDOUT, heldout, EXAMPLE_SCHEMA, heldout_info),
    ):
        data = pa.Table.from_pylist(rows, schema=schema)
        committed = lake.write_arrow(
            table, data, partition_column=PARTITION_COLUMN, job=JOB, inputs=[table_ref(info)], mode="overwrite"
        )
        versions[table] = committed["version"]
    return {
        "articles": len(articles),
        "examples": len(examples),
        "duplicate_examples_dropped": duplicates,
        "heldout": len(heldout),
        "heldout_out_of_scope": sum(1 for row in heldout if row["article_id"] is None),
        # a held-out question that is also a training example measures recall, not generalisation
        "heldout_seen_in_training": sum(1 for row in heldout if row["normalised"] in trained),
        "vectoriser": VECTORISER_ID,
        "inputs": [table_ref(articles_info), table_ref(heldout_info)],
        "versions": versions,
    }


def _input(lake: LakeClient, table: str) -> TableInfo:
    try:
        info = lake.table(table)
    except NotFound as exc:
        raise NotFound(f"{table} does not exist: {_HINTS[table]}") from exc
    require_rows(info, _HINTS[table])
    return info


def _rows(info: TableInfo) -> list[dict[str, Any]]:
    """The rows of the table version ``info`` names."""
    files = committed_files(info)
    data = ds.dataset(files, format="parquet", partitioning="hive", partition_base_dir=str(info.location)).to_table()
    if PARTITION_COLUMN in data.column_names:  # hive discovery may type "2025-01-10" as a date
        index = data.column_names.index(PARTITION_COLUMN)
        data = data.set_column(index, PARTITION_COLUMN, data.column(PARTITION_COLUMN).cast(pa.string()))
    rows: list[dict[str, Any]] = data.to_pylist()
    return rows


def latest_articles(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The newest version of each article by crawled_at (ties: the greater content_hash, so reruns agree)."""
    latest: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        key = (_when(row["crawled_at"]), str(row["content_hash"] or ""))
        seen = latest.get(row["article_id"])
        if seen is None or key > (_when(seen["crawled_at"]), str(seen["content_hash"] or "")):
            latest[row["article_id"]] = row
    return [dict(latest[article_id]) for article_id in sorted(latest)]


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def article_examples(articles: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """One example per title, per listed question and per sentence of the answer and body (sources "title",
    "question", "answer", "body"); the same text twice in one article counts once.

    Titles and questions alone are ~6 short texts an article: too few words for paraphrases to hit. The answer
    and body sentences carry the article's vocabulary ("refund", "courier", "allergen") that users ask with.

    Returns the examples and how many duplicates (or texts without words) were dropped.
    """
    examples: list[dict[str, Any]] = []
    dropped = 0
    for article in articles:
        seen: set[str] = set()
        texts = [
            ("title", article["title"]),
            *(("question", q) for q in article.get("questions") or []),
            *(("answer", s) for s in sentences(article.get("answer"))),
            *(("body", s) for s in sentences(article.get("body"))),
        ]
        for source, text in texts:
            example = _example(None, article["article_id"], source, text, article[PARTITION_COLUMN])
            if example is None or example["normalised"] in seen:
                dropped += 1
                continue
            seen.add(example["normalised"])
            examples.append(example)
    return examples, dropped


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: Any) -> list[str]:
    """The sentences of a paragraph (split after . ! ? and at line breaks), blanks dropped."""
    return [part.strip() for part in _SENTENCE_END.split(str(text or "")) if part.strip()]


def heldout_examples(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The held-out questions as examples (``source`` "heldout"); the newest landing of a question id wins."""
    newest: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        seen = newest.get(row["question_id"])
        if seen is None or str(row[PARTITION_COLUMN]) >= str(seen[PARTITION_COLUMN]):
            newest[row["question_id"]] = row
    examples = []
    for question_id in sorted(newest):
        row = newest[question_id]
        example = _example(question_id, row["article_id"], "heldout", row["text"], row[PARTITION_COLUMN])
        if example is not None:
            examples.append(example)
    return examples


def _example(
    example_id: str | None, article_id: str | None, source: str, text: Any, nominal_date: Any
) -> dict[str, Any] | None:
    text = str(text or "").strip()
    normalised = normalise(text)
    token_ids = vectorise(text)
    if not token_ids:
        return None
    if example_id is None:  # stable across reruns and question reordering: named by what it says
        digest = hashlib.blake2b(normalised.encode(), digest_size=5).hexdigest()
        example_id = f"{article_id}:{source}:{digest}"
    return {
        "example_id": example_id,
        "article_id": article_id,
        "source": source,
        "text": text,
        "normalised": normalised,
        "token_ids": token_ids,
        "vectoriser": VECTORISER_ID,
        PARTITION_COLUMN: str(nominal_date),
    }
