"""The with-tasks listings Kitsu's shot, asset, sequence and episode pages read.

One set-based query per listing, and PostgreSQL writes the JSON: each result row is
one entity, already serialized in Zou's key order, with its tasks aggregated by a
lateral subquery (assignees and the caller's subscription included). Python only joins
the rows, so the cost stays in one indexed query. ``stream=true`` reads the same query
from a server-side cursor and writes NDJSON as it goes (memory stays flat);
``compact=true`` sends field lists once and rows as arrays, as Zou does.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slate_common.db import CompiledRead
from slate_common.security import Principal
from slate_common.serialization import dumps, loads

from .sql_json import float_, ts

#: Every task field a listing may carry: SQL over ``t`` (the task row).
TASK_SQL = {
    "id": "t.id",
    "duration": float_("t.duration"),
    "due_date": ts("t.due_date"),
    "end_date": ts("t.end_date"),
    "done_date": ts("t.done_date"),
    "entity_id": "t.entity_id",
    "estimation": float_("t.estimation"),
    "is_subscribed": "EXISTS(SELECT 1 FROM subscription su WHERE su.task_id = t.id AND su.person_id = :me)",
    "last_comment_date": ts("t.last_comment_date"),
    "last_preview_file_id": "t.last_preview_file_id",
    "nb_assets_ready": "t.nb_assets_ready",
    "priority": "t.priority",
    "real_start_date": ts("t.real_start_date"),
    "retake_count": "t.retake_count",
    "start_date": ts("t.start_date"),
    "difficulty": "t.difficulty",
    "nb_drawings": "t.nb_drawings",
    "task_status_id": "t.task_status_id",
    "task_type_id": "t.task_type_id",
    "assignees": ("COALESCE((SELECT json_agg(l.person_id ORDER BY l.person_id) FROM task_person_link l "
                  "WHERE l.task_id = t.id), '[]'::json)"),
    "data": "t.data",
}

#: Clients are not shown who works on a task, nor its effort, difficulty and last comment
#: (Zou's listings answer them so; its single shot and asset views do not hide them).
CLIENT_TASK_SQL = {**TASK_SQL, "assignees": "'[]'::json", "difficulty": "NULL", "duration": "0", "estimation": "0",
                   "last_comment_date": "NULL"}

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

#: Entity fields per listing: SQL over ``e`` (the entity), ``et`` (its type), ``seq``,
#: ``ep`` (its parents, shots only), ``p`` (its project) and ``tk.tasks``.
SHOT_SQL = {
    "canceled": "e.canceled", "data": "e.data", "description": "e.description",
    "entity_type_id": "e.entity_type_id", "episode_id": "ep.id", "episode_name": "COALESCE(ep.name, '')",
    "fps": "e.data -> 'fps'", "frame_in": "e.data -> 'frame_in'", "frame_out": "e.data -> 'frame_out'",
    "id": "e.id", "name": "e.name", "nb_frames": "e.nb_frames", "parent_id": "e.parent_id",
    "preview_file_id": "e.preview_file_id", "project_id": "e.project_id", "project_name": "p.name",
    "sequence_id": "e.parent_id", "sequence_name": "seq.name", "source_id": "e.source_id",
    "nb_entities_out": "e.nb_entities_out", "is_casting_standby": "e.is_casting_standby", "type": "'Shot'",
    "tasks": "tk.tasks",
}
SHOT_DICT_ORDER = (*[k for k in SHOT_SQL if k not in ("type", "tasks")], "tasks", "type")
ASSET_SQL = {
    "id": "e.id", "name": "e.name", "preview_file_id": "COALESCE(e.preview_file_id::text, '')",
    "description": "e.description", "asset_type_name": "et.name", "asset_type_id": "e.entity_type_id",
    "canceled": "e.canceled", "ready_for": "COALESCE(e.ready_for::text, 'None')",
    "episode_id": "COALESCE(e.source_id::text, '')", "casting_episode_ids": "ce.ids",
    "is_casting_standby": "e.is_casting_standby", "is_shared": "e.is_shared", "data": "e.data", "tasks": "tk.tasks",
}
TEMPORAL_SQL = {
    "id": "e.id", "name": "e.name", "status": "e.status", "episode_id": "COALESCE(e.parent_id::text, 'None')",
    "description": "e.description", "frame_in": "e.data -> 'frame_in'", "frame_out": "e.data -> 'frame_out'",
    "fps": "e.data -> 'fps'", "preview_file_id": "COALESCE(e.preview_file_id::text, '')", "canceled": "e.canceled",
    "data": "e.data", "tasks": "tk.tasks",
}


@dataclass(frozen=True)
class Listing:
    kind: str  # "shot", "asset", "sequence", "episode"
    sql: dict[str, str]
    dict_order: tuple[str, ...]
    task_fields: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.sql)

    @property
    def fields_key(self) -> str:
        return f"{self.kind}_fields"


SHOTS = Listing("shot", SHOT_SQL, SHOT_DICT_ORDER, SHOT_TASK_FIELDS)
ASSETS = Listing("asset", ASSET_SQL, tuple(ASSET_SQL), ASSET_TASK_FIELDS)
SEQUENCES = Listing("sequence", TEMPORAL_SQL, tuple(TEMPORAL_SQL), SHOT_TASK_FIELDS)
EPISODES = Listing("episode", TEMPORAL_SQL, tuple(TEMPORAL_SQL), SHOT_TASK_FIELDS)


@dataclass(frozen=True)
class Filters:
    project_id: uuid.UUID | None = None
    episode_id: uuid.UUID | None = None
    sequence_id: uuid.UUID | None = None
    asset_type_id: uuid.UUID | None = None
    entity_ids: tuple[uuid.UUID, ...] = ()


def _object(keys: tuple[str, ...], sql: dict[str, str]) -> str:
    return "json_build_object(" + ", ".join(f"'{k}', {sql[k]}" for k in keys) + ")"


def _array(keys: tuple[str, ...], sql: dict[str, str]) -> str:
    return "json_build_array(" + ", ".join(sql[k] for k in keys) + ")"


@dataclass(frozen=True)
class Scope:
    """What a listing reads for a caller: joins, conditions and order over ``e`` (the
    entity) and ``et``, and the condition on its tasks ``t``."""

    joins: str
    where: str
    order: str
    task_filter: str  # over ``t``, besides belonging to the entity
    params: dict[str, Any]


def scope(listing: Listing, *, principal: Principal, filters: Filters) -> Scope:
    """The listing's rows for ``principal``: scope and vendor restriction inside."""
    params: dict[str, Any] = {"me": principal.id}
    where: list[str] = []
    joins = "JOIN project p ON p.id = e.project_id"
    order = "e.name, e.id"
    if listing.kind == "shot":
        joins += " LEFT JOIN entity seq ON seq.id = e.parent_id LEFT JOIN entity ep ON ep.id = seq.parent_id"
        where.append("et.name = 'Shot'")
        order = "ep.name NULLS FIRST, seq.name, e.name, e.id"
        if filters.episode_id:
            where.append("seq.parent_id = :episode_id")
            params["episode_id"] = filters.episode_id
        if filters.sequence_id:
            where.append("e.parent_id = :sequence_id")
            params["sequence_id"] = filters.sequence_id
    elif listing.kind == "asset":
        where.append("et.name NOT IN ('Episode', 'Sequence', 'Shot', 'Scene', 'Edit', 'Concept', 'ConceptFolder')")
        order = "et.name, e.name, e.id"
        # the episodes casting the asset (all of them, or the one filtered on); Zou
        # lists them in a project's listing only (none in the studio-wide one)
        in_episode = " AND l.entity_in_id = :episode_id" if filters.episode_id else ""
        if filters.project_id:
            joins += (" LEFT JOIN LATERAL (SELECT COALESCE(json_agg(l.entity_in_id ORDER BY ep.name, ep.id),"
                      " '[]'::json) AS ids, count(*) AS n, sum(extract(epoch FROM l.updated_at)) AS s"
                      " FROM entity_link l JOIN entity ep ON ep.id = l.entity_in_id"
                      " JOIN entity_type ept ON ept.id = ep.entity_type_id"
                      f" AND ept.name = 'Episode' WHERE l.entity_out_id = e.id{in_episode}) ce ON true")
        else:
            joins += " CROSS JOIN (SELECT '[]'::json AS ids, 0 AS n, 0 AS s) ce"
        if filters.episode_id:
            # made in the episode, or cast in it
            where.append("(e.source_id = :episode_id OR EXISTS (SELECT 1 FROM entity_link el "
                         "WHERE el.entity_in_id = :episode_id AND el.entity_out_id = e.id))")
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
    task_filter = "true"
    if principal.is_vendor:
        assigned = "EXISTS (SELECT 1 FROM task_person_link v WHERE v.task_id = {} AND v.person_id = :me)"
        task_filter = assigned.format("t.id")
        where.append("EXISTS (SELECT 1 FROM task vt WHERE vt.entity_id = e.id AND " + assigned.format("vt.id") + ")")
    return Scope(joins=f"JOIN entity_type et ON et.id = e.entity_type_id {joins}", where=" AND ".join(where),
                 order=order, task_filter=task_filter, params=params)


