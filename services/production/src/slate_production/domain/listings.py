"""The with-tasks listings Kitsu's shot, asset, sequence and episode pages read.

One set-based query per listing: entities joined to their parents and project, left
joined to their tasks (assignees aggregated per task), ordered so that each entity's
tasks follow it; rows are grouped while they are read. ``stream=true`` reads the same
query from a server-side cursor and writes NDJSON as it goes (memory stays flat);
``compact=true`` sends field lists once and rows as arrays, as Zou does.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slate_common.security import Principal
from slate_common.serialization import dumps

_TASK_COLUMNS = """
    t.id::text AS t_id, t.duration AS t_duration, t.due_date AS t_due_date, t.end_date AS t_end_date,
    t.done_date AS t_done_date, t.estimation AS t_estimation, t.last_comment_date AS t_last_comment_date,
    t.last_preview_file_id::text AS t_last_preview_file_id, t.nb_assets_ready AS t_nb_assets_ready,
    t.priority AS t_priority, t.real_start_date AS t_real_start_date, t.retake_count AS t_retake_count,
    t.start_date AS t_start_date, t.difficulty AS t_difficulty, t.nb_drawings AS t_nb_drawings,
    t.task_status_id::text AS t_task_status_id, t.task_type_id::text AS t_task_type_id, t.data AS t_data,
    ARRAY(SELECT l.person_id::text FROM task_person_link l WHERE l.task_id = t.id ORDER BY l.person_id)
        AS t_assignees,
    EXISTS(SELECT 1 FROM subscription su WHERE su.task_id = t.id AND su.person_id = :me) AS t_is_subscribed
