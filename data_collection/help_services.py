"""Use cases of the help centre: crawl it into raw.help_articles incrementally, land the held-out
evaluation questions. Event topics of the chatbot are collected by the ordinary collector (services.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from data_collection.domain.help_articles import (
    HELDOUT_QUESTIONS,
    HELP_ARTICLES,
    InvalidHeldout,
    Rejection,
    parse_heldout,
    plan_landing,
    sort_out,
)
from data_collection.errors import CrawlFailed, InvalidHeldoutFile
from data_collection.ports import CrawlState, PageSource, Quarantine, QuarantinedEvent, RawLake

log = logging.getLogger(__name__)

CRAWL_JOB = "data_collection.crawl"
HELDOUT_JOB = "data_collection.land_heldout"
REJECTS_TOPIC = "help_centre.crawl"  # the quarantine file rejected pages go to


@dataclass(frozen=True)
class HelpCentreCrawl:
    source: PageSource
    state: CrawlState
    lake: RawLake
    rejects: Quarantine

    def run(self, start_urls: Sequence[str], allowed_domains: Sequence[str]) -> dict[str, Any]:
        """Crawl, reject bad pages with a reason, land only new or changed articles; returns the summary.

        The state is saved only after the lake commit, so a failed commit lands the same articles next time.
        """
        pages = self.source.crawl(start_urls, allowed_domains)
        crawl = sort_out(pages)
        if crawl.fetched == 0:
            reasons = sorted({r.reason for r in crawl.rejections}) or ["no page was reachable"]
            raise CrawlFailed(f"no page of {', '.join(start_urls)} could be fetched: {reasons[0]}")
        self._reject(crawl.rejections)
        landed_hashes = self.state.load()
        changed, unchanged = plan_landing(crawl.articles, landed_hashes)
        version = None
        if changed:
            rows = [article.row() for article in changed]
            version = self.lake.append(HELP_ARTICLES, rows, job=CRAWL_JOB, inputs=[f"site:{u}" for u in start_urls])
            self.state.save({**landed_hashes, **{a.article_id: a.content_hash for a in changed}})
        missing = sorted(set(landed_hashes) - {a.article_id for a in crawl.articles})
        log.info("crawled %d pages: %d articles, landed %d, unchanged %d, rejected %d",
                 crawl.fetched, len(crawl.articles), len(changed), len(unchanged), len(crawl.rejections))  # fmt: skip
        return {
            "crawled": crawl.fetched,
            "articles": len(crawl.articles),
            "landed": len(changed),
            "unchanged": len(unchanged),
            "rejected": len(crawl.rejections),
            "rejections": [{"url": r.url, "reason": r.reason} for r in crawl.rejections],
            "blocked_by_robots": crawl.blocked,
            "missing_since_last_crawl": missing,
            "lake_version": version,
            "message": f"landed {len(changed)} new or changed articles" if changed
            else "nothing new or changed: landed nothing",
        }  # fmt: skip

    def _reject(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        self.rejects.put([
            QuarantinedEvent(REJECTS_TOPIC, index, r.reason, {"url": r.url}) for index, r in enumerate(rejections)
        ])  # fmt: skip
        for rejection in rejections:
            log.warning("rejected %s: %s", rejection.url, rejection.reason)


def land_heldout(lake: RawLake, document: Any, *, source: str, today: date) -> dict[str, Any]:
    """Replace raw.help_heldout_questions with the file's questions; a bad file changes nothing."""
    try:
        rows = parse_heldout(document, today)
    except InvalidHeldout as exc:
        raise InvalidHeldoutFile(f"{source}: {exc}") from None
    version = lake.append(HELDOUT_QUESTIONS, rows, job=HELDOUT_JOB, inputs=[f"file:{source}"], mode="overwrite")
    in_scope = sum(1 for row in rows if row["article_id"] is not None)
    return {"table": HELDOUT_QUESTIONS.table, "version": version, "questions": len(rows), "in_scope": in_scope,
            "out_of_scope": len(rows) - in_scope}  # fmt: skip
