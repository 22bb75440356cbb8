"""Creating, reading, updating and deleting assets, episodes, sequences and shots."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import bindparam, case, delete, exists, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.db import CompiledRead, detached
from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.params import invalid_field, optional_id, parse_id
from slate_common.security import Principal

from ..models import TEMPORAL_TYPES, Entity, EntityType, Project, Task, project_person_link, task_person_link
from . import access, casting_commands, shot_versions
from .entities import emit_entity_event, entity_type_id, kind_of, serialize_entity
from .listing_cache import ListingCache
from .sql_json import column_expr, object_expr
from .tasks import emit_task_event

ENTITY_UPDATABLE = frozenset({
    "name", "code", "description", "shotgun_id", "canceled", "nb_frames", "nb_entities_out",
    "is_casting_standby", "is_shared", "status", "parent_id", "source_id", "preview_file_id", "data",
    "ready_for", "entity_type_id",
})


async def get_entity(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID,
                     kind: str | None = None, assigned: bool = False) -> tuple[Entity, str]:
    """An entity the caller may see, with its entity type name. With ``assigned``, a
    vendor sees it only through a task of theirs on it (Zou's rule for an entity's own
    views: the entity, its tasks, task types, casting...). 404 when there is no such
    entity (or it is not of ``kind``: "Shot", "Asset", ...), 403 when it is out of the
    caller's scope, as Zou answers."""
    stmt = (select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
            .where(Entity.id == entity_id))
    scope = [access.project_visible(principal, project_col=Entity.project_id)]
    if assigned and principal.is_vendor:
        scope.append(exists().where(Task.entity_id == Entity.id, access.assigned_to(principal, task_id_col=Task.id)))
    async def anyone() -> Any:
        return (await session.execute(stmt)).first()

    row = await _seen_or_refused((await session.execute(stmt.where(*scope))).first(), anyone=anyone, kind=kind)
    return row[0], row[1]


async def _seen_or_refused(row: Any, *, anyone: Callable[[], Awaitable[Any]], kind: str | None) -> Any:
    """The row (its last value the entity type's name) read in the caller's scope, or Zou's
    refusal: 403 when ``anyone()`` finds the entity out of that scope, 404 when there is
    none (or it is not of ``kind``)."""
    if row is None:
        row = await anyone()
        if row is not None and (kind is None or kind_of(row[-1]) == kind):
            raise Forbidden()
    if row is None or (kind is not None and kind_of(row[-1]) != kind):
        raise NotFound()
    return row


_ENTITY_COLUMNS = tuple(Entity.__table__.columns)
#: :func:`read_entity`'s two statements per kind of caller (admin?, vendor held to their
#: assignments?): in the caller's scope, and whatever the scope (to tell 403 from 404).
_ENTITY_READS: dict[tuple[bool, bool], tuple[CompiledRead, CompiledRead]] = {}


