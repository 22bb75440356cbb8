from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..bus import EVENTS_SUBJECT_PREFIX
from ..db import transaction
from ..logging import get_logger
from ..serialization import dumps, now
from ..tracing import extract_context, tracer
from .consistency import READABLE, Settler, announce_applied, keeps_metadata, settle_scope
from .envelope import Event
from .models import InboxEvent
from .versions import affects, changed_of, version_of

log = get_logger(__name__)

EventHandler = Callable[[AsyncSession, Event], Awaitable[None]]

#: How long one pull request stays open on the server (a new one follows at once).
PULL_EXPIRES = 5.0
#: Batches of one consumer process waiting for their emitted events at once.
MAX_SETTLING_BATCHES = 16
#: A batch slower than this is logged with where its time went (writers wait on it).
SLOW_BATCH_SECONDS = 0.5
#: How long JetStream waits for an ack before it redelivers a message to another
#: process. Held messages are kept alive every third of it (``Consumer._keep_alive``), so
#: it bounds only how long a dead process's messages wait, not how long a batch may take.
ACK_WAIT_SECONDS = 6.0
#: A failed message is given again after this, doubled at each attempt (up to 30 s).
RETRY_DELAY_SECONDS = 1.0
#: A message held longer than this is no longer kept alive: whatever holds it (a batch
#: that crashed, a settle wait that failed) has lost it, and JetStream gives it again.
MAX_HOLD_SECONDS = 60.0


def _drain(sub: Any) -> list[Msg]:
    """The messages already received by ``sub``, without waiting."""
    out = []
    queue = sub._pending_queue  # noqa: SLF001 - nats-py has no public non-blocking read
    while not queue.empty():
        msg = queue.get_nowait()
        sub._pending_size -= len(msg.data)  # noqa: SLF001 - as nats-py's own reads do
        queue.task_done()  # as next_msg does: a drain joins this queue
        out.append(msg)
    return out


class PoisonEvent(Exception):
    """A handler raises this for an event it can never process; it is terminated."""


@dataclass
class _Delivery:
    msg: Msg
    event: Event
    handler: EventHandler
    ran: bool = False


