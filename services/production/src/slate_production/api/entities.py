"""Assets, episodes, sequences and shots: Zou's listings, the with-tasks views Kitsu's
pages read (with ``stream`` and ``compact``), single rows, updates and deletions."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from slate_common.app import Runtime, SessionDep
from slate_common.errors import BadRequest, NotFound
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, casting, entity_ops, listings
from ..domain.entity_ops import get_entity, list_entities, parse_uuid
from ..domain.listing_cache import ListingCache
from ..domain.task_queries import named_tasks
from ..models import Entity, Task
from .common import flag, json_body, json_object, task_types_of

router = APIRouter(tags=["Entities"])

LISTINGS = {"shots": listings.SHOTS, "assets": listings.ASSETS, "sequences": listings.SEQUENCES,
            "episodes": listings.EPISODES}
KINDS = {"shots": "Shot", "assets": "Asset", "sequences": "Sequence", "episodes": "Episode"}


def _filters(request: Request) -> listings.Filters:
    q = request.query_params
    ids = q.get("id")
    return listings.Filters(
        project_id=parse_uuid(q["project_id"], "project_id") if q.get("project_id") else None,
        episode_id=parse_uuid(q["episode_id"], "episode_id") if q.get("episode_id") else None,
        sequence_id=parse_uuid(q["sequence_id"], "sequence_id") if q.get("sequence_id") else None,
        asset_type_id=parse_uuid(q["asset_type_id"], "asset_type_id") if q.get("asset_type_id") else None,
        entity_ids=(parse_uuid(ids),) if ids else (),
    )


async def with_tasks(request: Request, principal: Any, session: Any, runtime: Any, family: str) -> Response:
    listing = LISTINGS[family]
    await entity_ops.check_listing_scope(session, principal, KINDS[family], request.query_params, with_tasks=True)
    filters = _filters(request)
    compact = flag(request.query_params.get("compact"))
    if flag(request.query_params.get("stream")):
        body = listings.stream(runtime.sessionmaker, listing, principal, filters, compact=compact)
        return StreamingResponse(body, media_type="application/x-ndjson")
    cache: ListingCache | None = getattr(request.app.state, "listing_cache", None)
    if cache is None or filters.project_id is None:
        body_bytes = await listings.fetch_json(session, listing, principal, filters, compact=compact)
        return Response(body_bytes, media_type="application/json")
    body = await cache.listing(session, listing, principal, filters, compact=compact)
    return Response(body, media_type="application/json")


def _plain_filters(request: Request) -> dict[str, Any]:
    return {k: v for k, v in request.query_params.items() if k not in ("relations", "page", "limit")}


# --- shots ---------------------------------------------------------------------------


@router.get("/data/shots/with-tasks", operation_id="get_shots_with_tasks")
async def shots_with_tasks(request: Request, principal: CurrentUser, session: SessionDep, runtime: Runtime) -> Response:
    """Shots with their tasks (Kitsu's shot list); stream=true gives NDJSON, compact=true arrays."""
    return await with_tasks(request, principal, session, runtime, "shots")


@router.get("/data/shots", operation_id="get_shots")
async def get_shots(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Shots in scope, with project and sequence names."""
    await entity_ops.check_listing_scope(session, principal, "Shot", request.query_params)
    return json_response(await list_entities(session, principal, "Shot", filters=_plain_filters(request),
                                             names="project,sequence"))


@router.get("/data/shots/all", operation_id="get_all_shots")
async def get_all_shots(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Every shot in scope, with project and sequence names."""
    await entity_ops.check_listing_scope(session, principal, "Shot", request.query_params)
    return json_response(await list_entities(session, principal, "Shot", filters=_plain_filters(request),
                                             names="project,sequence"))


# --- assets --------------------------------------------------------------------------


@router.get("/data/assets/with-tasks", operation_id="get_assets_with_tasks")
async def assets_with_tasks(request: Request, principal: CurrentUser, session: SessionDep, runtime: Runtime) -> Response:
    """Assets with their tasks (Kitsu's asset list); stream and compact variants."""
    return await with_tasks(request, principal, session, runtime, "assets")


@router.get("/data/assets", operation_id="get_assets")
async def get_assets(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Assets in scope."""
    await entity_ops.check_listing_scope(session, principal, "Asset", request.query_params)
    return json_response(await list_entities(session, principal, "Asset", filters=_plain_filters(request)))


@router.get("/data/assets/all", operation_id="get_all_assets")
async def get_all_assets(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Every asset in scope."""
    await entity_ops.check_listing_scope(session, principal, "Asset", request.query_params)
    return json_response(await list_entities(session, principal, "Asset", filters=_plain_filters(request)))


# --- sequences and episodes ----------------------------------------------------------


@router.get("/data/sequences/with-tasks", operation_id="get_sequences_with_tasks")
async def sequences_with_tasks(request: Request, principal: CurrentUser, session: SessionDep, runtime: Runtime) -> Response:
    """Sequences with their tasks."""
    return await with_tasks(request, principal, session, runtime, "sequences")


@router.get("/data/sequences", operation_id="get_sequences")
async def get_sequences(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Sequences in scope."""
    await entity_ops.check_listing_scope(session, principal, "Sequence", request.query_params)
    return json_response(await list_entities(session, principal, "Sequence", filters=_plain_filters(request)))


@router.get("/data/episodes/with-tasks", operation_id="get_episodes_with_tasks")
async def episodes_with_tasks(request: Request, principal: CurrentUser, session: SessionDep, runtime: Runtime) -> Response:
    """Episodes with their tasks."""
    return await with_tasks(request, principal, session, runtime, "episodes")


@router.get("/data/episodes", operation_id="get_episodes")
async def get_episodes(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Episodes in scope."""
    await entity_ops.check_listing_scope(session, principal, "Episode", request.query_params)
    return json_response(await list_entities(session, principal, "Episode", filters=_plain_filters(request)))


# --- one entity ----------------------------------------------------------------------


async def _full(session: Any, principal: Any, family: str, entity: Entity, type_name: str) -> dict[str, Any]:
    """A shot or an asset as Zou's GET one returns it: the with-tasks row and the entity's other fields."""
    listing = LISTINGS[family]
    rows = await listings.fetch(session, listing, principal, listings.Filters(entity_ids=(entity.id,)))
    base = entity.serialize(type_name="Asset" if family == "assets" else KINDS[family])
    if not rows:  # a vendor with no task on it
        raise NotFound()
    row = rows[0]
    if principal.is_client:  # clients are not told who works on a task
        row = {**row, "tasks": [{**t, "assignees": []} for t in row.get("tasks") or []]}
    links = await casting.link_lists(session, entity.id)
    if family == "shots":
        out = dict(row)
        out.pop("type")
        for key in ("code", "shotgun_id", "is_shared", "status", "ready_for", "created_by"):
            out[key] = base[key]
        out.update(entities_out=links["entities_out"], entity_concept_links=[], instance_casting=[],
                   created_at=base["created_at"], updated_at=base["updated_at"], entities_in=links["entities_in"],
                   type="Shot")
        return out
    if family == "assets":
        out = {k: base[k] for k in ("id", "name", "code", "description", "shotgun_id", "canceled",
                                    "nb_entities_out", "is_casting_standby", "is_shared", "status", "project_id",
                                    "entity_type_id", "parent_id")}
        out.update(preview_file_id=base["preview_file_id"] or "", data=base["data"],
                   ready_for=str(base["ready_for"]), created_by=base["created_by"], entities_out=links["entities_out"],
                   entity_concept_links=[], instance_casting=[], created_at=base["created_at"], updated_at=base["updated_at"], entities_in=links["entities_in"], type="Asset",
                   project_name=await _project_name(session, entity.project_id), asset_type_id=base["entity_type_id"],
                   asset_type_name=type_name, episode_id=base["source_id"] or "", casting_episode_ids=links["casting_episode_ids"],
                   tasks=row.get("tasks", []))
        return out
    return base


async def _project_name(session: Any, project_id: uuid.UUID) -> str | None:
    from ..models import Project

    project = await session.get(Project, project_id)
    return project.name if project else None


async def _one_temporal(session: Any, principal: Any, entity: Entity, type_name: str) -> dict[str, Any]:
    """An episode or a sequence with its project (and episode) names."""
    row = entity.serialize(type_name=type_name)
    row["project_name"] = await _project_name(session, entity.project_id)
    if type_name == "Sequence" and entity.parent_id:
        parent = await session.get(Entity, entity.parent_id)
        row["episode_id"] = str(entity.parent_id)
        row["episode_name"] = parent.name if parent else None
    return row


def _entity_routes(family: str) -> None:
    kind = KINDS[family]
    singular = family[:-1]

    async def get_one(entity_id: str, principal: CurrentUser, session: SessionDep) -> Response:
        entity, type_name = await get_entity(session, principal, parse_uuid(entity_id), kind, assigned=True)
        if family in ("shots", "assets"):
            return json_response(await _full(session, principal, family, entity, type_name))
        return json_response(await _one_temporal(session, principal, entity, type_name))

    async def delete_one(entity_id: str, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
        entity, type_name = await get_entity(session, principal, parse_uuid(entity_id), kind)
        await entity_ops.delete_entity(session, principal, entity, type_name,
                                       force=flag(request.query_params.get("force")))
        return Response(status_code=204)

    async def get_tasks(entity_id: str, principal: CurrentUser, session: SessionDep) -> Response:
        entity, _ = await get_entity(session, principal, parse_uuid(entity_id), kind, assigned=True)
        return json_response(await named_tasks(session, principal, Task.entity_id == entity.id))

    async def get_task_types(entity_id: str, principal: CurrentUser, session: SessionDep) -> Response:
        entity, _ = await get_entity(session, principal, parse_uuid(entity_id), kind, assigned=True)
        return json_response(await task_types_of(session, Task.entity_id == entity.id))

    path = f"/data/{family}/{{entity_id}}"
    router.add_api_route(path, get_one, methods=["GET"], operation_id=f"get_{singular}",
                         summary=f"Get a {singular}")
    router.add_api_route(path, delete_one, methods=["DELETE"], operation_id=f"delete_{singular}", status_code=204,
                         summary=f"Delete a {singular} (canceled when it has tasks, unless force=true)")
    router.add_api_route(path + "/tasks", get_tasks, methods=["GET"], operation_id=f"get_{singular}_tasks",
                         summary=f"Tasks of a {singular}")
    router.add_api_route(path + "/task-types", get_task_types, methods=["GET"],
                         operation_id=f"get_{singular}_task_types", summary=f"Task types used by a {singular}'s tasks")


for _family in ("shots", "assets", "sequences", "episodes"):
    _entity_routes(_family)


@router.put("/data/shots/{shot_id}", operation_id="update_shot")
async def update_shot(shot_id: str, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Change a shot's fields (name, nb_frames, data, ...); managers of its project."""
    entity, type_name = await get_entity(session, principal, parse_uuid(shot_id), "Shot")
    entity = await entity_ops.update_entity(session, principal, entity, type_name, await json_object(request))
    return json_response(entity.serialize())


@router.get("/data/sequences/{sequence_id}/shots", operation_id="get_sequence_shots")
async def sequence_shots(sequence_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """Shots of a sequence."""
    seq, _ = await get_entity(session, principal, parse_uuid(sequence_id), "Sequence")
    return json_response(await list_entities(session, principal, "Shot", parent_id=seq.id, names="project,sequence"))


@router.get("/data/sequences/{sequence_id}/shot-tasks", operation_id="get_sequence_shot_tasks")
async def sequence_shot_tasks(sequence_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of a sequence's shots."""
    seq, _ = await get_entity(session, principal, parse_uuid(sequence_id), "Sequence", assigned=True)
    shots = Entity.__table__.select().with_only_columns(Entity.id).where(Entity.parent_id == seq.id)
    return json_response(await named_tasks(session, principal, Task.entity_id.in_(shots)))


@router.get("/data/episodes/{episode_id}/sequences", operation_id="get_episode_sequences")
async def episode_sequences(episode_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """Sequences of an episode."""
    ep, _ = await get_entity(session, principal, parse_uuid(episode_id), "Episode")
    return json_response(await list_entities(session, principal, "Sequence", parent_id=ep.id))


@router.get("/data/episodes/{episode_id}/shots", operation_id="get_episode_shots")
async def episode_shots(episode_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """Shots of an episode's sequences."""
    ep, _ = await get_entity(session, principal, parse_uuid(episode_id), "Episode", assigned=True)
    return json_response(await list_entities(session, principal, "Shot", grand_parent_id=ep.id))


def _episode_shot_ids(episode_id: uuid.UUID) -> Any:
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    seq = aliased(Entity)
    return select(Entity.id).join(seq, seq.id == Entity.parent_id).where(seq.parent_id == episode_id)


@router.get("/data/episodes/{episode_id}/shot-tasks", operation_id="get_episode_shot_tasks")
async def episode_shot_tasks(episode_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of an episode's shots."""
    ep, _ = await get_entity(session, principal, parse_uuid(episode_id), "Episode", assigned=True)
    return json_response(await named_tasks(session, principal, Task.entity_id.in_(_episode_shot_ids(ep.id))))


@router.get("/data/episodes/{episode_id}/asset-tasks", operation_id="get_episode_asset_tasks")
async def episode_asset_tasks(episode_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of the assets made for an episode."""
    from sqlalchemy import select

    ep, _ = await get_entity(session, principal, parse_uuid(episode_id), "Episode", assigned=True)
    assets = select(Entity.id).where(Entity.source_id == ep.id)
    return json_response(await named_tasks(session, principal, Task.entity_id.in_(assets)))



async def _share(request: Request, principal: Any, session: Any, *, project_id: str | None = None,
                 asset_type_id: str | None = None) -> Response:
    body = await json_object(request)
    ids = body.get("asset_ids")
    if ids is not None and not isinstance(ids, list):
        raise BadRequest("asset_ids must be a list")
    if project_id is not None:
        project = await access.readable_project(session, principal, parse_uuid(project_id))
        if asset_type_id is None:  # a whole project's assets: admins (Zou)
            access.check_admin(principal)
        else:  # a type's: the project's managers, even when it has no such asset
            await access.check_manager(session, principal, project.id)
    rows = await entity_ops.share_assets(
        session, principal, is_shared=bool(body.get("is_shared", True)),
        asset_ids=[parse_uuid(i) for i in ids] if ids is not None else None,
        project_id=parse_uuid(project_id) if project_id else None,
        asset_type_id=parse_uuid(asset_type_id) if asset_type_id else None,
    )
    return json_response(rows)


@router.post("/actions/assets/share", operation_id="share_assets")
async def share_assets(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Share (or unshare, is_shared=false) the given assets."""
    body = await json_object(request)
    if not isinstance(body.get("asset_ids"), list):
        raise BadRequest("Validation error.", data={"errors": [{"field": "asset_ids", "message": "Field required"}]})
    return await _share(request, principal, session)


@router.post("/actions/projects/{project_id}/assets/share", operation_id="share_project_assets")
async def share_project_assets(project_id: str, request: Request, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Share (or unshare) a project's assets, or the given ones."""
    return await _share(request, principal, session, project_id=project_id)


@router.post("/actions/projects/{project_id}/asset-types/{asset_type_id}/assets/share",
             operation_id="share_project_asset_type_assets")
async def share_asset_type_assets(project_id: str, asset_type_id: str, request: Request, principal: CurrentUser,
                                  session: SessionDep) -> Response:
    """Share (or unshare) a project's assets of a type."""
    return await _share(request, principal, session, project_id=project_id, asset_type_id=asset_type_id)


@router.post("/actions/projects/{project_id}/delete-entities", operation_id="delete_project_entities")
async def delete_entities(project_id: str, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Delete (or cancel, when they have tasks) the given entities of a project; answers their ids."""
    project = await access.readable_project(session, principal, parse_uuid(project_id))
    await access.check_manager(session, principal, project.id)
    body = await json_body(request)
    if not isinstance(body, list):
        raise BadRequest("A list of entity ids is expected")
    done = []
    for raw in body:
        entity, type_name = await get_entity(session, principal, parse_uuid(raw))
        if entity.project_id != project.id:
            raise BadRequest("Entity not in this project")
        await entity_ops.delete_entity(session, principal, entity, type_name,
                                       force=flag(request.query_params.get("force")) or entity.canceled)
        done.append(str(entity.id))
    return json_response(done)
