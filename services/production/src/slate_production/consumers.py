"""Events production consumes: auth's persons and departments (replicas), media's main
previews and avatars."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.events import Event, EventHandler
from slate_common.events.consumer import PoisonEvent
from slate_common.replica import replica_handlers

from .domain import people, projects
from .domain.defaults import link_pending_task_types
from .domain.entities import emit_entity_event
from .models import Department, Entity, Project, Studio


def _uuid(event: Event, key: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(event.data[key]))
    except (KeyError, ValueError) as exc:
        raise PoisonEvent(f"{event.name} without a valid {key}") from exc


async def on_person_upsert(session: AsyncSession, event: Event) -> None:
    snapshot = event.data.get("snapshot")
    if not isinstance(snapshot, dict) or "id" not in snapshot:
        raise PoisonEvent(f"{event.name} without a snapshot")
    await people.upsert_person(session, snapshot)


async def on_person_delete(session: AsyncSession, event: Event) -> None:
    await people.delete_person(session, _uuid(event, "person_id"))


async def on_set_main_preview(session: AsyncSession, event: Event) -> None:
    """media made a preview an entity's main one: keep it and tell the others."""
    entity = await session.get(Entity, _uuid(event, "entity_id"))
    if entity is None:
        return
    preview_file_id = _uuid(event, "preview_file_id")
    if entity.preview_file_id != preview_file_id:
        entity.preview_file_id = preview_file_id
        await session.flush()
        await emit_entity_event(session, "update", entity, actor_id=event.actor_id)


async def on_avatar_update(session: AsyncSession, event: Event) -> None:
    if event.data.get("kind") != "project":
        return
    project = await session.get(Project, _uuid(event, "id"))
    if project is None:
        return
    has_avatar = bool(event.data.get("has_avatar"))
    if project.has_avatar != has_avatar:
        project.has_avatar = has_avatar
        await session.flush()
        await projects.emit_project_event(session, "update", project, actor_id=event.actor_id)


_DEPARTMENT_REPLICA = replica_handlers(Department, "department")


async def on_department_upsert(session: AsyncSession, event: Event) -> None:
    """Keep the replica, then link the seeded task types waiting for this department."""
    await _DEPARTMENT_REPLICA[event.name](session, event)
    snapshot = event.data["snapshot"]
    await link_pending_task_types(session, department_id=uuid.UUID(str(snapshot["id"])), name=snapshot.get("name"))


HANDLERS: dict[str, EventHandler] = {
    "person:new": on_person_upsert,
    "person:update": on_person_upsert,
    "person:delete": on_person_delete,
    **_DEPARTMENT_REPLICA,
    "department:new": on_department_upsert,
    "department:update": on_department_upsert,
    **replica_handlers(Studio, "studio"),
    "preview-file:set-main": on_set_main_preview,
    "avatar:update": on_avatar_update,
}
