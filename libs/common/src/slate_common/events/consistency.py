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
   consumer's metadata) whose filter matches an event's subject has applied that event.
   A consumer announces, right after a batch's transaction commits, the stream sequences
   it applied on ``slate.applied.<consumer>`` (:func:`announce_applied`); whichever
   process of the group applied an event, its effect is committed when it is announced.
   Announcements are core NATS (at most once): a waiting writer also asks JetStream for
   the group's ack floor every :data:`POLL_SECONDS` (every message up to the floor was
   acked, and a consumer acks only after committing its effect).
5. Past ``SLATE_CONSISTENCY_WAIT_SECONDS`` (2 s) the write is answered anyway and
   ``replica_lag`` is logged with the groups that lagged.
6. An update whose writer named the fields it changed (``Slate-Changed``) is not waited
   for by a group that keeps none of them (``slate.keeps`` in its metadata: the snapshot
   fields it keeps per event): that group acks it without applying anything. When no
   readable group needs any of a scope's events, nothing is waited for: they are
   published in the background, and the answer does not wait for JetStream's ack either.

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
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from ..logging import get_logger
from ..serialization import dumps, loads, now
from .models import OutboxEvent
from .versions import affects, changed_of, version_header

log = get_logger(__name__)

#: Core NATS subject prefix on which consumer groups announce what they applied.
APPLIED_PREFIX = "slate.applied"
#: Consumer metadata key marking a group whose effects clients read back.
READABLE = "slate.readable"
#: Consumer metadata key: JSON {event name: [the snapshot fields the group keeps]}.
KEEPS = "slate.keeps"
#: How often a waiting writer asks JetStream for the floors itself (lost announcements).
POLL_SECONDS = 0.1
#: How often the list of consumer groups (and their filters) is read again; a group's
#: first announcement makes every writer read it at once.
REFRESH_SECONDS = 10.0
#: How long a publish of the writer waits for JetStream's acknowledgement.
PUBLISH_TIMEOUT = 2.0
#: Announced sequences a writer remembers per group (those at or below the floor go first).
MAX_REMEMBERED = 20_000


@dataclass(frozen=True)
class CommittedEvent:
    """An outbox row whose transaction committed: what the settler publishes."""

    seq: int
    id: str
    subject: str
    payload: bytes
    headers: dict[str, str]


class _Scope(list[CommittedEvent]):
    """The rows committed within one settle scope; ``open`` until the scope's block ends."""

    open = True


#: The rows committed within the current settle scope (a request or a consumer batch);
#: ``None`` outside one, where commits wake the relay as before.
_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("slate_settle", default=None)


@contextlib.contextmanager
def settle_scope() -> Iterator[list[CommittedEvent]]:
    """Collect the events committed inside the block (see :func:`take_committed`)."""
    rows = _Scope()
    token = _scope.set(rows)
    try:
        yield rows
    finally:
        rows.open = False
        _scope.reset(token)


def take_committed(session_info: dict[str, Any]) -> bool:
    """Called right after a commit: move the transaction's outbox rows into the current
    settle scope. False when there is no scope, or when the scope has ended (a task
    started by a request that commits after its answer: nobody would publish them), and
    the caller wakes the relay instead."""
    rows: list[OutboxEvent] = session_info.pop("slate_outbox", [])
    scope = _scope.get()
    if scope is None or not scope.open or not rows:
        return False
    scope.extend(
        CommittedEvent(r.seq, str(r.id), r.subject, r.payload, {k: str(v) for k, v in (r.headers or {}).items()})
        for r in rows
    )
    return True


