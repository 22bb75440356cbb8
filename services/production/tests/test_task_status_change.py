"""change_status: Zou's side effects of a status change (as observed on the oracle) and
its task:status-changed event through the outbox."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from slate_common.db import transaction
from slate_common.events import Event, OutboxEvent

from slate_production.domain.tasks import change_status, default_status_id, get_task
from slate_production.models import Entity, EntityType, Project, Task, TaskStatus, TaskType


async def _statuses(session) -> dict[str, uuid.UUID]:  # type: ignore[no-untyped-def]
    return {s.short_name: s.id for s in await session.scalars(select(TaskStatus))}


async def _make_task(sessionmaker) -> uuid.UUID:  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        project = Project(name=f"Status {uuid.uuid4().hex[:8]}")
        session.add(project)
        await session.flush()
        shot_type = await session.scalar(select(EntityType.id).where(EntityType.name == "Shot"))
        shot = Entity(name="SH010", project_id=project.id, entity_type_id=shot_type)
        task_type = TaskType(name=f"Anim {uuid.uuid4().hex[:6]}", for_entity="Shot")
        session.add_all([shot, task_type])
        await session.flush()
        task = Task(project_id=project.id, entity_id=shot.id, task_type_id=task_type.id,
                    task_status_id=await default_status_id(session))
        session.add(task)
        await session.flush()
        return task.id


async def _step(sessionmaker, task_id, status_id, actor, when):  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        task = await get_task(session, task_id=task_id, for_update=True)
        change = await change_status(session, task=task, task_status_id=status_id, actor_id=actor, when=when)
        return change.changed, task.real_start_date, task.end_date, task.done_date, task.retake_count


async def test_status_changes_apply_zou_side_effects(client, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    task_id = await _make_task(sessionmaker)
    async with transaction(sessionmaker) as session:
        st = await _statuses(session)
        assert (await get_task(session, task_id=task_id)).task_status_id == st["todo"]
    actor = uuid.uuid4()
    t = [dt.datetime(2026, 1, 1, 10, 0, i) for i in range(10)]
    # The oracle's sequence: wip, wfa, retake, retake, wip, wfa, done, wip, done, todo.
    assert await _step(sessionmaker, task_id, st["wip"], actor, t[0]) == (True, t[0], None, None, 0)
    assert await _step(sessionmaker, task_id, st["wfa"], actor, t[1]) == (True, t[0], t[1], None, 0)
    assert await _step(sessionmaker, task_id, st["retake"], actor, t[2]) == (True, t[0], None, None, 1)
    assert await _step(sessionmaker, task_id, st["retake"], actor, t[3]) == (False, t[0], None, None, 1)
    assert await _step(sessionmaker, task_id, st["wip"], actor, t[4]) == (True, t[0], None, None, 1)
    assert await _step(sessionmaker, task_id, st["wfa"], actor, t[5]) == (True, t[0], t[5], None, 1)
    assert await _step(sessionmaker, task_id, st["done"], actor, t[6]) == (True, t[0], t[5], t[6], 1)
    assert await _step(sessionmaker, task_id, st["wip"], actor, t[7]) == (True, t[0], None, None, 1)
    assert await _step(sessionmaker, task_id, st["done"], actor, t[8]) == (True, t[0], None, t[8], 1)
    assert await _step(sessionmaker, task_id, st["todo"], actor, t[9]) == (True, t[0], None, None, 1)


async def test_fresh_task_straight_to_done_or_retake(client, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        st = await _statuses(session)
    when = dt.datetime(2026, 2, 2, 12, 0, 0)
    done_task, retake_task = await _make_task(sessionmaker), await _make_task(sessionmaker)
    assert await _step(sessionmaker, done_task, st["done"], None, when) == (True, None, None, when, 0)
    assert await _step(sessionmaker, retake_task, st["retake"], None, when) == (True, None, None, None, 1)


async def test_status_change_emits_event_with_snapshot(client, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    task_id = await _make_task(sessionmaker)
    actor = uuid.uuid4()
    async with transaction(sessionmaker) as session:
        st = await _statuses(session)
        task = await get_task(session, task_id=task_id)
        await change_status(session, task=task, task_status_id=st["wip"], actor_id=actor)
        await change_status(session, task=task, task_status_id=st["wip"], actor_id=actor)  # no change: no event
    async with transaction(sessionmaker) as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))).all()
    events = [Event.from_json(r.payload) for r in rows]
    mine = [e for e in events if e.data.get("task_id") == str(task_id)]
    assert [e.name for e in mine] == ["task:status-changed"]
    event = mine[0]
    assert event.actor_id == actor
    assert event.data["new_task_status_id"] == str(st["wip"])
    assert event.data["previous_task_status_id"] == str(st["todo"])
    snap = event.data["snapshot"]
    assert snap["type"] == "Task" and snap["task_status_id"] == str(st["wip"]) and snap["assignees"] == []
    assert snap["real_start_date"] is not None and str(event.project_id) == snap["project_id"]
