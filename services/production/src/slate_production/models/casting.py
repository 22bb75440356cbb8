"""Casting (breakdown): which assets an entity uses (Zou's entity links), and the
links of concepts to the entities they illustrate."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from slate_common.db import ZouModel
from slate_common.serialization import serialize_value

from .base import Base


class EntityLink(ZouModel, Base):
    """``entity_in`` (a shot, an asset, an episode, ...) casts ``entity_out`` (an asset)
    ``nb_occurences`` times. Links Slate writes itself for an episode whose shots cast
    an asset carry ``data = {"auto": true}``, as Zou's."""

    __tablename__ = "entity_link"
    __table_args__ = (
        UniqueConstraint("entity_in_id", "entity_out_id"),
        Index("ix_entity_link_entity_out_id", "entity_out_id"),
    )

    entity_in_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("entity.id", ondelete="CASCADE"), nullable=False
    )
    entity_out_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("entity.id", ondelete="CASCADE"), nullable=False
    )
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    nb_occurences: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    label: Mapped[str | None] = mapped_column(String(80), default="")

    #: Zou's key order.
    FIELDS: ClassVar[tuple[str, ...]] = (
        "entity_in_id", "entity_out_id", "data", "nb_occurences", "label", "id", "created_at", "updated_at",
    )

    def serialize(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        out = {k: serialize_value(getattr(self, k)) for k in self.FIELDS if k not in exclude}
        out["type"] = "EntityLink"
        return out


#: A concept (``entity_in_id``) illustrates an entity (``entity_out_id``).
entity_concept_link = Table(
    "entity_concept_link",
    Base.metadata,
    Column("entity_in_id", UUID(as_uuid=True), ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True),
    Column("entity_out_id", UUID(as_uuid=True), ForeignKey("entity.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)