class Consumer:
    """A durable pull consumer with explicit ack and an inbox for idempotence.

    A fetched batch is applied in one transaction that also records the event ids in the
    inbox (:meth:`_apply`, the one inbox step for one event or many); a redelivered or
    duplicated event finds its id there and is not applied again. If the batch fails it
    is rolled back and applied event by event, so a bad event fails alone: a
    :class:`PoisonEvent` is terminated, anything else is retried with a growing delay and
    terminated after ``max_deliver`` attempts.

    After the commit, the events the handlers emitted are published and waited for
    (``settler``, see ``slate_common.consistency``); then the stream sequences of the
    batch are announced to the writers waiting on them, and the messages are acked.
    ``readable`` marks a group whose effects clients read back (replicas, read models,
    notifications): writers wait for it.

    ``keeps`` names, per event, the snapshot fields the handler reads (a replica's
    columns, ``Replica.keeps``): an event whose writer says it changed none of them
    (``Slate-Changed``) is acked at once, without a transaction, and writers do not wait
    for it (the fields are in the consumer's metadata, ``slate.keeps``).
    """

    def __init__(
        self,
        *,
        name: str,
        js: JetStreamContext,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: dict[str, EventHandler],
        stream: str,
        max_deliver: int = 10,
        ack_wait: float = ACK_WAIT_SECONDS,
        retry_delay: float = RETRY_DELAY_SECONDS,
        batch: int = 64,
        readable: bool = True,
        settler: Settler | None = None,
        on_gap: Callable[[], Awaitable[None]] | None = None,
        keeps: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.name = name
        self.js = js
        self.sessionmaker = sessionmaker
        self.handlers = handlers
        self.stream = stream
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.retry_delay = retry_delay
        self.batch = batch
        self.readable = readable
        self.settler = settler
        self.keeps = {name: fields for name, fields in (keeps or {}).items() if name in handlers}
        #: The same by subject suffix (``task.update``): read before the payload is parsed.
        self._keeps_by_suffix = {name.replace(":", "."): fields for name, fields in self.keeps.items()}
        #: Rebuilds the read models from their owners (``Replica.rebuild``), for a group
        #: that missed events the stream no longer holds (added later, or away longer
        #: than the stream's retention).
        self.on_gap = on_gap
        #: Batches whose emitted events are being waited for before their ack.
        self._inflight: set[asyncio.Task[None]] = set()
        self._settling = asyncio.Semaphore(MAX_SETTLING_BATCHES)
        #: Set once the backlog that existed when the consumer started is applied.
        self.caught_up = asyncio.Event()
        self._backlog_end = 0
        #: Messages received and not yet acked, by stream sequence (nak'd at shutdown), and
        #: when each was received (kept alive up to MAX_HOLD_SECONDS).
        self._unacked: dict[int, Msg] = {}
        self._held_since: dict[int, float] = {}

    def filter_subjects(self) -> list[str]:
        return sorted({f"{EVENTS_SUBJECT_PREFIX}.*.{n.replace(':', '.')}" for n in self.handlers})

    async def ensure(self) -> None:
        """Create the durable consumer, or update its filters and metadata."""
        config = ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait,
            filter_subjects=self.filter_subjects(),
            metadata={READABLE: "true" if self.readable else "false", **keeps_metadata(self.keeps)},
        )
        await self.js.add_consumer(self.stream, config=config)

    async def subscribe(self):  # type: ignore[no-untyped-def]
        """A plain pull subscription on the consumer (tests fetch from it by hand)."""
        await self.ensure()
        return await self.js.pull_subscribe_bind(durable=self.name, stream=self.stream)

    async def run(self) -> None:
        try:
            before = await self.js.consumer_info(self.stream, self.name)
        except NotFoundError:
            before = None
        await self.ensure()
        state = (await self.js.stream_info(self.stream)).state
        self._backlog_end = state.last_seq
        if self.on_gap is not None and self.missed_events(before, state.first_seq):
            await self._rebuild()
        log.info("consumer_started", consumer=self.name, subjects=self.filter_subjects(), backlog_end=self._backlog_end)
        await self._announce([])  # writers that do not know this group yet read it now
        await self._check_caught_up()  # nothing to apply: ready at once
        keep_alive = asyncio.create_task(self._keep_alive())
        try:
            async for msgs in self._pull():
                try:
                    await self.handle_batch(msgs)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug must not stop the consumer; the messages are redelivered
                    log.exception("consumer_handle_crashed", consumer=self.name, subjects=[m.subject for m in msgs])
                    for msg in msgs:  # no longer kept alive: JetStream gives them again after ack_wait
                        self._unacked.pop(_stream_seq(msg), None)
        finally:  # batches still waiting are redelivered (unacked) and skipped by the inbox
            keep_alive.cancel()
            for task in list(self._inflight):
                task.cancel()
            await asyncio.gather(*self._inflight, return_exceptions=True)
            await self._release(self._unacked)

    async def _keep_alive(self) -> None:
        """Tell JetStream, every third of ``ack_wait``, that the messages this process holds
        are still being worked on (a slow batch, a settle wait, a database that restarts).

        So ``ack_wait`` can stay short: when a process dies without releasing what it held
        (``kill -9``, a node lost), JetStream redelivers its messages after ``ack_wait``, and
        until then the group's ack floor, hence a restarted process's readiness, waits. With
        30 s and no keep-alive, a killed process's replacement served at once but was not
        ready for ~30 s (chaos long run, 2026-12-07)."""
        while True:
            await asyncio.sleep(self.ack_wait / 3)
            oldest = time.monotonic() - MAX_HOLD_SECONDS
            for seq, msg in list(self._unacked.items()):
                if self._held_since.get(seq, 0.0) < oldest:  # lost by its holder: let it go
                    self._unacked.pop(seq, None)
                    self._held_since.pop(seq, None)
                    log.warning("consumer_message_released", consumer=self.name, stream_seq=seq)
                    continue
                with contextlib.suppress(Exception):  # acked meanwhile, or disconnected
                    await msg.in_progress()
            for seq in [seq for seq in self._held_since if seq not in self._unacked]:
                del self._held_since[seq]

    async def _release(self, msgs: dict[int, Msg]) -> None:
        """Nak what this process holds and will not ack (it is stopping): another process,
        or this one restarted, gets it at once instead of after ``ack_wait``."""
        held, self._unacked = list(msgs.values()), {}
        for msg in held:
            with contextlib.suppress(Exception):
                await msg.nak()
        if held:
            log.info("consumer_released_unacked", consumer=self.name, count=len(held))

    @staticmethod
    def missed_events(before: Any, first_seq: int) -> bool:
        """Whether events this group never saw are gone from the stream: it is new and the
        stream no longer starts at 1, or the last event it got is older than the oldest
        the stream still holds."""
        if before is None:
            return first_seq > 1
        delivered = before.delivered.stream_seq if before.delivered else 0
        return delivered + 1 < first_seq

    async def _rebuild(self) -> None:
        assert self.on_gap is not None
        delay = 1.0
        while True:
            log.warning("consumer_rebuilding_from_owners", consumer=self.name)
            try:
                await self.on_gap()
                log.info("consumer_rebuilt", consumer=self.name)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an owner is down: not ready until it answers
                log.warning("consumer_rebuild_failed", consumer=self.name, error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _pull(self) -> AsyncIterator[list[Msg]]:
        """Yield messages as soon as they arrive, up to ``batch`` at a time.

        One pull request for up to ``batch`` messages stays open on the server at all
        times; whatever has arrived is handed over at once. (nats-py's ``fetch(n)`` waits
        for the whole batch or for its timeout once a first message is in, which held a
        lone event for up to the timeout: writers wait for consumers, so that was their
        latency.)"""
        nc = self.js._nc  # noqa: SLF001 - the connection the JetStream context uses
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox, pending_msgs_limit=-1, pending_bytes_limit=-1)
        subject = f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.name}"
        remaining, deadline = 0, 0.0
        try:
            while True:
                now_ = time.monotonic()
                if remaining <= 0 or now_ >= deadline:
                    request = {"batch": self.batch, "expires": int(PULL_EXPIRES * 1e9)}
                    try:
                        await nc.publish(subject, dumps(request), reply=inbox)
                    except Exception as exc:  # disconnected: the client reconnects
                        log.warning("consumer_pull_failed", consumer=self.name, error=repr(exc))
                        await asyncio.sleep(1)
                        continue
                    remaining, deadline = self.batch, now_ + PULL_EXPIRES + 0.5
                try:
                    first = await sub.next_msg(timeout=max(0.05, deadline - now_))
                except NatsTimeout:
                    remaining = 0
                    await self._check_caught_up()
                    continue
                msgs: list[Msg] = []
                for msg in [first, *_drain(sub)]:
                    status = (msg.headers or {}).get("Status")
                    if status is None and msg.reply:
                        msgs.append(msg)
                        remaining -= 1
                    elif status in ("408", "409", "404"):  # the request ended (expired, replaced...)
                        remaining = 0
                        await self._check_caught_up()
                if msgs:
                    yield msgs
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _check_caught_up(self) -> None:
        """Caught up once every message that was in the stream at start is applied: the
        ack floor passed the stream's end at start, or nothing delivered is unacked and
        delivery went past that end (or nothing is pending at all: a filtered group's
        floor stays below the stream's end when the last events are not for it)."""
        if self.caught_up.is_set():
            return
        with contextlib.suppress(Exception):
            info = await self.js.consumer_info(self.stream, self.name)
            floor = info.ack_floor.stream_seq if info.ack_floor else 0
            delivered = info.delivered.stream_seq if info.delivered else 0
            drained = info.num_ack_pending == 0 and (info.num_pending == 0 or delivered >= self._backlog_end)
            if floor >= self._backlog_end or drained:
                log.info("consumer_caught_up", consumer=self.name, floor=floor, delivered=delivered,
                         backlog_end=self._backlog_end)
                self.caught_up.set()

    async def handle(self, msg: Msg) -> bool:
        """Process one message; True if its handler ran (False: duplicate, ignored or failed)."""
        return bool(await self.handle_batch([msg]))

    async def handle_batch(self, msgs: list[Msg]) -> int:
        """Apply, publish what the handlers emitted, ack; the number of handlers run."""
        deliveries: list[_Delivery] = []
        settled: list[int] = []  # sequences finished without a handler: announced too
        for msg in msgs:
            seq = _stream_seq(msg)
            if self._keeps_by_suffix and self._unaffected(msg):
                await msg.ack()
                settled.append(seq)
                continue
            try:
                event = Event.from_json(msg.data, version=version_of(msg.headers))
            except (ValueError, KeyError, TypeError):
                log.error("consumer_bad_envelope", consumer=self.name, subject=msg.subject)
                await msg.term()
                settled.append(seq)
                continue
            handler = self.handlers.get(event.name)
            if handler is None:
                await msg.ack()
                settled.append(seq)
                continue
            self._unacked[seq] = msg
            self._held_since[seq] = time.monotonic()
            deliveries.append(_Delivery(msg, event, handler))
        if not deliveries:
            if settled:
                await self._announce(settled)
            return 0
        started = time.monotonic()
        # Without a settler the handlers' commits wake the relay, as outside any scope.
        scope: contextlib.AbstractContextManager[list[Any]] = (
            settle_scope() if self.settler is not None else contextlib.nullcontext([]))
        with scope as emitted:
            done = await self._apply_with_fallback(deliveries)
        ran = sum(d.ran for d in done)
        if len(done) > ran:
            log.info("consumer_duplicate_skipped", consumer=self.name, count=len(done) - ran)
        if emitted and self.settler is not None:
            # The events the handlers emitted are waited for before these messages are
            # acked, in the background: the next batch is applied meanwhile (the floor
            # stays contiguous whatever order the acks come in).
            await self._settling.acquire()
            task = asyncio.create_task(self._settle_then_ack(list(emitted), done, settled, started))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            return ran
        await self._ack(done, settled, started)
        return ran

    def _unaffected(self, msg: Msg) -> bool:
        """An update that changed none of the fields this group keeps of it."""
        keeps = self._keeps_by_suffix.get(msg.subject.split(".", 3)[-1])
        return keeps is not None and not affects(changed_of(msg.headers), keeps)

    async def _settle_then_ack(self, emitted: list[Any], done: list[_Delivery], settled: list[int],
                               started: float) -> None:
        try:
            assert self.settler is not None
            await self.settler.settle(emitted, exclude=self.name)
            await self._ack(done, settled, started)
        finally:
            self._settling.release()

    async def _ack(self, done: list[_Delivery], settled: list[int], started: float) -> None:
        """Announce the applied sequences to the writers waiting on them, then ack."""
        seqs = [_stream_seq(d.msg) for d in done]
        await self._announce(settled + seqs, took_ms=(time.monotonic() - started) * 1000)
        starting = not self.caught_up.is_set()
        for n, (delivery, seq) in enumerate(zip(done, seqs), 1):
            self._unacked.pop(seq, None)
            if starting and n == len(done):  # readiness reads the floor: count this ack first
                with contextlib.suppress(Exception):
                    await delivery.msg.ack_sync()
                    continue
            await delivery.msg.ack()
        if starting:
            await self._check_caught_up()
        if time.monotonic() - started > SLOW_BATCH_SECONDS:  # writers are waiting on this
            log.warning("consumer_batch_slow", consumer=self.name, size=len(done),
                        seconds=round(time.monotonic() - started, 3))

    async def _apply_with_fallback(self, deliveries: list[_Delivery]) -> list[_Delivery]:
        """The deliveries to ack: the whole batch, or after a failure each one alone."""
        try:
            await self._apply(deliveries)
            return deliveries
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if len(deliveries) > 1:
                log.info("consumer_batch_split", consumer=self.name, size=len(deliveries), error=repr(exc))
            else:
                await self._failed(deliveries[0], exc)
                return []
        done = []
        for delivery in deliveries:
            try:
                await self._apply([delivery])
                done.append(delivery)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._failed(delivery, exc)
        return done

    async def _apply(self, deliveries: list[_Delivery]) -> None:
        """One transaction: record the ids in the inbox, run the handlers of the new ones."""
        async with transaction(self.sessionmaker) as session:
            # Core, with one statement for every batch size: compiled once, and none of
            # the ORM's bulk machinery (both showed in profiles of one write's chain).
            connection = await session.connection()
            fresh = set((await connection.execute(_INBOX_INSERT, [
                {"id": d.event.id, "consumer": self.name, "name": d.event.name, "processed_at": now()}
                for d in deliveries
            ])).scalars())
            for delivery in deliveries:
                delivery.ran = False
                if delivery.event.id not in fresh:
                    continue
                fresh.discard(delivery.event.id)  # the same event twice in one batch runs once
                token = otel_context.attach(extract_context(dict(delivery.msg.headers or {})))
                try:
                    with tracer().start_as_current_span(f"consume {delivery.event.name}", kind=SpanKind.CONSUMER):
                        await delivery.handler(session, delivery.event)
                finally:
                    otel_context.detach(token)
                delivery.ran = True

    async def _failed(self, delivery: _Delivery, exc: Exception) -> None:
        event, msg = delivery.event, delivery.msg
        self._unacked.pop(_stream_seq(msg), None)
        if isinstance(exc, PoisonEvent):
            log.error("consumer_poison_event", consumer=self.name, event_name=event.name, error=str(exc))
            await msg.term()
            return
        delivered = msg.metadata.num_delivered if msg.metadata else 1
        log.warning(
            "consumer_handler_failed", consumer=self.name, event_name=event.name,
            event_id=str(event.id), delivered=delivered, error=repr(exc),
        )
        if delivered >= self.max_deliver:
            await msg.term()
        else:
            await msg.nak(delay=min(self.retry_delay * 2.0 ** delivered, 30.0))

    async def _announce(self, seqs: list[int], took_ms: float | None = None) -> None:
        try:
            await announce_applied(self.js._nc, self.name, seqs, took_ms)  # noqa: SLF001
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # writers fall back to asking JetStream for the floor
            log.warning("consumer_announce_failed", consumer=self.name, error=repr(exc))


#: Records event ids in the inbox; returns those not seen before (a duplicate returns nothing).
_INBOX_INSERT = insert(InboxEvent).on_conflict_do_nothing().returning(InboxEvent.id)


def _stream_seq(msg: Msg) -> int:
    """The message's stream sequence (0 for a message not from JetStream, as in tests)."""
    try:
        return msg.metadata.sequence.stream
    except Exception:
        return 0
