"""Reading casting (breakdown): which assets a shot, an asset, a sequence or an episode
uses and where an asset is cast, each listing one set-based query; the read checks of
the casting routes (the project's team, vendors refused, as in Zou)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.errors import Forbidden, NotFound
from slate_common.params import Page, paginate
from slate_common.security import Principal
from slate_common.serialization import serialize_value

from ..models import TEMPORAL_TYPES, Entity, EntityLink, EntityType, Project, Task, entity_concept_link
from . import access
from .entities import kind_of, serialize_entity
from .task_queries import vendor_filter
from .tasks import assignees_of

# --- permissions and lookups -------------------------------------------------------------


async def check_read(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> None:
    """Casting is read by the project's team; vendors and people outside the team are
    refused (403) as in Zou; 404 when there is no such project."""
    role = await access.project_role(session, principal=principal, project_id=project_id)
    if role is None:
        await access.check_read(session, principal=principal, project_id=project_id)
        raise Forbidden()
    if role == "vendor":
        raise Forbidden()


async def load_entity(session: AsyncSession, *, entity_id: uuid.UUID, project_id: uuid.UUID | None = None,
                      kind: str | None = None) -> tuple[Entity, str]:
    """An entity and its entity type name; 404 when missing, of another project or not
    of ``kind`` ("Asset", "Shot", ...)."""
    row = (await session.execute(
        select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(Entity.id == entity_id)
    )).first()
    if row is None:
        raise NotFound()
    entity, type_name = row[0], str(row[1])
    if project_id is not None and entity.project_id != project_id:
        raise NotFound()
    if kind is not None and kind_of(type_name) != kind:
        raise NotFound()
    return entity, type_name


async def readable_entity(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID, kind: str | None = None, vendors: bool = False) -> tuple[Entity, str]:
    entity, type_name = await load_entity(session, entity_id=entity_id, kind=kind)
    if vendors:
        await access.check_read(session, principal=principal, project_id=entity.project_id)
    else:
        await check_read(session, principal=principal, project_id=entity.project_id)
    return entity, type_name


# --- reads ----------------------------------------------------------------------------------


def _casting_columns() -> tuple[Any, Any, Any]:
    asset, atype = aliased(Entity, name="asset"), aliased(EntityType, name="asset_type")
    stmt = (
        select(EntityLink.entity_in_id, asset.id, asset.name, atype.name, asset.ready_for, asset.source_id,
               asset.preview_file_id, EntityLink.nb_occurences, EntityLink.label, asset.is_shared, asset.project_id)
        .join(asset, asset.id == EntityLink.entity_out_id)
        .join(atype, atype.id == asset.entity_type_id)
    )
    return stmt, asset, atype


async def entity_casting(session: AsyncSession, *, entity_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The casting of each entity (Zou's casting rows), by asset type name and asset name."""
    stmt, asset, atype = _casting_columns()
    rows = await session.execute(stmt.where(EntityLink.entity_in_id.in_(list(entity_ids)))
                                 .order_by(atype.name, asset.name, asset.id))
    out: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in entity_ids}
    for (entity_in, asset_id, name, type_name, ready_for, source_id, preview, nb, label, shared, project) in rows:
        out[entity_in].append({
            "asset_id": serialize_value(asset_id), "asset_name": name, "asset_type_name": type_name,
            "ready_for": serialize_value(ready_for), "episode_id": serialize_value(source_id), "preview_file_id": serialize_value(preview),
            "nb_occurences": nb, "label": label or "", "is_shared": shared, "project_id": serialize_value(project),
        })
    return out


