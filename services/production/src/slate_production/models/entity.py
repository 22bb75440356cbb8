"""Entity types and entities: Zou keeps assets, episodes, sequences, shots (and scenes,
edits, concepts) in one ``entity`` table told apart by ``entity_type_id``."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel
from slate_common.serialization import serialize_value

from .base import Base

#: Entity types that are not asset types (their entities serialize with their own type).
TEMPORAL_TYPES = ("Episode", "Sequence", "Shot", "Scene", "Edit", "Concept", "ConceptFolder")

#: The task types an asset type's workflow uses (``asset_type.task_types``).
entity_type_task_type_link = Table(
    "entity_type_task_type_link",
    Base.metadata,
    Column("entity_type_id", UUID(as_uuid=True), ForeignKey("entity_type.id", ondelete="CASCADE"), primary_key=True),
    Column("task_type_id", UUID(as_uuid=True), ForeignKey("task_type.id", ondelete="CASCADE"), primary_key=True),
)


class EntityType(ZouModel, Base):
    __tablename__ = "entity_type"

    name: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    short_name: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    @property
    def is_asset_type(self) -> bool:
        return self.name not in TEMPORAL_TYPES


class Entity(ZouModel, Base):
    """An asset, episode, sequence, shot, ...; ``parent_id`` is the episode of a
    sequence or the sequence of a shot, ``source_id`` the episode an asset is made for."""

    __tablename__ = "entity"
    __table_args__ = (
        UniqueConstraint("name", "project_id", "entity_type_id", "parent_id"),
        Index("ix_entity_project_id_entity_type_id", "project_id", "entity_type_id"),
    )
    zou_type: ClassVar[str | None] = "Entity"

    name: Mapped[str] = mapped_column(String(160), nullable=False)
    code: Mapped[str | None] = mapped_column(String(160))
    description: Mapped[str | None] = mapped_column(Text)
    shotgun_id: Mapped[int | None] = mapped_column(Integer)
    canceled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    nb_frames: Mapped[int | None] = mapped_column(Integer)
    nb_entities_out: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    is_casting_standby: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(30), default="running", nullable=False)
    project_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("project.id", ondelete="CASCADE"), nullable=False
    )
    entity_type_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("entity_type.id"), nullable=False, index=True
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("entity.id"), index=True)
    source_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("entity.id"), index=True)
    #: A preview file of media (no foreign key across services).
    preview_file_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ready_for: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("task_type.id"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    #: Zou's key order for entity rows.
    FIELDS: ClassVar[tuple[str, ...]] = (
        "id", "name", "code", "description", "shotgun_id", "canceled", "nb_frames", "nb_entities_out",
        "is_casting_standby", "is_shared", "status", "project_id", "entity_type_id", "parent_id",
        "source_id", "preview_file_id", "data", "ready_for", "created_by", "created_at", "updated_at",
    )

    def serialize(self, *, exclude: frozenset[str] = frozenset(), type_name: str | None = None) -> dict[str, Any]:
        out = {k: serialize_value(getattr(self, k)) for k in self.FIELDS if k not in exclude}
        out["type"] = type_name or "Entity"
        return out


class EntityVersion(ZouModel, Base):
    """A shot's name and data as they were after a change of its frame range (Zou's
    shot versions, ``GET /data/shots/<id>/versions``)."""

    __tablename__ = "entity_version"

    name: Mapped[str] = mapped_column(String(160), nullable=False)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    entity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("entity.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Who changed the shot (a person of the replica; no foreign key).
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    FIELDS: ClassVar[tuple[str, ...]] = ("name", "data", "entity_id", "person_id", "id", "created_at", "updated_at")

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        out = {k: serialize_value(getattr(self, k)) for k in self.FIELDS if k not in exclude}
        out["type"] = "ShotVersion"
        return out
