"""A task's preview files, from the replica of media's previews (``preview-file:*``
events): the snapshot media sent, in Zou's shape."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.serialization import now, serialize_value

from ..models import PreviewFileReplica

#: Zou's key order for preview files.
PREVIEW_FIELDS = (
    "name", "original_name", "revision", "position", "extension", "description", "path", "source", "file_size",
    "status", "validation_status", "annotations", "width", "height", "duration", "data", "token_in", "token_out",
    "task_id", "person_id", "source_file_id", "shotgun_id", "is_movie", "url", "uploaded_movie_url",
    "uploaded_movie_name", "id", "created_at", "updated_at",
)
#: What media's snapshots add for other services (not in Zou's preview rows).
EVENT_ONLY = frozenset({"comment_id", "project_id", "entity_id", "comments"})


def serialize_preview(row: PreviewFileReplica) -> dict[str, Any]:
    if row.snapshot:  # JSONB keeps no key order: Zou's first, then what media adds
        snap = row.snapshot
        out = {k: snap[k] for k in PREVIEW_FIELDS if k in snap}
        out.update({k: v for k, v in sorted(snap.items()) if k not in out and k not in EVENT_ONLY and k != "type"})
    else:  # replicated before snapshots were kept: the columns the replica has
        out = {k: serialize_value(getattr(row, k, None)) for k in PREVIEW_FIELDS}
    out["type"] = "PreviewFile"
    return out


async def task_previews(session: AsyncSession, *, task_id: uuid.UUID) -> list[dict[str, Any]]:
    """Newest revision first, then by position within a revision."""
    rows = await session.scalars(
        select(PreviewFileReplica).where(PreviewFileReplica.task_id == task_id)
        .order_by(PreviewFileReplica.revision.desc().nulls_last(), PreviewFileReplica.position,
                  PreviewFileReplica.created_at, PreviewFileReplica.id))
    return [serialize_preview(r) for r in rows]


async def follow_task_preview(session: AsyncSession, *, snapshot: dict[str, Any]) -> None:
    """The preview replica's step after a row was written: a task's newest preview is
    its ``last_preview_file_id`` (as Zou sets it when a preview is added), with a
    ``task:update``; the news of the preview's comment names its newest preview (Zou's
    ``news.preview_file_id``)."""
    from ..models import News, Task
    from .tasks import emit_task_event

    try:
        task_id, preview_id = uuid.UUID(str(snapshot.get("task_id"))), uuid.UUID(str(snapshot["id"]))
    except (KeyError, ValueError):
        return
    try:
        comment_id = uuid.UUID(str(snapshot["comment_id"])) if snapshot.get("comment_id") else None
    except ValueError:
        comment_id = None
    if comment_id is not None:  # the last preview added to the comment (Zou sets it on each)
        newest = (select(PreviewFileReplica.id).where(PreviewFileReplica.comment_id == comment_id)
                  .order_by(PreviewFileReplica.revision.desc().nulls_last(),
                            PreviewFileReplica.position.desc().nulls_last(), PreviewFileReplica.created_at.desc())
                  .limit(1).scalar_subquery())
        await session.execute(update(News).where(News.comment_id == comment_id).values(preview_file_id=newest))
    task = await session.get(Task, task_id)
    if task is None or task.last_preview_file_id == preview_id:
        return
    if task.last_preview_file_id is not None:
        current = await session.get(PreviewFileReplica, task.last_preview_file_id)
        if current is not None and (current.revision or 0) > int(snapshot.get("revision") or 0):
            return  # an older revision changed: the task keeps its newest
    task.last_preview_file_id = preview_id
    task.updated_at = now()
    await session.flush()
    await emit_task_event(session, name="task:update", task=task, actor_id=None)
