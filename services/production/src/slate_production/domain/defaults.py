"""The reference data a fresh production database starts with (what ``zou init-data``
creates): entity types, task statuses and task types, the task types linked to the
default departments by name.

The structural entity types (episodes, sequences, shots, ...) are made sure of at every
start: the code looks them up by name. The rest is given once, at the first start of an
empty database (``reference_seed`` records it; the migration that created that table
marked older installs as seeded), so defaults a studio deleted never come back.

Departments are auth's. A seeded task type keeps the name of its department in
``pending_task_type_department`` until production's replica knows a department of that
name: linked at once when it already does, else by the ``department:new`` consumer
(the department replica's ``after_upsert``, ``link_task_types_to_department``), with a
``task-type:update`` each.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.events import emit
from slate_common.serialization import now

from ..models import (
    TEMPORAL_TYPES,
    Department,
    EntityType,
    PendingTaskTypeDepartment,
    ReferenceSeed,
    TaskStatus,
    TaskType,
)

SEED_NAME = "reference-data"

ASSET_TYPES = ("Character", "Prop", "Environment", "FX")

#: name, short name, color, flags
TASK_STATUSES: tuple[tuple[str, str, str, dict[str, bool]], ...] = (
    ("Todo", "todo", "#f5f5f5", {"is_default": True}),
    ("Work In Progress", "wip", "#3273dc", {"is_wip": True}),
    ("Waiting For Approval", "wfa", "#ab26ff", {"is_feedback_request": True}),
    ("Retake", "retake", "#ff3860", {"is_retake": True}),
    ("Done", "done", "#22d160", {"is_done": True}),
    ("Ready To Start", "ready", "#fbc02d", {}),
    ("Neutral", "neutral", "#CCCCCC", {"is_default": True, "for_concept": True}),
    ("Approved", "approved", "#66BB6A", {"for_concept": True}),
    ("Rejected", "rejected", "#E81123", {"for_concept": True}),
)

#: name, for_entity, color, priority, default department (as linked on a fresh Zou)
TASK_TYPES = (
    ("Concept", "Concept", "#8D6E63", 1, None),
    ("Concept", "Asset", "#8D6E63", 1, "Concept"),
    ("Modeling", "Asset", "#78909C", 2, "Modeling"),
    ("Shading", "Asset", "#64B5F6", 3, "Modeling"),
    ("Rigging", "Asset", "#9CCC65", 4, "Animation"),
    ("Storyboard", "Shot", "#43A047", 1, "Concept"),
    ("Layout", "Shot", "#7CB342", 2, "Layout"),
    ("Animation", "Shot", "#009688", 3, "Animation"),
    ("Lighting", "Shot", "#F9A825", 4, "Compositing"),
    ("FX", "Shot", "#26C6DA", 5, "FX"),
    ("Rendering", "Shot", "#F06292", 6, "Compositing"),
    ("Compositing", "Shot", "#ff5252", 7, "Compositing"),
    ("Edit", "Edit", "#9b298c", 8, "Compositing"),
)


async def _ensure_entity_types(session: AsyncSession, names: tuple[str, ...]) -> None:
    stamp = now()
    for name in names:
        await session.execute(
            insert(EntityType).values(id=uuid.uuid4(), name=name, archived=False, created_at=stamp, updated_at=stamp)
            .on_conflict_do_nothing(index_elements=["name"])
        )


async def ensure_defaults(session: AsyncSession) -> None:
    """The structural entity types always; the rest once, into an empty database."""
    await session.execute(text("SELECT pg_advisory_xact_lock(7301)"))  # replicas starting together
    await _ensure_entity_types(session, TEMPORAL_TYPES)
    if await session.get(ReferenceSeed, SEED_NAME) is not None:
        return
    stamp = now()
    await _ensure_entity_types(session, ASSET_TYPES)
    for name, short, color, flags in TASK_STATUSES:
        values = {
            "is_default": False, "is_wip": False, "is_feedback_request": False, "is_retake": False,
            "is_done": False, "for_concept": False, **flags,
        }
        await session.execute(
            insert(TaskStatus).values(
                id=uuid.uuid4(), name=name, short_name=short, color=color, priority=1, archived=False,
                is_artist_allowed=True, is_client_allowed=True, created_at=stamp, updated_at=stamp, **values,
            ).on_conflict_do_nothing(index_elements=["short_name"])
        )
    if not await session.scalar(select(TaskType.id).limit(1)):
        for index, (name, for_entity, color, priority, department) in enumerate(TASK_TYPES):
            # a microsecond apart (shown to the second): listings ordered by creation keep
            # Zou's order once linking to departments has rewritten the rows
            created = stamp + dt.timedelta(microseconds=index)
            task_type = TaskType(name=name, short_name="", for_entity=for_entity, color=color, priority=priority,
                                 allow_timelog=True, archived=False, created_at=created, updated_at=created)
            session.add(task_type)
            await session.flush()
            if department:
                session.add(PendingTaskTypeDepartment(task_type_id=task_type.id, department_name=department))
        await session.flush()
        for replicated in (await session.scalars(select(Department))).all():  # replicated before this start
            await link_pending_task_types(session, department_id=replicated.id, name=replicated.name)
    session.add(ReferenceSeed(name=SEED_NAME, applied_at=stamp))
    await session.flush()


async def link_pending_task_types(session: AsyncSession, *, department_id: uuid.UUID, name: str | None) -> list[TaskType]:
    """Give the seeded task types waiting for a department of this name their
    ``department_id`` (those still without one), with ``task-type:update`` each."""
    if not name:
        return []
    pending = list((await session.scalars(
        select(PendingTaskTypeDepartment).where(PendingTaskTypeDepartment.department_name == name)
    )).all())
    if not pending:
        return []
    ids = [p.task_type_id for p in pending]
    await session.execute(delete(PendingTaskTypeDepartment).where(PendingTaskTypeDepartment.task_type_id.in_(ids)))
    linked = []
    for task_type in (await session.scalars(
        select(TaskType).where(TaskType.id.in_(ids), TaskType.department_id.is_(None)).order_by(TaskType.priority)
    )).all():
        task_type.department_id = department_id
        task_type.updated_at = now()
        linked.append(task_type)
    await session.flush()
    for task_type in linked:
        snapshot: dict[str, Any] = task_type.serialize()
        emit(session, name="task-type:update", data={"task_type_id": str(task_type.id), "snapshot": snapshot})
    return linked


async def link_task_types_to_department(session: AsyncSession, *, snapshot: dict[str, Any]) -> None:
    """The department replica's step after a department row was written."""
    await link_pending_task_types(session, department_id=uuid.UUID(str(snapshot["id"])), name=snapshot.get("name"))
