"""Outbox, relay and idempotent consumers on real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import nats
import nats.errors
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import UUID

from slate_common.bus import ensure_events_stream
from slate_common.db import EventsBase, make_engine, make_sessionmaker, transaction
from slate_common.events import Consumer, Event, InboxEvent, OutboxEvent, OutboxRelay, emit
from slate_common.events import outbox as outbox_module
from slate_common.events import relay as relay_module
from slate_common.events.consumer import PoisonEvent
from slate_common.serialization import now

# A table standing for a consumer's read model.
effects = Table(
    "test_effect",
    MetaData(),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(50)),
    Column("attempt", Integer),
)


@pytest.fixture
async def env(events_nats, make_database):  # type: ignore[no-untyped-def]
    url = make_database("events")
    engine = make_engine(url, pool_size=2, max_overflow=2)
    async with engine.begin() as conn:
        await conn.run_sync(EventsBase.metadata.create_all)
        await conn.run_sync(effects.metadata.create_all)
    nc = await nats.connect(events_nats)  # its own server: the session's has SLATE_EVENTS on these subjects
    js = nc.jetstream()
    stream = "TEST_" + uuid.uuid4().hex[:8].upper()
    await ensure_events_stream(js, stream)
    outbox_module.SERVICE = "testsvc"
    yield make_sessionmaker(engine), js, stream
    await js.delete_stream(stream)
    await nc.close()
    await engine.dispose()


async def _stream_count(js, stream: str) -> int:  # type: ignore[no-untyped-def]
    return (await js.stream_info(stream)).state.messages


async def test_emit_is_transactional(env) -> None:  # type: ignore[no-untyped-def]
    sm, _, _ = env
    with pytest.raises(RuntimeError):
        async with transaction(sm) as s:
            emit(s, name="thing:new", data={"thing_id": "x"})
            raise RuntimeError("change fails")
    async with transaction(sm) as s:
        emit(s, name="thing:new", data={"thing_id": "y"})
    async with sm() as s:
        rows = (await s.scalars(select(OutboxEvent))).all()
    assert [r.subject for r in rows] == ["slate.events.testsvc.thing.new"]
    assert Event.from_json(rows[0].payload).data == {"thing_id": "y"}


async def test_relay_publishes_once_with_msg_id_and_marks_sent(env) -> None:  # type: ignore[no-untyped-def]
    sm, js, stream = env
    async with transaction(sm) as s:
        events = [emit(s, name="thing:new", data={"n": i}) for i in range(3)]
    relay = OutboxRelay(sm, js)
    assert await relay.publish_pending() == 3
    assert await relay.publish_pending() == 0
    assert await _stream_count(js, stream) == 3
    # A relay that died before marking rows sent publishes them again: the server
    # drops the duplicates by Nats-Msg-Id.
    async with transaction(sm) as s:
        await s.execute(OutboxEvent.__table__.update().values(published_at=None))
    assert await relay.publish_pending() == 3
    assert await _stream_count(js, stream) == 3
    msg = await js.get_last_msg(stream, "slate.events.testsvc.thing.new")
    assert msg.headers["Nats-Msg-Id"] == str(events[-1].id)


async def test_relay_beside_a_settler_leaves_young_rows_to_their_request(env) -> None:  # type: ignore[no-untyped-def]
    """With a grace, the relay takes the rows older than it and the rows handed to it by
    a commit outside any settle scope; the others are their request's to publish."""
    sm, js, stream = env
    async with transaction(sm) as s:
        emit(s, name="thing:new", data={"n": "settled"})
        handed = emit(s, name="thing:new", data={"n": "handed"})
        emit(s, name="thing:new", data={"n": "old"})
    async with transaction(sm) as s:
        rows = {Event.from_json(r.payload).data["n"]: r for r in (await s.scalars(select(OutboxEvent))).all()}
        rows["old"].created_at -= dt.timedelta(seconds=60)
        handed_seq = rows["handed"].seq
    relay = OutboxRelay(sm, js, settled_grace_seconds=5.0)
    assert await relay.publish_pending(grace_seconds=5.0) == 1  # the old row only
    relay.notify([handed_seq])
    assert await relay.publish_pending(grace_seconds=5.0) == 1  # the handed one
    assert await relay.publish_pending(grace_seconds=5.0) == 0  # the young one stays
    async with sm() as s:
        left = (await s.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None)))).all()
    assert [Event.from_json(r.payload).data["n"] for r in left] == ["settled"]
    msg = await js.get_last_msg(stream, "slate.events.testsvc.thing.new")
    assert msg.headers["Nats-Msg-Id"] == str(handed.id)
    assert await relay.publish_pending() == 1  # no grace: every pending row
    assert await _stream_count(js, stream) == 3


