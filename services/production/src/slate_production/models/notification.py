"""Notifications (what a person is told about) and subscriptions (what they follow)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel

from .base import Base

#: Zou's notification types.
NOTIFICATION_TYPES = ("comment", "mention", "assignation", "reply", "reply-mention", "playlist-ready")


class Notification(ZouModel, Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_person_id_created_at", "person_id", "created_at"),)

    read: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    change: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: Zou's ``type`` column, served as ``notification_type`` (``type`` is the model name).
    notification_type: Mapped[str] = mapped_column(String(20), default="comment", nullable=False)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    author_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    comment_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task.id", ondelete="CASCADE"), index=True
    )
    playlist_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    reply_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    FIELDS = ("read", "change", "type", "person_id", "author_id", "comment_id", "task_id", "playlist_id",
              "reply_id", "id", "created_at", "updated_at", "notification_type")

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        base = super().serialize(exclude=exclude)
        base["type"] = "Notification"
        return {k: base[k] for k in self.FIELDS if k in base}


class Subscription(ZouModel, Base):
    """A person following a task, or a task type of a sequence (``entity_id`` +
    ``task_type_id``)."""

    __tablename__ = "subscription"
    __table_args__ = (Index("ix_subscription_task_id_person_id", "task_id", "person_id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("task.id", ondelete="CASCADE"))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("entity.id", ondelete="CASCADE"), index=True
    )
    task_type_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task_type.id", ondelete="CASCADE")
    )

    FIELDS = ("person_id", "task_id", "entity_id", "task_type_id", "id", "created_at", "updated_at", "type")

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        base = super().serialize(exclude=exclude)
        return {k: base[k] for k in self.FIELDS if k in base}