def settling_session_class(wake_relay: Callable[[list[int]], None]) -> type[Session]:
    """A Session class whose commits hand their outbox rows to the current settle scope,
    or, outside one, call ``wake_relay`` with their ``seq`` so the relay publishes them at once."""

    class SettlingSession(Session):
        pass

    @sa_event.listens_for(SettlingSession, "after_commit")
    def _after_commit(session: Session) -> None:
        emitted = [row.seq for row in session.info.get("slate_outbox") or ()]
        if emitted and not take_committed(session.info):
            wake_relay(emitted)

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
class SettleTiming:
    """Where a settled write's time went (the ``Server-Timing`` header of its response):
    publishing its events, then waiting for the groups; ``slowest`` is the group that
    announced last and ``consumer_ms`` that group's own time, receipt to announcement."""

    publish_ms: float = 0.0
    wait_ms: float = 0.0
    slowest: str = ""
    consumer_ms: float | None = None

    def header(self) -> str:
        parts = [f"settle-publish;dur={self.publish_ms:.1f}", f"settle-wait;dur={self.wait_ms:.1f}"]
        if self.slowest:
            parts[-1] += f';desc="{self.slowest}"'
        if self.consumer_ms is not None:
            parts.append(f"settle-consumer;dur={self.consumer_ms:.1f}")
        return ", ".join(parts)


