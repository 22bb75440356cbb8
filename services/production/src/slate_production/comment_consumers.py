"""Events the comment flow consumes: media's preview and attachment files (replicas, so
comment listings carry them) and task assignments (assignation notifications)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.events import Event, EventHandler
from slate_common.events.consumer import PoisonEvent
from slate_common.replica import replica_handlers

from .domain.notifications import notify_assignation
from .models import AttachmentFileReplica, Notification, PreviewFileReplica, Task

_preview = replica_handlers(PreviewFileReplica, "preview-file")


async def _upsert_preview(session: AsyncSession, event: Event) -> None:
    """The queried columns (generic replica upsert), then the whole snapshot beside them."""
    await _preview["preview-file:update"](session, event)
    snapshot = event.data["snapshot"]
    await session.execute(update(PreviewFileReplica).where(PreviewFileReplica.id == uuid.UUID(str(snapshot["id"])))
                          .values(snapshot=snapshot))
_attachment = replica_handlers(AttachmentFileReplica, "attachment-file")


def _ids(values: Any) -> list[uuid.UUID]:
    out = []
    for value in values if isinstance(values, list) else [values]:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError as exc:
            raise PoisonEvent(f"bad person id {value!r}") from exc
    return out


async def on_task_assign(session: AsyncSession, event: Event) -> None:
    """Tell each newly assigned person. The event names them (``person_id`` or
    ``person_ids``); without that, every assignee of the snapshot not told yet."""
    try:
        task_id = uuid.UUID(str(event.data["task_id"]))
    except (KeyError, ValueError) as exc:
        raise PoisonEvent("task:assign without a task_id") from exc
    task = await session.get(Task, task_id)
    if task is None:
        return
    if event.data.get("person_id") or event.data.get("person_ids"):
        persons = _ids(event.data.get("person_ids") or event.data.get("person_id"))
        fresh = persons
    else:
        snapshot = event.data.get("snapshot") or {}
        persons = _ids(snapshot.get("assignees") or [])
        fresh = []
        for person_id in persons:
            told = await session.scalar(select(exists().where(
                Notification.person_id == person_id, Notification.task_id == task.id,
                Notification.notification_type == "assignation")))
            if not told:
                fresh.append(person_id)
    for person_id in fresh:
        await notify_assignation(session, task=task, person_id=person_id, author_id=event.actor_id)


COMMENT_HANDLERS: dict[str, EventHandler] = {
    "preview-file:new": _upsert_preview,
    "preview-file:update": _upsert_preview,
    "preview-file:add-file": _upsert_preview,
    "preview-file:delete": _preview["preview-file:delete"],
    **_attachment,
    "task:assign": on_task_assign,
}