"""

SHOT_TASK_FIELDS = (
    "id", "duration", "due_date", "end_date", "done_date", "entity_id", "estimation", "is_subscribed",
    "last_comment_date", "last_preview_file_id", "nb_assets_ready", "priority", "real_start_date",
    "retake_count", "start_date", "difficulty", "nb_drawings", "task_status_id", "task_type_id", "assignees", "data",
)
ASSET_TASK_FIELDS = (
    "id", "due_date", "done_date", "duration", "entity_id", "estimation", "end_date", "is_subscribed",
    "last_comment_date", "last_preview_file_id", "priority", "real_start_date", "retake_count", "start_date",
    "difficulty", "task_status_id", "task_type_id", "assignees", "data",
)
SHOT_FIELDS = (
    "canceled", "data", "description", "entity_type_id", "episode_id", "episode_name", "fps", "frame_in",
    "frame_out", "id", "name", "nb_frames", "parent_id", "preview_file_id", "project_id", "project_name",
    "sequence_id", "sequence_name", "source_id", "nb_entities_out", "is_casting_standby", "type", "tasks",
)
ASSET_FIELDS = (
    "id", "name", "preview_file_id", "description", "asset_type_name", "asset_type_id", "canceled", "ready_for",
    "episode_id", "casting_episode_ids", "is_casting_standby", "is_shared", "data", "tasks",
)
TEMPORAL_FIELDS = (
    "id", "name", "status", "episode_id", "description", "frame_in", "frame_out", "fps", "preview_file_id",
    "canceled", "data", "tasks",
)


def _task(row: Any, entity_id: str, fields: Sequence[str]) -> dict[str, Any]:
    values = {
        "id": row.t_id, "duration": row.t_duration, "due_date": row.t_due_date, "end_date": row.t_end_date,
        "done_date": row.t_done_date, "entity_id": entity_id, "estimation": row.t_estimation,
        "is_subscribed": bool(row.t_is_subscribed), "last_comment_date": row.t_last_comment_date,
        "last_preview_file_id": row.t_last_preview_file_id, "nb_assets_ready": row.t_nb_assets_ready,
        "priority": row.t_priority, "real_start_date": row.t_real_start_date, "retake_count": row.t_retake_count,
        "start_date": row.t_start_date, "difficulty": row.t_difficulty, "nb_drawings": row.t_nb_drawings,
        "task_status_id": row.t_task_status_id, "task_type_id": row.t_task_type_id,
        "assignees": list(row.t_assignees or ()), "data": row.t_data,
    }
    return {k: values[k] for k in fields}


def _frame(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def _shot(row: Any) -> dict[str, Any]:
    data = row.data
    return {
        "canceled": row.canceled, "data": data, "description": row.description,
        "entity_type_id": row.entity_type_id, "episode_id": row.episode_id, "episode_name": row.episode_name,
        "fps": _frame(data, "fps"), "frame_in": _frame(data, "frame_in"), "frame_out": _frame(data, "frame_out"),
        "id": row.id, "name": row.name, "nb_frames": row.nb_frames, "parent_id": row.parent_id,
        "preview_file_id": row.preview_file_id, "project_id": row.project_id, "project_name": row.project_name,
        "sequence_id": row.parent_id, "sequence_name": row.sequence_name, "source_id": row.source_id,
        "nb_entities_out": row.nb_entities_out, "is_casting_standby": row.is_casting_standby,
        "tasks": [], "type": "Shot",
    }


def _asset(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "preview_file_id": row.preview_file_id or "",
        "description": row.description, "asset_type_name": row.asset_type_name,
        "asset_type_id": row.entity_type_id, "canceled": row.canceled, "ready_for": str(row.ready_for),
        "episode_id": row.source_id or "", "casting_episode_ids": [], "is_casting_standby": row.is_casting_standby,
        "is_shared": row.is_shared, "data": row.data, "tasks": [],
    }


def _temporal(row: Any) -> dict[str, Any]:
    data = row.data
    return {
        "id": row.id, "name": row.name, "status": row.status, "episode_id": str(row.parent_id),
        "description": row.description, "frame_in": _frame(data, "frame_in"), "frame_out": _frame(data, "frame_out"),
        "fps": _frame(data, "fps"), "preview_file_id": row.preview_file_id or "", "canceled": row.canceled,
        "data": data, "tasks": [],
    }


@dataclass(frozen=True)
class Listing:
    kind: str  # "shot", "asset", "sequence", "episode"
    fields: tuple[str, ...]
    task_fields: tuple[str, ...]

    @property
    def fields_key(self) -> str:
        return f"{self.kind}_fields"

    def build(self, row: Any) -> dict[str, Any]:
        if self.kind == "shot":
            return _shot(row)
        if self.kind == "asset":
            return _asset(row)
        return _temporal(row)


SHOTS = Listing("shot", SHOT_FIELDS, SHOT_TASK_FIELDS)
ASSETS = Listing("asset", ASSET_FIELDS, ASSET_TASK_FIELDS)
SEQUENCES = Listing("sequence", TEMPORAL_FIELDS, SHOT_TASK_FIELDS)
EPISODES = Listing("episode", TEMPORAL_FIELDS, SHOT_TASK_FIELDS)

_ENTITY_COLUMNS = """
    e.id::text AS id, e.name, e.description, e.canceled, e.data, e.status, e.entity_type_id::text AS entity_type_id,
    e.nb_frames, e.parent_id::text AS parent_id, e.preview_file_id::text AS preview_file_id,
    e.project_id::text AS project_id, e.source_id::text AS source_id, e.nb_entities_out, e.is_casting_standby,
    e.is_shared, e.ready_for::text AS ready_for
