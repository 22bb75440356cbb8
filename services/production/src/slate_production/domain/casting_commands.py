"""Changing casting (breakdown): the assets a shot, an asset, a sequence or an episode uses.

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

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.errors import BadRequest, NotFound
from slate_common.events import emit
from slate_common.params import Body, parse_id
from slate_common.security import Principal
from slate_common.serialization import now

from ..models import TEMPORAL_TYPES, Entity, EntityLink, EntityType
from . import access
from .casting_queries import load_entity
from .entities import emit_entity_event, kind_of

AUTO = {"auto": True}


# --- input ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    asset_id: uuid.UUID
    nb_occurences: int
    label: str


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
        asset_id = parse_id(item["asset_id"], f"Invalid asset_id: {item['asset_id']!r} is not an id.")
        if "nb_occurences" not in item:
            continue
        out.pop(asset_id, None)
        out[asset_id] = Cast(asset_id, _occurences(item["nb_occurences"]), _label(item.get("label")))
    return list(out.values())


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
    emit(session, name=f"{prefix}:casting-update", data={
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
        await emit_entity_event(session, verb="update", entity=asset, actor_id=principal.id, type_name="Asset")


# --- writes ---------------------------------------------------------------------------------


async def set_casting(session: AsyncSession, *, principal: Principal, entity: Entity, type_name: str,
                      casting: list[Cast], checked: bool = False) -> None:
    """Replace ``entity``'s casting (managers of its project)."""
    if not checked:
        await access.check_manager(session, principal=principal, project_id=entity.project_id)
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
            await emit_entity_event(session, verb="update", entity=assets[link.entity_out_id], actor_id=principal.id,
                                    type_name="Asset")
        emit(session, name="entity-link:new", data=_link_data(link, entity.project_id, new=True),
             project_id=entity.project_id, actor_id=principal.id)
    after = {c.asset_id for c in casting}
    _touch(entity, len(links))
    _casting_update(session, principal, entity, type_name, added=after - before, removed=before - after)
    await _prune_episode_links(session, principal, episode_id, before - after)
    await session.flush()


async def set_castings(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                       body: Any) -> None:
    """``{entity_id: casting}`` for several entities of a project, all checked first."""
    await access.check_manager(session, principal=principal, project_id=project_id)
    if not isinstance(body, dict):
        raise BadRequest("A JSON object mapping entity ids to castings is expected.")
    parsed = {parse_id(key, f"Invalid entity id: {key!r} is not an id."): parse_casting(value) for key, value in body.items()}
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
        await set_casting(session, principal=principal, entity=entity, type_name=type_name, casting=casts, checked=True)


class CastAssetIn(Body):
    """The body of ``PUT .../entities/casting/assets/<asset_id>``."""

    entity_ids: Annotated[list[uuid.UUID], Field(min_length=1)]
    nb_occurences: Annotated[int, Field(ge=0)] | None = None
    label: str | None = None


async def cast_asset(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                     asset_id: uuid.UUID, body: CastAssetIn) -> list[uuid.UUID]:
    """Set how one asset is cast in each given entity, leaving their other assets alone;
    ``nb_occurences`` 0 removes it. Answers the entity ids, in the order given. The body
    is checked by the route, whoever asks (Zou answers its 400 before any 403)."""
    entity_ids = list(dict.fromkeys(body.entity_ids))
    nb, label = body.nb_occurences, body.label
    await access.check_manager(session, principal=principal, project_id=project_id)
    asset, asset_type = await load_entity(session, entity_id=asset_id, kind="Asset")
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
            emit(session, name="entity-link:update", data=_link_data(link, project_id, new=False), project_id=project_id,
                 actor_id=principal.id)
            _touch(entity, counts[entity_id])
            _casting_update(session, principal, entity, type_name, added=(), removed=())
        else:
            link = EntityLink(id=uuid.uuid4(), entity_in_id=entity.id, entity_out_id=asset.id,
                              nb_occurences=1 if nb is None else nb, label=_label(label))
            session.add(link)
            await session.flush()
            if await _add_episode_links(session, episode_id, [(asset.id, link.label or "")]):
                await emit_entity_event(session, verb="update", entity=asset, actor_id=principal.id, type_name=asset_type)
            emit(session, name="entity-link:new", data=_link_data(link, project_id, new=True), project_id=project_id,
                 actor_id=principal.id)
            _touch(entity, counts[entity_id] + 1)
            _casting_update(session, principal, entity, type_name, added=[asset.id], removed=())
    await session.flush()
    return entity_ids


async def delete_link(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                      link_id: uuid.UUID) -> dict[str, Any]:
    """Remove one link of a project's casting (managers); answers the link."""
    await access.check_manager(session, principal=principal, project_id=project_id)
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
    emit(session, name="entity-link:delete", data={"project_id": str(project_id), "entity_link_id": out["id"],
                                         "snapshot": out}, project_id=project_id, actor_id=principal.id)
    _touch(entity, (await _count_links(session, [entity.id]))[entity.id])
    _casting_update(session, principal, entity, type_name, added=(), removed=[link.entity_out_id])
    await _prune_episode_links(session, principal, await _episode_of(session, entity, type_name),
                               [link.entity_out_id])
    await session.flush()
    return out


async def forget_entity(session: AsyncSession, *, principal: Principal, entity: Entity, type_name: str) -> None:
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
