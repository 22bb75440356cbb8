"""Clients see one database: a write is answered only once the readable replicas of every
other service have applied it.

The mechanism, in the order a write goes through it (docs/consistency.md has the why):

1. ``emit()`` adds an outbox row to the write's transaction, as always.
2. When that transaction commits inside a *settle scope* (every HTTP request and every
   consumer batch opens one), the committed rows are handed to the scope instead of
   waking the relay.
3. Before the response starts, :meth:`Settler.settle` publishes those rows itself, in
   outbox order, and learns each event's stream sequence from JetStream's ack. The relay
   stays the safety net: it publishes whatever a crashed process left behind, and a
   second publish of the same row is dropped by the server (``Nats-Msg-Id``).
4. It then waits until every *readable* consumer group (a replica, a read model, the
   notifications: anything a client can read back; marked ``slate.readable`` in the
   consumer's metadata) whose filter matches an event's subject has an ack floor at or
   past that event's sequence. The ack floor is JetStream's own: every message up to it
   was acked, and a consumer acks only after committing its effect, so neither
   out-of-order delivery, nor naks, nor several processes sharing a consumer can make
   it lie. Consumers announce their floor on ``slate.applied.<consumer>`` after each
   batch (:func:`announce_floor`); a waiting writer also asks JetStream directly every
   :data:`POLL_SECONDS`, in case an announcement was lost.
5. Past ``SLATE_CONSISTENCY_WAIT_SECONDS`` (2 s) the write is answered anyway and
   ``replica_lag`` is logged with the groups that lagged.

A consumer waits the same way for the events its own handlers emitted before it acks
(so a cascade — media's avatar:update making auth emit person:update for production —
is applied end to end before the first writer is answered), except on itself: it cannot
apply its own events while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy import event as sa_event, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from ..db import transaction
from .models import OutboxEvent
from .versions import version_header
from ..logging import get_logger
from ..serialization import dumps, loads, now

log = get_logger(__name__)

#: Core NATS subject prefix on which consumer groups announce their ack floor.
APPLIED_PREFIX = "slate.applied"
#: Consumer metadata key marking a group whose effects clients read back.
READABLE = "slate.readable"
#: How often a waiting writer asks JetStream for the floors itself (lost announcements).
POLL_SECONDS = 0.1
#: How often the list of consumer groups (and their filters) is read again; a group's
#: first announcement makes every writer read it at once.
REFRESH_SECONDS = 10.0


@dataclass(frozen=True)
class CommittedEvent:
    """An outbox row whose transaction committed: what the settler publishes."""

    seq: int
    id: str
    subject: str
    payload: bytes
    headers: dict[str, str]


#: The rows committed within the current settle scope (a request or a consumer batch);
#: ``None`` outside one, where commits wake the relay as before.
_scope: contextvars.ContextVar[list[CommittedEvent] | None] = contextvars.ContextVar("slate_settle", default=None)


@contextlib.contextmanager
def settle_scope() -> Iterator[list[CommittedEvent]]:
    """Collect the events committed inside the block (see :func:`take_committed`)."""
    rows: list[CommittedEvent] = []
    token = _scope.set(rows)
    try:
        yield rows
    finally:
        _scope.reset(token)


def take_committed(session_info: dict[str, Any]) -> bool:
    """Called right after a commit: move the transaction's outbox rows into the current
    settle scope. False when there is no scope (the caller wakes the relay instead)."""
    rows: list[OutboxEvent] = session_info.pop("slate_outbox", [])
    scope = _scope.get()
    if scope is None or not rows:
        return False
    scope.extend(
        CommittedEvent(r.seq, str(r.id), r.subject, r.payload, {k: str(v) for k, v in (r.headers or {}).items()})
        for r in rows
    )
    return True


def settling_session_class(wake_relay: Callable[[], None]) -> type[Session]:
    """A Session class whose commits hand their outbox rows to the current settle scope,
    or, outside one, call ``wake_relay`` so the relay publishes them at once."""

    class SettlingSession(Session):
        pass

    @sa_event.listens_for(SettlingSession, "after_commit")
    def _after_commit(session: Session) -> None:
        emitted = bool(session.info.get("slate_outbox"))
        if emitted and not take_committed(session.info):
            wake_relay()

    @sa_event.listens_for(SettlingSession, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop("slate_outbox", None)

    return SettlingSession


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` one token, ``>`` the rest."""
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


@dataclass
class _Group:
    name: str
    filters: list[str]
    readable: bool
    floor: int = 0
    #: Set (and replaced by a fresh one) whenever the floor rises.
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, subject: str) -> bool:
        return any(subject_matches(f, subject) for f in self.filters)