async def test_relay_purges_old_published_rows_and_old_inbox_records(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Published outbox rows older than the retention go, pending ones never (whatever
    their age); inbox records go once older than theirs; in batches."""
    sm, js, _ = env
    monkeypatch.setattr(relay_module, "PURGE_BATCH", 2)  # several batches for a few rows
    async with transaction(sm) as s:
        for n in ("old-1", "old-2", "old-3", "recent", "pending-old", "pending"):
            emit(s, name="thing:new", data={"n": n})
    relay = OutboxRelay(sm, js)
    assert await relay.publish_pending() == 6
    day_ago = now() - dt.timedelta(days=1)
    async with transaction(sm) as s:
        rows = {Event.from_json(r.payload).data["n"]: r for r in (await s.scalars(select(OutboxEvent))).all()}
        for n in ("old-1", "old-2", "old-3"):
            rows[n].published_at = day_ago
        for n in ("pending-old", "pending"):
            rows[n].published_at = None
        rows["pending-old"].created_at = day_ago
        for i, age in enumerate((20, 16, 14, 1)):
            s.add(InboxEvent(id=uuid.uuid4(), consumer="c", name=f"age-{age}",
                             processed_at=now() - dt.timedelta(days=age, minutes=i)))
    assert await relay.purge(outbox_older_than=dt.timedelta(hours=1), inbox_older_than=relay_module.INBOX_RETENTION) == (3, 2)
    async with sm() as s:
        left = sorted(Event.from_json(r.payload).data["n"] for r in (await s.scalars(select(OutboxEvent))).all())
        inbox = sorted((await s.scalars(select(InboxEvent.name))).all())
    assert left == ["pending", "pending-old", "recent"]
    assert inbox == ["age-1", "age-14"]  # the stream keeps events 14 days: their records stay
    assert relay_module.INBOX_RETENTION == dt.timedelta(days=15)
    assert await relay.purge(outbox_older_than=dt.timedelta(hours=1), inbox_older_than=relay_module.INBOX_RETENTION) == (0, 0)


async def test_consumer_applies_each_event_once(env) -> None:  # type: ignore[no-untyped-def]
    sm, js, stream = env
    calls: list[uuid.UUID] = []

    async def handler(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        calls.append(event.id)
        await session.execute(effects.insert().values(event_id=event.id, name=event.name, attempt=len(calls)))

    consumer = Consumer(name="c1", js=js, sessionmaker=sm, handlers={"thing:new": handler}, stream=stream)
    sub = await consumer.subscribe()
    async with transaction(sm) as s:
        event = emit(s, name="thing:new", data={"n": 1})
        emit(s, name="other:new", data={"n": 2})  # not this consumer's
    await OutboxRelay(sm, js).publish_pending()
    msgs = await sub.fetch(10, timeout=5)
    assert [m.subject for m in msgs] == ["slate.events.testsvc.thing.new"]
    assert await consumer.handle(msgs[0]) is True
    # The same event delivered again (redelivery, or a second publisher) is skipped.
    await js.publish(msgs[0].subject, msgs[0].data, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    again = await sub.fetch(1, timeout=5)
    assert await consumer.handle(again[0]) is False
    assert calls == [event.id]
    async with sm() as s:
        assert await s.scalar(select(func.count()).select_from(effects)) == 1
        assert (await s.scalars(select(InboxEvent.name))).all() == ["thing:new"]


async def test_failing_handler_rolls_back_and_is_retried(env) -> None:  # type: ignore[no-untyped-def]
    sm, js, stream = env
    attempts = 0

    async def flaky(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        nonlocal attempts
        attempts += 1
        await session.execute(effects.insert().values(event_id=event.id, name="x", attempt=attempts))
        if attempts == 1:
            raise ConnectionError("downstream hiccup")

    # given again after retry_delay × 2 (2 s in operation)
    consumer = Consumer(name="c2", js=js, sessionmaker=sm, handlers={"thing:new": flaky}, stream=stream, ack_wait=2,
                        retry_delay=0.05)
    async with transaction(sm) as s:
        emit(s, name="thing:new", data={})
    await OutboxRelay(sm, js).publish_pending()
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(100):
            async with sm() as s:
                done = await s.scalar(select(func.count()).select_from(effects))
            if done:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
    assert attempts == 2
    async with sm() as s:
        assert (await s.scalars(select(effects.c.attempt))).all() == [2]  # first attempt rolled back


async def test_poison_event_is_terminated(env) -> None:  # type: ignore[no-untyped-def]
    sm, js, stream = env

    async def poison(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        raise PoisonEvent("cannot ever apply")

    consumer = Consumer(name="c3", js=js, sessionmaker=sm, handlers={"thing:new": poison}, stream=stream)
    sub = await consumer.subscribe()
    async with transaction(sm) as s:
        emit(s, name="thing:new", data={})
    await OutboxRelay(sm, js).publish_pending()
    (msg,) = await sub.fetch(1, timeout=5)
    assert await consumer.handle(msg) is False
    for _ in range(50):  # the term is an async publish: wait for the server to see it
        info = await js.consumer_info(stream, "c3")
        if info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.05)
    assert info.num_ack_pending == 0 and info.num_redelivered == 0
    with pytest.raises(nats.errors.TimeoutError):  # never redelivered
        await sub.fetch(1, timeout=1)
    async with sm() as s:
        assert await s.scalar(select(func.count()).select_from(InboxEvent)) == 0


async def test_a_batch_is_one_transaction_and_a_bad_event_fails_alone(env) -> None:  # type: ignore[no-untyped-def]
    sm, js, stream = env
    seen: list[int] = []

    async def handler(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        seen.append(event.data["n"])
        if event.data["n"] == 3:
            raise PoisonEvent("three is never valid")
        await session.execute(effects.insert().values(event_id=event.id, name=event.name, attempt=event.data["n"]))

    # ack_wait 1 s: a message left unacked would come back within the final 2 s wait
    consumer = Consumer(name="c-batch", js=js, sessionmaker=sm, handlers={"thing:new": handler}, stream=stream,
                        ack_wait=1)
    sub = await consumer.subscribe()
    async with transaction(sm) as s:
        first = emit(s, name="thing:new", data={"n": 1})
    await OutboxRelay(sm, js).publish_pending()
    await consumer.handle((await sub.fetch(1, timeout=5))[0])  # n=1 applied alone
    async with transaction(sm) as s:
        for n in (2, 4):
            emit(s, name="thing:new", data={"n": n})
    await OutboxRelay(sm, js).publish_pending()
    # n=1 delivered again (a duplicate) in the same burst as 2 and 4
    async with sm() as s:
        raw = (await s.scalars(select(OutboxEvent.payload).where(OutboxEvent.id == first.id))).one()
    await js.publish("slate.events.testsvc.thing.new", raw, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    msgs = await sub.fetch(10, timeout=5)
    assert len(msgs) == 3
    await consumer.handle_batch(msgs)
    assert seen == [1, 2, 4]  # the duplicate did not run again
    async with sm() as s:
        assert sorted((await s.scalars(select(effects.c.attempt))).all()) == [1, 2, 4]
    # a batch holding a poison event: the others are applied, the poison one terminated
    async with transaction(sm) as s:
        for n in (3, 5):
            emit(s, name="thing:new", data={"n": n})
    await OutboxRelay(sm, js).publish_pending()
    msgs = await sub.fetch(10, timeout=5)
    assert len(msgs) == 2
    await consumer.handle_batch(msgs)
    async with sm() as s:
        assert sorted((await s.scalars(select(effects.c.attempt))).all()) == [1, 2, 4, 5]
        assert sorted((await s.scalars(select(InboxEvent.name).where(InboxEvent.consumer == "c-batch"))).all()) == [
            "thing:new"] * 4
    with pytest.raises(nats.errors.TimeoutError):  # everything was acked or terminated: nothing comes back
        await sub.fetch(1, timeout=2)
