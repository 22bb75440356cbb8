"""The consistency mechanism on real PostgreSQL and NATS: a writer's settle returns once
every readable consumer group has applied its events (and only those), within the bound;
the ack floor holds with two processes on one group; replicas keep the newest snapshot
and ask the owner for an id they do not have."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import nats
import pytest
from sqlalchemy import BigInteger, Column, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase
from structlog.testing import capture_logs

from slate_common import bus
from slate_common.bus import ensure_events_stream
from slate_common.db import EventsBase, make_engine, make_sessionmaker, transaction
from slate_common.events import Consumer, Event, InboxEvent, emit
from slate_common.events import outbox as outbox_module
from slate_common.events.consistency import Settler, settle_scope, settling_session_class, subject_matches
from slate_common.events.consumer import ACK_WAIT_SECONDS
from slate_common.events.models import OutboxEvent
from slate_common.replica import Owned, Replica, Replicated, keeps_of, snapshot_rpc_handlers
from slate_common.testing.timing import eventually

applied = Table("test_applied", MetaData(), Column("event_id", UUID(as_uuid=True), primary_key=True),
                Column("name", String(50)))


class Base(DeclarativeBase):
    pass


class ThingReplica(Replicated, Base):
    __tablename__ = "test_thing_replica"
    id = Column(UUID(as_uuid=True), primary_key=True)
    name = Column(String(50))
    size = Column(BigInteger)


@pytest.fixture
async def env(events_nats, make_database):  # type: ignore[no-untyped-def]
    url = make_database("consistency")
    engine = make_engine(url, pool_size=4, max_overflow=4)
    async with engine.begin() as conn:
        await conn.run_sync(EventsBase.metadata.create_all)
        await conn.run_sync(applied.metadata.create_all)
        await conn.run_sync(Base.metadata.create_all)
    nc = await nats.connect(events_nats)  # its own server: the session's has SLATE_EVENTS on these subjects
    js = nc.jetstream()
    stream = "TEST_" + uuid.uuid4().hex[:8].upper()
    await ensure_events_stream(js, stream)
    outbox_module.SERVICE = "testsvc"
    sm = make_sessionmaker(engine, settling_session_class(lambda seqs: None))
    settler = Settler(nc=nc, js=js, stream=stream, sessionmaker=sm, wait_seconds=3.0)
    tasks: list[asyncio.Task[Any]] = []
    yield sm, nc, js, stream, settler, tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await settler.stop()
    await js.delete_stream(stream)
    await nc.close()
    await engine.dispose()


def slow_handler(delays: dict[str, float]):  # type: ignore[no-untyped-def]
    async def handler(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        await asyncio.sleep(delays.get(event.data.get("tag", ""), 0.0))
        await session.execute(applied.insert().values(event_id=event.id, name=event.data.get("tag")))

    return handler


async def _write(sm, name: str = "thing:new", **data: Any) -> list[Any]:  # type: ignore[no-untyped-def]
    with settle_scope() as committed:
        async with transaction(sm) as session:
            emit(session, name=name, data=data)
    return list(committed)


async def _applied(sm, tag: str) -> bool:  # type: ignore[no-untyped-def]
    async with sm() as s:
        return (await s.scalar(select(applied.c.event_id).where(applied.c.name == tag))) is not None


async def test_a_commit_after_its_scope_ended_wakes_the_relay(env) -> None:  # type: ignore[no-untyped-def]
    """A task a request started inherits its settle scope; when it commits after the
    scope ended (the request answered), nobody would publish its rows: the relay is
    handed their seq at once (beside a settler the relay leaves young rows alone)."""
    sm, *_ = env
    handed: list[list[int]] = []
    waking = make_sessionmaker(sm.kw["bind"], settling_session_class(handed.append))

    async def later() -> None:
        await asyncio.sleep(0.05)
        async with transaction(waking) as session:
            emit(session, name="thing:new", data={"tag": "after"})

    with settle_scope() as committed:
        async with transaction(waking) as session:
            emit(session, name="thing:new", data={"tag": "inside"})
        task = asyncio.create_task(later())  # the context, and so the scope, is copied
    await task
    assert len(committed) == 1 and handed and len(handed[0]) == 1
    async with sm() as s:
        seqs = dict((await s.execute(select(OutboxEvent.payload, OutboxEvent.seq))).all())
    assert handed[0][0] not in {row.seq for row in committed} and handed[0][0] in seqs.values()


def test_subject_matching() -> None:
    assert subject_matches("slate.events.*.person.new", "slate.events.auth.person.new")
    assert not subject_matches("slate.events.*.person.new", "slate.events.auth.person.update")
    assert subject_matches("slate.events.>", "slate.events.auth.person.new")
    assert not subject_matches("slate.events.*.person", "slate.events.auth.person.new")


async def test_settle_returns_once_readable_groups_applied_and_never_waits_for_others(env) -> None:  # type: ignore[no-untyped-def]
    sm, nc, js, stream, settler, tasks = env
    readable = Consumer(name="replica", js=js, sessionmaker=sm, stream=stream,
                        handlers={"thing:new": slow_handler({"a": 0.4})})
    # a slow group clients never read back (a transcoder, a webhook sender): not waited for
    background = Consumer(name="jobs", js=js, sessionmaker=sm, stream=stream, readable=False,
                          handlers={"thing:new": slow_handler({"a": 30.0})})
    for consumer in (readable, background):
        await consumer.ensure()
        tasks.append(asyncio.create_task(consumer.run()))
    await settler.start()
    rows = await _write(sm, tag="a")
    assert len(rows) == 1
    started = time.monotonic()
    await settler.settle(rows)
    took = time.monotonic() - started
    assert await _applied(sm, "a")  # visible the moment settle returns
    assert 0.35 < took < 2.5, took
    group = settler.groups["replica"]
    assert group.readable and group.has([1])  # announced: stream sequence 1 applied
    assert settler.groups["jobs"].readable is False


async def test_settle_gives_up_after_the_bound_and_logs_replica_lag(env) -> None:  # type: ignore[no-untyped-def]
    sm, nc, js, stream, settler, tasks = env
    settler.wait_seconds = 0.5
    lagging = Consumer(name="stopped", js=js, sessionmaker=sm, stream=stream, handlers={"thing:new": slow_handler({})})
    await lagging.ensure()  # the group exists, no process runs it
    await settler.start()
    rows = await _write(sm, tag="b")
    with capture_logs() as logs:
        started = time.monotonic()
        await settler.settle(rows)
        took = time.monotonic() - started
    assert 0.45 < took < 1.5, took
    lag = [entry for entry in logs if entry["event"] == "replica_lag"]
    assert lag and "stopped" in lag[0]["groups"]
    assert not await _applied(sm, "b")


async def test_two_processes_of_one_group_each_answer_for_what_they_applied(env) -> None:  # type: ignore[no-untyped-def]
    """Event "slow" takes a second in one process; event "fast" is applied at once by the
    other. The writer of "fast" is answered without waiting for "slow" (whichever process
    applies an event announces it); the writer of "slow" waits until it is applied."""
    sm, nc, js, stream, settler, tasks = env
    handler = slow_handler({"slow": 1.0})
    for _ in range(2):
        consumer = Consumer(name="shared", js=js, sessionmaker=sm, stream=stream, handlers={"thing:new": handler},
                            batch=1)
        await consumer.ensure()
        tasks.append(asyncio.create_task(consumer.run()))
    await settler.start()
    slow_writer = asyncio.create_task(settler.settle(await _write(sm, tag="slow")))
    await asyncio.sleep(0.1)  # one process holds the slow one
    started = time.monotonic()
    await settler.settle(await _write(sm, tag="fast"))
    assert time.monotonic() - started < 0.6
    assert await _applied(sm, "fast") and not await _applied(sm, "slow")
    await slow_writer
    assert await _applied(sm, "slow")  # visible the moment its writer is answered
    assert settler.groups["shared"].has([1, 2])


async def test_a_lost_announcement_is_made_up_by_the_floor(env) -> None:  # type: ignore[no-untyped-def]
    """Announcements are at most once: a writer that never hears one still returns, from
    the group's ack floor, well within the bound."""
    sm, nc, js, stream, settler, tasks = env
    consumer = Consumer(name="quiet", js=js, sessionmaker=sm, stream=stream, handlers={"thing:new": slow_handler({})})

    async def lost(seqs: list[int], took_ms: float | None = None) -> None:  # announcements never arrive
        return None

    consumer._announce = lost  # type: ignore[method-assign]
    await consumer.ensure()
    tasks.append(asyncio.create_task(consumer.run()))
    await settler.start()
    started = time.monotonic()
    await settler.settle(await _write(sm, tag="quiet"))
    assert time.monotonic() - started < 1.0
    assert await _applied(sm, "quiet")
    assert settler.groups["quiet"].floor >= 1


