"""SQLAlchemy implementation of the outbox (works on SQLite and PostgreSQL).

A claim is one statement, ``WITH oldest AS (claimable ids) UPDATE ... WHERE id IN oldest``, that stamps a token
and a lease, so several relays (one per gunicorn worker) never take the same row: on PostgreSQL the inner select
skips rows another relay has locked and the outer ``WHERE`` is re-checked on the locked row; SQLite serialises
writers. A relay that dies mid-publish leaves rows whose lease expires, and they are claimed again (at-least-once
delivery).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from business_logic.adapters.sql_tables import outbox
from business_logic.domain.outbox import OutboxMessage
from business_logic.ports import OutboxRepository

_MAX_ERROR_CHARS = 500


class SqlOutboxRepository(OutboxRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, topic: str, payload: Mapping[str, Any], *, key_field: str, created_at: datetime) -> None:
        # the values as bound parameters of one cached statement: ``insert().values(...)`` built a new statement per
        # row, and SQLAlchemy walked every value for its cache key (a third of a chatbot question's CPU with the
        # question's own insert)
        row = {
            "topic": topic,
            "key_field": key_field,
            "payload": json.dumps(dict(payload), separators=(",", ":"), default=str),
            "created_at": created_at,
            "attempts": 0,
        }
        self._session.execute(outbox.insert(), row)

    def claim(
        self, *, limit: int, now: datetime, lease_until: datetime, token: str, retry_now: bool = False
    ) -> list[OutboxMessage]:
        claimable = _claimable(now, retry_now)
        # a CTE, not "IN (SELECT ... LIMIT)": PostgreSQL may re-run such a subquery and claim more than ``limit``
        oldest = (
            select(outbox.c.id)
            .where(claimable)
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it and serialises writers instead
            .cte("oldest")
        )
        self._session.execute(
            update(outbox)
            .where(outbox.c.id.in_(select(oldest.c.id)), claimable)
            .values(claim_token=token, claimed_until=lease_until)
        )
        rows = self._session.execute(select(outbox).where(outbox.c.claim_token == token).order_by(outbox.c.id)).all()
        return [OutboxMessage(row.id, row.topic, row.key_field, json.loads(row.payload), row.attempts) for row in rows]

    def mark_published(self, ids: Sequence[int], *, at: datetime) -> None:
        if ids:
            self._session.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(ids)))
                .values(published_at=at, claim_token=None, claimed_until=None, last_error=None)
            )

    def release(self, ids: Sequence[int], *, retry_at: datetime, error: str) -> None:
        if ids:
            self._session.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(ids)))
                .values(
                    claim_token=None,
                    claimed_until=retry_at,
                    attempts=outbox.c.attempts + 1,
                    last_error=error[:_MAX_ERROR_CHARS],
                )
            )

    def pending(self) -> int:
        query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        return int(self._session.execute(query).scalar_one())


def _claimable(now: datetime, retry_now: bool) -> ColumnElement[bool]:
    """Unpublished and free: never claimed, lease or retry delay over, or (``retry_now``) released after a failure.

    A released row has no token and ``claimed_until`` = its retry time; a leased row has a token.
    """
    free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now)
    if retry_now:
        free = or_(free, outbox.c.claim_token.is_(None))
    return and_(outbox.c.published_at.is_(None), free)
