"""Small helpers shared by the route modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Task, TaskType
from .params import json_body, json_object

__all__ = ["flag", "json_body", "json_object", "task_types_of"]


def flag(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.lower() in ("true", "1", "yes")


async def task_types_of(session: AsyncSession, *conditions: Any) -> list[dict[str, Any]]:
    """The task types of the tasks matching ``conditions``, ordered by name (as Zou)."""
    used = select(Task.task_type_id).where(*conditions)
    rows = await session.scalars(select(TaskType).where(TaskType.id.in_(used)).order_by(TaskType.name, TaskType.id))
    return [t.serialize() for t in rows]