def _entity_reads(principal: Principal, *, assigned: bool) -> tuple[CompiledRead, CompiledRead]:
    held = assigned and principal.is_vendor
    key = (principal.is_admin, held)
    reads = _ENTITY_READS.get(key)
    if reads is None:
        uuid_type = PG_UUID(as_uuid=True)
        person = bindparam("principal_id", type_=uuid_type)
        anyone = (select(*_ENTITY_COLUMNS, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
                  .where(Entity.id == bindparam("entity_id", type_=uuid_type)))
        scoped = anyone
        if not principal.is_admin:  # access.project_visible, the person a parameter
            scoped = scoped.where(Entity.project_id.in_(
                select(project_person_link.c.project_id).where(project_person_link.c.person_id == person)))
        if held:
            scoped = scoped.where(exists().where(Task.entity_id == Entity.id, exists().where(
                task_person_link.c.task_id == Task.id, task_person_link.c.person_id == person)))
        reads = _ENTITY_READS[key] = (CompiledRead(scoped), CompiledRead(anyone))
    return reads


async def read_entity(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID,
                      kind: str | None = None, assigned: bool = False) -> tuple[Entity, str]:
    """:func:`get_entity` for the routes that only read the entity (same answers, same
    refusals), from statements compiled once; the entity is outside the session."""
    scoped, unscoped = _entity_reads(principal, assigned=assigned)

    async def anyone() -> Any:
        return await unscoped.first(session, entity_id=entity_id)

    row = await _seen_or_refused(await scoped.first(session, entity_id=entity_id, principal_id=principal.id),
                                 anyone=anyone, kind=kind)
    return detached(Entity, _ENTITY_COLUMNS, row[:-1]), row[-1]


async def get_any_entity(session: AsyncSession, *, entity_id: uuid.UUID, kind: str) -> Entity:
    """An entity of ``kind`` whatever the caller's projects, 404 when there is none: for
    the /data/user views, which show only the caller's own tasks on it (Zou answers an
    empty list, not a refusal, to a person outside its project)."""
    row = (await session.execute(
        select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(Entity.id == entity_id))).first()
    if row is None or kind_of(row[1]) != kind:
        raise NotFound()
    return row[0]


#: The filters that name the project of a studio-wide listing (``/data/shots``, ...): a
#: non-admin must give one of them, naming a project whose team they are in (Zou refuses
#: the listing of every project to them). Assets need none: their listing is scoped.
LISTING_FILTERS: dict[tuple[str, bool], tuple[str, ...]] = {
    ("Shot", False): ("project_id", "sequence_id"),
    ("Shot", True): ("project_id",),
    ("Sequence", False): ("project_id", "episode_id"),
    ("Sequence", True): ("project_id",),
    ("Episode", False): ("project_id",),
    ("Episode", True): ("project_id",),
    ("Asset", False): (),
    ("Asset", True): (),
}
#: The parent a filter names, by the kind listed: a shot's sequence, a sequence's episode.
PARENT_FILTERS = {("Shot", "sequence_id"): "Sequence", ("Sequence", "episode_id"): "Episode"}


async def check_listing_scope(session: AsyncSession, *, principal: Principal, kind: str, params: Any, with_tasks: bool = False) -> None:
    """Before a studio-wide listing of ``kind`` (``params``: the query parameters): a
    project or parent named by a filter must exist (404) and be the caller's (403), and a
    non-admin must name one where :data:`LISTING_FILTERS` asks for it (403)."""
    required = LISTING_FILTERS[(kind, with_tasks)]
    projects: list[uuid.UUID] = []
    named = False
    for key in ("project_id", "sequence_id", "episode_id"):
        raw = params.get(key)
        if not raw:
            continue
        parent_kind = PARENT_FILTERS.get((kind, key))
        if key == "project_id":
            if principal.is_admin:
                continue
            project_id = parse_id(raw, f"Invalid {key}")
            if await session.get(Project, project_id) is None:
                raise NotFound()
            projects.append(project_id)
        elif parent_kind is not None and not with_tasks:
            row = (await session.execute(
                select(Entity.project_id, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
                .where(Entity.id == parse_id(raw, f"Invalid {key}")))).first()
            if row is None or kind_of(row[1]) != parent_kind:
                raise NotFound()
            projects.append(row[0])
        else:
            continue
        named = named or key in required
    if principal.is_admin:
        return
    if required and not named:
        raise Forbidden()
    for project_id in projects:
        if not await access.principal_in_team(session, principal=principal, project_id=project_id):
            raise Forbidden()


def kind_condition(kind: str) -> Any:
    if kind == "Asset":
        return EntityType.name.not_in(TEMPORAL_TYPES)
    return EntityType.name == kind


#: Zou's order of a plain listing.
LISTING_ORDER = (Entity.name, Entity.id)


#: The parent of a listed entity, made once (an alias built per request cost a fifth of
#: a cached listing's call).
_PARENT = aliased(Entity)


def _listing_statement(
    principal: Principal, kind: str, *, filters: dict[str, Any] | None, project_id: uuid.UUID | None,
    parent_id: uuid.UUID | None, grand_parent_id: uuid.UUID | None,
) -> tuple[Any, Any]:
    """The rows of one kind in scope (the entity, its type's name, its project's name,
    its parent's name), unordered, and the alias of the parent."""
    parent = _PARENT
    stmt = (
        select(Entity, EntityType.name, Project.name, parent.name)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .join(Project, Project.id == Entity.project_id)
        .outerjoin(parent, parent.id == Entity.parent_id)
        .where(kind_condition(kind), access.project_visible(principal, project_col=Entity.project_id))
    )
    if project_id is not None:
        stmt = stmt.where(Entity.project_id == project_id)
    if parent_id is not None:
        stmt = stmt.where(Entity.parent_id == parent_id)
    if grand_parent_id is not None:
        stmt = stmt.where(parent.parent_id == grand_parent_id)
    filters = dict(filters or {})
    if filters.get("sequence_id"):
        stmt = stmt.where(Entity.parent_id == parse_id(filters.pop("sequence_id"), "Invalid sequence_id"))
    if filters.get("episode_id"):
        episode_id = parse_id(filters.pop("episode_id"), "Invalid episode_id")
        if kind == "Shot":
            stmt = stmt.where(parent.parent_id == episode_id)
        elif kind == "Sequence":
            stmt = stmt.where(Entity.parent_id == episode_id)
        else:
            stmt = stmt.where(Entity.source_id == episode_id)
    for key, value in filters.items():
        column = getattr(Entity, key, None)
        if column is None or key not in ENTITY_UPDATABLE | {"id", "project_id"}:
            continue
        if key.endswith("_id") or key == "id":
            value = parse_id(value, f"Invalid {key}")
        if key == "name":
            stmt = stmt.where(func.lower(Entity.name) == str(value).lower())
        else:
            stmt = stmt.where(column == value)
    if kind == "Asset" and filters.get("asset_type_id"):
        stmt = stmt.where(Entity.entity_type_id == parse_id(filters["asset_type_id"], "Invalid asset_type_id"))
    if kind in ("Asset", "Shot") and principal.is_vendor:
        stmt = stmt.where(exists().where(
            Task.entity_id == Entity.id,
            exists().where(task_person_link.c.task_id == Task.id, task_person_link.c.person_id == principal.id),
        ))
    return stmt, parent


async def list_entities(
    session: AsyncSession, *, principal: Principal, kind: str, filters: dict[str, Any] | None = None,
    project_id: uuid.UUID | None = None, parent_id: uuid.UUID | None = None, grand_parent_id: uuid.UUID | None = None,
    names: str = "",
) -> list[dict[str, Any]]:
    """Plain rows of one kind, in scope. ``names``: "project" adds ``project_name``,
    "sequence" adds ``sequence_name`` (Zou's /data/shots), "episode" adds the episode."""
    stmt, _ = _listing_statement(principal, kind, filters=filters, project_id=project_id, parent_id=parent_id,
                                 grand_parent_id=grand_parent_id)
    out = []
    for entity, type_name, project_name, parent_name in (await session.execute(stmt.order_by(*LISTING_ORDER))).all():
        row = serialize_entity(entity, type_name=type_name)
        if "project" in names:
            row["project_name"] = project_name
        if "sequence" in names:
            row["sequence_name"] = parent_name
        out.append(row)
    return out


#: An entity's ``type``: its entity type's name, ``Asset`` for asset types (:func:`kind_of`).
_KIND_SQL = case((EntityType.name.in_(TEMPORAL_TYPES), EntityType.name), else_=literal_column("'Asset'"))


async def list_entities_json(
    session: AsyncSession, *, principal: Principal, kind: str, filters: dict[str, Any] | None = None,
    project_id: uuid.UUID | None = None, parent_id: uuid.UUID | None = None, grand_parent_id: uuid.UUID | None = None,
    names: str = "", cache: ListingCache | None = None,
) -> bytes:
    """:func:`list_entities` as the JSON array itself, written by PostgreSQL in one row
    (``sql_json``): no ORM object nor dict per entity. Same rows, keys, values and order.
    With a ``cache``, the body is built again only when the stamp of its rows changed
    (``listing_cache``): their count and the sums of the ``updated_at`` of the entities,
    of their parents, projects and entity types (exact: ``extract`` is numeric)."""
    stmt, parent = _listing_statement(principal, kind, filters=filters, project_id=project_id, parent_id=parent_id,
                                      grand_parent_id=grand_parent_id)

    async def build() -> bytes:
        pairs = [(key, column_expr(getattr(Entity, key))) for key in Entity.FIELDS]
        pairs.append(("type", _KIND_SQL))
        if "project" in names:
            pairs.append(("project_name", Project.name))
        if "sequence" in names:
            pairs.append(("sequence_name", parent.name))
        row = object_expr(pairs)
        body = await session.scalar(stmt.with_only_columns(
            func.coalesce(func.string_agg(row, aggregate_order_by(literal_column("','"), *LISTING_ORDER)), "")))
        return b"[" + str(body).encode() + b"]"

    if cache is None:
        return await build()
    sums = [func.coalesce(func.sum(func.extract("epoch", table.updated_at)), 0)
            for table in (Entity, parent, Project, EntityType)]
    stamp = (await session.execute(stmt.with_only_columns(func.count(), *sums))).one()
    # the stamp decides; the key only keeps listings of different scopes apart
    scope = principal.id if principal.is_vendor or project_id is None else None
    key = ("entities", kind, names, project_id, parent_id, grand_parent_id,
           tuple(sorted((filters or {}).items())), scope)
    return await cache.body(key, ":".join(str(x) for x in stamp), build)


async def create_entity(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, type_name: str | None = None,
    entity_type: uuid.UUID | None = None, body: dict[str, Any], parent_id: uuid.UUID | None = None,
    get_or_create: bool = False,
) -> tuple[Entity, str, bool]:
    """A new entity (manager of the project). Episodes, sequences and shots with the same
    name under the same parent are returned as they are (Zou's get-or-create)."""
    await access.check_manager(session, principal=principal, project_id=project_id)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid_field("name")
    if entity_type is None:
        assert type_name is not None
        entity_type = await entity_type_id(session, name=type_name)
    else:
        found = await session.scalar(select(EntityType.name).where(EntityType.id == entity_type))
        if found is None:
            raise NotFound()
        type_name = found
    if get_or_create:
        existing = await session.scalar(select(Entity).where(
            Entity.project_id == project_id, Entity.entity_type_id == entity_type, Entity.name == name,
            Entity.parent_id == parent_id if parent_id else Entity.parent_id.is_(None),
        ))
        if existing is not None:
            return existing, str(type_name), False
    if parent_id is not None:
        parent = await session.get(Entity, parent_id)
        if parent is None or parent.project_id != project_id:  # Zou: 404, whichever project it is in
            raise NotFound("Parent not found in this project")
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise BadRequest("data must be an object")
    nb_frames = body.get("nb_frames")
    if nb_frames is not None:
        try:
            nb_frames = int(nb_frames)
        except (TypeError, ValueError) as exc:
            raise BadRequest("nb_frames must be an integer") from exc
    # an asset's episode is its source; a sequence's episode is its parent only (as Zou)
    source_id = body.get("source_id") or (body.get("episode_id") if type_name not in TEMPORAL_TYPES else None)
    entity = Entity(
        name=name.strip(), project_id=project_id, entity_type_id=entity_type, parent_id=parent_id,
        description=body.get("description", None if type_name == "Shot" else ""),
        data=data or {}, nb_frames=nb_frames, created_by=principal.id,
        source_id=optional_id(source_id, "Invalid source_id"),
        is_shared=bool(body.get("is_shared", False)),
    )
    session.add(entity)
    await session.flush()
    await emit_entity_event(session, verb="new", entity=entity, actor_id=principal.id, type_name=str(type_name))
    return entity, str(type_name), True


async def update_entity(
    session: AsyncSession, *, principal: Principal, entity: Entity, type_name: str, body: dict[str, Any]
) -> Entity:
    await access.check_manager(session, principal=principal, project_id=entity.project_id)
    data_before = dict(entity.data or {})
    for key, value in body.items():
        if key not in ENTITY_UPDATABLE:
            continue
        if key in ("parent_id", "source_id", "preview_file_id", "ready_for", "entity_type_id") and value is not None:
            value = parse_id(value, f"Invalid {key}")
        if key == "data" and value is not None and not isinstance(value, dict):
            raise BadRequest("data must be an object")
        if key == "nb_frames" and value is not None:
            try:
                value = int(value)
            except (TypeError, ValueError) as exc:
                raise BadRequest("nb_frames must be an integer") from exc
        if key in ("name",) and (not isinstance(value, str) or not value.strip()):
            raise BadRequest("name must be a non-empty string")
        setattr(entity, key, value)
    if type_name == "Shot":
        await shot_versions.record_if_frames_changed(session, shot=entity, name=entity.name, before=data_before,
                                                     after=entity.data, person_id=principal.id)
    await session.flush()
    await emit_entity_event(session, verb="update", entity=entity, actor_id=principal.id, type_name=type_name)
    return entity


async def delete_entity(
    session: AsyncSession, *, principal: Principal, entity: Entity, type_name: str, force: bool
) -> None:
    """Zou's rule: an entity with tasks is canceled unless ``force``; otherwise deleted
    (its tasks with it)."""
    await access.check_manager(session, principal=principal, project_id=entity.project_id)
    has_tasks = bool(await session.scalar(select(exists().where(Task.entity_id == entity.id))))
    if has_tasks and not force:
        entity.canceled = True
        await session.flush()
        await emit_entity_event(session, verb="update", entity=entity, actor_id=principal.id, type_name=type_name)
        return
    children = bool(await session.scalar(select(exists().where(Entity.parent_id == entity.id))))
    if children and not force:
        raise BadRequest("This entity has children; delete them first or use force=true")
    await _delete_tree(session, principal, entity, type_name)


#: The kinds a project's batch deletion takes (Zou skips the others).
BATCH_DELETABLE = ("Shot", "Edit", "Concept")


async def delete_project_entities(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                                  entity_ids: list[uuid.UUID], force: bool) -> list[str]:
    """Each entity as its own deletion route does (canceled first when it has tasks,
    deleted when already canceled or with ``force``); ids of another project, of no
    entity, or of an episode or a sequence are skipped, as Zou. Answers the ids done."""
    rows = (await session.execute(
        select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(Entity.id.in_(entity_ids), Entity.project_id == project_id,
               or_(EntityType.name.in_(BATCH_DELETABLE), EntityType.name.not_in(TEMPORAL_TYPES))))).all()
    found = {entity.id: (entity, str(type_name)) for entity, type_name in rows}
    done = []
    for entity_id in dict.fromkeys(entity_ids):
        if entity_id not in found:
            continue
        entity, type_name = found[entity_id]
        await delete_entity(session, principal=principal, entity=entity, type_name=type_name, force=force or entity.canceled)
        done.append(str(entity.id))
    return done


async def _delete_tree(session: AsyncSession, principal: Principal, entity: Entity, type_name: str) -> None:
    for child, child_type in (await session.execute(
        select(Entity, EntityType.name).join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(Entity.parent_id == entity.id)
    )).all():
        await _delete_tree(session, principal, child, child_type)
    for task in (await session.scalars(select(Task).where(Task.entity_id == entity.id))).all():
        await emit_task_event(session, name="task:delete", task=task, actor_id=principal.id)
    await session.execute(delete(Task).where(Task.entity_id == entity.id))
    await session.execute(update(Entity).where(Entity.source_id == entity.id).values(source_id=None))
    await casting_commands.forget_entity(session, principal=principal, entity=entity, type_name=type_name)
    await emit_entity_event(session, verb="delete", entity=entity, actor_id=principal.id, type_name=type_name)
    await session.delete(entity)
    await session.flush()


async def share_assets(session: AsyncSession, *, principal: Principal, is_shared: bool,
                       asset_ids: list[uuid.UUID] | None = None, project_id: uuid.UUID | None = None,
                       asset_type_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Mark assets shared (usable by other projects) or not; managers of their projects.
    Answers the assets changed (asset:update each)."""
    stmt = (select(Entity).join(EntityType, EntityType.id == Entity.entity_type_id)
            .where(EntityType.name.not_in(TEMPORAL_TYPES), access.project_visible(principal, project_col=Entity.project_id)))
    if asset_ids is not None:
        stmt = stmt.where(Entity.id.in_(asset_ids))
    if project_id is not None:
        stmt = stmt.where(Entity.project_id == project_id)
    if asset_type_id is not None:
        stmt = stmt.where(Entity.entity_type_id == asset_type_id)
    assets = list((await session.scalars(stmt.order_by(Entity.name, Entity.id))).all())
    for project in {a.project_id for a in assets}:
        await access.check_manager(session, principal=principal, project_id=project)
    out = []
    for asset in assets:
        if asset.is_shared != is_shared:
            asset.is_shared = is_shared
            await session.flush()
            await emit_entity_event(session, verb="update", entity=asset, actor_id=principal.id, type_name="Asset")
        out.append(asset.serialize(type_name="Asset"))
    return out


async def project_name(session: AsyncSession, *, project_id: uuid.UUID) -> str | None:
    project = await session.get(Project, project_id)
    return project.name if project else None


async def one_temporal(session: AsyncSession, *, principal: Principal, entity: Entity, type_name: str) -> dict[str, Any]:
    """An episode or a sequence with its project (and episode) names."""
    row = entity.serialize(type_name=type_name)
    row["project_name"] = await project_name(session, project_id=entity.project_id)
    if type_name == "Sequence" and entity.parent_id:
        parent = await session.get(Entity, entity.parent_id)
        row["episode_id"] = str(entity.parent_id)
        row["episode_name"] = parent.name if parent else None
    return row