@dataclass
class _Group:
    name: str
    filters: list[str]
    readable: bool
    #: The snapshot fields the group keeps, by event subject suffix (``task.update``);
    #: an event not listed matters whatever it changed.
    keeps: dict[str, frozenset[str]] = field(default_factory=dict)
    floor: int = 0
    #: Sequences announced as applied above the floor (an ordered set: oldest first).
    applied: dict[int, None] = field(default_factory=dict)
    #: Set (and replaced by a fresh one) whenever the floor rises or sequences arrive.
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    #: The consumer's own time (receipt to announcement) of its latest announcement.
    last_took_ms: float | None = None
    #: Subject -> whether the filters match it (every write asks for every group).
    _wanted: dict[str, bool] = field(default_factory=dict)

    def wants(self, subject: str) -> bool:
        known = self._wanted.get(subject)
        if known is None:
            if len(self._wanted) > MAX_REMEMBERED:
                self._wanted.clear()
            known = self._wanted[subject] = any(subject_matches(f, subject) for f in self.filters)
        return known

    def needs(self, subject: str, changed: frozenset[str] | None) -> bool:
        """Whether the group applies an event of ``subject`` that changed ``changed``
        (None: unknown): it wants the subject, and keeps one of the fields or all."""
        if not self.wants(subject):
            return False
        if changed is None or not self.keeps:
            return True
        return affects(changed, self.keeps.get(subject.split(".", 3)[-1]))

    def has(self, seqs: list[int]) -> bool:
        return all(seq <= self.floor or seq in self.applied for seq in seqs)

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def remember(self, seqs: list[int]) -> None:
        for seq in seqs:
            if seq > self.floor:
                self.applied[seq] = None
        if len(self.applied) > MAX_REMEMBERED:
            self.applied = {seq: None for seq in self.applied if seq > self.floor}
            while len(self.applied) > MAX_REMEMBERED // 2:  # a writer still waiting polls the floor
                del self.applied[next(iter(self.applied))]
        self.wake()


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
        #: Publications no write waits for (:meth:`settle` when no group needs them).
        self._background: set[asyncio.Task[None]] = set()
        self._refreshing: asyncio.Task[None] | None = None
        #: JetStream acknowledgements awaited by :meth:`publish`, by reply token.
        self._acks: dict[str, asyncio.Future[Any]] = {}
        self._ack_prefix = ""

    async def start(self) -> None:
        await self.nc.subscribe(f"{APPLIED_PREFIX}.>", cb=self._on_applied)
        await self._listen_for_acks()
        await self.refresh()
        self._tasks.append(asyncio.create_task(self._mark_loop()))
        self._tasks.append(asyncio.create_task(self._refresh_loop()))

    async def stop(self) -> None:
        if self._background:  # published before stopping (else the relay does it)
            await asyncio.wait(self._background, timeout=PUBLISH_TIMEOUT)
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
            keeps = keeps_of_metadata(config.metadata)
            group = self.groups.get(name)
            if group is None:
                group = self.groups[name] = _Group(name, filters, readable, keeps)
            if group.filters != filters:
                group._wanted.clear()
            group.filters, group.readable, group.keeps = filters, readable, keeps
            self._raise(group, info.ack_floor.stream_seq if info.ack_floor else 0)
        for name in set(self.groups) - seen:
            del self.groups[name]
        self._refreshed = time.monotonic()

    def _raise(self, group: _Group, floor: int) -> None:
        if floor > group.floor:
            group.floor = floor
            if group.applied and next(iter(group.applied)) <= floor:
                group.applied = {seq: None for seq in group.applied if seq > floor}
            group.wake()

    async def _on_applied(self, msg: Msg) -> None:
        try:
            body = loads(msg.data)
            group = self.groups.get(body["consumer"])
            if group is not None:
                if "seqs" in body:
                    group.last_took_ms = body.get("took_ms")
                    group.remember([int(seq) for seq in body["seqs"]])
                if "floor" in body:  # announcements of releases before 2026-12-07
                    self._raise(group, int(body["floor"]))
            if (group is None or body.get("seqs") == []) and (self._refreshing is None or self._refreshing.done()):
                # a group this process does not know yet (a service started after it), or
                # one that (re)started, whose filters or kept fields may have changed:
                # read the groups again, so the next write waits for what it must
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
        """Publish committed rows in outbox order and await their acknowledgements
        together (one round trip for a request's events, not one each); (subject, stream
        sequence) of each. One connection keeps the order: the stream gets them as sent."""
        return [(row.subject, seq) for row, seq in await self._publish(rows)]

    async def _publish(self, rows: Iterable[CommittedEvent]) -> list[tuple[CommittedEvent, int]]:
        ordered = sorted(rows, key=lambda r: r.seq)
        await self._listen_for_acks()
        waiting: list[tuple[str, asyncio.Future[Any]]] = []
        try:
            for row in ordered:
                token = self.nc._nuid.next().decode()  # noqa: SLF001 - the client's own unique ids
                future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                self._acks[token] = future
                waiting.append((token, future))
                headers = {**row.headers, "Nats-Msg-Id": row.id, **version_header(row.seq)}
                await self.nc.publish(row.subject, row.payload, reply=f"{self._ack_prefix}.{token}", headers=headers)
            seqs = await asyncio.wait_for(asyncio.gather(*(f for _, f in waiting)), PUBLISH_TIMEOUT)
        finally:
            for token, future in waiting:
                self._acks.pop(token, None)
                future.cancel()
        self._published.extend(row.seq for row in ordered)
        self._mark_wake.set()
        return list(zip(ordered, seqs))

    async def _listen_for_acks(self) -> None:
        if not self._ack_prefix:
            prefix = self.nc.new_inbox()
            await self.nc.subscribe(f"{prefix}.*", cb=self._on_ack)
            self._ack_prefix = self._ack_prefix or prefix  # two first callers: one prefix wins

    async def _on_ack(self, msg: Msg) -> None:
        future = self._acks.get(msg.subject.rsplit(".", 1)[-1])
        if future is None or future.done():
            return
        try:
            body = loads(msg.data) if msg.data else {}
            if "seq" in body:
                future.set_result(int(body["seq"]))
            else:  # no stream for the subject, or an error from JetStream
                status = (msg.headers or {}).get("Status", "")
                future.set_exception(RuntimeError(f"publish not acknowledged: {body.get('error') or status}"))
        except Exception as exc:
            future.set_exception(exc)

    async def publish_quietly(self, rows: list[CommittedEvent]) -> None:
        try:
            await self.publish(rows)
        except Exception as exc:  # the relay publishes them
            log.warning("settle_publish_failed", error=repr(exc), events=len(rows))

    async def settle(self, rows: list[CommittedEvent], *, exclude: str | None = None) -> SettleTiming:
        """Publish ``rows`` and return once every readable group that wants them has
        applied them, or after the bound (logging ``replica_lag``)."""
        timing = SettleTiming()
        if not rows:
            return timing
        if not any(self._needed_by(row, exclude) for row in rows):
            # Nothing a client reads back depends on them: publish without holding the
            # answer (the relay is the safety net, as for any publication).
            task = asyncio.create_task(self.publish_quietly(rows))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return timing
        started = time.perf_counter()
        try:
            published = await self._publish(rows)
        except Exception as exc:  # NATS down: the relay publishes them when it is back
            log.warning("settle_publish_failed", error=repr(exc), events=len(rows))
            return timing
        published_at = time.perf_counter()
        timing.publish_ms = (published_at - started) * 1000
        needed: dict[str, list[int]] = {}
        for row, seq in published:
            for group in self._needed_by(row, exclude):
                needed.setdefault(group.name, []).append(seq)
        if needed:
            self._waiting += 1
            try:
                last = await self.wait(needed)
            finally:
                self._waiting -= 1
            timing.wait_ms = (time.perf_counter() - published_at) * 1000
            if last is not None:
                timing.slowest, timing.consumer_ms = last.name, last.last_took_ms
        return timing

    def _needed_by(self, row: CommittedEvent, exclude: str | None) -> list[_Group]:
        """The readable groups (but ``exclude``) that must apply ``row`` before its write is
        answered."""
        changed = changed_of(row.headers)
        return [group for group in self.groups.values()
                if group.readable and group.name != exclude and group.needs(row.subject, changed)]

    async def wait(self, needed: dict[str, list[int]]) -> _Group | None:
        """Return once each group has applied its sequences, or after the bound: the group
        that was waited for last (None if none was)."""
        deadline = time.monotonic() + self.wait_seconds
        next_poll = time.monotonic() + POLL_SECONDS
        last: _Group | None = None
        while True:
            lagging = [g for name, seqs in needed.items() if (g := self.groups.get(name)) and not g.has(seqs)]
            if not lagging:
                return last
            last = lagging[0]
            now_ = time.monotonic()
            if now_ >= deadline:
                log.warning(
                    "replica_lag",
                    groups={g.name: {"floor": g.floor, "needed": max(needed[g.name])} for g in lagging},
                    waited_seconds=self.wait_seconds,
                )
                return last
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
                async with self.sessionmaker() as session:  # one statement, sent on its own
                    connection = await session.connection()
                    driver: Any = (await connection.get_raw_connection()).driver_connection
                    await driver.execute(_MARK_PUBLISHED, seqs, now())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_mark_failed", error=repr(exc), rows=len(seqs))


