"""Preview files: creation on a comment, revisions and positions, annotations, main
previews, listings, and the events others learn about them from."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.events import emit
from slate_common.tokens import Principal

from ..consumers import COMMENTS, ENTITY_BY_KIND
from ..models import EntityReplica, PreviewFile, ProjectReplica, TaskReplica, preview_file_comment
from . import access

#: Fields of the short form used by the per-entity listings (as Zou lists them).
SHORT_FIELDS = (
    "id", "name", "original_name", "extension", "revision", "position", "file_size", "status",
    "validation_status", "task_id", "person_id", "created_at", "token_in", "token_out",
)


def serialize(preview: PreviewFile) -> dict[str, Any]:
    out = preview.serialize()
    if preview.status == "broken" and preview.status_reason:
        out["status_reason"] = preview.status_reason
    return out


async def comment_ids(session: AsyncSession, *, preview_id: uuid.UUID) -> list[str]:
    rows = await session.scalars(
        select(preview_file_comment.c.comment_id).where(preview_file_comment.c.preview_file_id == preview_id)
    )
    return [str(r) for r in rows]


async def serialize_with_comments(session: AsyncSession, *, preview: PreviewFile) -> dict[str, Any]:
    out = serialize(preview)
    out["comments"] = await comment_ids(session, preview_id=preview.id)
    out.pop("type", None)
    out["type"] = "PreviewFile"  # keep "type" last, as Zou does
    return out


async def project_id_of(session: AsyncSession, *, preview: PreviewFile) -> uuid.UUID | None:
    if preview.task_id is None:
        return None
    return await session.scalar(select(TaskReplica.project_id).where(TaskReplica.id == preview.task_id))


async def snapshot(session: AsyncSession, *, preview: PreviewFile) -> dict[str, Any]:
    """The preview as other services see it in events: Zou's fields plus comment_id,
    project_id and entity_id (from the task replica)."""
    out = serialize(preview)
    comments = await comment_ids(session, preview_id=preview.id)
    out["comment_id"] = comments[0] if comments else None
    task = await session.get(TaskReplica, preview.task_id) if preview.task_id else None
    out["project_id"] = str(task.project_id) if task and task.project_id else None
    out["entity_id"] = str(task.entity_id) if task and task.entity_id else None
    return out


async def emit_preview(session: AsyncSession, *, name: str, preview: PreviewFile, actor_id: Any = None) -> None:
    await emit_previews(session, names=(name,), preview=preview, actor_id=actor_id)


async def emit_previews(session: AsyncSession, *, names: tuple[str, ...], preview: PreviewFile,
                        actor_id: Any = None) -> None:
    """``preview-file:<name>`` for each name, all carrying one snapshot (built once)."""
    await session.flush()
    snap = await snapshot(session, preview=preview)
    for name in names:
        emit(
            session,
            name=f"preview-file:{name}",
            data={"preview_file_id": str(preview.id), "snapshot": snap},
            project_id=snap["project_id"],
            actor_id=actor_id,
        )


async def get_preview_to_upload(session: AsyncSession, *, principal: Principal, preview_id: uuid.UUID) -> PreviewFile:
    """The preview awaiting its file: 404 if none, 400 once it has one (whoever asks, as
    Zou, which stores and processes the file inside the upload request), then 403 if the
    caller does not see its task."""
    preview = await session.get(PreviewFile, preview_id)
    if preview is None:
        raise NotFound()
    if preview.status != "processing" or preview.file_size:
        raise BadRequest("This preview already has its file.")
    await access.check_preview_seen(session, principal=principal, preview=preview)
    return preview


async def get_preview(session: AsyncSession, *, principal: Principal, preview_id: uuid.UUID,
                      for_update: bool = False) -> PreviewFile:
    """The preview: 404 if it does not exist, 403 if the caller does not see its task."""
    stmt = select(PreviewFile).where(PreviewFile.id == preview_id)
    if for_update:
        stmt = stmt.with_for_update(of=PreviewFile)
    preview = (await session.scalars(stmt)).first()
    if preview is None:
        raise NotFound()
    await access.check_preview_seen(session, principal=principal, preview=preview)
    return preview


async def task_of(session: AsyncSession, *, preview: PreviewFile) -> TaskReplica:
    task = await session.get(TaskReplica, preview.task_id) if preview.task_id else None
    if task is None:
        raise NotFound()
    return task


async def _next_position(session: AsyncSession, task_id: uuid.UUID, revision: int) -> int:
    current = await session.scalar(
        select(func.max(PreviewFile.position)).where(PreviewFile.task_id == task_id, PreviewFile.revision == revision)
    )
    return int(current or 0) + 1


async def add_preview(
    session: AsyncSession, *, principal: Principal, task_id: uuid.UUID, comment_id: uuid.UUID, revision: int | None
) -> PreviewFile:
    """A preview awaiting its file, on a comment of a task: the comment's revision if it
    already shows previews (next position), else the task's last revision + 1."""
    task = await access.task_visible(session, principal=principal, task_id=task_id)
    access.check_task_action(principal, task=task, clients=True)
    comment = await COMMENTS.get(session, row_id=comment_id)  # a comment just posted: asks production if unknown
    if comment is None:
        raise NotFound()
    if comment.object_id != task_id:
        raise BadRequest("This comment is not a comment of this task.")
    if revision is None:
        revision = await session.scalar(
            select(func.max(PreviewFile.revision))
            .join(preview_file_comment, preview_file_comment.c.preview_file_id == PreviewFile.id)
            .where(preview_file_comment.c.comment_id == comment_id)
        )
    if revision is None:
        last = await session.scalar(select(func.max(PreviewFile.revision)).where(PreviewFile.task_id == task_id))
        revision = int(last or 0) + 1
    if revision < 1:
        raise BadRequest("The revision must be a positive number.")
    new_id = uuid.uuid4()
    preview = PreviewFile(
        id=new_id,
        name=str(new_id)[:13],
        revision=revision,
        position=await _next_position(session, task_id, revision),
        extension="mp4",
        source="webgui",
        status="processing",
        task_id=task_id,
        person_id=principal.id,
    )
    session.add(preview)
    await session.flush()
    await session.execute(insert(preview_file_comment).values(preview_file_id=new_id, comment_id=comment_id))
    await emit_preview(session, name="new", preview=preview, actor_id=principal.id)
    return preview


