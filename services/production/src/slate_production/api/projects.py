"""Project routes beyond CRUD: listings, team, settings (task types, task statuses,
asset types and their order), and the project-scoped entity routes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest
from slate_common.params import (
    AssetTypeId,
    Body,
    OptionalId,
    PersonId,
    ProjectId,
    RequiredId,
    TaskStatusId,
    TaskTypeId,
    parse_id,
)
from slate_common.security import AdminUser, CurrentUser
from slate_common.serialization import json_response

from ..domain import access, entity_ops, project_reads
from ..domain import project_settings as settings_rules
from ..domain.entity_ops import list_entities_json
from ..domain.projects import all_projects, open_projects
from ..domain.task_queries import plain_tasks
from ..models import Task
from . import json_bytes
from .bodies import EntityName, Int32

router = APIRouter(tags=["Projects"])

TeamRole = Literal["user", "supervisor", "manager", "client", "vendor"]
BoardRole = Literal["admin", "manager", "supervisor", "user", "client", "vendor"]


def _given(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("missing", "Field required")
    return value


class TeamMemberIn(Body):
    person_id: RequiredId


class TeamRoleIn(Body):
    #: null (or none) restores the person's studio role
    role: TeamRole | None = None


class AssetTypeLinkIn(Body):
    asset_type_id: RequiredId


class TaskTypeLinkIn(Body):
    task_type_id: RequiredId
    priority: Int32 | None = None


class TaskStatusLinkIn(Body):
    task_status_id: RequiredId
    priority: Int32 | None = None


class TaskStatusLinkChange(Body):
    #: required, as Zou checks first (``null`` too is "Field required")
    is_client_allowed: Annotated[bool, BeforeValidator(_given)]
    priority: Int32 | None = None
    roles_for_board: list[BoardRole] | None = None


class NewTaskTypeLink(Body):
    project_id: RequiredId
    task_type_id: RequiredId
    priority: Int32 | None = 1


class NewTaskStatusLink(Body):
    project_id: RequiredId
    task_status_id: RequiredId
    priority: Int32 | None = 1
    #: emptied when not given, as Zou does on this route
    roles_for_board: list[BoardRole] = Field(default_factory=list)
    is_client_allowed: bool | None = None


def _ordered_ids(key: str) -> Any:
    """A reorder body's list of ids, refused as Zou does: 400 with ``"data": null``."""

    def check(value: Any) -> list[uuid.UUID]:
        if not isinstance(value, list):
            raise BadRequest(f"{key} must be a list of ids", data=None)
        return [parse_id(item, f"Invalid {key}") for item in value]

    return BeforeValidator(check)


class _Order(Body):
    @model_validator(mode="before")
    @classmethod
    def _listed(cls, data: Any) -> Any:
        for key in cls.model_fields:
            if isinstance(data, dict) and key not in data:
                raise BadRequest(f"{key} must be a list of ids", data=None)
        return data


class TaskTypeOrder(_Order):
    task_type_ids: Annotated[list[uuid.UUID], _ordered_ids("task_type_ids")]


class TaskStatusOrder(_Order):
    task_status_ids: Annotated[list[uuid.UUID], _ordered_ids("task_status_ids")]


class TaskTypeSetting(Body):
    task_type_id: RequiredId
    priority: Int32 | None = None


class SettingsBatch(Body):
    task_types: list[TaskTypeSetting] | None = None
    #: the task types given become the project's whole list
    replace_task_types: bool = False
    task_status_ids: list[uuid.UUID] | None = None
    asset_type_ids: list[uuid.UUID] | None = None


class NewEntity(Body):
    name: EntityName
    description: str | None = None
    data: dict[str, Any] | None = None
    is_shared: bool = False
    nb_frames: Int32 | None = None


class NewAsset(NewEntity):
    #: the episode the asset is made for
    source_id: OptionalId = None
    episode_id: OptionalId = None


class NewSequence(NewEntity):
    episode_id: OptionalId = None


class NewShot(NewEntity):
    sequence_id: OptionalId = None


@router.get("/data/projects/open", operation_id="get_open_projects")
async def get_open_projects(principal: CurrentUser, session: SessionDep, name: str | None = None) -> Response:
    """Running projects the caller can see."""
    return json_response(await open_projects(session, principal=principal, name=name))


@router.get("/data/projects/all", operation_id="get_all_projects")
async def get_all_projects(principal: CurrentUser, session: SessionDep) -> Response:
    """Every project the caller can see, with its status name."""
    return json_response(await all_projects(session, principal=principal))


