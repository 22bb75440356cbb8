"""Read models fed by events: a local copy of another service's rows.

CRUD events carry a ``snapshot`` of the row (see the CRUD engine), so a replica
handler upserts the columns it keeps and deletes on ``:delete``. Handlers run inside
the consumer's transaction, after the inbox check, so each event applies once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import sqltypes

from .events import Event, EventHandler
from .events.consumer import PoisonEvent


def _convert(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, sqltypes.Uuid):
        return uuid.UUID(str(value))
    if isinstance(column.type, sqltypes.DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, sqltypes.Date):
        return dt.date.fromisoformat(value)
    return value


def replica_handlers(model: type[Any], entity: str) -> dict[str, EventHandler]:
    """Handlers for ``<entity>:new|update|delete`` keeping ``model`` (whose columns are a
    subset of the source's, same names, primary key ``id``) in step."""
    table = model.__table__
    id_key = entity.replace("-", "_") + "_id"

    async def upsert(session: AsyncSession, event: Event) -> None:
        snapshot = event.data.get("snapshot")
        if not isinstance(snapshot, dict) or "id" not in snapshot:
            raise PoisonEvent(f"{event.name} without a snapshot")
        values = {c.key: _convert(c, snapshot.get(c.key)) for c in table.columns if c.key in snapshot}
        stmt = insert(table).values(**values)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"], set_={k: stmt.excluded[k] for k in values if k != "id"}
            )
        )

    async def remove(session: AsyncSession, event: Event) -> None:
        await session.execute(delete(table).where(table.c.id == uuid.UUID(str(event.data[id_key]))))

    return {f"{entity}:new": upsert, f"{entity}:update": upsert, f"{entity}:delete": remove}