#: The marking of published rows: one UPDATE run by the driver outside any transaction
#: (the ORM's bulk update in a transaction of its own cost a third of a comment's CPU in
#: the writing process when writes come one at a time, session 10).
_MARK_PUBLISHED = (f"UPDATE {OutboxEvent.__tablename__} SET published_at = $2 "
                   "WHERE seq = ANY($1::bigint[]) AND published_at IS NULL")


def keeps_metadata(keeps: dict[str, frozenset[str]]) -> dict[str, str]:
    """A consumer's metadata naming the snapshot fields it keeps per event name."""
    if not keeps:
        return {}
    return {KEEPS: dumps({name: sorted(fields) for name, fields in sorted(keeps.items())}).decode()}


def keeps_of_metadata(metadata: dict[str, str] | None) -> dict[str, frozenset[str]]:
    """:func:`keeps_metadata` read back, by subject suffix (``task:update`` -> ``task.update``);
    empty when absent or malformed (every event then matters)."""
    raw = (metadata or {}).get(KEEPS)
    if not raw:
        return {}
    try:
        doc = loads(raw)
        return {str(name).replace(":", "."): frozenset(str(f) for f in fields) for name, fields in doc.items()}
    except Exception:  # written by another release: wait for the group as before
        return {}


async def announce_applied(nc: NATS, consumer: str, seqs: list[int], took_ms: float | None = None) -> None:
    """Tell the writers which stream sequences the group ``consumer`` has applied
    (committed): one core NATS message, no JetStream round trip. ``took_ms``: the batch's
    time in the consumer, receipt to announcement (shown in the writers' Server-Timing)."""
    body: dict[str, Any] = {"consumer": consumer, "seqs": seqs}
    if took_ms is not None:
        body["took_ms"] = round(took_ms, 1)
    await nc.publish(f"{APPLIED_PREFIX}.{consumer}", dumps(body))