async def add_extra_preview(
    session: AsyncSession, *, principal: Principal, task_id: uuid.UUID, comment_id: uuid.UUID, preview_id: uuid.UUID
) -> PreviewFile:
    """One more preview, awaiting its file, in the revision of a preview of the task (next
    position), on a comment of the task."""
    await access.task_visible(session, principal=principal, task_id=task_id)
    given = await session.get(PreviewFile, preview_id)
    if given is None or given.task_id != task_id:
        raise NotFound()
    return await add_preview(session, principal=principal, task_id=task_id, comment_id=comment_id,
                             revision=given.revision)


async def check_upload_allowed(session: AsyncSession, *, principal: Principal, preview: PreviewFile) -> None:
    if preview.person_id == principal.id:
        return
    access.check_task_action(principal, task=await task_of(session, preview=preview), clients=True)


async def update_position(session: AsyncSession, *, principal: Principal, preview_id: uuid.UUID,
                          position: int) -> list[PreviewFile]:
    """Move a preview within its revision; the others close up around it."""
    preview = await get_preview(session, principal=principal, preview_id=preview_id, for_update=True)
    access.check_task_action(principal, task=await task_of(session, preview=preview), clients=True)
    siblings = list(
        (
            await session.scalars(
                select(PreviewFile)
                .where(PreviewFile.task_id == preview.task_id, PreviewFile.revision == preview.revision)
                .order_by(PreviewFile.position, PreviewFile.created_at)
                .with_for_update()
            )
        ).all()
    )
    others = [p for p in siblings if p.id != preview.id]
    index = min(max(position, 1), len(siblings)) - 1
    others.insert(index, preview)
    for i, item in enumerate(others, start=1):
        if item.position != i:
            item.position = i
    await session.flush()
    for item in others:
        await emit_preview(session, name="update", preview=item, actor_id=principal.id)
    return others


def _merge_annotations(current: list[dict[str, Any]], additions: list[Any], updates: list[Any],
                       deletions: list[Any]) -> list[dict[str, Any]]:
    frames: dict[Any, dict[str, Any]] = {}
    for frame in current or []:
        if isinstance(frame, dict):
            frames[frame.get("time")] = {**frame, "drawing": {"objects": list((frame.get("drawing") or {}).get("objects") or [])}}

    def objects_of(frame: Any) -> list[dict[str, Any]]:
        return [o for o in ((frame.get("drawing") or {}).get("objects") or []) if isinstance(o, dict)]

    for frame in additions or []:
        if not isinstance(frame, dict):
            raise BadRequest("Annotations must be objects with a time and a drawing.")
        target = frames.setdefault(frame.get("time"), {**frame, "drawing": {"objects": []}})
        known = {o.get("id") for o in target["drawing"]["objects"]}
        target["drawing"]["objects"].extend(o for o in objects_of(frame) if o.get("id") not in known or o.get("id") is None)
    for frame in updates or []:
        if not isinstance(frame, dict) or frame.get("time") not in frames:
            continue
        target = frames[frame.get("time")]
        changed = {o.get("id"): o for o in objects_of(frame)}
        target["drawing"]["objects"] = [changed.get(o.get("id"), o) for o in target["drawing"]["objects"]]
    for frame in deletions or []:
        if not isinstance(frame, dict) or frame.get("time") not in frames:
            continue
        gone = set(frame.get("objects") or [])
        target = frames[frame.get("time")]
        target["drawing"]["objects"] = [o for o in target["drawing"]["objects"] if o.get("id") not in gone]
    return [f for f in frames.values() if f["drawing"]["objects"]]


