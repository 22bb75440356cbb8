"""/data/user/*: the signed-in person's context, projects, tasks and the entities they
have tasks on; and /data/asset-types."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import NotFound
from slate_common.params import AssetTypeId, EntityId, ProjectId, SequenceId
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, user_queries
from ..domain.entity_ops import get_any_entity, list_entities
from ..domain.projects import open_projects
from ..domain.task_queries import user_tasks_json
from ..domain.user_context import context

router = APIRouter(tags=["User"])


@router.get("/data/user/context", operation_id="get_user_context")
async def user_context(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Everything Kitsu loads at start for the signed-in person."""
    settings = request.app.state.runtime.settings
    return json_response(await context(session, principal=principal, user_limit=getattr(settings, "user_limit", None)))


@router.get("/data/user/projects/open", operation_id="get_user_open_projects")
async def user_open_projects(principal: CurrentUser, session: SessionDep) -> Response:
    """Running projects the person is in."""
    return json_response(await open_projects(session, principal=principal))


@router.get("/data/user/tasks", operation_id="get_user_tasks")
async def user_tasks(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """The person's todo list: unfinished tasks assigned to them in running projects."""
    body = await user_tasks_json(session, principal=principal, cache=request.app.state.listing_cache)
    return Response(body, media_type="application/json")


@router.get("/data/user/projects/{project_id}/asset-types", operation_id="get_user_project_asset_types")
async def user_asset_types(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Asset types of the project's assets the person has tasks on."""
    project = await access.existing_project(session, project_id=project_id)
    return json_response(await user_queries.my_asset_types(session, principal=principal, project_id=project.id))


@router.get("/data/user/projects/{project_id}/asset-types/{asset_type_id}/assets",
            operation_id="get_user_project_asset_type_assets")
async def user_assets(project_id: ProjectId, asset_type_id: AssetTypeId, principal: CurrentUser,
                      session: SessionDep) -> Response:
    """The project's assets of a type the person has tasks on."""
    project = await access.existing_project(session, project_id=project_id)
    rows = await list_entities(session, principal=principal, kind="Asset", project_id=project.id,
                               filters={"entity_type_id": str(asset_type_id)})
    mine = await user_queries.my_entity_ids(session, principal=principal)
    return json_response([r for r in rows if r["id"] in mine])


@router.get("/data/user/projects/{project_id}/sequences", operation_id="get_user_project_sequences")
async def user_sequences(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Sequences of the project holding shots the person has tasks on."""
    project = await access.existing_project(session, project_id=project_id)
    rows = await list_entities(session, principal=principal, kind="Sequence", project_id=project.id)
    mine = await user_queries.my_sequence_ids(session, principal=principal)
    return json_response([r for r in rows if r["id"] in mine])


@router.get("/data/user/projects/{project_id}/episodes", operation_id="get_user_project_episodes")
async def user_episodes(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Episodes of the project holding shots (or assets) the person has tasks on."""
    project = await access.existing_project(session, project_id=project_id)
    rows = await list_entities(session, principal=principal, kind="Episode", project_id=project.id)
    mine = await user_queries.my_episode_ids(session, principal=principal)
    return json_response([r for r in rows if r["id"] in mine])


@router.get("/data/user/sequences/{sequence_id}/shots", operation_id="get_user_sequence_shots")
async def user_sequence_shots(sequence_id: SequenceId, principal: CurrentUser, session: SessionDep) -> Response:
    """Shots of a sequence the person has tasks on."""
    seq = await get_any_entity(session, entity_id=sequence_id, kind="Sequence")
    rows = await list_entities(session, principal=principal, kind="Shot", parent_id=seq.id)
    mine = await user_queries.my_entity_ids(session, principal=principal)
    return json_response([r for r in rows if r["id"] in mine])


def _entity_routes(path: str, kind: str) -> None:
    async def tasks(entity_id: EntityId, principal: CurrentUser, session: SessionDep) -> Response:
        entity = await get_any_entity(session, entity_id=entity_id, kind=kind)
        return json_response(await user_queries.my_tasks_on(session, principal=principal, entity_id=entity.id))

    async def task_types(entity_id: EntityId, principal: CurrentUser, session: SessionDep) -> Response:
        entity = await get_any_entity(session, entity_id=entity_id, kind=kind)
        return json_response(await user_queries.my_task_types_on(session, principal=principal, entity_id=entity.id))

    name = path.rstrip("s")
    router.add_api_route(f"/data/user/{path}/{{entity_id}}/tasks", tasks, methods=["GET"],
                         operation_id=f"get_user_{name}_tasks", summary=f"The person's tasks on a {name}")
    router.add_api_route(f"/data/user/{path}/{{entity_id}}/task-types", task_types, methods=["GET"],
                         operation_id=f"get_user_{name}_task_types", summary=f"Task types of the person's tasks on a {name}")


for _path, _kind in (("assets", "Asset"), ("shots", "Shot"), ("sequences", "Sequence")):
    _entity_routes(_path, _kind)


@router.get("/data/asset-types", operation_id="get_asset_types")
async def asset_types(principal: CurrentUser, session: SessionDep) -> Response:
    """Entity types that are asset types, with their workflow's task types."""
    return json_response(await user_queries.asset_types(session))


@router.get("/data/asset-types/{asset_type_id}", operation_id="get_asset_type")
async def asset_type(asset_type_id: AssetTypeId, principal: CurrentUser, session: SessionDep) -> Response:
    """One asset type."""
    found = await user_queries.asset_type(session, asset_type_id=asset_type_id)
    if found is None:
        raise NotFound()
    return json_response(found)


