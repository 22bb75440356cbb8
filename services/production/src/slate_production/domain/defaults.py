"""The reference data a fresh production database starts with (what ``zou init-data``
creates): entity types, task statuses and task types."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.serialization import now

from ..models import EntityType, TaskStatus, TaskType

ENTITY_TYPES = ("Episode", "Sequence", "Shot", "Scene", "Edit", "Concept", "ConceptFolder",
                "Character", "Prop", "Environment", "FX")

#: name, short name, color, flags
TASK_STATUSES = (
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

#: name, for_entity, color, priority
TASK_TYPES = (
    ("Concept", "Concept", "#8D6E63", 1),
    ("Concept", "Asset", "#8D6E63", 1),
    ("Modeling", "Asset", "#78909C", 2),
    ("Shading", "Asset", "#64B5F6", 3),
    ("Rigging", "Asset", "#9CCC65", 4),
    ("Storyboard", "Shot", "#43A047", 1),
    ("Layout", "Shot", "#7CB342", 2),
    ("Animation", "Shot", "#009688", 3),
    ("Lighting", "Shot", "#F9A825", 4),
    ("FX", "Shot", "#26C6DA", 5),
    ("Rendering", "Shot", "#F06292", 6),
    ("Compositing", "Shot", "#ff5252", 7),
    ("Edit", "Edit", "#9b298c", 8),
)


async def ensure_defaults(session: AsyncSession) -> None:
    """Create the reference data once (idempotent; task types only into an empty table)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(7301)"))  # replicas starting together
    stamp = now()
    for name in ENTITY_TYPES:
        await session.execute(
            insert(EntityType).values(id=uuid.uuid4(), name=name, archived=False, created_at=stamp, updated_at=stamp)
            .on_conflict_do_nothing(index_elements=["name"])
        )
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
    if not await session.scalar(select(func.count()).select_from(TaskType)):
        for name, for_entity, color, priority in TASK_TYPES:
            session.add(TaskType(name=name, short_name="", for_entity=for_entity, color=color, priority=priority,
                                 allow_timelog=True, archived=False, created_at=stamp, updated_at=stamp))
        await session.flush()
