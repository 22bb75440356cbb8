"""Casting (breakdown): the assets a shot, an asset, a sequence or an episode uses.

A cast is an :class:`EntityLink` from the entity (``entity_in``) to the asset
(``entity_out``) with a number of occurrences and a label. As in Zou:

- setting an entity's casting replaces its links (new link ids, ``entity-link:new`` for
  each), keeps the entity's ``nb_entities_out`` as its number of links and ends with
  ``<kind>:casting-update`` (``added_asset_ids``, ``removed_asset_ids``, ``nb_entities_out``);
- a shot of an episode casting an asset casts it in the episode too: an automatic link
  (``data = {"auto": true}``, the shot link's label) announced by ``asset:update``; when no
  shot of the episode casts the asset any more, that link goes (``episode:casting-update``,
  then ``asset:update``);
- entries without ``nb_occurences`` are skipped (Zou's full casting update does the same).

Slate refuses what Zou stores silently: unknown assets, entities that are not assets,
assets of another project that are not shared, negative occurrences (400).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Text, cast, delete, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.events import emit
from slate_common.security import Principal
from slate_common.serialization import now, serialize_value

from ..models import TEMPORAL_TYPES, Entity, EntityLink, EntityType, Project, Task, entity_concept_link
from . import access
from .task_queries import vendor_filter
from .tasks import assignees_of
from .entities import emit_entity_event, kind_of, serialize_entity

AUTO = {"auto": True}


# --- input ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    asset_id: uuid.UUID
    nb_occurences: int
    label: str


def _uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"Invalid {field}: {value!r} is not an id.") from exc


def _occurences(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("nb_occurences must be an integer.")
    if value < 0:
        raise BadRequest("nb_occurences must not be negative.")
    return value


def _label(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest("label must be a string.")
    if len(value) > 80:
        raise BadRequest("label is too long (80 characters at most).")
    return value


def parse_casting(body: Any) -> list[Cast]:
    """A casting list as Kitsu sends it (``[{"asset_id", "nb_occurences", "label"}]``);
    the last entry of an asset wins."""
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array")
    out: dict[uuid.UUID, Cast] = {}
    for item in body:
        if not isinstance(item, dict):
            raise BadRequest("Each casting entry must be an object.")
        if item.get("asset_id") is None:
            raise BadRequest("A casting entry has no asset_id.")
        asset_id = _uuid(item["asset_id"], "asset_id")
        if "nb_occurences" not in item:
            continue
        out.pop(asset_id, None)
        out[asset_id] = Cast(asset_id, _occurences(item["nb_occurences"]), _label(item.get("label")))
    return list(out.values())


# --- permissions and lookups -------------------------------------------------------------


async def check_read(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> None:
    """Casting is read by the project's team; vendors and people outside the team are
    refused (403) as in Zou; 404 when there is no such project."""
    role = await access.project_role(session, principal, project_id)
    if role is None:
        await access.check_read(session, principal, project_id)
        raise Forbidden()
    if role == "vendor":
        raise Forbidden()


async def load_entity(session: AsyncSession, entity_id: uuid.UUID, *, project_id: uuid.UUID | None = None,
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


async def readable_entity(session: AsyncSession, principal: Principal, entity_id: uuid.UUID, *,
                          kind: str | None = None, vendors: bool = False) -> tuple[Entity, str]:
    entity, type_name = await load_entity(session, entity_id, kind=kind)
    if vendors:
        await access.check_read(session, principal, entity.project_id)
    else:
        await check_read(session, principal, entity.project_id)
    return entity, type_name


async def _assets(session: AsyncSession, project_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Entity]:
    """The assets cast, checked: they exist, are assets, and belong to the project or
    are shared."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = (await session.execute(
        select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(Entity.id.in_(wanted))
    )).all()
    found = {row[0].id: (row[0], str(row[1])) for row in rows}
    for asset_id in wanted:
        if asset_id not in found:
            raise BadRequest(f"Asset {asset_id} does not exist.")
        asset, type_name = found[asset_id]
        if type_name in TEMPORAL_TYPES:
            raise BadRequest(f"Entity {asset_id} is not an asset.")
        if asset.project_id != project_id and not asset.is_shared:
            raise BadRequest(f"Asset {asset_id} belongs to another project and is not shared.")
    return {k: v[0] for k, v in found.items()}


