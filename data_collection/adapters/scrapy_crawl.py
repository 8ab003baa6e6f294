"""PageSource over Scrapy, run in a child process (Scrapy's reactor starts once per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from data_collection.domain.help_articles import FetchedPage
from data_collection.errors import CrawlFailed
from data_collection.ports import PageSource

SPIDER_MODULE = "data_collection.adapters.scrapy_spider"


class ScrapyPageSource(PageSource):
    def __init__(self, *, concurrency: int, delay_seconds: float, timeout_seconds: float) -> None:
        self._concurrency = concurrency
        self._delay = delay_seconds
        self._timeout = timeout_seconds

    def crawl(self, start_urls: Sequence[str], allowed_domains: Sequence[str]) -> list[FetchedPage]:
        with tempfile.TemporaryDirectory(prefix="strata-crawl-") as scratch:
            out = Path(scratch) / "pages.jsonl"
            command = [sys.executable, "-m", SPIDER_MODULE, "--out", str(out),
                       "--concurrency", str(self._concurrency), "--delay", str(self._delay)]  # fmt: skip
            command += [arg for url in start_urls for arg in ("--start-url", url)]
            command += [arg for domain in allowed_domains for arg in ("--allowed-domain", domain)]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=self._timeout, check=False)
            except subprocess.TimeoutExpired:
                raise CrawlFailed(f"the crawl took longer than {self._timeout:.0f}s") from None
            if done.returncode != 0:
                lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
                raise CrawlFailed(f"the crawler exited with {done.returncode}: {lines[-1] if lines else 'no output'}")
            if not out.exists():  # nothing scraped: the feed exporter writes no file for zero items
                return []
            return [_page(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]


def _page(record: dict[str, Any]) -> FetchedPage:
    return FetchedPage(
        url=record["url"],
        outcome=record["outcome"],
        fetched_at=datetime.fromisoformat(record["fetched_at"]),
        status=record.get("status"),
        content_type=record.get("content_type") or "",
        error=record.get("error") or "",
        fields=record.get("fields"),
    )
