"""Person/project/organisation thumbnails, comment attachments and preview backgrounds."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.events import emit
from slate_common.params import parse_id
from slate_common.tokens import Principal

from ..adapters import processing
from ..adapters.downloads import mime_of
from ..adapters.storage import Storage
from ..adapters.uploads import Upload
from ..consumers import COMMENTS
from ..models import AttachmentFile, CommentReplica, PreviewBackgroundFile, ProjectReplica, project_preview_background
from . import access

AVATAR_KINDS = {"persons": "person", "projects": "project", "organisations": "organisation"}


def avatar_key(kind: str, *, instance_id: uuid.UUID) -> str:
    return f"{kind}/{instance_id}.png"


async def check_avatar_change(session: AsyncSession, *, principal: Principal, kind: str,
                              instance_id: uuid.UUID) -> None:
    """A person changes their own picture, managers a project of theirs, admins anything."""
    if principal.is_admin:
        return
    if kind == "persons" and instance_id == principal.id:
        return
    if kind == "projects" and principal.role == "manager":
        project = await session.get(ProjectReplica, instance_id)
        if project is not None and principal.id in (project.team or []):
            return
    raise Forbidden()


async def set_avatar(
    session: AsyncSession, *, storage: Storage, principal: Principal, kind: str, instance_id: uuid.UUID, upload: Upload,
    scratch_dir: str | None = None, max_pixels: int = processing.MAX_PICTURE_PIXELS,
) -> dict[str, Any]:
    await check_avatar_change(session, principal=principal, kind=kind, instance_id=instance_id)
    if upload.size == 0:
        raise BadRequest("The uploaded file is empty.")
    with tempfile.TemporaryDirectory(prefix="slate-avatar-", dir=scratch_dir) as tmp:
        dest = Path(tmp) / "avatar.png"
        await asyncio.to_thread(processing.avatar, Path(upload.path), dest, max_pixels=max_pixels)
        await storage.put_path("thumbnails", avatar_key(kind, instance_id=instance_id), dest, "image/png")
    emit(session, name="avatar:update", data={"kind": AVATAR_KINDS[kind], "id": str(instance_id), "has_avatar": True},
         project_id=instance_id if kind == "projects" else None, actor_id=principal.id)
    return {"thumbnail_path": f"pictures/thumbnails/{kind}/{instance_id}.png"}


async def clear_avatar(session: AsyncSession, *, storage: Storage, principal: Principal, person_id: uuid.UUID) -> None:
    await check_avatar_change(session, principal=principal, kind="persons", instance_id=person_id)
    await storage.remove("thumbnails", avatar_key("persons", instance_id=person_id))
    emit(session, name="avatar:update", data={"kind": "person", "id": str(person_id), "has_avatar": False}, actor_id=principal.id)


# -- attachments --------------------------------------------------------------------------


def attachment_key(attachment_id: uuid.UUID) -> str:
    return f"files/{attachment_id}"


def attachment_thumbnail_key(attachment_id: uuid.UUID) -> str:
    return f"thumbnails/{attachment_id}.png"


async def visible_comment(session: AsyncSession, *, principal: Principal, comment_id: uuid.UUID) -> CommentReplica:
    comment = await COMMENTS.get(session, row_id=comment_id)  # a comment just posted: asks production if unknown
    if comment is None or comment.object_id is None:
        raise NotFound()
    await access.task_visible(session, principal=principal, task_id=comment.object_id)
    return comment


async def add_attachments(
    session: AsyncSession, *, storage: Storage, principal: Principal, task_id: uuid.UUID, comment_id: uuid.UUID,
    uploads: list[Upload],
) -> list[dict[str, Any]]:
    comment = await visible_comment(session, principal=principal, comment_id=comment_id)
    if comment.object_id != task_id:
        raise BadRequest("This comment is not a comment of this task.")
    if not principal.is_manager and comment.person_id != principal.id:
        raise Forbidden()  # managers, or the comment's author
    if not uploads:
        raise BadRequest("No file was uploaded.")
    created = []
    for upload in uploads:
        if upload.size == 0:
            raise BadRequest(f"The uploaded file {upload.filename} is empty.")
        attachment = AttachmentFile(
            id=uuid.uuid4(), name=upload.filename[:250], size=upload.size, extension=upload.extension[:10] or None,
            # the type the client gave the part, "" when none (as Zou stores it)
            mimetype=(upload.content_type or "")[:255], comment_id=comment_id,
        )
        await storage.put_file("attachments", attachment_key(attachment.id), upload.file, upload.size,
                               attachment.mimetype or mime_of(upload.extension) or "application/octet-stream")
        session.add(attachment)
        created.append(attachment)
    await session.flush()
    for attachment in created:
        emit(session, name="attachment-file:new", data={"attachment_file_id": str(attachment.id), "comment_id": str(comment_id),
                                               "snapshot": attachment.serialize()}, actor_id=principal.id)
    # Zou answers each file as the comment lists it
    return [{"id": str(a.id), "name": a.name, "extension": a.extension, "size": a.size} for a in created]


async def visible_attachment(session: AsyncSession, *, principal: Principal,
                             attachment_id: uuid.UUID) -> AttachmentFile:
    attachment = await session.get(AttachmentFile, attachment_id)
    if attachment is None:
        raise NotFound()
    if attachment.comment_id is None:
        if not principal.is_admin:
            raise NotFound()
        return attachment
    await visible_comment(session, principal=principal, comment_id=attachment.comment_id)
    return attachment


async def delete_attachment(
    session: AsyncSession, *, storage: Storage, principal: Principal, task_id: uuid.UUID, comment_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> None:
    attachment = await visible_attachment(session, principal=principal, attachment_id=attachment_id)
    comment = await visible_comment(session, principal=principal, comment_id=comment_id)
    if attachment.comment_id != comment_id or comment.object_id != task_id:
        raise Forbidden()  # as Zou: an attachment of another comment is refused, not hidden
    if principal.role not in access.SUPERVISORS and comment.person_id != principal.id:
        raise Forbidden()
    await session.delete(attachment)
    await session.flush()
    emit(session, name="attachment-file:delete", data={"attachment_file_id": str(attachment_id), "comment_id": str(comment_id)},
         actor_id=principal.id)
    await storage.remove("attachments", attachment_key(attachment_id), attachment_thumbnail_key(attachment_id))


# -- preview backgrounds ------------------------------------------------------------------

#: What a preview background may be: an HDR environment map, as Zou accepts.
BACKGROUND_EXTENSIONS = frozenset({"hdr"})


def background_key(background_id: uuid.UUID, *, extension: str) -> str:
    return f"backgrounds/{background_id}.{extension}"


def background_thumbnail_key(background_id: uuid.UUID) -> str:
    return f"preview-background-files/{background_id}.png"


async def get_background(session: AsyncSession, *, background_id: uuid.UUID) -> PreviewBackgroundFile:
    """The preview background, 404 when there is none."""
    background = await session.get(PreviewBackgroundFile, background_id)
    if background is None:
        raise NotFound()
    return background


async def upload_background(
    session: AsyncSession, *, storage: Storage, principal: Principal, background_id: uuid.UUID, upload: Upload
) -> dict[str, Any] | None:
    """Store the file of a preview background; None when its format is refused (the
    background is then deleted in the same transaction)."""
    access.check_admin(principal)
    background = await session.get(PreviewBackgroundFile, background_id, with_for_update=True)
    if background is None:
        raise NotFound()
    ext = upload.extension.lower()
    if ext not in BACKGROUND_EXTENSIONS:
        # as Zou: a background given a file it cannot use is deleted (the caller gets a 400)
        snapshot = background.serialize()
        await session.delete(background)
        await session.flush()
        emit(session, name="preview-background-file:delete",
             data={"preview_background_file_id": str(background_id), "snapshot": snapshot}, actor_id=principal.id)
        return None
    if upload.size == 0:
        raise BadRequest("The uploaded file is empty.")
    await storage.put_file("files", background_key(background_id, extension=ext), upload.file, upload.size,
                           mime_of(ext))
    if ext in processing.PICTURE_EXTENSIONS:
        await set_background_thumbnail(storage, background_id=background_id, src=Path(upload.path))
    background.original_name = upload.stem[:250]
    background.extension = ext
    background.file_size = upload.size
    await session.flush()
    emit(session, name="preview-background-file:update",
         data={"preview_background_file_id": str(background_id), "snapshot": background.serialize()}, actor_id=principal.id)
    return background.serialize()


async def set_background_thumbnail(storage: Storage, *, background_id: uuid.UUID, src: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="slate-background-") as tmp:
        out = await asyncio.to_thread(processing.picture_derivatives, src, Path(tmp), original=False)
        await storage.put_path("thumbnails", background_thumbnail_key(background_id), out["thumbnail"], "image/png")  # type: ignore[arg-type]


async def project_backgrounds(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> list[dict[str, Any]]:
    await access.project_visible(session, principal=principal, project_id=project_id)
    rows = await session.scalars(
        select(PreviewBackgroundFile)
        .join(project_preview_background, project_preview_background.c.preview_background_file_id == PreviewBackgroundFile.id)
        .where(project_preview_background.c.project_id == project_id)
        .order_by(PreviewBackgroundFile.name)
    )
    return [b.serialize() for b in rows]


async def add_project_background(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, background_id: Any
) -> dict[str, Any]:
    access.check_manager(principal)
    project = await access.project_visible(session, principal=principal, project_id=project_id)
    bid = parse_id(background_id, "A preview_background_file_id is required.")
    background = await session.get(PreviewBackgroundFile, bid)
    if background is None:
        raise BadRequest("This preview background file does not exist.", data=None)
    exists = await session.scalar(
        select(project_preview_background.c.project_id).where(
            project_preview_background.c.project_id == project_id,
            project_preview_background.c.preview_background_file_id == bid,
        )
    )
    if exists is None:
        await session.execute(insert(project_preview_background).values(project_id=project_id, preview_background_file_id=bid))
    emit(session, name="preview-background-file:add-to-project",
         data={"project_id": str(project_id), "preview_background_file_id": str(bid)},
         project_id=project.id, actor_id=principal.id)
    return project.snapshot


async def remove_project_background(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, background_id: uuid.UUID
) -> None:
    access.check_manager(principal)
    await access.project_visible(session, principal=principal, project_id=project_id)
    await session.execute(
        delete(project_preview_background).where(
            project_preview_background.c.project_id == project_id,
            project_preview_background.c.preview_background_file_id == background_id,
        )
    )
    emit(session, name="preview-background-file:remove-from-project",
         data={"project_id": str(project_id), "preview_background_file_id": str(background_id)},
         project_id=project_id, actor_id=principal.id)