async def test_publish_acknowledges_a_request_s_events_in_outbox_order(env) -> None:  # type: ignore[no-untyped-def]
    sm, nc, js, stream, settler, tasks = env
    await settler.start()
    with settle_scope() as committed:
        async with transaction(sm) as session:
            for n in range(6):
                emit(session, name="thing:new", data={"tag": f"n{n}"})
    published = await settler.publish(committed)
    seqs = [seq for _, seq in published]
    assert seqs == sorted(seqs) and len(set(seqs)) == 6
    for row, seq in zip(sorted(committed, key=lambda r: r.seq), seqs):
        msg = await js.get_msg(stream, seq)
        assert msg.headers["Nats-Msg-Id"] == row.id
    # a second publish of the same rows (the relay's, after a crash) is a duplicate: same sequences
    assert [seq for _, seq in await settler.publish(committed)] == seqs
    assert (await js.stream_info(stream)).state.messages == 6
    # and the rows are marked published in the background (so the relay leaves them)

    async def unmarked() -> int:
        async with sm() as s:
            return int(await s.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.published_at.is_(None))))

    assert await eventually(unmarked, until=lambda n: n == 0, timeout=5) == 0


async def test_a_consumer_waits_for_the_events_its_handlers_emit(env) -> None:  # type: ignore[no-untyped-def]
    """A cascade: the first group's handler emits thing:derived; the second group applies
    it. The first group acks (and so the first writer returns) only once it is applied."""
    sm, nc, js, stream, settler, tasks = env

    async def derive(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        emit(session, name="thing:derived", data={"tag": "derived-" + event.data["tag"]})

    first = Consumer(name="first", js=js, sessionmaker=sm, stream=stream, handlers={"thing:new": derive},
                     settler=settler)
    second = Consumer(name="second", js=js, sessionmaker=sm, stream=stream,
                      handlers={"thing:derived": slow_handler({"derived-c": 0.3})})
    for consumer in (first, second):
        await consumer.ensure()
        tasks.append(asyncio.create_task(consumer.run()))
    await settler.start()
    await settler.settle(await _write(sm, tag="c"))
    assert await _applied(sm, "derived-c")


async def test_replica_keeps_the_newest_snapshot(env) -> None:  # type: ignore[no-untyped-def]
    sm, *_ = env
    things = Replica(ThingReplica, "thing", "owner")
    row_id = uuid.uuid4()
    async with transaction(sm) as s:
        assert await things.apply(s, snapshot={"id": str(row_id), "name": "v5", "size": 5}, version=5)
        assert not await things.apply(s, snapshot={"id": str(row_id), "name": "v3", "size": 3}, version=3)  # late, older
        assert not await things.apply(s, snapshot={"id": str(row_id), "name": "v5 again", "size": 5}, version=5)  # redelivered
        assert await things.apply(s, snapshot={"id": str(row_id), "name": "v7", "size": 7}, version=7)
    async with sm() as s:
        row = await s.get(ThingReplica, row_id)
        assert (row.name, row.size, row.source_version) == ("v7", 7, 7)
    async with transaction(sm) as s:
        await things.remove(s, row_id=row_id, version=6)  # a delete older than the row leaves it
    async with sm() as s:
        assert await s.get(ThingReplica, row_id) is not None
    async with transaction(sm) as s:
        await things.remove(s, row_id=row_id, version=8)
    async with sm() as s:
        assert await s.get(ThingReplica, row_id) is None


async def test_an_update_that_changes_nothing_a_replica_keeps_is_skipped_and_not_waited_for(env) -> None:  # type: ignore[no-untyped-def]
    """A replica keeping ``id, name, size``: an update whose writer names only other
    fields (``emit(changed=...)``) is acked without being applied, and its writer does not
    wait for the group (its handler here takes 0.5 s); one that names a kept field, or
    names none (unknown), is applied and waited for."""
    sm, nc, js, stream, settler, tasks = env
    things = Replica(ThingReplica, "thing", "owner")
    assert things.kept_fields() == {"thing:update": frozenset({"id", "name", "size"})}
    handlers = things.handlers()
    upsert = handlers["thing:update"]

    async def slow_upsert(session, event: Event) -> None:  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.5)
        await upsert(session, event)

    consumer = Consumer(name="things", js=js, sessionmaker=sm, stream=stream,
                        handlers={**handlers, "thing:update": slow_upsert}, keeps=keeps_of([things]))
    await consumer.ensure()
    tasks.append(asyncio.create_task(consumer.run()))
    await settler.start()
    assert settler.groups["things"].keeps == {"thing.update": frozenset({"id", "name", "size"})}
    row_id = str(uuid.uuid4())

    async def write(event: str, changed: set[str] | None, **snapshot: Any) -> float:
        with settle_scope() as committed:
            async with transaction(sm) as session:
                emit(session, name=event, data={"snapshot": {"id": row_id, **snapshot}}, changed=changed)
        started = time.monotonic()
        await settler.settle(list(committed))
        return time.monotonic() - started

    async def row() -> tuple[Any, ...]:
        async with sm() as s:
            found = await s.get(ThingReplica, uuid.UUID(row_id))
            return found.name, found.size, found.source_version

    assert await write("thing:new", None, name="a", size=1, note="") < 0.4
    created = await row()
    assert created[:2] == ("a", 1)
    assert await write("thing:update", {"note", "updated_at"}, name="a", size=1, note="x") < 0.4  # not waited for
    assert await row() == created  # nothing applied, the version left as it was
    assert await write("thing:update", {"size"}, name="a", size=2, note="x") > 0.45
    assert (await row())[:2] == ("a", 2)
    assert await write("thing:update", None, name="b", size=2, note="y") > 0.45  # fields unknown: applied
    assert (await row())[:2] == ("b", 2)
    assert settler.groups["things"].has([1, 2, 3, 4])  # the skipped one acked and announced too
    async with sm() as s:  # and never applied: no transaction recorded it
        assert (await s.scalar(select(func.count()).select_from(InboxEvent)
                               .where(InboxEvent.consumer == "things"))) == 3
    # a replica that keeps the whole snapshot, or reads fields it does not name, skips nothing
    assert Replica(ThingReplica, "thing", "owner", columns=lambda snap: {"name": snap["name"]}).kept_fields() == {}
    assert Replica(ThingReplica, "thing", "owner", columns=lambda snap: {"name": snap["name"]},
                   fields=("name",), verbs=("rename",)).kept_fields() == {
        "thing:update": frozenset({"name"}), "thing:rename": frozenset({"name"})}
    assert keeps_of([things], overridden={"thing:update"}) == {}