class Settler:
    """Publishes a scope's committed events and waits for the readable groups (one per
    process, at ``runtime.settler``)."""

    def __init__(
        self,
        *,
        nc: NATS,
        js: JetStreamContext,
        stream: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        wait_seconds: float,
        fault: str | None = None,
    ) -> None:
        self.nc, self.js, self.stream = nc, js, stream
        self.sessionmaker = sessionmaker
        self.wait_seconds = wait_seconds
        #: Crash tests only: "exit-after-publish" dies after publishing (and answering),
        #: before marking the rows published.
        self.fault = fault
        self.groups: dict[str, _Group] = {}
        self._refreshed = 0.0
        self._published: list[int] = []
        self._waiting = 0  # writes waiting for the groups (the fault hook lets them answer)
        self._mark_wake = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._refreshing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.nc.subscribe(f"{APPLIED_PREFIX}.>", cb=self._on_applied)
        await self.refresh()
        self._tasks.append(asyncio.create_task(self._mark_loop()))
        self._tasks.append(asyncio.create_task(self._refresh_loop()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- what the groups have applied ------------------------------------------------

    async def refresh(self) -> None:
        """Read the stream's consumer groups: their filters, whether clients read their
        effects, and their ack floors."""
        infos = await self.js.consumers_info(self.stream)
        seen = set()
        for info in infos:
            name = info.name
            seen.add(name)
            config = info.config
            filters = list(config.filter_subjects or ([config.filter_subject] if config.filter_subject else [">"]))
            readable = (config.metadata or {}).get(READABLE) == "true"
            group = self.groups.get(name)
            if group is None:
                group = self.groups[name] = _Group(name, filters, readable)
            group.filters, group.readable = filters, readable
            self._raise(group, info.ack_floor.stream_seq if info.ack_floor else 0)
        for name in set(self.groups) - seen:
            del self.groups[name]
        self._refreshed = time.monotonic()

    def _raise(self, group: _Group, floor: int) -> None:
        if floor > group.floor:
            group.floor = floor
            group.changed.set()
            group.changed = asyncio.Event()

    async def _on_applied(self, msg: Msg) -> None:
        try:
            body = loads(msg.data)
            group = self.groups.get(body["consumer"])
            if group is not None:
                self._raise(group, int(body["floor"]))
            elif self._refreshing is None or self._refreshing.done():
                # a group this process does not know yet (a service started after it):
                # read the groups again, so the next write waits for it too
                self._refreshing = asyncio.create_task(self.refresh())
        except Exception as exc:  # a malformed announcement must not stop the subscription
            log.warning("applied_announcement_bad", error=repr(exc))

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer_groups_refresh_failed", error=repr(exc))

    async def _poll_floor(self, group: _Group) -> None:
        with contextlib.suppress(Exception):
            info = await self.js.consumer_info(self.stream, group.name)
            self._raise(group, info.ack_floor.stream_seq if info.ack_floor else 0)

    # --- a write -------------------------------------------------------------------

    async def publish(self, rows: Iterable[CommittedEvent]) -> list[tuple[str, int]]:
        """Publish committed rows in outbox order; (subject, stream sequence) of each."""
        out = []
        for row in sorted(rows, key=lambda r: r.seq):
            headers = {**row.headers, "Nats-Msg-Id": row.id, **version_header(row.seq)}
            ack = await self.js.publish(row.subject, row.payload, headers=headers)
            out.append((row.subject, ack.seq))
            self._published.append(row.seq)
        self._mark_wake.set()
        return out

    async def publish_quietly(self, rows: list[CommittedEvent]) -> None:
        try:
            await self.publish(rows)
        except Exception as exc:  # the relay publishes them
            log.warning("settle_publish_failed", error=repr(exc), events=len(rows))

    async def settle(self, rows: list[CommittedEvent], *, exclude: str | None = None) -> None:
        """Publish ``rows`` and return once every readable group that wants them has
        applied them, or after the bound (logging ``replica_lag``)."""
        if not rows:
            return
        try:
            published = await self.publish(rows)
        except Exception as exc:  # NATS down: the relay publishes them when it is back
            log.warning("settle_publish_failed", error=repr(exc), events=len(rows))
            return
        needed: dict[str, int] = {}
        for subject, seq in published:
            for group in self.groups.values():
                if group.readable and group.name != exclude and group.wants(subject):
                    needed[group.name] = max(needed.get(group.name, 0), seq)
        if needed:
            self._waiting += 1
            try:
                await self.wait(needed)
            finally:
                self._waiting -= 1

    async def wait(self, needed: dict[str, int]) -> None:
        deadline = time.monotonic() + self.wait_seconds
        next_poll = time.monotonic() + POLL_SECONDS
        while True:
            lagging = [g for name, seq in needed.items() if (g := self.groups.get(name)) and g.floor < seq]
            if not lagging:
                return
            now_ = time.monotonic()
            if now_ >= deadline:
                log.warning(
                    "replica_lag",
                    groups={g.name: {"floor": g.floor, "needed": needed[g.name]} for g in lagging},
                    waited_seconds=self.wait_seconds,
                )
                return
            if now_ >= next_poll:
                await asyncio.gather(*(self._poll_floor(g) for g in lagging))
                next_poll = time.monotonic() + POLL_SECONDS
                continue
            waiters = [asyncio.ensure_future(g.changed.wait()) for g in lagging]
            try:
                await asyncio.wait(waiters, timeout=min(next_poll, deadline) - now_,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()

    async def _mark_loop(self) -> None:
        """Mark published rows in batches, off the request path (the relay would publish an
        unmarked row again, which the server drops as a duplicate: only a cost)."""
        while True:
            await self._mark_wake.wait()
            self._mark_wake.clear()
            await asyncio.sleep(0.05)  # gather a batch
            seqs, self._published = self._published, []
            if not seqs:
                continue
            if self.fault == "exit-after-publish":  # crash tests: published, answered, never marked
                while self._waiting:  # the writes are answered first, however slow the replicas
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.1)  # and their answers sent
                log.warning("outbox_fault_injected", fault=self.fault, rows=len(seqs))
                os._exit(137)
            try:
                async with transaction(self.sessionmaker) as session:
                    await session.execute(
                        update(OutboxEvent)
                        .where(OutboxEvent.seq.in_(seqs), OutboxEvent.published_at.is_(None))
                        .values(published_at=now())
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_mark_failed", error=repr(exc), rows=len(seqs))


async def announce_floor(nc: NATS, js: JetStreamContext, stream: str, consumer: str) -> int:
    """Read the group's ack floor from JetStream and announce it to the writers."""
    info = await js.consumer_info(stream, consumer)
    floor = info.ack_floor.stream_seq if info.ack_floor else 0
    await nc.publish(f"{APPLIED_PREFIX}.{consumer}", dumps({"consumer": consumer, "floor": floor}))
    return floor
