"""Assets, episodes, sequences and shots: Zou's listings, the with-tasks views Kitsu's
pages read (with ``stream`` and ``compact``), single rows, updates and deletions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.responses import Response, StreamingResponse

from slate_common.app import Runtime, SessionDep
from slate_common.errors import BadRequest, NotFound
from slate_common.params import (
    AssetTypeId,
    Body,
    EntityId,
    EpisodeId,
    JsonBody,
    ProjectId,
    SequenceId,
    ShotId,
    documented_body,
    flag,
    optional_id,
    parse_id,
)
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, casting_queries, entity_ops, listings, shot_versions, task_queries
from ..domain.entity_ops import get_entity, list_entities_json, read_entity
from ..domain.listing_cache import ListingCache
from ..domain.task_queries import named_tasks, task_types_of
from ..models import Entity, Task
from . import json_bytes
from .bodies import EntityName, Int32

router = APIRouter(tags=["Entities"])


class ShotChange(Body):
    """The fields of a shot a manager may change; the others are ignored."""

    name: EntityName | None = None
    code: Annotated[str, Field(max_length=160)] | None = None
    description: str | None = None
    shotgun_id: Int32 | None = None
    canceled: bool | None = None
    nb_frames: Int32 | None = None
    nb_entities_out: Int32 | None = None
    is_casting_standby: bool | None = None
    is_shared: bool | None = None
    status: Annotated[str, Field(max_length=30)] | None = None
    parent_id: uuid.UUID | None = None
    source_id: uuid.UUID | None = None
    preview_file_id: uuid.UUID | None = None
    data: dict[str, Any] | None = None
    ready_for: uuid.UUID | None = None
    entity_type_id: uuid.UUID | None = None


class AssetSharing(Body):
    #: false unshares them
    is_shared: bool = True


class ChosenAssetSharing(AssetSharing):
    #: the assets to change; none given, none changed
    asset_ids: list[uuid.UUID] | None = None


class ProjectAssetSharing(AssetSharing):
    #: the project's assets to change; all of them when not given
    asset_ids: list[uuid.UUID] | None = None


LISTINGS = {"shots": listings.SHOTS, "assets": listings.ASSETS, "sequences": listings.SEQUENCES,
            "episodes": listings.EPISODES}
KINDS = {"shots": "Shot", "assets": "Asset", "sequences": "Sequence", "episodes": "Episode"}


def _filters(request: Request) -> listings.Filters:
    q = request.query_params
    ids = q.get("id")
    return listings.Filters(
        project_id=optional_id(q.get("project_id"), "Invalid project_id"),
        episode_id=optional_id(q.get("episode_id"), "Invalid episode_id"),
        sequence_id=optional_id(q.get("sequence_id"), "Invalid sequence_id"),
        asset_type_id=optional_id(q.get("asset_type_id"), "Invalid asset_type_id"),
        entity_ids=(parse_id(ids),) if ids else (),
    )


async def with_tasks(request: Request, principal: Any, session: Any, runtime: Any, family: str) -> Response:
    listing = LISTINGS[family]
    await entity_ops.check_listing_scope(session, principal=principal, kind=KINDS[family], params=request.query_params, with_tasks=True)
    filters = _filters(request)
    compact = flag(request.query_params.get("compact"))
    if flag(request.query_params.get("stream")):
        lines = listings.stream(runtime.sessionmaker, listing=listing, principal=principal, filters=filters, compact=compact)
        return StreamingResponse(lines, media_type="application/x-ndjson")
    cache = _cache(request)
    if cache is None or filters.project_id is None:
        body_bytes = await listings.fetch_json(session, listing=listing, principal=principal, filters=filters, compact=compact)
        return Response(body_bytes, media_type="application/json")
    body = await cache.listing(session, listing, principal, filters, compact=compact)
    return Response(body, media_type="application/json")


def _cache(request: Request) -> ListingCache | None:
    return getattr(request.app.state, "listing_cache", None)


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
    await entity_ops.check_listing_scope(session, principal=principal, kind="Shot", params=request.query_params)
    return json_bytes(await list_entities_json(session, principal=principal, kind="Shot", filters=_plain_filters(request),
                                               names="project,sequence", cache=_cache(request)))


@router.get("/data/shots/all", operation_id="get_all_shots")
async def get_all_shots(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Every shot in scope, with project and sequence names."""
    await entity_ops.check_listing_scope(session, principal=principal, kind="Shot", params=request.query_params)
    return json_bytes(await list_entities_json(session, principal=principal, kind="Shot", filters=_plain_filters(request),
                                               names="project,sequence", cache=_cache(request)))