async def _episode_of(session: AsyncSession, entity: Entity, type_name: str) -> uuid.UUID | None:
    """The episode of a shot (through its sequence), else None."""
    if type_name != "Shot" or entity.parent_id is None:
        return None
    episode = aliased(Entity)
    return await session.scalar(
        select(episode.id).select_from(Entity).join(episode, episode.id == Entity.parent_id)
        .join(EntityType, EntityType.id == episode.entity_type_id)
        .where(Entity.id == entity.parent_id, EntityType.name == "Episode")
    )


# --- events --------------------------------------------------------------------------------


def _link_data(link: EntityLink, project_id: uuid.UUID, *, new: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"project_id": str(project_id)}
    if new:
        data.update(entity_in_id=str(link.entity_in_id), entity_out_id=str(link.entity_out_id))
    data.update(nb_occurences=link.nb_occurences, entity_link_id=str(link.id), snapshot=link.serialize())
    return data


def _casting_update(session: AsyncSession, principal: Principal, entity: Entity, type_name: str, *,
                    added: Iterable[uuid.UUID], removed: Iterable[uuid.UUID]) -> None:
    kind = kind_of(type_name)
    # Zou's names: shots and episodes have their own, anything else (an asset, a
    # sequence) is announced as an asset
    prefix = "shot" if kind == "Shot" else "episode" if kind == "Episode" else "asset"
    emit(session, f"{prefix}:casting-update", {
        f"{prefix}_id": str(entity.id),
        "project_id": str(entity.project_id),
        "added_asset_ids": sorted(str(a) for a in added),
        "nb_entities_out": entity.nb_entities_out,
        "removed_asset_ids": sorted(str(r) for r in removed),
    }, project_id=entity.project_id, actor_id=principal.id)


