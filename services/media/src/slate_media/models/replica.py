"""Read models of production's projects, tasks, comments and entities, fed by events.

Each keeps the columns media queries on and the whole ``snapshot`` the event carried
(media answers some routes with it, e.g. the entity after set-main-preview), but tasks,
whose snapshot nothing read: their updates that change none of the columns are skipped.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.replica import Replicated

from .base import Base


class ProjectReplica(Replicated, Base):
    __tablename__ = "project_replica"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(80))
    team: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list, nullable=False)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)


class TaskReplica(Replicated, Base):
    __tablename__ = "task_replica"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    project_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    task_type_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    assignees: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list, nullable=False)


class CommentReplica(Replicated, Base):
    __tablename__ = "comment_replica"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    object_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)


class EntityReplica(Replicated, Base):
    __tablename__ = "entity_replica"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    project_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)