async def shots_casting(session: AsyncSession, *, project_id: uuid.UUID, sequence_id: uuid.UUID | None = None,
                        episode_id: uuid.UUID | None = None) -> bytes:
    """Casting of the project's shots (of a sequence, of an episode), keyed by shot id:
    the JSON object is written by PostgreSQL in one query (Kitsu's breakdown page reads
    the whole production's)."""
    asset, atype = aliased(Entity, name="asset"), aliased(EntityType, name="asset_type")
    shot, seq, shot_type = aliased(Entity, name="shot"), aliased(Entity, name="seq"), aliased(EntityType)
    row = func.json_build_object(
        "asset_id", asset.id, "name", asset.name, "asset_name", asset.name, "asset_type_name", atype.name,
        "sequence_name", seq.name, "preview_file_id", asset.preview_file_id,
        "nb_occurences", EntityLink.nb_occurences, "label", func.coalesce(EntityLink.label, ""),
        "is_shared", asset.is_shared, "project_id", asset.project_id,
    )
    per_shot = (
        select(shot.id.label("shot_id"), seq.name.label("seq_name"), shot.name.label("shot_name"),
               func.json_agg(aggregate_order_by(row, atype.name, asset.name, asset.id)).label("rows"))
        .select_from(EntityLink)
        .join(asset, asset.id == EntityLink.entity_out_id)
        .join(atype, atype.id == asset.entity_type_id)
        .join(shot, shot.id == EntityLink.entity_in_id)
        .join(shot_type, shot_type.id == shot.entity_type_id)
        .join(seq, seq.id == shot.parent_id)
        .where(shot.project_id == project_id, shot_type.name == "Shot")
        .group_by(shot.id, seq.name, shot.name)
    )
    if sequence_id is not None:
        per_shot = per_shot.where(seq.id == sequence_id)
    if episode_id is not None:
        per_shot = per_shot.where(seq.parent_id == episode_id)
    sub = per_shot.subquery()
    text_ = await session.scalar(select(cast(func.coalesce(
        func.json_object_agg(sub.c.shot_id, aggregate_order_by(sub.c.rows, sub.c.seq_name, sub.c.shot_name,
                                                                 sub.c.shot_id)),
        func.json_build_object()), Text)))  # {} when nothing is cast (a bound "{}" was sent as a JSON string)
    return str(text_).encode()


async def holders_casting(session: AsyncSession, *, project_id: uuid.UUID, kind: str,
                          asset_type_id: uuid.UUID | None = None) -> dict[str, list[dict[str, Any]]]:
    """Casting of the project's episodes (``kind="Episode"``: as Zou, of every entity of
    the project that casts, its shots and assets too) or of its assets of a type
    (``kind="Asset"``), keyed by their ids."""
    stmt, asset, atype = _casting_columns()
    holder, holder_type = aliased(Entity, name="holder"), aliased(EntityType, name="holder_type")
    stmt = (stmt.join(holder, holder.id == EntityLink.entity_in_id)
            .join(holder_type, holder_type.id == holder.entity_type_id)
            .where(holder.project_id == project_id))
    if kind != "Episode":
        stmt = stmt.where(holder.entity_type_id == asset_type_id, holder_type.name.not_in(TEMPORAL_TYPES))
    rows = await session.execute(stmt.order_by(atype.name, asset.name, asset.id, holder.name))
    out: dict[str, list[dict[str, Any]]] = {}
    for (holder_id, asset_id, name, type_name, _, _, preview, nb, label, shared, project) in rows:
        row: dict[str, Any] = {"asset_id": serialize_value(asset_id), "name": name, "asset_name": name,
                               "asset_type_name": type_name, "preview_file_id": serialize_value(preview), "nb_occurences": nb,
                               "label": label or ""}
        if kind == "Episode":
            row.update(is_shared=shared, project_id=serialize_value(project))
        out.setdefault(str(holder_id), []).append(row)
    return out


async def cast_in(session: AsyncSession, *, asset_id: uuid.UUID) -> list[dict[str, Any]]:
    """The shots casting an asset (with sequence and episode; canceled shots left out, as
    Zou does), then the assets casting it."""
    holder, holder_type = aliased(Entity, name="holder"), aliased(EntityType, name="holder_type")
    seq, episode = aliased(Entity, name="seq"), aliased(Entity, name="episode")
    rows = (await session.execute(
        select(holder.id, holder.name, holder_type.name, holder.preview_file_id, EntityLink.nb_occurences,
               seq.name, episode.id, episode.name)
        .select_from(EntityLink).join(holder, holder.id == EntityLink.entity_in_id)
        .join(holder_type, holder_type.id == holder.entity_type_id)
        .outerjoin(seq, seq.id == holder.parent_id)
        .outerjoin(episode, episode.id == seq.parent_id)
        .where(EntityLink.entity_out_id == asset_id,
               ((holder_type.name == "Shot") & holder.canceled.is_(False)) | holder_type.name.not_in(TEMPORAL_TYPES))
        .order_by(episode.name.nulls_first(), seq.name, holder_type.name, holder.name, holder.id)
    )).all()
    shots, assets = [], []
    for (hid, name, type_name, preview, nb, seq_name, episode_id, episode_name) in rows:
        if type_name == "Shot":
            shots.append({"shot_id": serialize_value(hid), "shot_name": name, "sequence_name": seq_name,
                          "episode_id": serialize_value(episode_id), "episode_name": episode_name,
                          "preview_file_id": serialize_value(preview), "nb_occurences": nb})
        else:
            assets.append({"asset_id": serialize_value(hid), "asset_name": name, "asset_type_name": type_name,
                           "preview_file_id": serialize_value(preview), "nb_occurences": nb})
    return shots + assets


