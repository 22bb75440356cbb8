"""Replicas of production's projects (with their team), tasks, comments and entities.

Events carry ``{"<kind>_id", "snapshot"}`` (see the contracts); each handler upserts
the columns media queries on plus the whole snapshot, and deletes on ``:delete``.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.events import Event, EventHandler
from slate_common.events.consumer import PoisonEvent

from .models import CommentReplica, EntityReplica, ProjectReplica, TaskReplica

ENTITY_KINDS = ("entity", "asset", "shot", "sequence", "episode", "edit", "concept", "scene")


def _uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise PoisonEvent(f"not an id: {value!r}") from exc


def _uuids(values: Any) -> list[uuid.UUID]:
    out = []
    for value in values or []:
        if isinstance(value, dict):  # a serialized person rather than an id
            value = value.get("id")
        parsed = _uuid(value)
        if parsed is not None:
            out.append(parsed)
    return out


def _snapshot(event: Event) -> dict[str, Any]:
    snapshot = event.data.get("snapshot")
    if not isinstance(snapshot, dict) or "id" not in snapshot:
        raise PoisonEvent(f"{event.name} without a snapshot")
    return snapshot


@functools.cache
def _upsert_statement(table: Any, keys: tuple[str, ...]) -> Any:
    """One statement per table and column set, built once: SQLAlchemy then finds its
    compiled form without building and hashing a new statement per event (that was
    most of a replica event's CPU)."""
    stmt = insert(table)
    return stmt.on_conflict_do_update(index_elements=["id"], set_={k: stmt.excluded[k] for k in keys if k != "id"})


async def _upsert(session: AsyncSession, model: Any, values: dict[str, Any]) -> None:
    connection = await session.connection()  # Core: no ORM bulk-insert machinery for one row
    await connection.execute(_upsert_statement(model.__table__, tuple(values)), values)


def _handlers(kind: str, model: Any, columns: Any) -> dict[str, EventHandler]:
    async def upsert(session: AsyncSession, event: Event) -> None:
        snap = _snapshot(event)
        await _upsert(session, model, {"id": _uuid(snap["id"]), "snapshot": snap, **columns(snap)})

    async def remove(session: AsyncSession, event: Event) -> None:
        raw = event.data.get(f"{kind.replace('-', '_')}_id") or (event.data.get("snapshot") or {}).get("id")
        target = _uuid(raw)
        if target is not None:
            await session.execute(delete(model).where(model.id == target))

    return {f"{kind}:new": upsert, f"{kind}:update": upsert, f"{kind}:delete": remove}


def _project_columns(snap: dict[str, Any]) -> dict[str, Any]:
    return {"name": snap.get("name"), "team": _uuids(snap.get("team"))}


def _task_columns(snap: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": _uuid(snap.get("project_id")),
        "entity_id": _uuid(snap.get("entity_id")),
        "task_type_id": _uuid(snap.get("task_type_id")),
        "assignees": _uuids(snap.get("assignees")),
    }


def _comment_columns(snap: dict[str, Any]) -> dict[str, Any]:
    return {"object_id": _uuid(snap.get("object_id")), "person_id": _uuid(snap.get("person_id"))}


def _entity_handlers(kind: str) -> dict[str, EventHandler]:
    def columns(snap: dict[str, Any]) -> dict[str, Any]:
        return {"kind": kind, "project_id": _uuid(snap.get("project_id"))}

    return _handlers(kind, EntityReplica, columns)


def consumers() -> dict[str, EventHandler]:
    handlers: dict[str, EventHandler] = {}
    handlers.update(_handlers("project", ProjectReplica, _project_columns))
    handlers.update(_handlers("task", TaskReplica, _task_columns))
    upsert_task = handlers["task:update"]
    for verb in ("assign", "unassign", "status-changed"):
        handlers[f"task:{verb}"] = upsert_task
    handlers.update(_handlers("comment", CommentReplica, _comment_columns))
    for kind in ENTITY_KINDS:
        handlers.update(_entity_handlers(kind))
    return handlers
