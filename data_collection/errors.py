"""Errors of data_collection; each knows its HTTP status through the kernel hierarchy."""

from __future__ import annotations

from strata_kernel.errors import BadRequest, Unavailable


class UnknownSize(BadRequest):
    code = "unknown_size"


class LakeWriteFailed(Unavailable):
    """The lake (files or catalog) refused a batch; its offsets stay uncommitted so it is delivered again."""

    code = "lake_write_failed"


class CrawlFailed(Unavailable):
    """The crawler could not run or reached no page at all; nothing was landed."""

    code = "crawl_failed"


class InvalidHeldoutFile(BadRequest):
    code = "invalid_heldout_file"
