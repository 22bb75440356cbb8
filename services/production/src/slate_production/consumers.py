"""Events production consumes besides its replicas (``replicas.py``): media's main previews
and avatars, and task assignments (assignation notifications)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.events import Event, EventHandler
from slate_common.events.consumer import PoisonEvent

from .domain import projects
from .domain.entities import emit_entity_event
from .domain.notifications import notify_assignation
from .models import Entity, Notification, Project, Task


def _uuid(event: Event, key: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(event.data[key]))
    except (KeyError, ValueError) as exc:
        raise PoisonEvent(f"{event.name} without a valid {key}") from exc


def _ids(values: Any) -> list[uuid.UUID]:
    out = []
    for value in values if isinstance(values, list) else [values]:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError as exc:
            raise PoisonEvent(f"bad person id {value!r}") from exc
    return out


async def on_set_main_preview(session: AsyncSession, event: Event) -> None:
    """media made a preview an entity's main one: keep it and tell the others."""
    entity = await session.get(Entity, _uuid(event, "entity_id"))
    if entity is None:
        return
    preview_file_id = _uuid(event, "preview_file_id")
    if entity.preview_file_id != preview_file_id:
        entity.preview_file_id = preview_file_id
        await session.flush()
        await emit_entity_event(session, verb="update", entity=entity, actor_id=event.actor_id)


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
        await projects.emit_project_event(session, verb="update", project=project, actor_id=event.actor_id)


async def on_task_assign(session: AsyncSession, event: Event) -> None:
    """Tell each newly assigned person. The event names them (``person_id`` or
    ``person_ids``); without that, every assignee of the snapshot not told yet."""
    task = await session.get(Task, _uuid(event, "task_id"))
    if task is None:
        return
    if event.data.get("person_id") or event.data.get("person_ids"):
        fresh = _ids(event.data.get("person_ids") or event.data.get("person_id"))
    else:
        snapshot = event.data.get("snapshot") or {}
        fresh = []
        for person_id in _ids(snapshot.get("assignees") or []):
            told = await session.scalar(select(exists().where(
                Notification.person_id == person_id, Notification.task_id == task.id,
                Notification.notification_type == "assignation")))
            if not told:
                fresh.append(person_id)
    for person_id in fresh:
        await notify_assignation(session, task=task, person_id=person_id, author_id=event.actor_id)


HANDLERS: dict[str, EventHandler] = {
    "preview-file:set-main": on_set_main_preview,
    "avatar:update": on_avatar_update,
    "task:assign": on_task_assign,
}