async def test_replica_asks_the_owner_for_an_id_it_does_not_have(env) -> None:  # type: ignore[no-untyped-def]
    sm, nc, *_ = env
    owner_rows = {uuid.uuid4(): {"name": "from owner", "size": 42}}
    owned_id = next(iter(owner_rows))

    class OwnerRow:  # what the owner's table would hold
        def __init__(self, row_id: uuid.UUID) -> None:
            self.id = row_id

    async def serialize(session, row) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return {"id": str(row.id), **owner_rows[row.id]}

    class OwnedThings(Owned):
        async def one(self, session, *, row_id):  # type: ignore[no-untyped-def]
            return await serialize(session, OwnerRow(row_id)) if row_id in owner_rows else None

    service = "owner" + uuid.uuid4().hex[:6]
    await bus.serve_rpc(nc, service, snapshot_rpc_handlers(lambda: sm, {"thing": OwnedThings(ThingReplica, serialize)}))
    things = Replica(ThingReplica, "thing", service)
    things.bind(nc)
    async with transaction(sm) as s:
        row = await things.get(s, row_id=owned_id)
        assert row is not None and (row.name, row.size) == ("from owner", 42)
        assert await things.get(s, row_id=uuid.uuid4()) is None  # the owner has none either: 404
    async with sm() as s:
        assert (await s.get(ThingReplica, owned_id)).name == "from owner"  # stored


