"""Preview files, their links to comments, attachment files and preview backgrounds."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Column, Float, ForeignKey, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel

from .base import Base

#: Which comments show a preview (Zou's comment <-> preview link). Comment ids come from
#: production (no foreign key across services).
preview_file_comment = Table(
    "preview_file_comment",
    Base.metadata,
    Column("preview_file_id", UUID(as_uuid=True), ForeignKey("preview_file.id", ondelete="CASCADE"), primary_key=True),
    Column("comment_id", UUID(as_uuid=True), primary_key=True, index=True),
)


class PreviewFile(ZouModel, Base):
    __tablename__ = "preview_file"
    zou_type: ClassVar[str] = "PreviewFile"
    #: Slate's own bookkeeping, never in Zou's serialization.
    hidden_fields: ClassVar[frozenset[str]] = frozenset(
        {"status_reason", "source_extension", "attempts", "upload_token"}
    )

    name: Mapped[str] = mapped_column(String(250), nullable=False)
    original_name: Mapped[str | None] = mapped_column(String(250))
    revision: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    extension: Mapped[str | None] = mapped_column(String(6))
    description: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(String(400))
    source: Mapped[str | None] = mapped_column(String(40), default="webgui")
    file_size: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="processing", nullable=False)
    validation_status: Mapped[str] = mapped_column(String(20), default="neutral", nullable=False)
    annotations: Mapped[Any | None] = mapped_column(JSONB)
    width: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    height: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    duration: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    token_in: Mapped[str | None] = mapped_column(String(80))
    token_out: Mapped[str | None] = mapped_column(String(80))
    task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    source_file_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    shotgun_id: Mapped[int | None] = mapped_column(Integer)
    is_movie: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    url: Mapped[str | None] = mapped_column(String(600))
    uploaded_movie_url: Mapped[str | None] = mapped_column(String(600))
    uploaded_movie_name: Mapped[str | None] = mapped_column(String(150))
    # -- Slate's bookkeeping ---------------------------------------------------------
    #: Why processing failed (status "broken").
    status_reason: Mapped[str | None] = mapped_column(Text)
    #: Extension of the uploaded source, as stored (the preview's extension may differ).
    source_extension: Mapped[str | None] = mapped_column(String(10))
    #: Times a worker started processing the current upload (crashes included).
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: Set anew by each upload and carried by its job: a job for an upload replaced
    #: since then finds another token and leaves the preview alone.
    upload_token: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class AttachmentFile(ZouModel, Base):
    __tablename__ = "attachment_file"
    zou_type: ClassVar[str] = "AttachmentFile"

    name: Mapped[str] = mapped_column(String(250), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    extension: Mapped[str | None] = mapped_column(String(10))
    mimetype: Mapped[str | None] = mapped_column(String(255))
    comment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    chat_message_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class PreviewBackgroundFile(ZouModel, Base):
    __tablename__ = "preview_background_file"
    zou_type: ClassVar[str] = "PreviewBackgroundFile"

    name: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    original_name: Mapped[str | None] = mapped_column(String(250))
    extension: Mapped[str | None] = mapped_column(String(6))
    file_size: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)


#: A project's preview backgrounds (project settings).
project_preview_background = Table(
    "project_preview_background",
    Base.metadata,
    Column("project_id", UUID(as_uuid=True), primary_key=True),
    Column(
        "preview_background_file_id",
        UUID(as_uuid=True),
        ForeignKey("preview_background_file.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
