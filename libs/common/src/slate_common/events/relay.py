from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from collections.abc import Iterable
from typing import Any

from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from sqlalchemy import ColumnElement, and_, delete, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..bus import EVENTS_MAX_AGE_SECONDS
from ..db import transaction
from ..logging import get_logger
from ..serialization import now
from ..tracing import extract_context, tracer
from .models import InboxEvent, OutboxEvent
from .versions import version_header

log = get_logger(__name__)

#: How often a relay deletes the records kept no longer (the first time a minute after start).
PURGE_EVERY_SECONDS = 600.0
#: Rows deleted per statement (a statement's locks and WAL stay small; it repeats).
PURGE_BATCH = 5000
#: The consumers' inbox records (their idempotence) outlive the stream's own retention: a
#: consumer rebuilt from the stream's start meets only events it has a record of.
INBOX_RETENTION = dt.timedelta(seconds=EVENTS_MAX_AGE_SECONDS) + dt.timedelta(days=1)


class OutboxRelay:
    """Publishes pending outbox rows to JetStream, oldest first, and marks them sent.

    Woken right after a commit that emitted events (see :func:`notify`), and polls as a
    safety net for rows left by a crashed process. Rows are claimed with
    ``FOR UPDATE SKIP LOCKED`` so several replicas of a service can run relays.
    If the process dies after publishing and before marking, the row is published
    again with the same ``Nats-Msg-Id`` and the server drops the duplicate.

    Beside a settler (``settled_grace_seconds`` > 0), rows younger than the grace are
    left alone unless a commit outside any settle scope handed their ``seq`` to
    :meth:`notify`: the request that committed them publishes them itself and marks them
    a moment later (``Settler._mark_loop``). Claiming them meanwhile published them a
    second time and held their locks while it did, which the marks then waited for
    (session 11: at 32 clients the mark waited 0.4–10 s and the relay republished rows
    every second).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        js: JetStreamContext,
        *,
        poll_seconds: float = 1.0,
        delay_seconds: float = 0.0,
        batch_size: int = 200,
        fault: str | None = None,
        settled_grace_seconds: float = 0.0,
        outbox_retention: dt.timedelta | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.js = js
        self.poll_seconds = poll_seconds
        self.delay_seconds = delay_seconds
        self.batch_size = batch_size
        #: Fault injection for crash tests only: "exit-after-publish" kills the process
        #: between publishing a batch and marking it sent.
        self.fault = fault
        self.settled_grace_seconds = settled_grace_seconds
        #: Published rows older than this are deleted (None: kept forever), and inbox
        #: records older than :data:`INBOX_RETENTION` with them.
        self.outbox_retention = outbox_retention
        self._wake = asyncio.Event()
        #: Rows committed outside a settle scope, published at the next wake whatever their age.
        self._handed: set[int] = set()

    def notify(self, seqs: Iterable[int] = ()) -> None:
        """Publish soon: ``seqs`` (rows no settle scope publishes) at once, whatever their age."""
        self._handed.update(seqs)
        self._wake.set()

    async def run(self) -> None:
        log.info("outbox_relay_started", delay_seconds=self.delay_seconds)
        next_purge = time.monotonic() + 60.0
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            try:
                while await self.publish_pending(grace_seconds=self.settled_grace_seconds) == self.batch_size:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_relay_failed", error=str(exc))
                await asyncio.sleep(min(self.poll_seconds, 1.0))
            if self.outbox_retention is not None and time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                try:
                    await self.purge(outbox_older_than=self.outbox_retention, inbox_older_than=INBOX_RETENTION)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # tried again at the next round
                    log.warning("events_purge_failed", error=str(exc))

    async def purge(self, *, outbox_older_than: dt.timedelta, inbox_older_than: dt.timedelta) -> tuple[int, int]:
        """Delete the outbox rows published longer than ``outbox_older_than`` ago and the
        inbox records older than ``inbox_older_than``, in batches (rows another relay is
        deleting are skipped, not waited for); (outbox rows, inbox records) deleted."""
        published = (select(OutboxEvent.seq).where(OutboxEvent.published_at < now() - outbox_older_than)
                     .order_by(OutboxEvent.seq).limit(PURGE_BATCH).with_for_update(skip_locked=True))
        processed = (select(InboxEvent.id, InboxEvent.consumer)
                     .where(InboxEvent.processed_at < now() - inbox_older_than)
                     .limit(PURGE_BATCH).with_for_update(skip_locked=True))
        outbox_rows = await self._delete_batches(delete(OutboxEvent).where(OutboxEvent.seq.in_(published)))
        inbox_records = await self._delete_batches(
            delete(InboxEvent).where(tuple_(InboxEvent.id, InboxEvent.consumer).in_(processed)))
        if outbox_rows or inbox_records:
            log.info("events_purged", outbox_rows=outbox_rows, inbox_records=inbox_records)
        return outbox_rows, inbox_records

    async def _delete_batches(self, statement: Any) -> int:
        total = 0
        while True:
            async with transaction(self.sessionmaker) as session:
                deleted = (await session.execute(statement)).rowcount or 0  # type: ignore[attr-defined]
            total += deleted
            if deleted < PURGE_BATCH:
                return total

    async def publish_pending(self, *, grace_seconds: float = 0.0) -> int:
        """Publish up to ``batch_size`` pending rows, oldest first; with ``grace_seconds``,
        only those older than it or handed to :meth:`notify`. The number published."""
        pending: ColumnElement[bool] = OutboxEvent.published_at.is_(None)
        handed, self._handed = self._handed, set()
        if grace_seconds > 0:
            old = OutboxEvent.created_at < now() - dt.timedelta(seconds=grace_seconds)
            pending = and_(pending, or_(old, OutboxEvent.seq.in_(handed)) if handed else old)
        try:
            return await self._publish_batch(pending, handed)
        except BaseException:
            self._handed |= handed  # NATS or the database failed: asked again at the next wake
            raise

    async def _publish_batch(self, pending: ColumnElement[bool], handed: set[int]) -> int:
        async with transaction(self.sessionmaker) as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(pending)
                    .order_by(OutboxEvent.seq)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                headers = {k: str(v) for k, v in (row.headers or {}).items()}
                with tracer().start_as_current_span(
                    f"publish {row.subject}", context=extract_context(headers), kind=SpanKind.PRODUCER
                ):
                    headers["Nats-Msg-Id"] = str(row.id)
                    headers.update(version_header(row.seq))
                    await self.js.publish(row.subject, row.payload, headers=headers)
            if rows and self.fault == "exit-after-publish":
                log.warning("outbox_fault_injected", fault=self.fault, rows=len(rows))
                os._exit(137)
            if rows:
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.seq.in_([r.seq for r in rows]))
                    .values(published_at=now())
                )
                log.debug("outbox_published", count=len(rows))
            if len(rows) == self.batch_size:  # more may be pending: the handed rows not reached stay handed
                self._handed.update(handed - {r.seq for r in rows})
            return len(rows)