async def cast_assets(session: AsyncSession, *, entity_id: uuid.UUID) -> list[dict[str, Any]]:
    """The assets an entity casts, as plain asset rows, in the order they were cast."""
    rows = (await session.execute(
        select(Entity, EntityType.name).join(EntityLink, EntityLink.entity_out_id == Entity.id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(EntityLink.entity_in_id == entity_id).order_by(EntityLink.created_at, EntityLink.id)
    )).all()
    return [serialize_entity(asset, type_name=str(type_name)) for asset, type_name in rows]


async def cast_asset_types(session: AsyncSession, *, entity_id: uuid.UUID) -> list[dict[str, Any]]:
    """The asset types of the assets an entity casts."""
    used = select(Entity.entity_type_id).join(EntityLink, EntityLink.entity_out_id == Entity.id).where(
        EntityLink.entity_in_id == entity_id)
    types = (await session.scalars(select(EntityType).where(EntityType.id.in_(used))
                                   .order_by(EntityType.name))).all()
    return [{"name": t.name, "short_name": t.short_name, "description": t.description, "archived": t.archived,
             "id": serialize_value(t.id), "created_at": serialize_value(t.created_at), "updated_at": serialize_value(t.updated_at), "type": "AssetType"}
            for t in types]


async def shared_used(session: AsyncSession, *, project_id: uuid.UUID,
                      episode_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Shared assets of other projects cast in this project (in an episode: in its shots
    or in the episode itself)."""
    holder, seq = aliased(Entity, name="holder"), aliased(Entity, name="seq")
    casting = select(EntityLink.entity_out_id).join(holder, holder.id == EntityLink.entity_in_id)
    if episode_id is None:
        casting = casting.where(holder.project_id == project_id)
    else:
        casting = casting.outerjoin(seq, seq.id == holder.parent_id).where(
            holder.project_id == project_id, (seq.parent_id == episode_id) | (holder.id == episode_id))
    rows = (await session.execute(
        select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(Entity.id.in_(casting), Entity.is_shared.is_(True), Entity.project_id != project_id)
        .order_by(EntityType.name, Entity.name, Entity.id)
    )).all()
    return [serialize_entity(asset, type_name=str(type_name)) for asset, type_name in rows]


async def project_links(session: AsyncSession, *, project_id: uuid.UUID, page: int | None = None,
                        limit: int = 100, cursor: dt.datetime | None = None) -> Any:
    """The links of a project's entities, oldest first (``cursor``: created after it);
    with ``page``, Zou's page envelope."""
    stmt = (select(EntityLink).join(Entity, Entity.id == EntityLink.entity_in_id)
            .where(Entity.project_id == project_id))
    if cursor is not None:
        stmt = stmt.where(EntityLink.created_at > cursor)
    stmt = stmt.order_by(EntityLink.created_at, EntityLink.id)
    if page is None:
        rows = await session.execute(stmt.with_only_columns(
            EntityLink.id, EntityLink.entity_in_id, EntityLink.entity_out_id, EntityLink.nb_occurences,
            EntityLink.label, EntityLink.data, EntityLink.created_at))
        return [{"id": str(i), "entity_in_id": str(e_in), "entity_out_id": str(e_out), "nb_occurences": nb,
                 "label": label, "data": data, "created_at": created.isoformat(), "type": "EntityLink"}
                for i, e_in, e_out, nb, label, data, created in rows]
    return await paginate(session, stmt=stmt, page=Page(page, limit), serialize=lambda links: [link.serialize() for link in links])


async def concepts_linked(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID) -> list[dict[str, Any]]:
    """The concepts linked to an entity, with their tasks and their own linked entities."""
    rows = (await session.execute(
        select(Entity, EntityType.name, Project.name)
        .join(entity_concept_link, entity_concept_link.c.entity_in_id == Entity.id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .join(Project, Project.id == Entity.project_id)
        .where(entity_concept_link.c.entity_out_id == entity_id).order_by(Entity.name, Entity.id)
    )).all()
    if not rows:
        return []
    ids = [row[0].id for row in rows]
    links: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    for concept_id, out_id in (await session.execute(
        select(entity_concept_link.c.entity_in_id, entity_concept_link.c.entity_out_id)
        .where(entity_concept_link.c.entity_in_id.in_(ids)).order_by(entity_concept_link.c.entity_out_id)
    )).all():
        links[concept_id].append(str(out_id))
    task_rows = list((await session.scalars(
        select(Task).where(Task.entity_id.in_(ids), vendor_filter(principal)).order_by(Task.created_at, Task.id)
    )).all())
    assignees = await assignees_of(session, task_ids=[t.id for t in task_rows])
    tasks: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    for t in task_rows:
        tasks[t.entity_id].append({
            "id": serialize_value(t.id), "duration": t.duration, "due_date": serialize_value(t.due_date), "end_date": serialize_value(t.end_date),
            "entity_id": serialize_value(t.entity_id), "estimation": t.estimation, "last_comment_date": serialize_value(t.last_comment_date),
            "nb_assets_ready": t.nb_assets_ready, "priority": t.priority, "real_start_date": serialize_value(t.real_start_date),
            "retake_count": t.retake_count, "start_date": serialize_value(t.start_date), "task_status_id": serialize_value(t.task_status_id),
            "task_type_id": serialize_value(t.task_type_id), "assigner_id": serialize_value(t.assigner_id), "assignees": assignees[t.id],
        })
    out = []
    for concept, type_name, project_name in rows:
        data = concept.data or {}
        out.append({
            "canceled": concept.canceled, "data": concept.data, "description": concept.description,
            "entity_type_id": serialize_value(concept.entity_type_id), "fps": data.get("fps"),
            "frame_in": data.get("frame_in"), "frame_out": data.get("frame_out"), "id": serialize_value(concept.id),
            "name": concept.name, "nb_frames": concept.nb_frames, "parent_id": serialize_value(concept.parent_id),
            "preview_file_id": serialize_value(concept.preview_file_id), "project_id": serialize_value(concept.project_id),
            "project_name": project_name, "source_id": serialize_value(concept.source_id),
            "nb_entities_out": concept.nb_entities_out, "is_casting_standby": concept.is_casting_standby,
            "tasks": tasks[concept.id], "entity_concept_links": links[concept.id], "type": kind_of(str(type_name)),
            "updated_at": serialize_value(concept.updated_at), "created_at": serialize_value(concept.created_at),
            "created_by": serialize_value(concept.created_by),
        })
    return out


_HOLDER_TYPE = aliased(EntityType, name="holder_type")
_ENTITY = bindparam("entity_id", type_=PG_UUID(as_uuid=True))
#: An entity's links both ways with the type of the entity holding each; built once
#: (building it, its alias and its cache key cost more than running it).
_LINK_LISTS = (
    select(EntityLink.entity_in_id, EntityLink.entity_out_id, _HOLDER_TYPE.name)
    .join(Entity, Entity.id == EntityLink.entity_in_id)
    .join(_HOLDER_TYPE, _HOLDER_TYPE.id == Entity.entity_type_id)
    .where((EntityLink.entity_in_id == _ENTITY) | (EntityLink.entity_out_id == _ENTITY))
    .order_by(EntityLink.created_at, EntityLink.id)
)


async def link_lists(session: AsyncSession, *, entity_id: uuid.UUID) -> dict[str, list[str]]:
    """``entities_out`` (what the entity casts), ``entities_in`` (what casts it) and
    ``casting_episode_ids`` (the episodes among those), as on Zou's single entity rows."""
    rows = (await session.execute(_LINK_LISTS, {"entity_id": entity_id})).all()
    return {"entities_out": [str(o) for i, o, _ in rows if i == entity_id],
            "entities_in": [str(i) for i, o, _ in rows if o == entity_id],
            "casting_episode_ids": [str(i) for i, o, t in rows if o == entity_id and t == "Episode"]}
