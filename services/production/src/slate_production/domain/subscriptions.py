"""A person's subscriptions to tasks, and to a task type within a sequence."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import NotFound
from slate_common.security import Principal

from ..models import Entity, Subscription, Task, TaskType
from . import access


async def _task(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise NotFound()
    await access.check_task_access(session, principal=principal, task=task)
    return task


async def subscribe_task(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID) -> Subscription:
    task = await _task(session, principal, task_id)
    existing = (await session.scalars(select(Subscription).where(
        Subscription.person_id == principal.id, Subscription.task_id == task.id))).first()
    if existing is not None:
        return existing
    sub = Subscription(id=uuid.uuid4(), person_id=principal.id, task_id=task.id)
    session.add(sub)
    await session.flush()
    return sub


async def unsubscribe_task(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID) -> None:
    await session.execute(delete(Subscription).where(
        Subscription.person_id == principal.id, Subscription.task_id == task_id))


async def is_subscribed_task(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID) -> bool:
    """Whether the caller has this subscription: a question about one's own rows, answered
    for any id as Zou does (``false`` for a task one cannot see, since one cannot
    subscribe to it)."""
    return bool(await session.scalar(select(exists().where(
        Subscription.person_id == principal.id, Subscription.task_id == task_id))))


async def _sequence(session: AsyncSession, principal: Principal, sequence_id: uuid.UUID,
                    task_type_id: uuid.UUID) -> Entity:
    entity = await session.get(Entity, sequence_id)
    if entity is None or await session.get(TaskType, task_type_id) is None:
        raise NotFound()
    await access.check_project_access(session, principal=principal, project_id=entity.project_id)
    return entity


async def subscribe_sequence(session: AsyncSession, *, principal: Principal, sequence_id: uuid.UUID,
                             task_type_id: uuid.UUID) -> Subscription:
    await _sequence(session, principal, sequence_id, task_type_id)
    existing = (await session.scalars(select(Subscription).where(
        Subscription.person_id == principal.id, Subscription.entity_id == sequence_id,
        Subscription.task_type_id == task_type_id))).first()
    if existing is not None:
        return existing
    sub = Subscription(id=uuid.uuid4(), person_id=principal.id, entity_id=sequence_id, task_type_id=task_type_id)
    session.add(sub)
    await session.flush()
    return sub


async def unsubscribe_sequence(session: AsyncSession, *, principal: Principal, sequence_id: uuid.UUID,
                               task_type_id: uuid.UUID) -> None:
    await session.execute(delete(Subscription).where(
        Subscription.person_id == principal.id, Subscription.entity_id == sequence_id,
        Subscription.task_type_id == task_type_id))


async def is_subscribed_sequence(session: AsyncSession, *, principal: Principal, sequence_id: uuid.UUID,
                                 task_type_id: uuid.UUID) -> bool:
    """As :func:`is_subscribed_task`, for a task type within a sequence."""
    return bool(await session.scalar(select(exists().where(
        Subscription.person_id == principal.id, Subscription.entity_id == sequence_id,
        Subscription.task_type_id == task_type_id))))


async def project_subscriptions(session: AsyncSession, *, project_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every subscription to a project's tasks."""
    rows = await session.scalars(select(Subscription).join(Task, Task.id == Subscription.task_id)
                                 .where(Task.project_id == project_id).order_by(Subscription.created_at))
    return [s.serialize() for s in rows]
