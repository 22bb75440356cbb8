"""Small helpers shared by the route modules."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest
from slate_common.serialization import loads

from ..models import Task, TaskType


def flag(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.lower() in ("true", "1", "yes")


async def json_body(request: Request) -> Any:
    """The JSON body (``{}`` when empty); a 400 in Zou's shape when it is not JSON."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return loads(raw)
    except ValueError as exc:
        raise BadRequest("The browser (or proxy) sent a request that this server could not understand.") from exc


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("A JSON object is expected.")
    return body


async def task_types_of(session: AsyncSession, *conditions: Any) -> list[dict[str, Any]]:
    """The task types of the tasks matching ``conditions``, ordered by priority and name."""
    used = select(Task.task_type_id).where(*conditions)
    rows = await session.scalars(
        select(TaskType).where(TaskType.id.in_(used)).order_by(TaskType.priority, TaskType.name)
    )
    return [t.serialize() for t in rows]
