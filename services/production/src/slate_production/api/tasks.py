"""Task routes: create-tasks actions, assignation, priority, deletion, the full task,
open tasks, per-person task lists."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.params import (
    Body,
    EntityId,
    JsonObject,
    OptionalId,
    PersonId,
    ProjectId,
    RequiredId,
    TaskId,
    TaskTypeId,
    documented_body,
    json_body,
    parse_id,
    validate,
)
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, previews, task_ops, task_queries
from ..domain import entities as entity_rules
from ..domain.entity_ops import get_entity
from ..domain.task_queries import assigned_to_person, open_project, plain_tasks, todo_tasks_json
from ..domain.tasks import assignees_of, serialize_task
from ..models import Task, TaskStatus

router = APIRouter(tags=["Tasks"])


class EntityTasksIn(Body):
    """The task types to create (every valid one when none is given)."""

    task_type_ids: list[str] = []


class AssignIn(Body):
    person_id: RequiredId


class TaskIdsIn(Body):
    task_ids: list[RequiredId] | None = None


class ClearAssignationIn(TaskIdsIn):
    """The tasks to unassign, of one person (``person_id``) or of everyone."""

    person_id: OptionalId = None


class PriorityIn(TaskIdsIn):
    priority: int


class ShotFrames(Body):
    shot_id: RequiredId
    nb_frames: int


class ShotFramesIn(Body):
    shots: list[ShotFrames] = []


#: The ids of a create-tasks or delete-tasks body (a JSON list; none: every entity).
IDS_BODY = documented_body(list[uuid.UUID], required=False)


def _ids(body: Any, key: str | None = None) -> list[uuid.UUID]:
    values = body.get(key) if key and isinstance(body, dict) else body
    if values is None:
        return []
    if not isinstance(values, list):
        raise BadRequest(f"{key or 'body'} must be a list of ids")
    return [parse_id(v) for v in values]


async def _create_tasks(request: Request, principal: Any, session: Any, project_id: uuid.UUID,
                        task_type_id: uuid.UUID, kind: str) -> Response:
    body = await json_body(request)
    ids = _ids(body) if isinstance(body, list) and body else None
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    tasks = await task_ops.create_tasks(session, principal=principal, project_id=project.id,
                                        task_type_id=task_type_id, kind=kind, entity_ids=ids)
    return json_response(await task_ops.with_names(session, tasks=tasks), status_code=201)


@router.post("/actions/projects/{project_id}/task-types/{task_type_id}/shots/create-tasks",
             operation_id="create_shot_tasks", status_code=201, openapi_extra=IDS_BODY)
async def create_shot_tasks(project_id: ProjectId, task_type_id: TaskTypeId, request: Request, principal: CurrentUser,
                            session: SessionDep) -> Response:
    """One task of this type for each given shot (all the project's shots when none)."""
    return await _create_tasks(request, principal, session, project_id, task_type_id, "Shot")


@router.post("/actions/projects/{project_id}/task-types/{task_type_id}/assets/create-tasks",
             operation_id="create_asset_tasks", status_code=201, openapi_extra=IDS_BODY)
async def create_asset_tasks(project_id: ProjectId, task_type_id: TaskTypeId, request: Request, principal: CurrentUser,
                             session: SessionDep) -> Response:
    """One task of this type for each given asset (all the project's assets when none)."""
    return await _create_tasks(request, principal, session, project_id, task_type_id, "Asset")


@router.post("/data/entities/{entity_id}/tasks", operation_id="create_entity_tasks", status_code=201,
             openapi_extra=documented_body(EntityTasksIn, required=False))
async def create_entity_tasks(entity_id: EntityId, request: Request, principal: CurrentUser,
                              session: SessionDep) -> Response:
    """One task per given task type for an entity (every valid type when none is given)."""
    entity, _ = await get_entity(session, principal=principal, entity_id=entity_id)
    tasks = await task_ops.create_entity_tasks(session, principal=principal, entity=entity,
                                               task_type_ids=await _task_type_ids(request))
    return json_response(await task_ops.with_names(session, tasks=tasks), status_code=201)


async def _task_type_ids(request: Request) -> list[uuid.UUID]:
    """``task_type_ids`` of the body; as Zou, a body that is not JSON counts as empty and a
    malformed id as an unknown one (404)."""
    try:
        body = await json_body(request)
    except BadRequest:
        return []
    if not isinstance(body, dict):
        raise BadRequest("Validation error.", data={"errors": [
            {"field": "", "message": "Input should be a valid dictionary"}]})
    try:
        return [uuid.UUID(value) for value in validate(EntityTasksIn, body).task_type_ids]
    except ValueError as exc:
        raise NotFound() from exc


@router.put("/actions/tasks/{task_id}/assign", operation_id="assign_task", openapi_extra=documented_body(AssignIn))
async def assign_task(task_id: TaskId, body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Assign a person to a task (supervisors and managers; anyone of the team themself, on
    a task of their department); emits task:assign."""
    task = await task_ops.visible_task(session, principal=principal, task_id=task_id)
    if str(body.get("person_id")) != str(principal.id):
        await access.check_supervisor(session, principal=principal, project_id=task.project_id)
    person_id = validate(AssignIn, body).person_id
    if not await task_ops.assign(session, principal=principal, task_ids=[task.id], person_id=person_id):
        raise Forbidden()  # a supervisor outside the task's or the person's departments (Zou)
    return json_response(serialize_task(task, assignees=(await assignees_of(session, task_ids=[task.id]))[task.id]))


@router.put("/actions/persons/{person_id}/assign", operation_id="assign_tasks_to_person",
            openapi_extra=documented_body(TaskIdsIn))
async def assign_person(person_id: PersonId, body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Assign a person to several tasks (the ones the caller supervises)."""
    task_ids = validate(TaskIdsIn, body).task_ids or []
    tasks = await task_ops.assign(session, principal=principal, task_ids=task_ids, person_id=person_id)
    assignees = await assignees_of(session, task_ids=[t.id for t in tasks])
    return json_response([serialize_task(t, assignees=assignees[t.id]) for t in tasks])


@router.put("/actions/tasks/clear-assignation", operation_id="clear_assignation",
            openapi_extra=documented_body(ClearAssignationIn))
async def clear_assignation(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Unassign one person (or everyone) from tasks; answers the ids of the tasks changed."""
    clear = validate(ClearAssignationIn, body)
    tasks = await task_ops.clear_assignation(session, principal=principal, task_ids=clear.task_ids or [], person_id=clear.person_id)
    return json_response([str(t.id) for t in tasks])


@router.put("/actions/tasks/set-priority", operation_id="set_tasks_priority", openapi_extra=documented_body(PriorityIn))
async def set_priority(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Set the priority of tasks (the ones the caller supervises)."""
    if body.get("priority") is None:
        raise BadRequest("priority is required")
    change = validate(PriorityIn, body)
    tasks = await task_ops.set_priority(session, principal=principal, task_ids=change.task_ids or [], priority=change.priority)
    return json_response([t.serialize() for t in tasks])


@router.post("/actions/projects/{project_id}/delete-tasks", operation_id="delete_project_tasks",
             openapi_extra=IDS_BODY)
async def delete_project_tasks(project_id: ProjectId, request: Request, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Delete the given tasks of a project (admins, as Zou); answers the ids given, as Zou
    does, those of other projects too (which it leaves alone: so does Slate)."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    access.check_admin(principal)
    ids = _ids(await json_body(request))
    tasks = await task_queries.project_tasks(session, project_id=project.id, task_ids=ids)
    await task_ops.delete_tasks(session, principal=principal, tasks=tasks)
    return json_response([str(i) for i in ids])


@router.delete("/actions/projects/{project_id}/task-types/{task_type_id}/delete-tasks",
               operation_id="delete_project_task_type_tasks", status_code=204)
async def delete_task_type_tasks(project_id: ProjectId, task_type_id: TaskTypeId, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """Delete every task of a type in a project (admins, as Zou)."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    access.check_admin(principal)
    tasks = await task_queries.project_tasks(session, project_id=project.id, task_type_id=task_type_id)
    await task_ops.delete_tasks(session, principal=principal, tasks=tasks)
    return Response(status_code=204)


@router.get("/data/tasks/open-tasks", operation_id="get_open_tasks")
async def open_tasks(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Unfinished tasks of running projects, with stats; filters: project_id, task_type_id,
    task_status_id, person_id, page, limit."""
    return json_response(await task_queries.open_tasks(session, principal=principal, params=request.query_params))


@router.get("/data/tasks/{task_id}/full", operation_id="get_full_task")
async def full_task(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """A task with its entity, entity type, project, status, type, assignees and assigner."""
    task = await task_ops.visible_task(session, principal=principal, task_id=task_id)
    return json_response(await task_queries.full_task(session, principal=principal, task=task))


@router.get("/data/entities/{entity_id}/task-types/{task_type_id}/tasks", operation_id="get_entity_type_tasks")
async def entity_task_type_tasks(entity_id: EntityId, task_type_id: TaskTypeId, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """An entity's tasks of one type."""
    entity, _ = await get_entity(session, principal=principal, entity_id=entity_id)
    return json_response(await task_queries.entity_type_tasks(session, principal=principal, entity_id=entity.id,
                                                              task_type_id=task_type_id))


# --- per person ----------------------------------------------------------------------


async def _person_for(session: Any, principal: Any, pid: uuid.UUID) -> uuid.UUID:
    """A person whose tasks the caller may list: themselves, or anyone for supervisors+."""
    if pid != principal.id and principal.role not in access.SUPERVISORS:
        raise Forbidden()
    await task_ops.get_person(session, person_id=pid)
    return pid


@router.get("/data/persons/{person_id}/tasks", operation_id="get_person_tasks")
async def person_tasks(person_id: PersonId, principal: CurrentUser, session: SessionDep) -> Response:
    """Unfinished tasks assigned to a person in running projects (the caller's scope).
    As Zou: a vendor lists their own only, a client gets an empty list for anyone else."""
    if person_id != principal.id and principal.is_vendor:
        raise Forbidden()
    await task_ops.get_person(session, person_id=person_id)
    if person_id != principal.id and principal.is_client:
        return json_response([])
    conditions = [assigned_to_person(person_id), open_project(), TaskStatus.is_done.is_(False)]
    return Response(await todo_tasks_json(session, principal=principal, conditions=conditions),
                    media_type="application/json")


@router.get("/data/persons/{person_id}/related-tasks/{task_type_id}", operation_id="get_person_related_tasks")
async def related_tasks(person_id: PersonId, task_type_id: TaskTypeId, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of a type on the entities where the person has a task assigned."""
    pid = await _person_for(session, principal, person_id)
    conditions = [task_queries.on_entities_of_person(pid), Task.task_type_id == task_type_id]
    return json_response(await plain_tasks(session, principal=principal, conditions=conditions, with_assignees=False))


@router.get("/data/persons/task-dates", operation_id="get_persons_task_dates")
async def task_dates(principal: CurrentUser, session: SessionDep) -> Response:
    """For each person with tasks in running projects: the first start and last due date."""
    if principal.role not in access.SUPERVISORS:
        raise Forbidden()
    return json_response(await task_queries.task_dates(session, principal=principal))


@router.post("/actions/projects/{project_id}/task-types/{task_type_id}/create-tasks/{entity_type}",
             operation_id="create_entity_type_tasks", status_code=201)
async def create_tasks_for_type(project_id: ProjectId, task_type_id: TaskTypeId, entity_type: str, request: Request,
                                principal: CurrentUser, session: SessionDep) -> Response:
    """One task of this type for each given entity of an entity type named in the path
    ("Shot", "sequence", "Character"...; managers)."""
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    await access.check_manager(session, principal=principal, project_id=project.id)
    kind = await entity_rules.entity_type_named(session, name=entity_type)
    return await _create_tasks(request, principal, session, project_id, task_type_id, kind)


@router.post("/actions/projects/{project_id}/task-types/{task_type_id}/set-shot-nb-frames",
             operation_id="set_shots_nb_frames", openapi_extra=documented_body(ShotFramesIn))
async def set_shot_nb_frames(project_id: ProjectId, task_type_id: TaskTypeId, body: JsonObject, principal: CurrentUser,
                             session: SessionDep) -> Response:
    """Set nb_frames of the given shots (managers); answers the shots changed."""
    from ..domain.entities import emit_entity_event

    project = await access.readable_project(session, principal=principal, project_id=project_id)
    await access.check_manager(session, principal=principal, project_id=project.id)
    out = []
    for item in validate(ShotFramesIn, body).shots:  # none given: none changed (Zou answers an empty list)
        shot, _ = await get_entity(session, principal=principal, entity_id=item.shot_id, kind="Shot")
        if shot.project_id != project.id:
            raise BadRequest("Shot not in this project")
        shot.nb_frames = item.nb_frames
        await session.flush()
        await emit_entity_event(session, verb="update", entity=shot, actor_id=principal.id, type_name="Shot")
        out.append(shot.serialize(type_name="Shot"))
    return json_response(out)


@router.get("/data/tasks/open-tasks/stats", operation_id="get_open_tasks_stats")
async def open_tasks_stats(principal: CurrentUser, session: SessionDep) -> Response:
    """Per running project: task count, done count, durations and estimations, by type and status."""
    return json_response(await task_queries.open_tasks_stats(session, principal=principal))


@router.get("/data/tasks/{task_id}/previews", operation_id="get_task_previews")
async def get_task_previews(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """The task's preview files, newest revision first."""
    task = await task_ops.visible_task(session, principal=principal, task_id=task_id)
    return json_response(await previews.task_previews(session, task_id=task.id))
