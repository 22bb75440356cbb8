from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.errors import TimeoutError as NatsTimeout
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..bus import EVENTS_SUBJECT_PREFIX
from ..db import transaction
from ..logging import get_logger
from ..tracing import extract_context, tracer
from .envelope import Event
from .models import InboxEvent

log = get_logger(__name__)

EventHandler = Callable[[AsyncSession, Event], Awaitable[None]]


class PoisonEvent(Exception):
    """A handler raises this for an event it can never process; it is terminated."""


class Consumer:
    """A durable pull consumer with explicit ack and an inbox for idempotence.

    Each event is handled in one transaction that also records its id in the inbox;
    the message is acked only after that commit. A redelivered or duplicated event
    finds its id in the inbox and is acked without running the handler again.
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
        ack_wait: float = 30.0,
        batch: int = 64,
    ) -> None:
        self.name = name
        self.js = js
        self.sessionmaker = sessionmaker
        self.handlers = handlers
        self.stream = stream
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.batch = batch

    def filter_subjects(self) -> list[str]:
        return sorted({f"{EVENTS_SUBJECT_PREFIX}.*.{n.replace(':', '.')}" for n in self.handlers})

    async def subscribe(self):  # type: ignore[no-untyped-def]
        config = ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait,
            filter_subjects=self.filter_subjects(),
        )
        await self.js.add_consumer(self.stream, config=config)
        return await self.js.pull_subscribe_bind(durable=self.name, stream=self.stream)

    async def run(self) -> None:
        sub = await self.subscribe()
        log.info("consumer_started", consumer=self.name, subjects=self.filter_subjects())
        while True:
            try:
                msgs = await sub.fetch(self.batch, timeout=5)
            except NatsTimeout:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer_fetch_failed", consumer=self.name, error=str(exc))
                await asyncio.sleep(1)
                continue
            try:
                await self.handle_batch(msgs)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the consumer; the messages are redelivered
                log.exception("consumer_handle_crashed", consumer=self.name, subjects=[m.subject for m in msgs])

    async def handle_batch(self, msgs: list[Msg]) -> None:
        """Process fetched messages in one transaction (one inbox insert, one commit) when
        there are several: under load a consumer receives events in bursts, and a
        transaction per event was most of its cost. If anything fails the batch is rolled
        back and its messages go through :meth:`handle` one by one, so a bad event fails
        (and is retried or terminated) alone."""
        batch: list[tuple[Msg, Event, EventHandler]] = []
        for msg in msgs:
            try:
                event = Event.from_json(msg.data)
            except (ValueError, KeyError, TypeError):
                await self.handle(msg)  # terminates it
                continue
            handler = self.handlers.get(event.name)
            if handler is None:
                await msg.ack()
                continue
            batch.append((msg, event, handler))
        if len(batch) <= 1:
            for msg, _, _ in batch:
                await self.handle(msg)
            return
        try:
            async with transaction(self.sessionmaker) as session:
                fresh = set((await session.execute(
                    insert(InboxEvent)
                    .values([{"id": e.id, "consumer": self.name, "name": e.name} for _, e, _ in batch])
                    .on_conflict_do_nothing()
                    .returning(InboxEvent.id)
                )).scalars())
                for msg, event, handler in batch:
                    if event.id not in fresh:
                        continue
                    fresh.discard(event.id)  # the same event twice in one batch runs once
                    token = otel_context.attach(extract_context(dict(msg.headers or {})))
                    try:
                        with tracer().start_as_current_span(f"consume {event.name}", kind=SpanKind.CONSUMER):
                            await handler(session, event)
                    finally:
                        otel_context.detach(token)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("consumer_batch_split", consumer=self.name, size=len(batch), error=repr(exc))
            for msg, _, _ in batch:
                await self.handle(msg)
            return
        for msg, _, _ in batch:
            await msg.ack()

    async def handle(self, msg: Msg) -> bool:
        """Process one message; True if the handler ran (False: duplicate or ignored)."""
        try:
            event = Event.from_json(msg.data)
        except (ValueError, KeyError, TypeError):
            log.error("consumer_bad_envelope", consumer=self.name, subject=msg.subject)
            await msg.term()
            return False
        handler = self.handlers.get(event.name)
        if handler is None:
            await msg.ack()
            return False
        token = otel_context.attach(extract_context(dict(msg.headers or {})))
        try:
            with tracer().start_as_current_span(f"consume {event.name}", kind=SpanKind.CONSUMER):
                ran = False
                async with transaction(self.sessionmaker) as session:
                    inserted = await session.execute(
                        insert(InboxEvent)
                        .values(id=event.id, consumer=self.name, name=event.name)
                        .on_conflict_do_nothing()
                        .returning(InboxEvent.id)
                    )
                    if inserted.first() is not None:
                        await handler(session, event)
                        ran = True
                await msg.ack()
                if not ran:
                    log.info("consumer_duplicate_skipped", consumer=self.name, event_id=str(event.id))
                return ran
        except PoisonEvent as exc:
            log.error("consumer_poison_event", consumer=self.name, event_name=event.name, error=str(exc))
            await msg.term()
            return False
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delivered = msg.metadata.num_delivered if msg.metadata else 1
            log.warning(
                "consumer_handler_failed", consumer=self.name, event_name=event.name,
                event_id=str(event.id), delivered=delivered, error=repr(exc),
            )
            if delivered >= self.max_deliver:
                await msg.term()
            else:
                await msg.nak(delay=min(2.0 ** delivered, 30.0))
            return False
        finally:
            otel_context.detach(token)
