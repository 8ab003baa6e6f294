"""`crawl` and `land-heldout` for real: the packaged help centre (a copy, so one article can be edited) served on a
free port, Scrapy in its subprocess, and a real data_lake catalog on another port. One sequence of three crawls
(first, unchanged, one article edited) is shared by the module's tests to keep them fast."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from data_collection.entrypoints.cli import DEFAULT_HELDOUT, app
from data_collection.entrypoints.helpcentre_app import create_helpcentre_app
from data_collection.settings import Settings
from data_lake.entrypoints.app import create_app as create_lake_app
from data_lake.settings import Settings as LakeSettings
from strata_kernel.http import ServiceClient
from strata_kernel.lake import LakeClient
from tests.support import committed_rows, serve

PACKAGED_SITE = Path(__file__).resolve().parents[2] / "data_collection" / "helpcentre" / "site"
EDITED = "articles/payments/tipping-couriers.html"


@dataclass
class HelpCentre:
    site: Path
    var: Path
    url: str
    lake_url: str
    requested: list[str] = field(default_factory=list)
    crawls: list[dict[str, Any]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {"STRATA_VAR_DIR": str(self.var), "STRATA_DATA_LAKE_URL": self.lake_url,
                "STRATA_HELP_CENTRE_URL": self.url, "STRATA_CRAWL_DELAY_SECONDS": "0", "STRATA_LOG_JSON": "false",
                "STRATA_HTTP_RETRIES": "1"}  # fmt: skip

    def invoke(self, *args: str) -> Any:
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            return CliRunner().invoke(app, list(args), env=self.env())
        finally:  # the command configured logging onto the runner's stream: give the root logger back
            root.handlers[:] = handlers
            root.setLevel(level)

    def crawl(self) -> dict[str, Any]:
        result = self.invoke("crawl")
        assert result.exit_code == 0, result.output
        summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        self.crawls.append(summary)
        return summary

    def articles(self) -> list[dict[str, Any]]:
        return self.rows("raw.help_articles")

    def rows(self, table: str) -> list[dict[str, Any]]:
        """The table's current version as the catalog lists it (an overwrite's superseded files stay a while)."""
        return committed_rows(LakeClient(self.var / "lake", ServiceClient("data_lake", self.lake_url)).table(table))


def _recording(wsgi: Callable[..., Iterable[bytes]], requested: list[str]) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING")
        requested.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))
        return wsgi(environ, start_response)

    return app


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HelpCentre]:
    root = tmp_path_factory.mktemp("help_centre")
    site = root / "site"
    shutil.copytree(PACKAGED_SITE, site)
    var = root / "var"
    requested: list[str] = []
    site_app = create_helpcentre_app(Settings(var_dir=var, log_json=False), site_dir=site)
    site_server, url = serve(_recording(site_app, requested))
    lake_server, lake_url = serve(create_lake_app(LakeSettings(var_dir=var, log_json=False)))
    centre = HelpCentre(site, var, url, lake_url, requested)
    centre.crawl()
    centre.crawl()  # nothing changed
    page = site / EDITED
    page.write_text(page.read_text().replace("The courier receives 100% of the tip.",
                                             "The courier receives 100% of the tip, paid out weekly."))  # fmt: skip
    centre.crawl()
    yield centre
    site_server.shutdown()
    lake_server.shutdown()


def test_the_first_crawl_lands_every_article_once_with_its_questions(centre: HelpCentre) -> None:
    first = centre.crawls[0]
    assert first["landed"] == first["articles"] >= 40 and first["unchanged"] == 0
    rows = centre.articles()
    counts = Counter(row["article_id"] for row in rows)
    # the footer's ?ref=footer copy and the old refund page were not landed again; only the edited article was
    assert len(counts) == first["articles"] and {n for a, n in counts.items() if a != "tipping-couriers"} == {1}
    where = next(row for row in rows if row["article_id"] == "where-is-my-order")
    assert where["url"] == f"{centre.url}/articles/orders/where-is-my-order.html"
    assert where["category"] == "orders" and where["title"] == "Where is my order?"
    assert where["answer"].startswith("Open the Orders tab") and "push notification" in where["body"]
    assert 5 <= len(where["questions"]) <= 7 and "How do I track my delivery?" in where["questions"]
    assert re.fullmatch(r"[0-9a-f]{64}", where["content_hash"])
    latest = {row["article_id"]: row for row in rows}
    every_question = [q.lower() for row in latest.values() for q in row["questions"]]
    assert len(every_question) == len(set(every_question))  # articles are told apart by their questions
    table = httpx.get(f"{centre.lake_url}/v1/tables/raw.help_articles").json()
    schema = {column["name"]: column["type"] for column in table["schema"]}
    assert schema["questions"].startswith("list<") and schema["crawled_at"] == "timestamp[us]"


def test_robots_txt_keeps_the_crawler_out_of_the_staff_area(centre: HelpCentre) -> None:
    assert "/robots.txt" in centre.requested
    assert not [path for path in centre.requested if path.startswith("/internal/")]
    assert centre.crawls[0]["blocked_by_robots"] == [f"{centre.url}/internal/agent-escalation-playbook.html"]
    assert "agent-escalation-playbook" not in {row["article_id"] for row in centre.articles()}


def test_bad_pages_are_rejected_with_a_logged_reason(centre: HelpCentre) -> None:
    reasons = {r["url"].removeprefix(centre.url): r["reason"] for r in centre.crawls[0]["rejections"]}
    assert reasons == {
        "/articles/orders/catering-orders.html": "div.answer: missing or empty (the chatbot would have nothing to say)",
        "/articles/payments/gift-cards.html": "data-article-id: missing on <article>",
        "/articles/orders/where-is-my-order.html?ref=footer":
            f"duplicate of {centre.url}/articles/orders/where-is-my-order.html (same page at another URL)",
        "/articles/refunds/refund-times-2023.html": f"duplicate of {centre.url}/articles/refunds/refund-timeline.html "
                                                    "(same article 'refund-timeline' at another URL)",
        "/downloads/courier-safety-checklist.txt": "not an HTML page (text/plain)",
        "/articles/delivery/delivery-in-storms.html": "HTTP 404",
    }  # fmt: skip
    quarantined = (centre.var / "data_collection" / "quarantine" / "help_centre.crawl.jsonl").read_text().splitlines()
    assert {json.loads(line)["reason"] for line in quarantined} == set(reasons.values())


def test_an_unchanged_recrawl_lands_nothing_and_says_so(centre: HelpCentre) -> None:
    first, again = centre.crawls[0], centre.crawls[1]
    assert (again["landed"], again["unchanged"], again["lake_version"]) == (0, first["articles"], None)
    assert again["message"] == "nothing new or changed: landed nothing"


def test_editing_one_article_lands_exactly_that_article_again(centre: HelpCentre) -> None:
    first, edited = centre.crawls[0], centre.crawls[2]
    assert (edited["landed"], edited["unchanged"]) == (1, first["articles"] - 1)
    rows = centre.articles()
    assert len(rows) == first["articles"] + 1
    versions = [row for row in rows if row["article_id"] == "tipping-couriers"]
    assert len(versions) == 2 and versions[0]["content_hash"] != versions[1]["content_hash"]
    assert {"paid out weekly" in row["answer"] for row in versions} == {True, False}


def test_land_heldout_replaces_the_table_with_the_evaluation_questions(centre: HelpCentre) -> None:
    for _ in range(2):  # overwrite: landing twice keeps one copy
        result = centre.invoke("land-heldout")
        assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    rows = centre.rows("raw.help_heldout_questions")
    assert len(rows) == summary["questions"] and summary["in_scope"] >= 100 and summary["out_of_scope"] >= 20
    assert len({row["question_id"] for row in rows}) == len(rows)


def test_the_heldout_questions_paraphrase_landed_articles_without_copying_them(centre: HelpCentre) -> None:
    articles = {row["article_id"]: row for row in centre.articles()}
    heldout = yaml.safe_load(DEFAULT_HELDOUT.read_text())
    per_article: dict[str, int] = {}
    for item in heldout:
        if item["article_id"] is not None:
            per_article[item["article_id"]] = per_article.get(item["article_id"], 0) + 1
    assert set(per_article) == set(articles) and min(per_article.values()) >= 2

    def norm(text: str) -> str:
        return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()

    listed = {norm(q) for row in articles.values() for q in row["questions"]}
    assert not [item["text"] for item in heldout if norm(item["text"]) in listed]


def test_land_heldout_refuses_a_bad_file_in_one_line(centre: HelpCentre, tmp_path: Path) -> None:
    bad = tmp_path / "heldout.yaml"
    bad.write_text("- {question_id: q1, article_id: where-is-my-order}\n")
    result = centre.invoke("land-heldout", str(bad))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: heldout.yaml: 0.text: expected 1..500 characters, got None"
    missing = centre.invoke("land-heldout", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and missing.stderr.strip().endswith("nope.yaml is not a file")


def test_a_crawl_of_an_unreachable_site_fails_in_one_line(centre: HelpCentre, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["crawl"], env={**centre.env(), "STRATA_VAR_DIR": str(tmp_path),
                                                     "STRATA_HELP_CENTRE_URL": "http://127.0.0.1:9"})  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: no page of http://127.0.0.1:9/ could be fetched")
