"""Asset types: the entity types that are not episodes, sequences, shots, ..."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import EntityType, entity_type_task_type_link


async def serialize_asset_types(session: AsyncSession, *, types: list[EntityType]) -> list[dict[str, Any]]:
    """Zou's AssetType rows: the entity type fields with the workflow's ``task_types``."""
    links: dict[Any, list[str]] = {t.id: [] for t in types}
    if types:
        for type_id, task_type_id in await session.execute(
            select(entity_type_task_type_link.c.entity_type_id, entity_type_task_type_link.c.task_type_id)
            .where(entity_type_task_type_link.c.entity_type_id.in_(list(links)))
        ):
            links[type_id].append(str(task_type_id))
    out = []
    for t in types:
        row = t.serialize()
        out.append({"name": row["name"], "short_name": row["short_name"], "description": row["description"],
                    "task_types": links[t.id], "archived": row["archived"], "id": row["id"],
                    "created_at": row["created_at"], "updated_at": row["updated_at"], "type": "AssetType"})
    return out