# --- team ----------------------------------------------------------------------------


@router.get("/data/projects/{project_id}/team", operation_id="get_project_team")
async def get_team(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """The persons of a project's team."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    return json_response(await settings_rules.team(session, principal=principal, project_id=project.id))


@router.post("/data/projects/{project_id}/team", operation_id="add_project_team_member", status_code=201)
async def add_team_member(project_id: ProjectId, body: TeamMemberIn, principal: CurrentUser,
                          session: SessionDep) -> Response:
    """Add a person to a project's team (managers); emits project:update."""
    project = await settings_rules.add_to_team(session, principal=principal, project_id=project_id,
                                               person_id=body.person_id)
    return json_response(project.serialize(), status_code=201)


@router.delete("/data/projects/{project_id}/team/{person_id}", operation_id="remove_project_team_member",
               status_code=204)
async def remove_team_member(project_id: ProjectId, person_id: PersonId, principal: CurrentUser, session: SessionDep) -> Response:
    """Remove a person from a project's team (managers); emits project:update."""
    await settings_rules.remove_from_team(session, principal=principal, project_id=project_id, person_id=person_id)
    return Response(status_code=204)


@router.put("/data/projects/{project_id}/team/{person_id}", operation_id="set_project_team_member_role")
async def set_team_role(project_id: ProjectId, person_id: PersonId, principal: CurrentUser, session: SessionDep,
                        body: TeamRoleIn | None = None) -> Response:
    """Set a team member's role on this production only (managers); null or no role
    restores the studio role (Zou reads a missing role as null)."""
    return json_response(await settings_rules.set_team_role(
        session, principal=principal, project_id=project_id, person_id=person_id, role=body.role if body else None))


# --- settings ------------------------------------------------------------------------


@router.post("/data/projects/{project_id}/settings/asset-types", operation_id="add_project_asset_type",
             status_code=201)
async def add_asset_type(project_id: ProjectId, body: AssetTypeLinkIn, principal: CurrentUser,
                         session: SessionDep) -> Response:
    """Use an asset type in a project."""
    project = await settings_rules.add_asset_type(session, principal=principal, project_id=project_id,
                                                  asset_type_id=body.asset_type_id)
    return json_response(project.serialize(), status_code=201)


@router.delete("/data/projects/{project_id}/settings/asset-types/{asset_type_id}",
               operation_id="remove_project_asset_type", status_code=204)
async def remove_asset_type(project_id: ProjectId, asset_type_id: AssetTypeId, principal: CurrentUser, session: SessionDep) -> Response:
    """Stop using an asset type in a project."""
    await settings_rules.remove_asset_type(session, principal=principal, project_id=project_id, asset_type_id=asset_type_id)
    return Response(status_code=204)


@router.post("/data/projects/{project_id}/settings/task-types", operation_id="add_project_task_type",
             status_code=201)
async def add_task_type(project_id: ProjectId, body: TaskTypeLinkIn, principal: CurrentUser,
                        session: SessionDep) -> Response:
    """Use a task type in a project (with an optional priority)."""
    project = await settings_rules.link_task_type(
        session, principal=principal, project_id=project_id, task_type_id=body.task_type_id, priority=body.priority)
    return json_response(project.serialize(), status_code=201)


@router.delete("/data/projects/{project_id}/settings/task-types/{task_type_id}",
               operation_id="remove_project_task_type", status_code=204)
async def remove_task_type(project_id: ProjectId, task_type_id: TaskTypeId, principal: CurrentUser, session: SessionDep) -> Response:
    """Stop using a task type in a project."""
    await settings_rules.unlink_task_type(session, principal=principal, project_id=project_id, task_type_id=task_type_id)
    return Response(status_code=204)


@router.get("/data/projects/{project_id}/settings/task-status", operation_id="get_project_task_statuses")
async def get_task_statuses(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """The task statuses a project uses."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    return json_response(await settings_rules.task_statuses(session, project_id=project.id))


@router.post("/data/projects/{project_id}/settings/task-status", operation_id="add_project_task_status",
             status_code=201)
async def add_task_status(project_id: ProjectId, body: TaskStatusLinkIn, principal: CurrentUser,
                          session: SessionDep) -> Response:
    """Use a task status in a project."""
    project = await settings_rules.link_task_status(
        session, principal=principal, project_id=project_id, task_status_id=body.task_status_id, priority=body.priority)
    return json_response(project.serialize(), status_code=201)


@router.put("/data/projects/{project_id}/settings/task-status/{task_status_id}",
            operation_id="update_project_task_status")
async def update_task_status_link(project_id: ProjectId, task_status_id: TaskStatusId, body: TaskStatusLinkChange,
                                  principal: CurrentUser, session: SessionDep) -> Response:
    """Change a project's use of a task status (priority, board roles, client visibility)."""
    link = await settings_rules.update_task_status_link(
        session, principal=principal, project_id=project_id, task_status_id=task_status_id,
        values=body.model_dump(exclude_unset=True))
    return json_response(link.serialize())


@router.delete("/data/projects/{project_id}/settings/task-status/{task_status_id}",
               operation_id="remove_project_task_status", status_code=204)
async def remove_task_status(project_id: ProjectId, task_status_id: TaskStatusId, principal: CurrentUser, session: SessionDep) -> Response:
    """Stop using a task status in a project."""
    await settings_rules.unlink_task_status(session, principal=principal, project_id=project_id, task_status_id=task_status_id)
    return Response(status_code=204)


@router.post("/data/task-type-links", operation_id="create_task_type_link", status_code=201)
async def create_task_type_link(body: NewTaskTypeLink, principal: CurrentUser, session: SessionDep) -> Response:
    """Link a task type to a project with a priority, 1 unless given, as Zou (updates an
    existing link)."""
    link = await settings_rules.upsert_task_type_link(
        session, principal=principal, project_id=body.project_id, task_type_id=body.task_type_id,
        priority=body.priority)
    return json_response(link.serialize(), status_code=201)


@router.post("/data/task-status-links", operation_id="create_task_status_link", status_code=201)
async def create_task_status_link(body: NewTaskStatusLink, principal: CurrentUser, session: SessionDep) -> Response:
    """Link a task status to a project with a priority, 1 unless given (updates an
    existing link; board roles not given are emptied, as Zou does on this route)."""
    values = body.model_dump(include={"priority", "roles_for_board"}) | body.model_dump(
        include={"is_client_allowed"}, exclude_unset=True)
    link = await settings_rules.upsert_task_status_link(
        session, principal=principal, project_id=body.project_id, task_status_id=body.task_status_id, values=values)
    return json_response(link.serialize(), status_code=201)


@router.post("/actions/projects/{project_id}/task-type-links/reorder", operation_id="reorder_task_type_links")
async def reorder_task_types(project_id: ProjectId, principal: AdminUser, body: TaskTypeOrder,
                             session: SessionDep) -> Response:
    """Set the order of a project's task types (admins, refused to others before the body
    is read, as Zou; priority 1, 2, ... in the given order)."""
    links = await settings_rules.reorder_task_types(session, principal=principal, project_id=project_id,
                                                    task_type_ids=body.task_type_ids)
    return json_response([x.serialize() for x in links])


@router.post("/actions/projects/{project_id}/task-status-links/reorder", operation_id="reorder_task_status_links")
async def reorder_task_statuses(project_id: ProjectId, principal: AdminUser, body: TaskStatusOrder,
                                session: SessionDep) -> Response:
    """Set the order of a project's task statuses (admins, refused to others first)."""
    links = await settings_rules.reorder_task_statuses(session, principal=principal, project_id=project_id,
                                                       task_status_ids=body.task_status_ids)
    return json_response([x.serialize() for x in links])


# --- project-scoped listings and creations ---------------------------------------------


@router.get("/data/projects/{project_id}/asset-types", operation_id="get_project_asset_types")
async def project_asset_types(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Asset types that the project's assets use."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    return json_response(await settings_rules.used_asset_types(session, project_id=project.id))


@router.get("/data/projects/{project_id}/task-types", operation_id="get_project_task_types")
async def project_task_types(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Task types a project uses."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    return json_response(await settings_rules.task_types(session, project_id=project.id))


@router.get("/data/projects/{project_id}/tasks", operation_id="get_project_tasks")
async def project_tasks(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of a project."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    return json_response(await plain_tasks(session, principal=principal, conditions=[Task.project_id == project.id]))


def _listing(kind: str) -> Any:
    async def handler(project_id: ProjectId, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
        readable = await project_reads.readable_project_id(session, principal=principal, project_id=project_id)
        filters = {k: v for k, v in request.query_params.items() if k not in ("relations",)}
        return json_bytes(await list_entities_json(session, principal=principal, kind=kind, project_id=readable,
                                                   filters=filters, cache=request.app.state.listing_cache))

    return handler


for _path, _kind in (("assets", "Asset"), ("episodes", "Episode"), ("sequences", "Sequence"), ("shots", "Shot")):
    router.add_api_route(f"/data/projects/{{project_id}}/{_path}", _listing(_kind), methods=["GET"],
                         operation_id=f"get_project_{_path}", summary=f"The project's {_path}")


@router.get("/data/projects/{project_id}/asset-types/{asset_type_id}/assets",
            operation_id="get_project_asset_type_assets")
async def project_assets_of_type(project_id: ProjectId, asset_type_id: AssetTypeId, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """A project's assets of one type."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    return json_bytes(await list_entities_json(session, principal=principal, kind="Asset", project_id=project.id,
                                               filters={"entity_type_id": asset_type_id}))


@router.post("/data/projects/{project_id}/asset-types/{asset_type_id}/assets/new",
             operation_id="create_asset", status_code=201)
async def create_asset(project_id: ProjectId, asset_type_id: AssetTypeId, body: NewAsset, principal: CurrentUser,
                       session: SessionDep) -> Response:
    """Create an asset of a type in a project (managers)."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    entity, type_name, _ = await entity_ops.create_entity(
        session, principal=principal, project_id=project.id, entity_type=asset_type_id,
        body=body.model_dump(exclude_unset=True))
    return json_response(entity.serialize(type_name="Asset"), status_code=201)


@router.post("/data/projects/{project_id}/episodes", operation_id="create_episode", status_code=201)
async def create_episode(project_id: ProjectId, body: NewEntity, principal: CurrentUser,
                         session: SessionDep) -> Response:
    """Create an episode (or get the one of that name)."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    entity, _, _ = await entity_ops.create_entity(session, principal=principal, project_id=project.id, type_name="Episode",
                                                  body=body.model_dump(exclude_unset=True), get_or_create=True)
    return json_response(entity.serialize(type_name="Episode"), status_code=201)


@router.post("/data/projects/{project_id}/sequences", operation_id="create_sequence", status_code=201)
async def create_sequence(project_id: ProjectId, body: NewSequence, principal: CurrentUser,
                          session: SessionDep) -> Response:
    """Create a sequence, in an episode for TV shows (or get the one of that name)."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    entity, _, _ = await entity_ops.create_entity(session, principal=principal, project_id=project.id, type_name="Sequence",
                                                  body=body.model_dump(exclude_unset=True), parent_id=body.episode_id,
                                                  get_or_create=True)
    return json_response(entity.serialize(type_name="Sequence"), status_code=201)


@router.post("/data/projects/{project_id}/shots", operation_id="create_shot", status_code=201)
async def create_shot(project_id: ProjectId, body: NewShot, principal: CurrentUser, session: SessionDep) -> Response:
    """Create a shot in a sequence, with nb_frames and data (or get the one of that name)."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    entity, _, _ = await entity_ops.create_entity(session, principal=principal, project_id=project.id, type_name="Shot",
                                                  body=body.model_dump(exclude_unset=True), parent_id=body.sequence_id,
                                                  get_or_create=True)
    return json_response(entity.serialize(type_name="Shot"), status_code=201)


@router.post("/data/projects/{project_id}/settings/batch", operation_id="add_project_settings_batch")
async def settings_batch(project_id: ProjectId, body: SettingsBatch, principal: CurrentUser,
                         session: SessionDep) -> Response:
    """Add task types (with priorities), task statuses and asset types to a project at once."""
    project = await settings_rules.batch(
        session, principal=principal, project_id=project_id,
        task_types=[(item.task_type_id, item.priority) for item in body.task_types or []],
        replace_task_types=body.replace_task_types, task_status_ids=body.task_status_ids or [],
        asset_type_ids=body.asset_type_ids or [])
    return json_response(project.serialize())


@router.post("/actions/task-types/reorder", operation_id="reorder_task_types")
async def reorder_global_task_types(principal: AdminUser, body: TaskTypeOrder, session: SessionDep) -> Response:
    """Set the studio-wide order of task types (admins, refused to others first)."""
    rows = await settings_rules.reorder_global_task_types(session, principal=principal,
                                                          task_type_ids=body.task_type_ids)
    return json_response([t.serialize() for t in rows])


@router.get("/data/projects/{project_id}/episodes/stats", operation_id="get_project_episode_stats")
async def episode_stats(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Task counts (and frames) by episode, task type and status for a project."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    return json_response(await settings_rules.episode_stats(session, project_id=project.id))