async def update_annotations(
    session: AsyncSession, *, principal: Principal, preview_id: uuid.UUID, body: dict[str, Any]
) -> PreviewFile:
    """Drawings on a preview: additions, updates and deletions of objects per frame."""
    preview = await get_preview(session, principal=principal, preview_id=preview_id, for_update=True)
    if principal.role in ("user", "vendor") and preview.person_id != principal.id:
        raise Forbidden()  # artists and vendors draw on their own previews only
    lists = [body.get(k) or [] for k in ("additions", "updates", "deletions")]
    if not all(isinstance(v, list) for v in lists):
        raise BadRequest("additions, updates and deletions must be lists.")
    preview.annotations = _merge_annotations(preview.annotations or [], *lists)
    await emit_preview(session, name="update", preview=preview, actor_id=principal.id)
    return preview


async def set_main_preview(session: AsyncSession, *, principal: Principal, preview: PreviewFile) -> dict[str, Any]:
    """Make the preview its entity's picture (production applies it from the event)."""
    task = await task_of(session, preview=preview)
    access.check_main_preview(principal, task=task)
    if task.entity_id is None:
        raise BadRequest("The task of this preview has no entity.")
    emit(
        session,
        name="preview-file:set-main",
        data={"preview_file_id": str(preview.id), "entity_id": str(task.entity_id), "task_id": str(task.id)},
        project_id=task.project_id,
        actor_id=principal.id,
    )
    entity = await session.get(EntityReplica, task.entity_id, with_for_update=True)
    if entity is None:
        return {"id": str(task.entity_id), "project_id": str(task.project_id) if task.project_id else None,
                "preview_file_id": str(preview.id), "preview_file_status": preview.status, "type": "Entity"}
    entity.snapshot = {**entity.snapshot, "preview_file_id": str(preview.id)}
    return {**entity.snapshot, "preview_file_status": preview.status}  # Zou's answer names its status


async def last_preview_of_task(session: AsyncSession, *, task_id: uuid.UUID) -> PreviewFile | None:
    return (
        await session.scalars(
            select(PreviewFile)
            .where(PreviewFile.task_id == task_id, PreviewFile.status != "broken")
            .order_by(PreviewFile.revision.desc(), PreviewFile.position.asc())
            .limit(1)
        )
    ).first()


async def set_main_from_task(
    session: AsyncSession, *, principal: Principal, task_id: uuid.UUID
) -> dict[str, Any] | None:
    task = await access.task_visible(session, principal=principal, task_id=task_id)
    access.check_main_preview(principal, task=task)  # before "no preview" (400), as Zou 1.0.97
    preview = await last_preview_of_task(session, task_id=task_id)
    if preview is None:
        return None
    return await set_main_preview(session, principal=principal, preview=preview)  # checks the action


async def remove_from_comment(
    session: AsyncSession, *, principal: Principal, task_id: uuid.UUID, comment_id: uuid.UUID, preview_id: uuid.UUID
) -> None:
    """Delete a preview shown by a comment of the task (stored files are left to the purge)."""
    task = await access.task_visible(session, principal=principal, task_id=task_id)
    preview = await get_preview(session, principal=principal, preview_id=preview_id, for_update=True)
    linked = await session.scalar(
        select(preview_file_comment.c.comment_id).where(
            preview_file_comment.c.preview_file_id == preview_id, preview_file_comment.c.comment_id == comment_id
        )
    )
    if preview.task_id != task_id or linked is None:
        raise NotFound()
    access.check_task_action(principal, task=task)
    await emit_preview(session, name="delete", preview=preview, actor_id=principal.id)
    await session.execute(delete(PreviewFile).where(PreviewFile.id == preview_id))


async def link_to_comment(session: AsyncSession, *, preview: PreviewFile, comment_id: uuid.UUID) -> None:
    exists = await session.scalar(
        select(preview_file_comment.c.comment_id).where(
            preview_file_comment.c.preview_file_id == preview.id, preview_file_comment.c.comment_id == comment_id
        )
    )
    if exists is None:
        await session.execute(insert(preview_file_comment).values(preview_file_id=preview.id, comment_id=comment_id))


