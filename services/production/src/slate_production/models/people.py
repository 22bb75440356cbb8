"""Replicas of auth's persons and departments, fed by ``person:*`` / ``department:*``
events. Production never writes them from its routes; they exist for assignees, teams,
permissions and the person objects embedded in Zou's responses."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel
from slate_common.replica import Replicated

from .base import Base

#: Which departments a person belongs to (from the person snapshot's "departments").
department_person_link = Table(
    "department_person_link",
    Base.metadata,
    Column("person_id", UUID(as_uuid=True), ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", UUID(as_uuid=True), primary_key=True, index=True),
)


class Person(Replicated, ZouModel, Base):
    """A person as auth publishes it: the columns production queries, and the whole
    snapshot (Zou's person serialization without secrets) to answer with."""

    __tablename__ = "person"

    first_name: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    last_name: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    desktop_login: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(30), default="user", nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    has_avatar: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    notifications_enabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    studio_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Zou's person fields, as auth sent them."""
        out = dict(self.snapshot or {})
        out.update(
            id=str(self.id), first_name=self.first_name, last_name=self.last_name, email=self.email,
            role=self.role, active=self.active, archived=self.archived, has_avatar=self.has_avatar,
            full_name=self.full_name, type="Person",
        )
        for key in exclude:
            out.pop(key, None)
        return out


class Department(Replicated, ZouModel, Base):
    __tablename__ = "department"

    name: Mapped[str] = mapped_column(String(80), nullable=False)
    color: Mapped[str | None] = mapped_column(String(7))
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class Studio(Replicated, ZouModel, Base):
    """A replica of auth's studios (``studio:*`` events), listed in the user context."""

    __tablename__ = "studio"

    name: Mapped[str] = mapped_column(String(80), nullable=False)
    color: Mapped[str | None] = mapped_column(String(7))
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
