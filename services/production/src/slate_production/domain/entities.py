"""Entity rules shared by every entity family: the Zou type of a row, its events."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import NotFound
from slate_common.events import emit

from ..models import TEMPORAL_TYPES, Entity, EntityType


def kind_of(type_name: str) -> str:
    """Zou's ``type`` of an entity row: its entity type's name, ``Asset`` for asset types."""
    return type_name if type_name in TEMPORAL_TYPES else "Asset"


def event_prefix(type_name: str) -> str:
    """``asset``, ``shot``, ``sequence``, ``episode``, ``concept-folder``, ..."""
    kind = kind_of(type_name)
    return "concept-folder" if kind == "ConceptFolder" else kind.lower()


async def type_name_of(session: AsyncSession, *, entity_type_id: uuid.UUID) -> str:
    return str(await session.scalar(select(EntityType.name).where(EntityType.id == entity_type_id)) or "")


def serialize_entity(entity: Entity, *, type_name: str) -> dict[str, Any]:
    return entity.serialize(type_name=kind_of(type_name))


async def emit_entity_event(
    session: AsyncSession, *, verb: str, entity: Entity, actor_id: uuid.UUID | None, type_name: str | None = None
) -> None:
    """``<kind>:<verb>`` (``shot:new``, ``asset:update``, ...) with ``{"<kind>_id", "snapshot"}``."""
    name = type_name or await type_name_of(session, entity_type_id=entity.entity_type_id)
    prefix = event_prefix(name)
    emit(
        session,
        name=f"{prefix}:{verb}",
        data={f"{prefix.replace('-', '_')}_id": str(entity.id), "snapshot": serialize_entity(entity, type_name=name)},
        project_id=entity.project_id,
        actor_id=actor_id,
    )


async def entity_type_id(session: AsyncSession, *, name: str) -> uuid.UUID:
    found = await session.scalar(select(EntityType.id).where(EntityType.name == name))
    if found is None:
        found = uuid.uuid4()
        session.add(EntityType(id=found, name=name))
        await session.flush()
    return found


async def entity_type_named(session: AsyncSession, *, name: str) -> str:
    """The entity type a path names, case aside ("shot" is Shot), as stored; 404 for a
    name no entity type has (Zou: "Asset" and "shots" name none)."""
    found = await session.scalar(select(EntityType.name).where(func.lower(EntityType.name) == name.lower()))
    if found is None:
        raise NotFound()
    return str(found)


async def create_first_episode(session: AsyncSession, *, project: Any, actor_id: uuid.UUID | None) -> Entity:
    """A TV show starts with an episode E01, as in Zou."""
    episode = Entity(
        name="E01", project_id=project.id, entity_type_id=await entity_type_id(session, name="Episode"),
        description="", data={}, created_by=actor_id,
    )
    session.add(episode)
    await session.flush()
    await emit_entity_event(session, verb="new", entity=episode, actor_id=actor_id, type_name="Episode")
    return episode