def short(preview: PreviewFile) -> dict[str, Any]:
    full = preview.serialize()
    return {k: full[k] for k in SHORT_FIELDS}


async def entity_seen(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID,
                      kinds: tuple[str, ...] | None = None) -> EntityReplica:
    """The entity (of one of ``kinds``): 404 if there is none, 403 outside the caller's reach."""
    entity = await ENTITY_BY_KIND[kinds[0] if kinds else "entity"].get(session, row_id=entity_id)
    if entity is None:
        raise NotFound()
    if kinds is not None and entity.kind not in kinds and str(entity.snapshot.get("type") or "").lower() not in kinds:
        raise NotFound()
    await access.check_entity_seen(session, principal=principal, entity_id=entity.id, project_id=entity.project_id)
    return entity


async def previews_of_entity(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID,
                             kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    await entity_seen(session, principal=principal, entity_id=entity_id, kinds=kinds)
    stmt = (
        access.scope_previews(select(PreviewFile), principal=principal)
        .where(PreviewFile.task_id.in_(select(TaskReplica.id).where(TaskReplica.entity_id == entity_id)))
        .order_by(PreviewFile.revision.desc(), PreviewFile.position.asc(), PreviewFile.created_at.desc())
    )
    return [short(p) for p in (await session.scalars(stmt)).all()]


async def previews_of_shot_by_task_type(
    session: AsyncSession, *, principal: Principal, shot_id: uuid.UUID
) -> dict[str, list[dict[str, Any]]]:
    """A shot's previews as Zou answers them: per task type id, one row per revision
    (newest first) for its first file, the revision's other files in ``previews``."""
    await entity_seen(session, principal=principal, entity_id=shot_id, kinds=("shot",))
    task = aliased(TaskReplica)
    task_types = select(task.task_type_id).where(task.id == PreviewFile.task_id).correlate_except(task).scalar_subquery()
    rows = (await session.execute(
        access.scope_previews(select(PreviewFile, task_types), principal=principal)
        .where(PreviewFile.task_id.in_(select(TaskReplica.id).where(TaskReplica.entity_id == shot_id)))
        .order_by(PreviewFile.revision.desc(), PreviewFile.position.asc(), PreviewFile.created_at.asc())
    )).all()
    out: dict[str, list[dict[str, Any]]] = {}
    firsts: dict[tuple[str, uuid.UUID | None, int], dict[str, Any]] = {}
    for preview, task_type_id in rows:
        key = str(task_type_id)
        full = preview.serialize()
        row = {k: full[k] for k in ("id", "revision", "original_name", "extension", "width", "height", "duration",
                                    "status", "annotations")}
        original = preview.data if isinstance(preview.data, dict) else {}  # a movie's, once transcoded
        row.update(previews=[], created_at=full["created_at"], task_id=full["task_id"],
                   **{k: original.get(k) for k in ("original_width", "original_height", "original_duration",
                                                   "original_file_size")})
        first = firsts.get((key, preview.task_id, preview.revision))
        if first is None:
            firsts[(key, preview.task_id, preview.revision)] = row
            out.setdefault(key, []).append(row)
        else:
            first["previews"].append({k: v for k, v in row.items() if k != "previews"})
    return out


async def previews_of_project(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Every preview of a project: admins only (as Zou)."""
    access.check_admin(principal)
    await access.project_visible(session, principal=principal, project_id=project_id)
    stmt = (
        access.scope_previews(select(PreviewFile), principal=principal)
        .where(PreviewFile.task_id.in_(select(TaskReplica.id).where(TaskReplica.project_id == project_id)))
        .order_by(PreviewFile.created_at.desc())
    )
    return [serialize(p) for p in (await session.scalars(stmt)).all()]


async def download_name(session: AsyncSession, *, preview: PreviewFile, extension: str) -> str:
    """``<project>_<entity>_v<revision>.<ext>`` from the replicas, as far as they know."""
    parts: list[str] = []
    task = await session.get(TaskReplica, preview.task_id) if preview.task_id else None
    if task is not None:
        project = await session.get(ProjectReplica, task.project_id) if task.project_id else None
        entity = await session.get(EntityReplica, task.entity_id) if task.entity_id else None
        if project is not None and project.name:
            parts.append(project.name)
        if entity is not None and entity.snapshot.get("name"):
            parts.append(str(entity.snapshot["name"]))
    parts.append(f"v{preview.revision}")
    name = "_".join(re.sub(r"[^A-Za-z0-9.-]+", "_", p).strip("_").lower() for p in parts)
    return f"{name}.{extension}"