def build_query(listing: Listing, *, principal: Principal, filters: Filters, compact: bool = False,
                with_ids: bool = False, client_view: bool = True) -> tuple[str, dict[str, Any]]:
    """The SQL of a listing for ``principal``: one text column, the entity's JSON (after
    the entity's id with ``with_ids``); a client's tasks as :data:`CLIENT_TASK_SQL` has
    them unless not ``client_view``."""
    sc = scope(listing, principal=principal, filters=filters)
    task_sql = CLIENT_TASK_SQL if principal.is_client and client_view else TASK_SQL
    task_json = _array(listing.task_fields, task_sql) if compact else _object(listing.task_fields, task_sql)
    entity_json = _array(listing.fields, listing.sql) if compact else _object(listing.dict_order, listing.sql)
    sql = (
        f"SELECT {'e.id, ' if with_ids else ''}({entity_json})::text AS row FROM entity e {sc.joins} "
        f"LEFT JOIN LATERAL (SELECT COALESCE(json_agg({task_json} ORDER BY t.created_at, t.id), '[]'::json) AS tasks "
        f"FROM task t WHERE t.entity_id = e.id AND {sc.task_filter}) tk ON true "
        f"WHERE {sc.where} ORDER BY {sc.order}"
    )
    return sql, sc.params