async def test_a_group_that_missed_purged_events_rebuilds_from_the_owner(env) -> None:  # type: ignore[no-untyped-def]
    sm, nc, js, stream, settler, tasks = env
    owner_rows = {uuid.uuid4(): {"name": f"row {n}", "size": n} for n in range(5)}

    class OwnedThings(Owned):
        async def page(self, session, *, after, limit):  # type: ignore[no-untyped-def]
            ids = sorted(i for i in owner_rows if after is None or i > after)[:limit]
            return [{"id": str(i), **owner_rows[i]} for i in ids]

    service = "owner" + uuid.uuid4().hex[:6]
    await bus.serve_rpc(nc, service, snapshot_rpc_handlers(lambda: sm, {"thing": OwnedThings(ThingReplica, None)}))
    things = Replica(ThingReplica, "thing", service)
    things.bind(nc)
    for n in range(3):  # events the stream held once...
        await settler.publish(await _write(sm, "thing:new", tag=f"old{n}"))
    await js.purge_stream(stream)  # ...and no longer holds (retention)

    async def rebuild() -> None:
        assert await things.rebuild(sm, page=2) == 5  # three pages

    late = Consumer(name="late", js=js, sessionmaker=sm, stream=stream, handlers=things.handlers(), on_gap=rebuild)
    tasks.append(asyncio.create_task(late.run()))
    await asyncio.wait_for(late.caught_up.wait(), 10)
    async with sm() as s:
        rows = {r.id: (r.name, r.size) for r in (await s.scalars(select(ThingReplica))).all()}
    assert rows == {i: (v["name"], v["size"]) for i, v in owner_rows.items()}
    # a group that saw everything the stream holds does not rebuild
    assert not Consumer.missed_events(None, 1)


