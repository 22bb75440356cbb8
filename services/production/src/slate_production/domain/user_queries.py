"""The signed-in person's own slice of a production: the entities they have a task on,
and what the /data/user/... routes list from them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.security import Principal

from ..models import TEMPORAL_TYPES, Entity, EntityType, Task
from .asset_types import serialize_asset_types
from .task_queries import assigned_to_person, task_types_of


def _my_entities(principal: Principal) -> Select[Any]:
    """Ids of the entities on which the caller has a task assigned."""
    return select(Task.entity_id).where(assigned_to_person(principal.id))


def _parents_of_mine(principal: Principal) -> Select[Any]:
    return select(Entity.parent_id).where(Entity.id.in_(_my_entities(principal)))


async def my_entity_ids(session: AsyncSession, *, principal: Principal) -> set[str]:
    """The entities the caller has a task on."""
    return {str(i) for i in await session.scalars(_my_entities(principal))}


async def my_sequence_ids(session: AsyncSession, *, principal: Principal) -> set[str]:
    """The parents (sequences) of the entities the caller has a task on."""
    return {str(i) for i in await session.scalars(_parents_of_mine(principal)) if i}


async def my_episode_ids(session: AsyncSession, *, principal: Principal) -> set[str]:
    """Episodes holding shots (or assets) the caller has tasks on, and the entities themselves."""
    seq = aliased(Entity)
    via_shots = select(seq.parent_id).where(seq.id.in_(_parents_of_mine(principal)))
    via_assets = select(Entity.source_id).where(Entity.id.in_(_my_entities(principal)))
    mine = {str(i) for i in await session.scalars(via_shots.union(via_assets)) if i}
    return mine | await my_entity_ids(session, principal=principal)


async def my_asset_types(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> list[dict[str, Any]]:
    """Asset types of the project's assets the caller has tasks on (without their task types)."""
    used = select(Entity.entity_type_id).where(Entity.project_id == project_id,
                                               Entity.id.in_(_my_entities(principal)))
    types = list(await session.scalars(select(EntityType).where(
        EntityType.id.in_(used), EntityType.name.not_in(TEMPORAL_TYPES)).order_by(EntityType.name)))
    rows = await serialize_asset_types(session, types=types)
    for row in rows:
        row.pop("task_types")
    return rows


def _mine_on(entity_id: uuid.UUID, principal: Principal) -> list[Any]:
    return [Task.entity_id == entity_id, assigned_to_person(principal.id)]


async def my_tasks_on(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID) -> list[dict[str, Any]]:
    """The caller's tasks on an entity."""
    rows = await session.scalars(select(Task).where(*_mine_on(entity_id, principal)).order_by(Task.created_at, Task.id))
    return [t.serialize() for t in rows]


async def my_task_types_on(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID) -> list[dict[str, Any]]:
    """Task types of the caller's tasks on an entity."""
    return await task_types_of(session, *_mine_on(entity_id, principal))


async def asset_types(session: AsyncSession) -> list[dict[str, Any]]:
    """Entity types that are asset types, with their workflow's task types."""
    types = list(await session.scalars(select(EntityType).where(EntityType.name.not_in(TEMPORAL_TYPES))
                                       .order_by(EntityType.name)))
    return await serialize_asset_types(session, types=types)


async def asset_type(session: AsyncSession, *, asset_type_id: uuid.UUID) -> dict[str, Any] | None:
    """One asset type, or None."""
    found = await session.get(EntityType, asset_type_id)
    if found is None or not found.is_asset_type:
        return None
    return (await serialize_asset_types(session, types=[found]))[0]