#: The rows besides the entity and its tasks whose changes show in a listing's row:
#: a shot names its sequence, episode and project; an asset its type.
ROW_SOURCES = {"shot": ("seq", "ep", "p"), "asset": ("et",)}


def stamps_query(listing: Listing, *, principal: Principal, filters: Filters) -> tuple[str, dict[str, Any]]:
    """The SQL of the listing's entity ids in order, each with a stamp of everything its
    row is built from: the ``updated_at`` of the entity and of the rows it names, and the
    count and sum of ``updated_at`` of its tasks (the only writers of assignations,
    ``task_ops.assign`` and ``clear_assignation``, bump the task's ``updated_at``). A
    committed change to any of them changes the stamp, whatever the commit order (a sum,
    not a max). Tasks are aggregated for the whole project at once (``filters.project_id``
    is set): one scan, not a lookup per entity."""
    assert filters.project_id is not None
    sc = scope(listing, principal=principal, filters=filters)
    sources = ("e", *ROW_SOURCES.get(listing.kind, ()))
    parts = [f"date_part('epoch', {a}.updated_at)" for a in sources]
    if listing.kind == "asset":  # casting_episode_ids: its links to episodes
        parts += ["ce.n", "ce.s"]
    sql = (
        f"SELECT e.id, concat_ws(':', {', '.join(parts)}, ts.n, ts.s) FROM entity e {sc.joins} "
        "LEFT JOIN (SELECT t.entity_id, count(*) AS n, sum(date_part('epoch', t.updated_at)) AS s FROM task t "
        f"WHERE t.project_id = :project_id AND {sc.task_filter} GROUP BY t.entity_id) ts ON ts.entity_id = e.id "
        f"WHERE {sc.where} ORDER BY {sc.order}"
    )
    return sql, sc.params


def compact_header(listing: Listing) -> dict[str, Any]:
    return {"compact": True, listing.fields_key: list(listing.fields), "task_fields": list(listing.task_fields)}


#: The listings' statements by their SQL, compiled once (a listing's SQL depends on the
#: listing, the caller's kind and which filters are set, not on their values): a ``text()``
#: made per request parsed the whole SQL for its parameters each time.
_COMPILED: dict[str, CompiledRead] = {}
_COMPILED_BOUND = 512


def compiled(sql: str) -> CompiledRead:
    read = _COMPILED.get(sql)
    if read is None:
        if len(_COMPILED) >= _COMPILED_BOUND:
            _COMPILED.clear()
        read = _COMPILED[sql] = CompiledRead(text(sql))
    return read


async def fetch_json(session: AsyncSession, *, listing: Listing, principal: Principal, filters: Filters, compact: bool = False, client_view: bool = True) -> bytes:
    """The whole listing as a JSON document (bytes), as Zou answers it."""
    sql, params = build_query(listing, principal=principal, filters=filters, compact=compact, client_view=client_view)
    return document(listing, rows=[row[0] for row in await compiled(sql).all(session, **params)], compact=compact)


def document(listing: Listing, *, rows: Sequence[str], compact: bool = False) -> bytes:
    """The JSON answer made of rows (each an entity's JSON): an array, or the compact object."""
    body = "[" + ",".join(rows) + "]"
    if not compact:
        return body.encode()
    header = dumps(compact_header(listing))
    return header[:-1] + b',"rows":' + body.encode() + b"}"


async def fetch(session: AsyncSession, *, listing: Listing, principal: Principal, filters: Filters, client_view: bool = True) -> list[dict[str, Any]]:
    """The listing as Python dicts (for single-entity views)."""
    return loads(await fetch_json(session, listing=listing, principal=principal, filters=filters,  # type: ignore[no-any-return]
                                  client_view=client_view))


async def stream(
    sessionmaker: async_sessionmaker[AsyncSession], *, listing: Listing, principal: Principal, filters: Filters, compact: bool = False, batch: int = 500,
) -> AsyncIterator[bytes]:
    """NDJSON: a header line, then one line per entity, from a server-side cursor."""
    sql, params = build_query(listing, principal=principal, filters=filters, compact=compact)
    yield dumps(compact_header(listing) if compact else {"compact": False}) + b"\n"
    async with sessionmaker() as session, session.begin():
        result = await session.stream(text(sql).execution_options(yield_per=batch), params)
        async for partition in result.scalars().partitions(batch):
            yield ("\n".join(partition) + "\n").encode()
