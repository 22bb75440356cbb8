"""Shot versions: Zou keeps a shot's name and data each time its frame range changes,
listed newest first by ``GET /data/shots/<id>/versions``.

A version is written when ``frame_in`` or ``frame_out`` of the shot's data differs
after an update (compared as JSON values: ``4`` and ``"4"`` differ, as on the oracle);
it holds the shot's name and whole data after the change and the person who made it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.security import Principal
from slate_common.serialization import now

from ..models import Entity, EntityVersion, Task
from . import access

FRAME_KEYS = ("frame_in", "frame_out")


def frames_changed(before: dict[str, Any] | None, *, after: dict[str, Any] | None) -> bool:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    return any(before.get(key) != after.get(key) for key in FRAME_KEYS)


async def record_if_frames_changed(session: AsyncSession, *, shot: Entity, name: str,
                                   before: dict[str, Any] | None, after: dict[str, Any] | None,
                                   person_id: uuid.UUID | None) -> EntityVersion | None:
    """Keep a version of ``shot`` when its frame range moved (``after`` is its new data)."""
    if not frames_changed(before, after=after):
        return None
    stamp = now()
    version = EntityVersion(id=uuid.uuid4(), name=name, data=dict(after or {}), entity_id=shot.id,
                            person_id=person_id, created_at=stamp, updated_at=stamp)
    session.add(version)
    return version


async def shot_versions(session: AsyncSession, *, shot_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(select(EntityVersion).where(EntityVersion.entity_id == shot_id)
                                 .order_by(EntityVersion.created_at.desc(), EntityVersion.id))
    return [v.serialize() for v in rows]


async def vendor_sees_shot(session: AsyncSession, *, principal: Principal, shot_id: uuid.UUID) -> bool:
    """Vendors see only the shots they have a task on; everyone else, every shot in scope."""
    if not principal.is_vendor:
        return True
    return bool(await session.scalar(select(exists().where(
        Task.entity_id == shot_id, access.assigned_to(principal, task_id_col=Task.id)))))
