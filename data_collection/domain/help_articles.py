"""Help-centre articles: what a crawled page must hold to be an article, de-duplication, which articles a crawl
lands (new or changed since their last landed version), and the held-out evaluation questions.

A page with an ``<article>`` element is an article candidate; a page without one is navigation (index,
category pages). Anything else the crawl met is rejected with a one-line reason, never landed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from data_collection.domain.events import PARTITION_COLUMN, TableSchema

#: html: a fetched HTML page; not_html: fetched, another content type; http_error: 4xx/5xx;
#: failed: no response (refused, timeout); blocked: robots.txt forbids it (never fetched)
PageOutcome = Literal["html", "not_html", "http_error", "failed", "blocked"]

HELP_ARTICLES = TableSchema(
    table="raw.help_articles",
    fields=(
        ("article_id", "id"),
        ("url", "id"),
        ("title", "id"),
        ("category", "id"),
        ("answer", "id"),
        ("body", "text"),
        ("questions", "strings"),
        ("content_hash", "id"),
        ("crawled_at", "timestamp"),
    ),
)

HELDOUT_QUESTIONS = TableSchema(
    table="raw.help_heldout_questions",
    fields=(("question_id", "id"), ("article_id", "id"), ("text", "id")),
    nullable=frozenset({"article_id"}),  # null: out of scope, the chatbot should say it does not know
)

MAX_ANSWER_CHARS = 600  # the chatbot's answer is a short paragraph, not the article
MAX_QUESTION_CHARS = 500  # what the chat endpoint accepts
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class FetchedPage:
    """One URL the crawl met. ``fields`` are the raw texts of the page's ``<article>`` (None: it has none)."""

    url: str
    outcome: PageOutcome
    fetched_at: datetime  # UTC wall-clock time
    status: int | None = None
    content_type: str = ""
    error: str = ""
    fields: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class HelpArticle:
    article_id: str
    url: str  # canonical: no query, no fragment
    title: str
    category: str
    answer: str
    body: str
    questions: tuple[str, ...]
    content_hash: str
    crawled_at: datetime

    def row(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id, "url": self.url, "title": self.title, "category": self.category,
            "answer": self.answer, "body": self.body, "questions": list(self.questions),
            "content_hash": self.content_hash, "crawled_at": self.crawled_at,
            PARTITION_COLUMN: self.crawled_at.date().isoformat(),
        }  # fmt: skip


@dataclass(frozen=True)
class Rejection:
    url: str
    reason: str  # one line


@dataclass(frozen=True)
class SortedCrawl:
    fetched: int  # pages that answered (any status)
    navigation: int  # HTML pages without an article
    articles: list[HelpArticle]  # valid and unique, in canonical-URL order
    rejections: list[Rejection]
    blocked: list[str]  # URLs robots.txt kept the crawler away from


class InvalidArticle(ValueError):
    """A page that cannot be landed as an article; the message is the logged reason."""


class InvalidHeldout(ValueError):
    """The held-out questions file breaks its format; the message names the entry and field."""


