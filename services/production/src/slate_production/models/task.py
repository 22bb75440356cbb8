"""Task types, task statuses and tasks (with their assignees)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel

from .base import Base

#: A task's assignees (person ids of the replica).
task_person_link = Table(
    "task_person_link",
    Base.metadata,
    Column("task_id", UUID(as_uuid=True), ForeignKey("task.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", UUID(as_uuid=True), primary_key=True, index=True),
)


class TaskType(ZouModel, Base):
    __tablename__ = "task_type"
    __table_args__ = (UniqueConstraint("name", "for_entity", "department_id"),)

    name: Mapped[str] = mapped_column(String(40), nullable=False)
    #: null unless given, as Zou (its init-data's task types have "": see defaults.py)
    short_name: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str] = mapped_column(String(7), default="#FFFFFF", nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    for_entity: Mapped[str] = mapped_column(String(30), default="Asset", nullable=False)
    allow_timelog: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    shotgun_id: Mapped[int | None] = mapped_column(Integer)
    #: A department of auth (replica; no foreign key so events may come in any order).
    department_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)


class TaskStatus(ZouModel, Base):
    __tablename__ = "task_status"

    name: Mapped[str] = mapped_column(String(40), nullable=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    short_name: Mapped[str] = mapped_column(String(10), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str] = mapped_column(String(7), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    is_done: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_artist_allowed: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    is_client_allowed: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    is_retake: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_feedback_request: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_wip: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    shotgun_id: Mapped[int | None] = mapped_column(Integer)
    for_concept: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class Task(ZouModel, Base):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("name", "project_id", "task_type_id", "entity_id"),)

    name: Mapped[str] = mapped_column(String(80), default="main", nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    difficulty: Mapped[int] = mapped_column(Integer, default=3, nullable=False)
    duration: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    estimation: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    completion_rate: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    retake_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    start_date: Mapped[dt.datetime | None] = mapped_column(DateTime)
    due_date: Mapped[dt.datetime | None] = mapped_column(DateTime)
    real_start_date: Mapped[dt.datetime | None] = mapped_column(DateTime)
    end_date: Mapped[dt.datetime | None] = mapped_column(DateTime)
    done_date: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_comment_date: Mapped[dt.datetime | None] = mapped_column(DateTime)
    nb_assets_ready: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    nb_drawings: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    shotgun_id: Mapped[int | None] = mapped_column(Integer)
    #: A preview file of media (no foreign key across services).
    last_preview_file_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    project_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True
    )
    task_type_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task_type.id"), nullable=False, index=True
    )
    task_status_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("task_status.id"), nullable=False, index=True
    )
    entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("entity.id", ondelete="CASCADE"), nullable=False, index=True
    )
    assigner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
