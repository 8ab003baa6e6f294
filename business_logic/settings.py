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
    #: budget for one ETD estimate call to data_processing (the quote is on a customer's screen)
    etd_timeout_seconds: float = 2.0

    @model_validator(mode="after")
    def _default_database_url(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var_dir / DEFAULT_DATABASE_FILE).resolve()}"
        return self