async def _count_links(session: AsyncSession, entity_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    ids = list(entity_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(EntityLink.entity_in_id, func.count()).where(EntityLink.entity_in_id.in_(ids))
        .group_by(EntityLink.entity_in_id)
    )
    counts = {i: 0 for i in ids}
    counts.update({row[0]: int(row[1]) for row in rows})
    return counts


def _touch(entity: Entity, nb_entities_out: int) -> None:
    entity.nb_entities_out = nb_entities_out
    entity.updated_at = now()


# --- episode links ------------------------------------------------------------------------


async def _add_episode_links(session: AsyncSession, episode_id: uuid.UUID | None,
                             casts: Sequence[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
    """Cast in the episode the assets its shot now casts (one statement; a link already
    there, even one written concurrently, is kept); answers the assets newly cast."""
    if episode_id is None or not casts:
        return set()
    stamp = now()
    labels = dict(reversed(casts))  # the first label given for an asset
    rows = [{"id": uuid.uuid4(), "entity_in_id": episode_id, "entity_out_id": asset_id, "nb_occurences": 1,
             "label": label, "data": dict(AUTO), "created_at": stamp, "updated_at": stamp}
            for asset_id, label in labels.items()]
    added = set((await session.scalars(
        pg_insert(EntityLink).values(rows)
        .on_conflict_do_nothing(index_elements=["entity_in_id", "entity_out_id"])
        .returning(EntityLink.entity_out_id)
    )).all())
    if added:
        episode = await session.get(Entity, episode_id)
        if episode is not None:
            _touch(episode, (await _count_links(session, [episode_id]))[episode_id])
    return added


async def _prune_episode_links(session: AsyncSession, principal: Principal, episode_id: uuid.UUID | None,
                               asset_ids: Iterable[uuid.UUID]) -> None:
    """Remove the automatic episode links of assets no shot of the episode casts any more
    (``episode:casting-update``, then ``asset:update`` for each asset)."""
    candidates = set(asset_ids)
    if episode_id is None or not candidates:
        return
    shot, link = aliased(Entity), aliased(EntityLink)
    still_cast = (
        select(link.entity_out_id).join(shot, shot.id == link.entity_in_id)
        .join(Entity, Entity.id == shot.parent_id)
        .where(Entity.parent_id == episode_id, link.entity_out_id.in_(candidates))
    )
    stale = list((await session.scalars(
        delete(EntityLink).where(
            EntityLink.entity_in_id == episode_id, EntityLink.entity_out_id.in_(candidates),
            EntityLink.data.contains(AUTO), EntityLink.entity_out_id.not_in(still_cast),
        ).returning(EntityLink.entity_out_id)
    )).all())
    if not stale:
        return
    episode = await session.get(Entity, episode_id)
    if episode is not None:
        _touch(episode, (await _count_links(session, [episode_id]))[episode_id])
        _casting_update(session, principal, episode, "Episode", added=(), removed=stale)
    for asset in (await session.scalars(select(Entity).where(Entity.id.in_(stale)))).all():
        await emit_entity_event(session, "update", asset, actor_id=principal.id, type_name="Asset")


# --- writes ---------------------------------------------------------------------------------


async def set_casting(session: AsyncSession, principal: Principal, *, entity: Entity, type_name: str,
                      casting: list[Cast], checked: bool = False) -> None:
    """Replace ``entity``'s casting (managers of its project)."""
    if not checked:
        await access.check_manager(session, principal, entity.project_id)
    assets = await _assets(session, entity.project_id, [c.asset_id for c in casting])
    if entity.id in assets:
        raise BadRequest("An asset cannot be cast in itself.")
    before = set((await session.scalars(
        delete(EntityLink).where(EntityLink.entity_in_id == entity.id).returning(EntityLink.entity_out_id)
    )).all())
    episode_id = await _episode_of(session, entity, type_name)
    links = [EntityLink(id=uuid.uuid4(), entity_in_id=entity.id, entity_out_id=c.asset_id,
                        nb_occurences=c.nb_occurences, label=c.label) for c in casting]
    session.add_all(links)
    await session.flush()
    in_episode = await _add_episode_links(session, episode_id, [(c.asset_id, c.label) for c in casting])
    for link in links:
        if link.entity_out_id in in_episode:
            await emit_entity_event(session, "update", assets[link.entity_out_id], actor_id=principal.id,
                                    type_name="Asset")
        emit(session, "entity-link:new", _link_data(link, entity.project_id, new=True),
             project_id=entity.project_id, actor_id=principal.id)
    after = {c.asset_id for c in casting}
    _touch(entity, len(links))
    _casting_update(session, principal, entity, type_name, added=after - before, removed=before - after)
    await _prune_episode_links(session, principal, episode_id, before - after)
    await session.flush()


async def set_castings(session: AsyncSession, principal: Principal, *, project_id: uuid.UUID,
                       body: Any) -> None:
    """``{entity_id: casting}`` for several entities of a project, all checked first."""
    await access.check_manager(session, principal, project_id)
    if not isinstance(body, dict):
        raise BadRequest("A JSON object mapping entity ids to castings is expected.")
    parsed = {_uuid(key, "entity id"): parse_casting(value) for key, value in body.items()}
    rows = (await session.execute(
        select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(Entity.id.in_(list(parsed)))
    )).all()
    entities = {row[0].id: (row[0], str(row[1])) for row in rows}
    for entity_id in parsed:
        if entity_id not in entities or entities[entity_id][0].project_id != project_id:
            raise NotFound()
    await _assets(session, project_id, [c.asset_id for casts in parsed.values() for c in casts])
    for entity_id, casts in parsed.items():
        entity, type_name = entities[entity_id]
        await set_casting(session, principal, entity=entity, type_name=type_name, casting=casts, checked=True)


def _validation(field: str, message: str) -> BadRequest:
    return BadRequest("Validation error.", data={"errors": [{"field": field, "message": message}]})


async def cast_asset(session: AsyncSession, principal: Principal, *, project_id: uuid.UUID,
                     asset_id: uuid.UUID, body: Any) -> list[uuid.UUID]:
    """Set how one asset is cast in each given entity, leaving their other assets alone;
    ``nb_occurences`` 0 removes it. Answers the entity ids, in the order given. The body
    is checked first, whoever asks (Zou answers its 400 before any 403)."""
    if not isinstance(body, dict):
        raise BadRequest("A JSON object is expected.")
    raw_ids = body.get("entity_ids")
    if not isinstance(raw_ids, list):
        raise _validation("entity_ids", "Field required" if raw_ids is None else "Input should be a valid list")
    if not raw_ids:
        raise _validation("entity_ids", "List should have at least 1 item after validation, not 0")
    entity_ids: list[uuid.UUID] = []
    for i, raw in enumerate(raw_ids):
        try:
            value = uuid.UUID(str(raw))
        except ValueError as exc:
            raise _validation(f"entity_ids.{i}", "Input should be a valid UUID") from exc
        if value not in entity_ids:
            entity_ids.append(value)
    nb = body.get("nb_occurences")
    if nb is not None:
        if isinstance(nb, bool) or not isinstance(nb, int):
            raise _validation("nb_occurences", "Input should be a valid integer")
        if nb < 0:
            raise _validation("nb_occurences", "Input should be greater than or equal to 0")
    label = body.get("label")
    if label is not None and not isinstance(label, str):
        raise _validation("label", "Input should be a valid string")
    await access.check_manager(session, principal, project_id)
    asset, asset_type = await load_entity(session, asset_id, kind="Asset")
    if asset.project_id != project_id and not asset.is_shared:
        raise NotFound()
    rows = (await session.execute(
        select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(Entity.id.in_(entity_ids), Entity.project_id == project_id)
    )).all()
    entities = {row[0].id: (row[0], str(row[1])) for row in rows}
    if len(entities) != len(entity_ids):
        raise NotFound()
    if asset.id in entities:
        raise BadRequest("An asset cannot be cast in itself.")
    existing = {link.entity_in_id: link for link in (await session.scalars(select(EntityLink).where(
        EntityLink.entity_in_id.in_(entity_ids), EntityLink.entity_out_id == asset.id))).all()}
    counts = await _count_links(session, entity_ids)
    for entity_id in entity_ids:
        entity, type_name = entities[entity_id]
        link = existing.get(entity_id)
        episode_id = await _episode_of(session, entity, type_name)
        if nb == 0:
            if link is None:
                continue
            await session.delete(link)
            await session.flush()
            _touch(entity, counts[entity_id] - 1)
            _casting_update(session, principal, entity, type_name, added=(), removed=[asset.id])
            await _prune_episode_links(session, principal, episode_id, [asset.id])
        elif link is not None:
            if nb is not None:
                link.nb_occurences = nb
            if label is not None:
                link.label = _label(label)
            await session.flush()
            emit(session, "entity-link:update", _link_data(link, project_id, new=False), project_id=project_id,
                 actor_id=principal.id)
            _touch(entity, counts[entity_id])
            _casting_update(session, principal, entity, type_name, added=(), removed=())
        else:
            link = EntityLink(id=uuid.uuid4(), entity_in_id=entity.id, entity_out_id=asset.id,
                              nb_occurences=1 if nb is None else nb, label=_label(label))
            session.add(link)
            await session.flush()
            if await _add_episode_links(session, episode_id, [(asset.id, link.label or "")]):
                await emit_entity_event(session, "update", asset, actor_id=principal.id, type_name=asset_type)
            emit(session, "entity-link:new", _link_data(link, project_id, new=True), project_id=project_id,
                 actor_id=principal.id)
            _touch(entity, counts[entity_id] + 1)
            _casting_update(session, principal, entity, type_name, added=[asset.id], removed=())
    await session.flush()
    return entity_ids


async def delete_link(session: AsyncSession, principal: Principal, *, project_id: uuid.UUID,
                      link_id: uuid.UUID) -> dict[str, Any]:
    """Remove one link of a project's casting (managers); answers the link."""
    await access.check_manager(session, principal, project_id)
    row = (await session.execute(
        select(EntityLink, Entity, EntityType.name).join(Entity, Entity.id == EntityLink.entity_in_id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(EntityLink.id == link_id, Entity.project_id == project_id)
    )).first()
    if row is None:
        raise NotFound()
    link, entity, type_name = row[0], row[1], str(row[2])
    out = link.serialize()
    await session.delete(link)
    await session.flush()
    emit(session, "entity-link:delete", {"project_id": str(project_id), "entity_link_id": out["id"],
                                         "snapshot": out}, project_id=project_id, actor_id=principal.id)
    _touch(entity, (await _count_links(session, [entity.id]))[entity.id])
    _casting_update(session, principal, entity, type_name, added=(), removed=[link.entity_out_id])
    await _prune_episode_links(session, principal, await _episode_of(session, entity, type_name),
                               [link.entity_out_id])
    await session.flush()
    return out


async def forget_entity(session: AsyncSession, principal: Principal, entity: Entity, type_name: str) -> None:
    """Before an entity is deleted: the entities that cast it lose it
    (``<kind>:casting-update`` each), and what it cast leaves its episode's casting."""
    casting = list((await session.scalars(
        delete(EntityLink).where(EntityLink.entity_in_id == entity.id).returning(EntityLink.entity_out_id)
    )).all())
    await _prune_episode_links(session, principal, await _episode_of(session, entity, type_name), casting)
    holders = (await session.execute(
        select(Entity, EntityType.name).join(EntityLink, EntityLink.entity_in_id == Entity.id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(EntityLink.entity_out_id == entity.id)
    )).all()
    if not holders:
        return
    await session.execute(delete(EntityLink).where(EntityLink.entity_out_id == entity.id))
    counts = await _count_links(session, [h[0].id for h in holders])
    for holder, holder_type in holders:
        _touch(holder, counts[holder.id])
        _casting_update(session, principal, holder, str(holder_type), added=(), removed=[entity.id])
    await session.flush()


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


def _s(value: Any) -> Any:
    return serialize_value(value)


async def entity_casting(session: AsyncSession, entity_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The casting of each entity (Zou's casting rows), by asset type name and asset name."""
    stmt, asset, atype = _casting_columns()
    rows = await session.execute(stmt.where(EntityLink.entity_in_id.in_(list(entity_ids)))
                                 .order_by(atype.name, asset.name, asset.id))
    out: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in entity_ids}
    for (entity_in, asset_id, name, type_name, ready_for, source_id, preview, nb, label, shared, project) in rows:
        out[entity_in].append({
            "asset_id": _s(asset_id), "asset_name": name, "asset_type_name": type_name,
            "ready_for": _s(ready_for), "episode_id": _s(source_id), "preview_file_id": _s(preview),
            "nb_occurences": nb, "label": label or "", "is_shared": shared, "project_id": _s(project),
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
        cast("{}", JSON)), Text)))
    return str(text_).encode()


async def holders_casting(session: AsyncSession, *, project_id: uuid.UUID, kind: str,
                          asset_type_id: uuid.UUID | None = None) -> dict[str, list[dict[str, Any]]]:
    """Casting of the project's episodes (``kind="Episode"``) or of its assets of a type
    (``kind="Asset"``), keyed by their ids."""
    stmt, asset, atype = _casting_columns()
    holder, holder_type = aliased(Entity, name="holder"), aliased(EntityType, name="holder_type")
    stmt = (stmt.join(holder, holder.id == EntityLink.entity_in_id)
            .join(holder_type, holder_type.id == holder.entity_type_id)
            .where(holder.project_id == project_id))
    if kind == "Episode":
        stmt = stmt.where(holder_type.name == "Episode")
    else:
        stmt = stmt.where(holder.entity_type_id == asset_type_id, holder_type.name.not_in(TEMPORAL_TYPES))
    rows = await session.execute(stmt.order_by(atype.name, asset.name, asset.id, holder.name))
    out: dict[str, list[dict[str, Any]]] = {}
    for (holder_id, asset_id, name, type_name, _, _, preview, nb, label, shared, project) in rows:
        row: dict[str, Any] = {"asset_id": _s(asset_id), "name": name, "asset_name": name,
                               "asset_type_name": type_name, "preview_file_id": _s(preview), "nb_occurences": nb,
                               "label": label or ""}
        if kind == "Episode":
            row.update(is_shared=shared, project_id=_s(project))
        out.setdefault(str(holder_id), []).append(row)
    return out


async def cast_in(session: AsyncSession, asset_id: uuid.UUID) -> list[dict[str, Any]]:
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
            shots.append({"shot_id": _s(hid), "shot_name": name, "sequence_name": seq_name,
                          "episode_id": _s(episode_id), "episode_name": episode_name,
                          "preview_file_id": _s(preview), "nb_occurences": nb})
        else:
            assets.append({"asset_id": _s(hid), "asset_name": name, "asset_type_name": type_name,
                           "preview_file_id": _s(preview), "nb_occurences": nb})
    return shots + assets


async def cast_assets(session: AsyncSession, entity_id: uuid.UUID) -> list[dict[str, Any]]:
    """The assets an entity casts, as plain asset rows, in the order they were cast."""
    rows = (await session.execute(
        select(Entity, EntityType.name).join(EntityLink, EntityLink.entity_out_id == Entity.id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(EntityLink.entity_in_id == entity_id).order_by(EntityLink.created_at, EntityLink.id)
    )).all()
    return [serialize_entity(asset, str(type_name)) for asset, type_name in rows]


async def cast_asset_types(session: AsyncSession, entity_id: uuid.UUID) -> list[dict[str, Any]]:
    """The asset types of the assets an entity casts."""
    used = select(Entity.entity_type_id).join(EntityLink, EntityLink.entity_out_id == Entity.id).where(
        EntityLink.entity_in_id == entity_id)
    types = (await session.scalars(select(EntityType).where(EntityType.id.in_(used))
                                   .order_by(EntityType.name))).all()
    return [{"name": t.name, "short_name": t.short_name, "description": t.description, "archived": t.archived,
             "id": _s(t.id), "created_at": _s(t.created_at), "updated_at": _s(t.updated_at), "type": "AssetType"}
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
    return [serialize_entity(asset, str(type_name)) for asset, type_name in rows]


def _micro(value: dt.datetime) -> str:
    return value.isoformat()


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
                 "label": label, "data": data, "created_at": _micro(created), "type": "EntityLink"}
                for i, e_in, e_out, nb, label, data, created in rows]
    total = int(await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    links = (await session.scalars(stmt.offset((page - 1) * limit).limit(limit))).all()
    return {"data": [link.serialize() for link in links], "total": total,
            "nb_pages": -(-total // limit), "limit": limit, "offset": (page - 1) * limit, "page": page}


async def concepts_linked(session: AsyncSession, principal: Principal, entity_id: uuid.UUID) -> list[dict[str, Any]]:
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
    assignees = await assignees_of(session, [t.id for t in task_rows])
    tasks: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    for t in task_rows:
        tasks[t.entity_id].append({
            "id": _s(t.id), "duration": t.duration, "due_date": _s(t.due_date), "end_date": _s(t.end_date),
            "entity_id": _s(t.entity_id), "estimation": t.estimation, "last_comment_date": _s(t.last_comment_date),
            "nb_assets_ready": t.nb_assets_ready, "priority": t.priority, "real_start_date": _s(t.real_start_date),
            "retake_count": t.retake_count, "start_date": _s(t.start_date), "task_status_id": _s(t.task_status_id),
            "task_type_id": _s(t.task_type_id), "assigner_id": _s(t.assigner_id), "assignees": assignees[t.id],
        })
    out = []
    for concept, type_name, project_name in rows:
        data = concept.data or {}
        out.append({
            "canceled": concept.canceled, "data": concept.data, "description": concept.description,
            "entity_type_id": _s(concept.entity_type_id), "fps": data.get("fps"),
            "frame_in": data.get("frame_in"), "frame_out": data.get("frame_out"), "id": _s(concept.id),
            "name": concept.name, "nb_frames": concept.nb_frames, "parent_id": _s(concept.parent_id),
            "preview_file_id": _s(concept.preview_file_id), "project_id": _s(concept.project_id),
            "project_name": project_name, "source_id": _s(concept.source_id),
            "nb_entities_out": concept.nb_entities_out, "is_casting_standby": concept.is_casting_standby,
            "tasks": tasks[concept.id], "entity_concept_links": links[concept.id], "type": kind_of(str(type_name)),
            "updated_at": _s(concept.updated_at), "created_at": _s(concept.created_at),
            "created_by": _s(concept.created_by),
        })
    return out


async def link_lists(session: AsyncSession, entity_id: uuid.UUID) -> dict[str, list[str]]:
    """``entities_out`` (what the entity casts), ``entities_in`` (what casts it) and
    ``casting_episode_ids`` (the episodes among those), as on Zou's single entity rows."""
    holder_type = aliased(EntityType)
    rows = (await session.execute(
        select(EntityLink.entity_in_id, EntityLink.entity_out_id, holder_type.name)
        .join(Entity, Entity.id == EntityLink.entity_in_id)
        .join(holder_type, holder_type.id == Entity.entity_type_id)
        .where((EntityLink.entity_in_id == entity_id) | (EntityLink.entity_out_id == entity_id))
        .order_by(EntityLink.created_at, EntityLink.id)
    )).all()
    return {"entities_out": [str(o) for i, o, _ in rows if i == entity_id],
            "entities_in": [str(i) for i, o, _ in rows if o == entity_id],
            "casting_episode_ids": [str(i) for i, o, t in rows if o == entity_id and t == "Episode"]}
