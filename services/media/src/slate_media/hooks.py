"""CRUD hooks of media's /data models (Zou's rules on top of the engine's defaults)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from slate_common.crud import CrudContext, CrudHooks
from slate_common.errors import BadRequest, Forbidden, NotFound

from .consumers import COMMENTS, TASKS
from .domain import access
from .domain import previews as preview_rules
from .models import AttachmentFile, CommentReplica, PreviewBackgroundFile, PreviewFile, TaskReplica

PREVIEW_STATUSES = frozenset({"processing", "ready", "broken"})
VALIDATION_STATUSES = frozenset({"neutral", "validated", "rejected"})


class PreviewFileHooks(CrudHooks[PreviewFile]):
    """Listings hold the previews the caller sees; one preview out of reach is a 403;
    only admins create previews here (others go through a comment's add-preview)."""

    def list_scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        return access.scope_previews(stmt, principal=ctx.principal)

    async def check_read(self, ctx: CrudContext, instance: PreviewFile) -> None:
        await access.check_preview_seen(ctx.session, principal=ctx.principal, preview=instance)

    async def check_create(self, ctx: CrudContext, data: dict[str, Any]) -> None:
        access.check_admin(ctx.principal)

    async def check_creation_integrity(self, ctx: CrudContext, data: dict[str, Any]) -> dict[str, Any]:
        task_id = data.get("task_id")
        if task_id is None:
            raise BadRequest("A required field is missing.", data={"errors": [{"field": "task_id", "message": "Field required"}]})
        await access.task_visible(ctx.session, principal=ctx.principal, task_id=task_id)
        data.setdefault("person_id", ctx.principal.id)
        if data.get("source") is None:  # a row made here says nothing of where it came from (Zou: null)
            ctx.scratch["no_source"] = True
        if data.get("revision") is None:
            data["revision"] = 1
        if data.get("position") is None:
            data["position"] = 1
        return data

    async def post_creation(self, ctx: CrudContext, instance: PreviewFile) -> None:
        if ctx.scratch.get("no_source"):  # the column's default is the upload routes' "webgui"
            instance.source = None
            await ctx.session.flush()

    async def check_update(self, ctx: CrudContext, instance: PreviewFile, data: dict[str, Any]) -> None:
        task = await ctx.session.get(TaskReplica, instance.task_id) if instance.task_id else None
        if task is None:
            access.check_supervisor(ctx.principal)
        else:
            access.check_task_action(ctx.principal, task=task)

    async def check_delete(self, ctx: CrudContext, instance: PreviewFile) -> None:
        if ctx.principal.is_manager or instance.person_id == ctx.principal.id:
            return
        raise Forbidden()

    async def update_data(self, ctx: CrudContext, data: dict[str, Any], instance: PreviewFile | None) -> dict[str, Any]:
        if data.get("status") is not None and data["status"] not in PREVIEW_STATUSES:
            raise BadRequest(f"Invalid status: {data['status']}")
        if data.get("validation_status") is not None and data["validation_status"] not in VALIDATION_STATUSES:
            raise BadRequest(f"Invalid validation_status: {data['validation_status']}")
        if instance is None and not data.get("name"):
            data["name"] = str(uuid.uuid4())[:13]
        return data

    async def serialize(self, ctx: CrudContext, instance: PreviewFile, *, relations: bool) -> dict[str, Any]:
        if relations:  # a create's answer: with its comments, as Zou's
            return await preview_rules.serialize_with_comments(ctx.session, preview=instance)
        return preview_rules.serialize(instance)

    async def serialize_one(self, ctx: CrudContext, instance: PreviewFile, *, relations: bool) -> dict[str, Any]:
        return await preview_rules.serialize_with_comments(ctx.session, preview=instance)

    async def event_snapshot(self, ctx: CrudContext, instance: PreviewFile) -> dict[str, Any]:
        return await preview_rules.snapshot(ctx.session, preview=instance)

    def event_project_id(self, instance: PreviewFile) -> Any:
        return None


class AttachmentFileHooks(CrudHooks[AttachmentFile]):
    """Only admins list every attachment file (Zou: 403 for the others); one file is read
    by whoever sees the task of its comment."""

    def list_scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        access.check_admin(ctx.principal)
        return stmt

    async def check_read(self, ctx: CrudContext, instance: AttachmentFile) -> None:
        if ctx.principal.is_admin:
            return
        comment = await COMMENTS.get(ctx.session, row_id=instance.comment_id) if instance.comment_id else None
        task = await TASKS.get(ctx.session, row_id=comment.object_id) if comment is not None and comment.object_id else None
        if task is None:
            raise Forbidden()
        await access.check_task_seen(ctx.session, principal=ctx.principal, task=task)

    async def check_creation_integrity(self, ctx: CrudContext, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("comment_id") is not None and await COMMENTS.get(ctx.session, row_id=data["comment_id"]) is None:
            raise NotFound()
        return data

    async def serialize(self, ctx: CrudContext, instance: AttachmentFile, *, relations: bool) -> dict[str, Any]:
        return (await self.serialize_many(ctx, [instance], relations=relations))[0]

    async def serialize_many(
        self, ctx: CrudContext, instances: list[AttachmentFile], *, relations: bool
    ) -> list[dict[str, Any]]:
        """Zou's rows: the file's fields, its ``comment`` (from the comment replica) and
        ``chat_message`` (Slate has no chats: null)."""
        comment_ids = {a.comment_id for a in instances if a.comment_id}
        comments = {c.id: c.snapshot for c in (await ctx.session.scalars(
            select(CommentReplica).where(CommentReplica.id.in_(comment_ids)))).all()} if comment_ids else {}
        out = []
        for attachment in instances:
            row = attachment.serialize()
            snapshot = comments.get(attachment.comment_id) if attachment.comment_id else None
            out.append({
                **{k: row[k] for k in ("name", "size", "extension", "mimetype", "comment_id")},
                "reply_id": None, "chat_message_id": row["chat_message_id"],
                **{k: row[k] for k in ("id", "created_at", "updated_at")},
                "comment": {k: snapshot.get(k) for k in COMMENT_KEYS} if snapshot else None,
                "chat_message": None, "type": "AttachmentFile",
            })
        return out


#: The comment embedded in an attachment file, as Zou's (the comment row alone).
COMMENT_KEYS = ("shotgun_id", "object_id", "object_type", "text", "data", "replies", "checklist", "pinned",
                "for_client", "links", "task_status_id", "person_id", "editor_id", "preview_file_id", "id",
                "created_at", "updated_at", "type")


class PreviewBackgroundHooks(CrudHooks[PreviewBackgroundFile]):
    async def update_data(
        self, ctx: CrudContext, data: dict[str, Any], instance: PreviewBackgroundFile | None
    ) -> dict[str, Any]:
        if data.get("is_default"):
            # One default background: the others lose the flag.
            others = await ctx.session.scalars(
                select(PreviewBackgroundFile).where(PreviewBackgroundFile.is_default.is_(True))
            )
            for other in others:
                if instance is None or other.id != instance.id:
                    other.is_default = False
        return data
