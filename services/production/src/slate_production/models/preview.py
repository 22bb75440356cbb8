"""A replica of media's preview files, fed by ``preview-file:*`` events, so comment
listings carry their previews without calling media."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel
from slate_common.replica import Replicated

from .base import Base


class PreviewFileReplica(Replicated, ZouModel, Base):
    __tablename__ = "preview_file_replica"

    name: Mapped[str | None] = mapped_column(String(250))
    original_name: Mapped[str | None] = mapped_column(String(250))
    revision: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int | None] = mapped_column(Integer)
    extension: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str | None] = mapped_column(String(20))
    validation_status: Mapped[str | None] = mapped_column(String(20))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str | None] = mapped_column(String(40))
    annotations: Mapped[list[Any] | None] = mapped_column(JSONB)
    #: Task and comment of production (no foreign keys: events may come in any order).
    task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    comment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    #: The whole preview as media's event described it (Zou's fields plus comment_id,
    #: project_id, entity_id), what /data/tasks/<id>/previews answers with.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class AttachmentFileReplica(Replicated, ZouModel, Base):
    """A replica of media's attachment files, fed by ``attachment-file:*`` events."""

    __tablename__ = "attachment_file_replica"

    name: Mapped[str | None] = mapped_column(String(250))
    size: Mapped[int | None] = mapped_column(BigInteger)
    extension: Mapped[str | None] = mapped_column(String(10))
    mimetype: Mapped[str | None] = mapped_column(String(255))
    comment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    reply_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    chat_message_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    FIELDS = ("name", "size", "extension", "mimetype", "comment_id", "reply_id", "chat_message_id", "id",
              "created_at", "updated_at")
