"""Saved search filters of a person, and the groups they are sorted into."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel

from .base import Base


class SearchFilterGroup(ZouModel, Base):
    __tablename__ = "search_filter_group"

    list_type: Mapped[str] = mapped_column(String(80), nullable=False)
    entity_type: Mapped[str | None] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    color: Mapped[str] = mapped_column(String(8), default="", nullable=False)
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    FIELDS = ("list_type", "entity_type", "name", "color", "is_shared", "person_id", "project_id",
              "department_id", "id", "created_at", "updated_at", "type")

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        base = super().serialize(exclude=exclude)
        return {k: base[k] for k in self.FIELDS if k in base}


class SearchFilter(ZouModel, Base):
    __tablename__ = "search_filter"

    list_type: Mapped[str] = mapped_column(String(80), nullable=False)
    entity_type: Mapped[str | None] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    search_query: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    department_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    search_filter_group_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("search_filter_group.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("project.id", ondelete="CASCADE"), index=True
    )

    FIELDS = ("list_type", "entity_type", "name", "search_query", "is_shared", "department_id",
              "search_filter_group_id", "person_id", "project_id", "id", "created_at", "updated_at", "type")

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        base = super().serialize(exclude=exclude)
        return {k: base[k] for k in self.FIELDS if k in base}
