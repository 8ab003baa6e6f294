"""Settings of business_logic; the only module that reads the environment (through StrataSettings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import model_validator

from strata_kernel.settings import StrataSettings

DEFAULT_DATABASE_FILE = "business_logic/app.db"


class Settings(StrataSettings):
    section: ClassVar[str] = "business_logic"

    #: SQLAlchemy URL; empty means the embedded SQLite file ``<var_dir>/business_logic/app.db``.
    #: PostgreSQL: ``postgresql+psycopg://user@host:5432/db``.
    database_url: str = ""
    #: embedded SQLite: a commit (a chatbot question with its outbox event) returns without waiting for the disk, and
    #: the write-ahead log is fsynced every this many seconds from a background thread — a crash of the process loses
    #: nothing, a power cut or an OS crash loses at most this window of commits. 0: every commit waits for its fsync.
    commit_sync_seconds: float = 0.2
    #: budget for one ETD estimate call to data_processing (the quote is on a customer's screen)
    etd_timeout_seconds: float = 2.0
    #: restaurants and menus stay in memory between quotes; a catalog load reaches them within this many seconds
    #: (the catalog's revision is asked for at most this often; 0: read the database on every quote)
    catalog_cache_seconds: float = 1.0

    # --- help-centre chatbot ---
    #: budget for one free-text answer from data_processing; past it the customer gets the polite fallback
    help_timeout_seconds: float = 3.0
    #: the help centre a customer is sent to when the bot cannot answer (index and category pages)
    help_centre_url: str = "http://127.0.0.1:8007"
    #: category slug -> title; each category page is ``<help_centre_url>/categories/<slug>.html``
    help_centre_categories: dict[str, str] = {
        "orders": "Orders",
        "delivery": "Delivery",
        "payments": "Payments",
        "refunds": "Refunds",
        "account": "Your account",
    }
    #: an answer holding one of these (whole word, any case or accents) is replaced by a safe message
    prohibited_words: list[str] = ["fuck", "fucking", "shit", "bitch", "bastard", "asshole", "idiot", "moron", "crap"]
    #: seconds between two drains of the event outbox (0: no relay thread; use `publish-outbox`)
    outbox_relay_interval_seconds: float = 2.0
    outbox_batch_size: int = 200
    #: a claimed batch not marked published within this time is claimed again (its relay died)
    outbox_lease_seconds: float = 60.0
    #: after a failed publish, events wait this long before the next attempt
    outbox_retry_seconds: float = 10.0

    @model_validator(mode="after")
    def _default_database_url(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var_dir / DEFAULT_DATABASE_FILE).resolve()}"
        return self