def canonical_url(url: str) -> str:
    """The page's identity: the same document at ``?ref=footer`` or ``#top`` is the same page."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))


def clean_text(text: str) -> str:
    """Collapse HTML whitespace (line breaks, indentation) into single spaces."""
    return " ".join(text.split())


def content_hash(category: str, title: str, answer: str, body: str, questions: Sequence[str]) -> str:
    """Identity of an article's content (not of its URL or id): what a re-crawl compares."""
    canonical = json.dumps([category, title, answer, body, list(questions)], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_article(page: FetchedPage) -> HelpArticle:
    """The page's article, or InvalidArticle naming what is wrong."""
    fields = page.fields or {}
    article_id = clean_text(str(fields.get("article_id") or ""))
    if not article_id:
        raise InvalidArticle("data-article-id: missing on <article>")
    if not _SLUG.match(article_id):
        raise InvalidArticle(f"data-article-id: {article_id!r} is not a lowercase slug")
    category = clean_text(str(fields.get("category") or ""))
    if not category:
        raise InvalidArticle("data-category: missing on <article>")
    title = clean_text(str(fields.get("title") or ""))
    if not title:
        raise InvalidArticle("h1: missing or empty")
    answer = clean_text(str(fields.get("answer") or ""))
    if not answer:
        raise InvalidArticle("div.answer: missing or empty (the chatbot would have nothing to say)")
    if len(answer) > MAX_ANSWER_CHARS:
        raise InvalidArticle(f"div.answer: {len(answer)} characters; at most {MAX_ANSWER_CHARS}")
    body = "\n".join(line for line in (clean_text(block) for block in fields.get("body") or []) if line)
    if not body:
        raise InvalidArticle("div.body: missing or empty")
    questions = tuple(dict.fromkeys(q for q in (clean_text(str(q)) for q in fields.get("questions") or []) if q))
    if not questions:
        raise InvalidArticle("ul.questions: no question listed")
    return HelpArticle(
        article_id=article_id, url=canonical_url(page.url), title=title, category=category, answer=answer,
        body=body, questions=questions, content_hash=content_hash(category, title, answer, body, questions),
        crawled_at=page.fetched_at,
    )  # fmt: skip


def sort_out(pages: Iterable[FetchedPage]) -> SortedCrawl:
    """Valid unique articles, rejections with reasons, navigation pages and robots.txt refusals.

    Pages are taken in canonical-URL order, the plain URL before its query variants, so which copy of a
    duplicate is kept does not depend on the order the concurrent crawl fetched them in.
    """
    ordered = sorted(pages, key=lambda p: (canonical_url(p.url), p.url != canonical_url(p.url), p.url))
    articles: list[HelpArticle] = []
    rejections: list[Rejection] = []
    blocked: list[str] = []
    fetched = navigation = 0
    seen_urls: set[str] = set()
    by_id: dict[str, HelpArticle] = {}
    by_hash: dict[str, HelpArticle] = {}
    for page in ordered:
        if page.outcome == "blocked":
            blocked.append(page.url)
            continue
        fetched += page.outcome != "failed"
        reason = _fetch_problem(page)
        if reason is None and canonical_url(page.url) in seen_urls:
            reason = f"duplicate of {canonical_url(page.url)} (same page at another URL)"
        seen_urls.add(canonical_url(page.url))
        if reason is None and page.fields is None:
            navigation += 1
            continue
        if reason is None:
            try:
                article = parse_article(page)
            except InvalidArticle as exc:
                reason = str(exc)
            else:
                reason = _duplicate(article, by_id, by_hash)
                if reason is None:
                    articles.append(article)
                    by_id[article.article_id] = by_hash[article.content_hash] = article
        if reason is not None:
            rejections.append(Rejection(page.url, reason))
    return SortedCrawl(fetched, navigation, articles, rejections, blocked)


def _fetch_problem(page: FetchedPage) -> str | None:
    if page.outcome == "not_html":
        return f"not an HTML page ({page.content_type or 'no content type'})"
    if page.outcome == "http_error":
        return f"HTTP {page.status}"
    if page.outcome == "failed":
        return f"fetch failed: {page.error or 'no response'}"
    return None


def _duplicate(
    article: HelpArticle, by_id: Mapping[str, HelpArticle], by_hash: Mapping[str, HelpArticle]
) -> str | None:
    same_id = by_id.get(article.article_id)
    if same_id is not None:
        if same_id.content_hash == article.content_hash:
            return f"duplicate of {same_id.url} (same article {article.article_id!r} at another URL)"
        return f"data-article-id {article.article_id!r} already used by {same_id.url} with different content"
    same_content = by_hash.get(article.content_hash)
    if same_content is not None:
        return f"same content as {same_content.url} ({same_content.article_id!r}) under another id"
    return None


def plan_landing(
    articles: Sequence[HelpArticle], landed: Mapping[str, str]
) -> tuple[list[HelpArticle], list[HelpArticle]]:
    """Split into (new or changed since the landed hash, unchanged)."""
    changed = [a for a in articles if landed.get(a.article_id) != a.content_hash]
    unchanged = [a for a in articles if landed.get(a.article_id) == a.content_hash]
    return changed, unchanged


def parse_heldout(document: Any, nominal: date) -> list[dict[str, Any]]:
    """Rows of raw.help_heldout_questions from the YAML document (a list of {question_id, article_id, text})."""
    if not isinstance(document, list) or not document:
        raise InvalidHeldout("expected a non-empty list of {question_id, article_id, text}")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(document):
        if not isinstance(item, Mapping):
            raise InvalidHeldout(f"{index}: expected a mapping, got {type(item).__name__}")
        question_id, article_id, text = item.get("question_id"), item.get("article_id"), item.get("text")
        if not isinstance(question_id, str) or not question_id.strip():
            raise InvalidHeldout(f"{index}.question_id: expected a non-empty string, got {question_id!r}")
        if question_id in seen:
            raise InvalidHeldout(f"{index}.question_id: {question_id!r} appears twice")
        if article_id is not None and (not isinstance(article_id, str) or not _SLUG.match(article_id)):
            raise InvalidHeldout(f"{index}.article_id: expected an article slug or null, got {article_id!r}")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_QUESTION_CHARS:
            raise InvalidHeldout(f"{index}.text: expected 1..{MAX_QUESTION_CHARS} characters, got {text!r}")
        seen.add(question_id)
        rows.append({"question_id": question_id, "article_id": article_id, "text": text,
                     PARTITION_COLUMN: nominal.isoformat()})  # fmt: skip
    return rows