"""


@dataclass(frozen=True)
class Filters:
    project_id: uuid.UUID | None = None
    episode_id: uuid.UUID | None = None
    sequence_id: uuid.UUID | None = None
    asset_type_id: uuid.UUID | None = None
    entity_ids: tuple[uuid.UUID, ...] = ()


def build_query(listing: Listing, principal: Principal, filters: Filters) -> tuple[str, dict[str, Any]]:
    """The SQL of a listing for ``principal`` (scope and vendor restriction inside)."""
    params: dict[str, Any] = {"me": principal.id}
    where: list[str] = []
    joins = ""
    extra = ""
    order = "e.name, e.id"
    if listing.kind == "shot":
        extra = ", seq.name AS sequence_name, ep.id::text AS episode_id, ep.name AS episode_name, p.name AS project_name"
        joins = ("LEFT JOIN entity seq ON seq.id = e.parent_id LEFT JOIN entity ep ON ep.id = seq.parent_id "
                 "JOIN project p ON p.id = e.project_id")
        where.append("et.name = 'Shot'")
        order = "ep.name NULLS FIRST, seq.name, e.name, e.id"
        if filters.episode_id:
            where.append("seq.parent_id = :episode_id")
            params["episode_id"] = filters.episode_id
        if filters.sequence_id:
            where.append("e.parent_id = :sequence_id")
            params["sequence_id"] = filters.sequence_id
    elif listing.kind == "asset":
        extra = ", et.name AS asset_type_name"
        where.append("et.name NOT IN ('Episode', 'Sequence', 'Shot', 'Scene', 'Edit', 'Concept', 'ConceptFolder')")
        order = "et.name, e.name, e.id"
        if filters.episode_id:
            where.append("e.source_id = :episode_id")
            params["episode_id"] = filters.episode_id
        if filters.asset_type_id:
            where.append("e.entity_type_id = :asset_type_id")
            params["asset_type_id"] = filters.asset_type_id
    else:
        where.append("et.name = :type_name")
        params["type_name"] = listing.kind.capitalize()
        if filters.episode_id and listing.kind == "sequence":
            where.append("e.parent_id = :episode_id")
            params["episode_id"] = filters.episode_id
    if filters.project_id:
        where.append("e.project_id = :project_id")
        params["project_id"] = filters.project_id
    if filters.entity_ids:
        where.append("e.id = ANY(:entity_ids)")
        params["entity_ids"] = list(filters.entity_ids)
    if not principal.is_admin:
        where.append("e.project_id IN (SELECT project_id FROM project_person_link WHERE person_id = :me)")
    task_join = "LEFT JOIN task t ON t.entity_id = e.id"
    if principal.is_vendor:
        assigned = "EXISTS (SELECT 1 FROM task_person_link v WHERE v.task_id = {} AND v.person_id = :me)"
        task_join += " AND " + assigned.format("t.id")
        where.append("EXISTS (SELECT 1 FROM task vt WHERE vt.entity_id = e.id AND "
                     + assigned.format("vt.id") + ")")
    sql = (
        f"SELECT {_ENTITY_COLUMNS}{extra}, {_TASK_COLUMNS} "
        f"FROM entity e JOIN entity_type et ON et.id = e.entity_type_id {joins} {task_join} "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY {order}, t.created_at, t.id"
    )
    return sql, params


def _group(listing: Listing, rows: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """Consecutive rows of one entity become one entity with its tasks."""
    current: dict[str, Any] | None = None
    for row in rows:
        if current is None or current["id"] != row.id:
            if current is not None:
                yield current
            current = listing.build(row)
        if row.t_id is not None:
            current["tasks"].append(_task(row, row.id, listing.task_fields))
    if current is not None:
        yield current


def _compact_row(listing: Listing, entity: dict[str, Any]) -> list[Any]:
    entity["tasks"] = [[t[k] for k in listing.task_fields] for t in entity["tasks"]]
    return [entity[k] for k in listing.fields]


def compact_header(listing: Listing) -> dict[str, Any]:
    return {"compact": True, listing.fields_key: list(listing.fields), "task_fields": list(listing.task_fields)}


async def fetch(
    session: AsyncSession, listing: Listing, principal: Principal, filters: Filters, *,
    compact: bool = False,
) -> Any:
    sql, params = build_query(listing, principal, filters)
    rows = (await session.execute(text(sql), params)).all()
    entities = list(_group(listing, rows))
    if not compact:
        return entities
    return {**compact_header(listing), "rows": [_compact_row(listing, e) for e in entities]}


async def stream(
    sessionmaker: async_sessionmaker[AsyncSession], listing: Listing, principal: Principal, filters: Filters, *,
    compact: bool = False, batch: int = 500,
) -> AsyncIterator[bytes]:
    """NDJSON: a header line, then one line per entity, from a server-side cursor."""
    sql, params = build_query(listing, principal, filters)
    header = compact_header(listing) if compact else {"compact": False}
    yield dumps(header) + b"\n"
    async with sessionmaker() as session, session.begin():
        result = await session.stream(text(sql).execution_options(yield_per=batch), params)

        async def rows() -> AsyncIterator[Any]:
            async for partition in result.partitions(batch):
                for row in partition:
                    yield row

        current: dict[str, Any] | None = None
        buffer: list[bytes] = []
        async for row in rows():
            if current is None or current["id"] != row.id:
                if current is not None:
                    buffer.append(dumps(_compact_row(listing, current) if compact else current) + b"\n")
                    if len(buffer) >= 50:
                        yield b"".join(buffer)
                        buffer = []
                current = listing.build(row)
            if row.t_id is not None:
                current["tasks"].append(_task(row, row.id, listing.task_fields))
        if current is not None:
            buffer.append(dumps(_compact_row(listing, current) if compact else current) + b"\n")
        if buffer:
            yield b"".join(buffer)