# --- assets --------------------------------------------------------------------------


@router.get("/data/assets/with-tasks", operation_id="get_assets_with_tasks")
async def assets_with_tasks(request: Request, principal: CurrentUser, session: SessionDep, runtime: Runtime) -> Response:
    """Assets with their tasks (Kitsu's asset list); stream and compact variants."""
    return await with_tasks(request, principal, session, runtime, "assets")


@router.get("/data/assets", operation_id="get_assets")
async def get_assets(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Assets in scope."""
    await entity_ops.check_listing_scope(session, principal=principal, kind="Asset", params=request.query_params)
    rows = await list_entities_json(session, principal=principal, kind="Asset", filters=_plain_filters(request),
                                    cache=_cache(request))
    return json_bytes(rows)


@router.get("/data/assets/all", operation_id="get_all_assets")
async def get_all_assets(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Every asset in scope."""
    await entity_ops.check_listing_scope(session, principal=principal, kind="Asset", params=request.query_params)
    rows = await list_entities_json(session, principal=principal, kind="Asset", filters=_plain_filters(request),
                                    cache=_cache(request))
    return json_bytes(rows)


# --- sequences and episodes ----------------------------------------------------------


@router.get("/data/sequences/with-tasks", operation_id="get_sequences_with_tasks")
async def sequences_with_tasks(request: Request, principal: CurrentUser, session: SessionDep, runtime: Runtime) -> Response:
    """Sequences with their tasks."""
    return await with_tasks(request, principal, session, runtime, "sequences")


@router.get("/data/sequences", operation_id="get_sequences")
async def get_sequences(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Sequences in scope."""
    await entity_ops.check_listing_scope(session, principal=principal, kind="Sequence", params=request.query_params)
    rows = await list_entities_json(session, principal=principal, kind="Sequence", filters=_plain_filters(request),
                                    cache=_cache(request))
    return json_bytes(rows)


@router.get("/data/episodes/with-tasks", operation_id="get_episodes_with_tasks")
async def episodes_with_tasks(request: Request, principal: CurrentUser, session: SessionDep, runtime: Runtime) -> Response:
    """Episodes with their tasks."""
    return await with_tasks(request, principal, session, runtime, "episodes")


@router.get("/data/episodes", operation_id="get_episodes")
async def get_episodes(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Episodes in scope."""
    await entity_ops.check_listing_scope(session, principal=principal, kind="Episode", params=request.query_params)
    rows = await list_entities_json(session, principal=principal, kind="Episode", filters=_plain_filters(request),
                                    cache=_cache(request))
    return json_bytes(rows)


# --- one entity ----------------------------------------------------------------------


async def _full(session: Any, principal: Any, family: str, entity: Entity, type_name: str) -> dict[str, Any]:
    """A shot or an asset as Zou's GET one returns it: the with-tasks row and the entity's other fields."""
    listing = LISTINGS[family]
    # Zou's single shot and asset hide nothing of their tasks from clients
    rows = await listings.fetch(session, listing=listing, principal=principal, filters=listings.Filters(entity_ids=(entity.id,)),
                                client_view=False)
    base = entity.serialize(type_name="Asset" if family == "assets" else KINDS[family])
    if not rows:  # a vendor with no task on it
        raise NotFound()
    row = rows[0]
    links = await casting_queries.link_lists(session, entity_id=entity.id)
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
                   project_name=await entity_ops.project_name(session, project_id=entity.project_id), asset_type_id=base["entity_type_id"],
                   asset_type_name=type_name, episode_id=base["source_id"] or "", casting_episode_ids=links["casting_episode_ids"],
                   tasks=row.get("tasks", []))
        return out
    return base


#: The tasks whose types an entity's task-types route lists, as Zou: a shot's or an
#: asset's own, a sequence's shots', an episode's sequences' shots'.
TASK_TYPE_SOURCES: dict[str, Callable[[uuid.UUID], Any]] = {
    "Shot": lambda entity_id: Task.entity_id == entity_id,
    "Asset": lambda entity_id: Task.entity_id == entity_id,
    "Sequence": task_queries.on_shots_of_sequence,
    "Episode": task_queries.on_shots_of_episode,
}


def _entity_routes(family: str) -> None:
    kind = KINDS[family]
    singular = family[:-1]

    async def get_one(entity_id: EntityId, principal: CurrentUser, session: SessionDep) -> Response:
        entity, type_name = await read_entity(session, principal=principal, entity_id=entity_id, kind=kind, assigned=True)
        if family in ("shots", "assets"):
            return json_response(await _full(session, principal, family, entity, type_name))
        return json_response(await entity_ops.one_temporal(session, principal=principal, entity=entity, type_name=type_name))

    async def delete_one(entity_id: EntityId, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
        entity, type_name = await get_entity(session, principal=principal, entity_id=entity_id, kind=kind)
        await entity_ops.delete_entity(session, principal=principal, entity=entity, type_name=type_name,
                                       force=flag(request.query_params.get("force")))
        return Response(status_code=204)

    async def get_tasks(entity_id: EntityId, principal: CurrentUser, session: SessionDep) -> Response:
        entity, _ = await read_entity(session, principal=principal, entity_id=entity_id, kind=kind, assigned=True)
        return json_response(await named_tasks(session, principal=principal, conditions=[Task.entity_id == entity.id]))

    async def get_task_types(entity_id: EntityId, principal: CurrentUser, session: SessionDep) -> Response:
        entity, _ = await read_entity(session, principal=principal, entity_id=entity_id, kind=kind, assigned=True)
        return json_response(await task_types_of(session, TASK_TYPE_SOURCES[kind](entity.id)))

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
async def update_shot(shot_id: ShotId, body: ShotChange, principal: CurrentUser, session: SessionDep) -> Response:
    """Change a shot's fields (name, nb_frames, data, ...); managers of its project."""
    entity, type_name = await get_entity(session, principal=principal, entity_id=shot_id, kind="Shot")
    entity = await entity_ops.update_entity(session, principal=principal, entity=entity, type_name=type_name,
                                            body=body.model_dump(exclude_unset=True))
    return json_response(entity.serialize())


@router.get("/data/sequences/{sequence_id}/shots", operation_id="get_sequence_shots")
async def sequence_shots(sequence_id: SequenceId, principal: CurrentUser, session: SessionDep) -> Response:
    """Shots of a sequence."""
    seq, _ = await get_entity(session, principal=principal, entity_id=sequence_id, kind="Sequence")
    return json_bytes(await list_entities_json(session, principal=principal, kind="Shot", parent_id=seq.id,
                                               names="project,sequence"))


@router.get("/data/sequences/{sequence_id}/shot-tasks", operation_id="get_sequence_shot_tasks")
async def sequence_shot_tasks(sequence_id: SequenceId, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of a sequence's shots."""
    seq, _ = await get_entity(session, principal=principal, entity_id=sequence_id, kind="Sequence", assigned=True)
    return json_response(await named_tasks(session, principal=principal, conditions=[task_queries.on_shots_of_sequence(seq.id)]))


@router.get("/data/episodes/{episode_id}/sequences", operation_id="get_episode_sequences")
async def episode_sequences(episode_id: EpisodeId, principal: CurrentUser, session: SessionDep) -> Response:
    """Sequences of an episode."""
    ep, _ = await get_entity(session, principal=principal, entity_id=episode_id, kind="Episode")
    return json_bytes(await list_entities_json(session, principal=principal, kind="Sequence", parent_id=ep.id))


@router.get("/data/episodes/{episode_id}/shots", operation_id="get_episode_shots")
async def episode_shots(episode_id: EpisodeId, principal: CurrentUser, session: SessionDep) -> Response:
    """Shots of an episode's sequences."""
    ep, _ = await get_entity(session, principal=principal, entity_id=episode_id, kind="Episode", assigned=True)
    return json_bytes(await list_entities_json(session, principal=principal, kind="Shot", grand_parent_id=ep.id))


@router.get("/data/episodes/{episode_id}/shot-tasks", operation_id="get_episode_shot_tasks")
async def episode_shot_tasks(episode_id: EpisodeId, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of an episode's shots."""
    ep, _ = await get_entity(session, principal=principal, entity_id=episode_id, kind="Episode", assigned=True)
    return json_response(await named_tasks(session, principal=principal, conditions=[task_queries.on_shots_of_episode(ep.id)]))


@router.get("/data/episodes/{episode_id}/asset-tasks", operation_id="get_episode_asset_tasks")
async def episode_asset_tasks(episode_id: EpisodeId, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of the assets made for an episode."""
    ep, _ = await get_entity(session, principal=principal, entity_id=episode_id, kind="Episode", assigned=True)
    return json_response(await named_tasks(session, principal=principal, conditions=[task_queries.on_assets_of_episode(ep.id)]))


async def _share(principal: Any, session: Any, *, is_shared: bool, asset_ids: list[uuid.UUID] | None,
                 project_id: uuid.UUID | None = None, asset_type_id: uuid.UUID | None = None) -> Response:
    if project_id is not None:
        project = await access.readable_project(session, principal=principal, project_id=project_id)
        if asset_type_id is None:  # a whole project's assets: admins (Zou)
            access.check_admin(principal)
        else:  # a type's: the project's managers, even when it has no such asset
            await access.check_manager(session, principal=principal, project_id=project.id)
    rows = await entity_ops.share_assets(session, principal=principal, is_shared=is_shared, asset_ids=asset_ids,
                                         project_id=project_id, asset_type_id=asset_type_id)
    return json_response(rows)


@router.post("/actions/assets/share", operation_id="share_assets")
async def share_assets(body: ChosenAssetSharing, principal: CurrentUser, session: SessionDep) -> Response:
    """Share (or unshare, is_shared=false) the given assets; none given, none changed
    (Zou answers an empty list)."""
    if body.asset_ids is None:
        return json_response([])
    return await _share(principal, session, is_shared=body.is_shared, asset_ids=body.asset_ids)


@router.post("/actions/projects/{project_id}/assets/share", operation_id="share_project_assets")
async def share_project_assets(project_id: ProjectId, principal: CurrentUser, session: SessionDep,
                               body: ProjectAssetSharing | None = None) -> Response:
    """Share (or unshare) a project's assets, or the given ones."""
    body = body or ProjectAssetSharing()
    return await _share(principal, session, is_shared=body.is_shared, asset_ids=body.asset_ids, project_id=project_id)


@router.post("/actions/projects/{project_id}/asset-types/{asset_type_id}/assets/share",
             operation_id="share_project_asset_type_assets")
async def share_asset_type_assets(project_id: ProjectId, asset_type_id: AssetTypeId, principal: CurrentUser,
                                  session: SessionDep, body: AssetSharing | None = None) -> Response:
    """Share (or unshare) a project's assets of a type."""
    body = body or AssetSharing()
    return await _share(principal, session, is_shared=body.is_shared, asset_ids=None, project_id=project_id,
                        asset_type_id=asset_type_id)


@router.post("/actions/projects/{project_id}/delete-entities", operation_id="delete_project_entities",
             openapi_extra=documented_body(list[uuid.UUID]))
async def delete_entities(project_id: ProjectId, principal: CurrentUser, session: SessionDep, body: JsonBody,
                          force: str | None = None) -> Response:
    """Delete (or cancel, when they have tasks) the given entities of a project (``force=true``:
    delete them even so); answers their ids. The body (a list of entity ids) is read once
    the caller is known to manage the project, as Zou."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    await access.check_manager(session, principal=principal, project_id=project.id)
    if not isinstance(body, list):
        raise BadRequest("A list of entity ids is expected")
    return json_response(await entity_ops.delete_project_entities(
        session, principal=principal, project_id=project.id, entity_ids=[parse_id(raw) for raw in body],
        force=flag(force)))


@router.get("/data/shots/{shot_id}/versions", operation_id="get_shot_versions")
async def get_shot_versions(shot_id: ShotId, principal: CurrentUser, session: SessionDep) -> Response:
    """The shot's name and data after each change of its frame range, newest first."""
    shot, _ = await get_entity(session, principal=principal, entity_id=shot_id, kind="Shot", assigned=True)
    return json_response(await shot_versions.shot_versions(session, shot_id=shot.id))
