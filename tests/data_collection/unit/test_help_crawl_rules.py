"""What a crawled page must hold to become an article, de-duplication, incremental landing and the held-out file
format: the domain rules, and the crawl use case over fake ports (page source, state, lake, quarantine)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pytest
from dc_fakes import FakeQuarantine, FakeRawLake

from data_collection.domain.help_articles import (
    FetchedPage,
    InvalidArticle,
    InvalidHeldout,
    canonical_url,
    parse_article,
    parse_heldout,
    sort_out,
)
from data_collection.errors import CrawlFailed, InvalidHeldoutFile, LakeWriteFailed
from data_collection.help_services import CRAWL_JOB, REJECTS_TOPIC, HelpCentreCrawl, land_heldout
from data_collection.ports import CrawlState, PageSource

SITE = "http://help.test"
AT = datetime(2025, 3, 1, 9, 30)


def fields(article_id: str | None = "where-is-my-order", **changes: Any) -> dict[str, Any]:
    base = {
        "article_id": article_id, "category": "orders", "title": " Where is my\n order? ",
        "answer": "Open the Orders tab   and tap your order.",
        "body": ["Every order shows a status timeline.", "  ", "Pull down\n to refresh."],
        "questions": ["Where is my order?", "How do I track my delivery?", "Where is my order?"],
    }  # fmt: skip
    return {**base, **changes}


def page(path: str, outcome: str = "html", **kw: Any) -> FetchedPage:
    return FetchedPage(url=SITE + path, outcome=outcome, fetched_at=AT, **kw)  # type: ignore[arg-type]


def article_page(path: str, **changes: Any) -> FetchedPage:
    return page(path, status=200, content_type="text/html", fields=fields(**changes))


def test_an_article_page_becomes_a_clean_article_with_a_content_hash() -> None:
    article = parse_article(article_page("/articles/orders/where-is-my-order.html?ref=footer#top"))
    assert article.url == SITE + "/articles/orders/where-is-my-order.html"
    assert article.title == "Where is my order?" and article.answer == "Open the Orders tab and tap your order."
    assert article.body == "Every order shows a status timeline.\nPull down to refresh."
    assert article.questions == ("Where is my order?", "How do I track my delivery?")  # repeated question once
    row = article.row()
    assert (
        row["nominal_date"] == "2025-03-01" and row["crawled_at"] == AT and row["questions"] == list(article.questions)
    )
    moved = parse_article(article_page("/elsewhere.html"))
    assert moved.content_hash == article.content_hash  # the hash is the content's, not the URL's
    edited = parse_article(article_page("/x.html", answer="Open the Orders tab."))
    assert edited.content_hash != article.content_hash


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"article_id": None}, "data-article-id: missing on <article>"),
        ({"article_id": "Where Is My Order"}, "data-article-id: 'Where Is My Order' is not a lowercase slug"),
        ({"category": ""}, "data-category: missing on <article>"),
        ({"title": " "}, "h1: missing or empty"),
        ({"answer": None}, "div.answer: missing or empty (the chatbot would have nothing to say)"),
        ({"answer": "x" * 601}, "div.answer: 601 characters; at most 600"),
        ({"body": []}, "div.body: missing or empty"),
        ({"questions": ["  "]}, "ul.questions: no question listed"),
    ],
)
def test_an_incomplete_article_is_refused_with_the_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidArticle) as refused:
        parse_article(article_page("/a.html", **changes))
    assert str(refused.value) == reason


def test_canonical_urls_drop_query_and_fragment_and_lowercase_the_host() -> None:
    assert canonical_url("HTTP://Help.Test/a.html?ref=footer#top") == "http://help.test/a.html"
    assert canonical_url("http://help.test") == "http://help.test/"


def test_sort_out_keeps_one_copy_of_each_article_and_says_why_it_refused_the_rest() -> None:
    pages = [
        article_page("/b.html?ref=footer", article_id="b-article", title="B"),  # met before the plain URL
        article_page("/b.html", article_id="b-article", title="B"),
        article_page("/old-b.html", article_id="b-article", title="B"),  # same article at a legacy URL
        article_page("/c.html", article_id="b-article", title="C"),  # same id, other content
        article_page("/d.html", article_id="d-article", title="B"),  # same content, other id
        article_page("/e.html", article_id="e-article", answer=""),
        page("/", status=200, content_type="text/html", fields=None),
        page("/list.txt", "not_html", status=200, content_type="text/plain"),
        page("/gone.html", "http_error", status=404),
        page("/internal/x.html", "blocked", error="forbidden by robots.txt"),
    ]
    crawl = sort_out(pages)
    assert [(a.article_id, a.url) for a in crawl.articles] == [("b-article", SITE + "/b.html")]
    assert (crawl.fetched, crawl.navigation, crawl.blocked) == (9, 1, [SITE + "/internal/x.html"])
    assert {r.url.removeprefix(SITE): r.reason for r in crawl.rejections} == {
        "/b.html?ref=footer": f"duplicate of {SITE}/b.html (same page at another URL)",
        "/c.html": f"data-article-id 'b-article' already used by {SITE}/b.html with different content",
        "/d.html": f"same content as {SITE}/b.html ('b-article') under another id",
        "/e.html": "div.answer: missing or empty (the chatbot would have nothing to say)",
        "/gone.html": "HTTP 404",
        "/list.txt": "not an HTML page (text/plain)",
        "/old-b.html": f"duplicate of {SITE}/b.html (same article 'b-article' at another URL)",
    }


def test_heldout_rows_are_checked_entry_by_entry() -> None:
    rows = parse_heldout(
        [{"question_id": "q1", "article_id": "where-is-my-order", "text": "wheres my food"},
         {"question_id": "q2", "article_id": None, "text": "tell me a joke"}],
        date(2025, 3, 1),
    )  # fmt: skip
    assert rows[1] == {"question_id": "q2", "article_id": None, "text": "tell me a joke", "nominal_date": "2025-03-01"}
    for document, reason in [
        ({"q": 1}, "expected a non-empty list of {question_id, article_id, text}"),
        ([{"question_id": "q1", "article_id": None, "text": ""}], "0.text: expected 1..500 characters, got ''"),
        ([{"question_id": "q1", "article_id": None, "text": "a"}] * 2, "1.question_id: 'q1' appears twice"),
        (
            [{"question_id": "q1", "article_id": 7, "text": "a"}],
            "0.article_id: expected an article slug or null, got 7",
        ),
    ]:
        with pytest.raises(InvalidHeldout) as refused:
            parse_heldout(document, date(2025, 3, 1))
        assert str(refused.value) == reason


class FakePageSource(PageSource):
    def __init__(self, pages: list[FetchedPage]) -> None:
        self.pages = pages

    def crawl(self, start_urls: Sequence[str], allowed_domains: Sequence[str]) -> list[FetchedPage]:
        return list(self.pages)


class MemoryCrawlState(CrawlState):
    def __init__(self) -> None:
        self.hashes: dict[str, str] = {}

    def load(self) -> dict[str, str]:
        return dict(self.hashes)

    def save(self, hashes: dict[str, str]) -> None:
        self.hashes = dict(hashes)


def _crawl(source: FakePageSource, state: MemoryCrawlState, lake: FakeRawLake, rejects: FakeQuarantine) -> Any:
    return HelpCentreCrawl(source, state, lake, rejects).run([SITE + "/"], ["help.test"])


def test_a_recrawl_lands_only_new_or_changed_articles_and_quarantines_rejects(
    fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine
) -> None:
    source = FakePageSource([article_page("/a.html", article_id="a"), article_page("/b.html", article_id="b",
                                                                                  title="B")])  # fmt: skip
    state = MemoryCrawlState()
    first = _crawl(source, state, fake_lake, fake_quarantine)
    assert (first["landed"], first["unchanged"], first["lake_version"]) == (2, 0, 1)
    assert fake_lake.commits[0]["job"] == CRAWL_JOB and fake_lake.commits[0]["inputs"] == [f"site:{SITE}/"]

    again = _crawl(source, state, fake_lake, fake_quarantine)
    assert (again["landed"], again["unchanged"], again["message"]) == (0, 2, "nothing new or changed: landed nothing")
    assert len(fake_lake.commits) == 1

    source.pages = [article_page("/a.html", article_id="a", answer="A new answer."), article_page("/z.html", answer="")]
    changed = _crawl(source, state, fake_lake, fake_quarantine)
    assert (changed["landed"], changed["unchanged"], changed["missing_since_last_crawl"]) == (1, 0, ["b"])
    assert [row["answer"] for row in fake_lake.rows["raw.help_articles"]][-1] == "A new answer."
    assert [(q.topic, q.value["url"]) for q in fake_quarantine.events] == [(REJECTS_TOPIC, SITE + "/z.html")]


def test_a_failed_lake_commit_keeps_the_state_so_the_next_crawl_lands_again(
    fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine
) -> None:
    source, state = FakePageSource([article_page("/a.html", article_id="a")]), MemoryCrawlState()
    fake_lake.failing = True
    with pytest.raises(LakeWriteFailed):
        _crawl(source, state, fake_lake, fake_quarantine)
    assert state.hashes == {}
    fake_lake.failing = False
    assert _crawl(source, state, fake_lake, fake_quarantine)["landed"] == 1


def test_a_crawl_that_reached_no_page_fails_and_lands_nothing(
    fake_lake: FakeRawLake, fake_quarantine: FakeQuarantine
) -> None:
    source = FakePageSource([page("/", "failed", error="Connection was refused by other side")])
    with pytest.raises(CrawlFailed, match=r"no page of http://help.test/ could be fetched: fetch failed: Connection"):
        _crawl(source, MemoryCrawlState(), fake_lake, fake_quarantine)
    assert fake_lake.commits == []


def test_land_heldout_overwrites_the_table_and_refuses_a_bad_file(fake_lake: FakeRawLake) -> None:
    document = [{"question_id": "q1", "article_id": "a", "text": "wheres my food"},
                {"question_id": "q2", "article_id": None, "text": "tell me a joke"}]  # fmt: skip
    summary = land_heldout(fake_lake, document, source="h.yaml", today=date(2025, 3, 1))
    assert (summary["questions"], summary["in_scope"], summary["out_of_scope"]) == (2, 1, 1)
    assert fake_lake.commits[-1]["mode"] == "overwrite" and fake_lake.commits[-1]["inputs"] == ["file:h.yaml"]
    with pytest.raises(InvalidHeldoutFile, match=r"h.yaml: 0.text"):
        land_heldout(fake_lake, [{"question_id": "q1", "article_id": None}], source="h.yaml", today=date(2025, 3, 1))
    assert len(fake_lake.commits) == 1
