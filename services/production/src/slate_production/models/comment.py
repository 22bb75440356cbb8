"""Comments on tasks, their mentions and acknowledgements, and the news feed entries
Kitsu's news page reads (one per comment, as Zou writes them)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel

from .base import Base


def _link(name: str, other: str) -> Table:
    return Table(
        name,
        Base.metadata,
        Column("comment_id", UUID(as_uuid=True), ForeignKey("comment.id", ondelete="CASCADE"), primary_key=True),
        Column(other, UUID(as_uuid=True), primary_key=True, index=True),
    )


#: Persons mentioned with @Full Name (person ids of the replica).
comment_mention_link = _link("comment_mention_link", "person_id")
#: Departments mentioned with @Department Name.
comment_department_mention_link = _link("comment_department_mention_link", "department_id")
#: Persons who acknowledged a comment.
comment_acknowledgement_link = _link("comment_acknowledgement_link", "person_id")


class Comment(ZouModel, Base):
    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_object_id_created_at", "object_id", "created_at"),)
    #: Lets the instance attribute below be a plain annotation rather than a column.
    __allow_unmapped__ = True
    #: Not a column: the (mentions, department mentions) of a comment created in this
    #: unit of work, whose other links (acknowledgements, previews, attachments) cannot
    #: exist yet; lets its POST answer skip five lookups.
    fresh_links: tuple[list[uuid.UUID], list[uuid.UUID]] | None = None  # set per instance

    shotgun_id: Mapped[int | None] = mapped_column(Integer)
    #: The task commented on (Zou's generic object reference; always a task here).
    object_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task.id", ondelete="CASCADE"), nullable=False
    )
    object_type: Mapped[str] = mapped_column(String(80), default="Task", nullable=False)
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    replies: Mapped[list[Any]] = mapped_column(JSONB, default=list, nullable=False)
    checklist: Mapped[list[Any] | None] = mapped_column(JSONB, default=list)
    pinned: Mapped[bool | None] = mapped_column(Boolean)
    for_client: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    links: Mapped[list[Any]] = mapped_column(JSONB, default=list, nullable=False)
    task_status_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task_status.id"), index=True
    )
    #: Author and last editor (persons of auth: replica ids, no foreign key).
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    editor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    #: A preview file of media (replica; no foreign key).
    preview_file_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    #: Zou's key order for comment rows.
    FIELDS = (
        "shotgun_id", "object_id", "object_type", "text", "data", "replies", "checklist", "pinned",
        "for_client", "links", "task_status_id", "person_id", "editor_id", "preview_file_id",
        "id", "created_at", "updated_at",
    )

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        base = super().serialize(exclude=exclude)
        out = {k: base[k] for k in self.FIELDS if k in base}
        out["type"] = "Comment"
        return out


class News(ZouModel, Base):
    """A news feed entry, written with each comment."""

    __tablename__ = "news"

    change: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    author_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    comment_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task.id", ondelete="CASCADE"), nullable=False, index=True
    )
    preview_file_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