async def test_a_dead_process_s_messages_come_back_within_ack_wait(env) -> None:  # type: ignore[no-untyped-def]
    """A process killed with messages in hand never acks or releases them: JetStream gives
    them to the group again after ``ack_wait``, and a restarted process is ready then (with
    30 s it was not ready for half a minute after a kill -9 under load). Here ``ack_wait`` is
    1 s, not the default's 6 s (the default stays short: asserted below)."""
    sm, nc, js, stream, settler, tasks = env
    handler = slow_handler({})
    assert ACK_WAIT_SECONDS <= 10
    dead = Consumer(name="crashy", js=js, sessionmaker=sm, stream=stream, handlers={"thing:new": handler},
                    ack_wait=1.0)
    await dead.ensure()
    for n in range(3):
        await settler.publish(await _write(sm, tag=f"held{n}"))
    held = await (await dead.subscribe()).fetch(3, timeout=5)  # taken, then the process "dies"
    assert len(held) == 3
    started = time.monotonic()
    restarted = Consumer(name="crashy", js=js, sessionmaker=sm, stream=stream, handlers={"thing:new": handler},
                         ack_wait=1.0)
    tasks.append(asyncio.create_task(restarted.run()))
    await asyncio.wait_for(restarted.caught_up.wait(), 15)
    waited = time.monotonic() - started
    assert waited < restarted.ack_wait + 3, waited
    assert all([await _applied(sm, f"held{n}") for n in range(3)])


async def test_a_slow_batch_is_kept_alive_not_given_to_another_process(env) -> None:  # type: ignore[no-untyped-def]
    """A batch that takes longer than ``ack_wait`` (here 3 times longer) is not delivered
    again to the group's other process: the holder says it is still working on it."""
    sm, nc, js, stream, settler, tasks = env
    deliveries: list[int] = []  # each delivery's attempt number, in any process

    for _ in range(2):
        consumer = Consumer(name="patient", js=js, sessionmaker=sm, stream=stream,
                            handlers={"thing:new": slow_handler({"slow": 3.0})}, batch=1, ack_wait=1.0)
        receive = consumer.handle_batch

        async def recording(msgs, receive=receive):  # type: ignore[no-untyped-def]
            deliveries.extend(m.metadata.num_delivered for m in msgs)
            return await receive(msgs)

        consumer.handle_batch = recording  # type: ignore[method-assign]
        await consumer.ensure()
        tasks.append(asyncio.create_task(consumer.run()))
    await settler.publish(await _write(sm, tag="slow"))
    for _ in range(100):
        if await _applied(sm, "slow"):
            break
        await asyncio.sleep(0.1)
    assert await _applied(sm, "slow")
    await asyncio.sleep(1.5)  # past ack_wait again: nothing comes back either
    assert deliveries == [1]
    assert (await js.consumer_info(stream, "patient")).num_ack_pending == 0


async def test_a_batch_that_crashed_is_not_kept_alive(env) -> None:  # type: ignore[no-untyped-def]
    """A batch whose handling raised after it was received (a bug; here its ack) is let go:
    JetStream gives it again after ``ack_wait`` instead of the keep-alive holding it for ever."""
    sm, nc, js, stream, settler, tasks = env
    deliveries: list[int] = []
    consumer = Consumer(name="crashing", js=js, sessionmaker=sm, stream=stream,
                        handlers={"thing:new": slow_handler({})}, ack_wait=1.0)
    receive, ack = consumer.handle_batch, consumer._ack

    async def recording(msgs):  # type: ignore[no-untyped-def]
        deliveries.extend(m.metadata.num_delivered for m in msgs)
        return await receive(msgs)

    async def first_ack_crashes(*args):  # type: ignore[no-untyped-def]
        if len(deliveries) == 1:
            raise RuntimeError("a bug")
        return await ack(*args)

    consumer.handle_batch = recording  # type: ignore[method-assign]
    consumer._ack = first_ack_crashes  # type: ignore[method-assign]
    await consumer.ensure()
    tasks.append(asyncio.create_task(consumer.run()))
    await settler.publish(await _write(sm, tag="crashed once"))
    for _ in range(80):
        if len(deliveries) >= 2 and (await js.consumer_info(stream, "crashing")).num_ack_pending == 0:
            break
        await asyncio.sleep(0.1)
    assert deliveries == [1, 2]  # given again (the inbox skips the second apply)
    assert await _applied(sm, "crashed once")
