"""The help-centre spider, run as its own process: ``python -m data_collection.adapters.scrapy_spider --out F ...``.

Scrapy's Twisted reactor starts once per process, so the parent (``ScrapyPageSource``) runs each crawl here
and reads the JSON lines written to ``--out``: one record per URL met (see ``FetchedPage``). The spider only
fetches and extracts raw texts; deciding what is a valid, new article is the parent's job (the domain).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from twisted.python.failure import Failure

USER_AGENT = "StrataHelpCentreBot/1.0 (+https://strata.example/bot)"


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _text(selector: Any) -> str:
    return "".join(selector.css("::text").getall())


class HelpCentreSpider(scrapy.Spider):
    name = "help_centre"
    handle_httpstatus_list = list(range(400, 600))  # reach parse() so a broken link is reported, not dropped

    def __init__(self, start_urls: list[str], allowed_domains: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = start_urls
        self.allowed_domains = allowed_domains

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").split(";")[0].strip()
        record: dict[str, Any] = {"url": response.url, "status": response.status, "content_type": content_type,
                                  "fetched_at": _now(), "fields": None}  # fmt: skip
        if response.status >= 400:
            yield {**record, "outcome": "http_error"}
            return
        if not isinstance(response, HtmlResponse):
            yield {**record, "outcome": "not_html"}
            return
        yield {**record, "outcome": "html", "fields": self._article(response)}
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if url.startswith(("http://", "https://")):  # not mailto:, tel:, javascript:
                yield scrapy.Request(url, callback=self.parse, errback=self.failed)

    def failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else ""
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            yield {"url": url, "outcome": "blocked", "fetched_at": _now(), "error": "forbidden by robots.txt"}
            return
        message = failure.getErrorMessage().strip().splitlines()
        yield {"url": url, "outcome": "failed", "fetched_at": _now(), "error": message[0] if message else "no response"}

    @staticmethod
    def _article(response: TextResponse) -> dict[str, Any] | None:
        """The raw texts of the page's first ``<article>``; None on a navigation page."""
        found = response.css("article")
        if not found:
            return None
        article = found[0]
        answer = article.css("div.answer")
        body = article.css("div.body")
        blocks = body.css("h2, h3, p, li")
        return {
            "article_id": article.attrib.get("data-article-id"),
            "category": article.attrib.get("data-category"),
            "title": _text(article.css("h1")),
            "answer": _text(answer) if answer else None,
            "body": [_text(block) for block in blocks] if blocks else [_text(b) for b in body],
            "questions": [_text(item) for item in article.css("ul.questions > li")],
        }


def run(out: str, start_urls: list[str], allowed_domains: list[str], concurrency: int, delay: float) -> None:
    process = CrawlerProcess(
        settings={
            "ROBOTSTXT_OBEY": True,
            "USER_AGENT": USER_AGENT,
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": delay,
            "DOWNLOAD_TIMEOUT": 15,
            "RETRY_TIMES": 1,
            "DEPTH_LIMIT": 6,
            "CLOSESPIDER_PAGECOUNT": 5_000,  # a runaway site (calendar pages...) cannot crawl forever
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "FEEDS": {out: {"format": "jsonlines", "encoding": "utf8", "overwrite": True}},
        }
    )
    process.crawl(HelpCentreSpider, start_urls=start_urls, allowed_domains=allowed_domains)
    process.start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m data_collection.adapters.scrapy_spider")
    parser.add_argument("--out", required=True, help="JSON-lines file of the records")
    parser.add_argument("--start-url", action="append", required=True)
    parser.add_argument("--allowed-domain", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    run(args.out, args.start_url, args.allowed_domain, args.concurrency, args.delay)


if __name__ == "__main__":
    main()
