"""Task routes: create-tasks actions, assignation, priority, deletion, the full task,
open tasks, per-person task lists."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, task_ops
from ..domain import entities as entity_rules
from ..domain.entity_ops import get_entity, parse_uuid
from ..domain.task_queries import assigned_to_person, open_project, plain_tasks, todo_tasks, todo_tasks_json
from ..domain.people import serialize_persons
from ..domain.subscriptions import is_subscribed_task
from ..domain.tasks import assignees_of, serialize_task
from ..models import Entity, EntityType, Person, Project, ProjectStatus, Task, TaskStatus, TaskType, task_person_link
from .common import json_body, json_object

router = APIRouter(tags=["Tasks"])


def _ids(body: Any, key: str | None = None) -> list[uuid.UUID]:
    values = body.get(key) if key and isinstance(body, dict) else body
    if values is None:
        return []
    if not isinstance(values, list):
        raise BadRequest(f"{key or 'body'} must be a list of ids")
    return [parse_uuid(v) for v in values]


async def _create_tasks(request: Request, principal: Any, session: Any, project_id: str, task_type_id: str,
                        kind: str) -> Response:
    body = await json_body(request)
    ids = _ids(body) if isinstance(body, list) and body else None
    project = await access.readable_project(session, principal, parse_uuid(project_id))
    tasks = await task_ops.create_tasks(session, principal, project_id=project.id,
                                        task_type_id=parse_uuid(task_type_id), kind=kind, entity_ids=ids)
    return json_response(await task_ops.with_names(session, tasks), status_code=201)


@router.post("/actions/projects/{project_id}/task-types/{task_type_id}/shots/create-tasks",
             operation_id="create_shot_tasks", status_code=201)
async def create_shot_tasks(project_id: str, task_type_id: str, request: Request, principal: CurrentUser,
                            session: SessionDep) -> Response:
    """One task of this type for each given shot (all the project's shots when none)."""
    return await _create_tasks(request, principal, session, project_id, task_type_id, "Shot")


@router.post("/actions/projects/{project_id}/task-types/{task_type_id}/assets/create-tasks",
             operation_id="create_asset_tasks", status_code=201)
async def create_asset_tasks(project_id: str, task_type_id: str, request: Request, principal: CurrentUser,
                             session: SessionDep) -> Response:
    """One task of this type for each given asset (all the project's assets when none)."""
    return await _create_tasks(request, principal, session, project_id, task_type_id, "Asset")


@router.post("/data/entities/{entity_id}/tasks", operation_id="create_entity_tasks", status_code=201)
async def create_entity_tasks(entity_id: str, request: Request, principal: CurrentUser,
                              session: SessionDep) -> Response:
    """One task per given task type for an entity (every valid type when none is given)."""
    entity, _ = await get_entity(session, principal, parse_uuid(entity_id))
    tasks = await task_ops.create_entity_tasks(session, principal, entity=entity,
                                               task_type_ids=await _task_type_ids(request))
    return json_response(await task_ops.with_names(session, tasks), status_code=201)


async def _task_type_ids(request: Request) -> list[uuid.UUID]:
    """``task_type_ids`` of the body; as Zou, a body that is not JSON counts as empty and a
    malformed id as an unknown one (404)."""
    try:
        body = await json_body(request)
    except BadRequest:
        return []
    if not isinstance(body, dict):
        raise _invalid("", "Input should be a valid dictionary")
    raw = body.get("task_type_ids")
    if raw is None:
        if "task_type_ids" in body:
            raise _invalid("task_type_ids", "Input should be a valid list")
        return []
    if not isinstance(raw, list):
        raise _invalid("task_type_ids", "Input should be a valid list")
    ids = []
    for index, value in enumerate(raw):
        if not isinstance(value, str):
            raise _invalid(f"task_type_ids.{index}", "Input should be a valid string")
        try:
            ids.append(uuid.UUID(value))
        except ValueError as exc:
            raise NotFound() from exc
    return ids


def _invalid(field: str, message: str) -> BadRequest:
    return BadRequest("Validation error.", data={"errors": [{"field": field, "message": message}]})


@router.put("/actions/tasks/{task_id}/assign", operation_id="assign_task")
async def assign_task(task_id: str, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Assign a person to a task (supervisors and managers); emits task:assign."""
    body = await json_object(request)
    task = await task_ops.visible_task(session, principal, parse_uuid(task_id))
    await access.check_supervisor(session, principal, task.project_id)
    person_id = body.get("person_id")
    if not person_id:
        raise BadRequest("Validation error.", data={"errors": [{"field": "person_id", "message": "Field required"}]})
    await task_ops.assign(session, principal, [task.id], parse_uuid(person_id))
    return json_response(serialize_task(task, (await assignees_of(session, [task.id]))[task.id]))


@router.put("/actions/persons/{person_id}/assign", operation_id="assign_tasks_to_person")
async def assign_person(person_id: str, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Assign a person to several tasks (the ones the caller supervises)."""
    body = await json_object(request)
    tasks = await task_ops.assign(session, principal, _ids(body, "task_ids"), parse_uuid(person_id))
    assignees = await assignees_of(session, [t.id for t in tasks])
    return json_response([serialize_task(t, assignees[t.id]) for t in tasks])


@router.put("/actions/tasks/clear-assignation", operation_id="clear_assignation")
async def clear_assignation(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Unassign one person (or everyone) from tasks; answers the ids of the tasks changed."""
    body = await json_object(request)
    person_id = parse_uuid(body["person_id"]) if body.get("person_id") else None
    tasks = await task_ops.clear_assignation(session, principal, _ids(body, "task_ids"), person_id)
    return json_response([str(t.id) for t in tasks])


@router.put("/actions/tasks/set-priority", operation_id="set_tasks_priority")
async def set_priority(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Set the priority of tasks (the ones the caller supervises)."""
    body = await json_object(request)
    tasks = await task_ops.set_priority(session, principal, _ids(body, "task_ids"), body.get("priority"))
    return json_response([t.serialize() for t in tasks])


@router.post("/actions/projects/{project_id}/delete-tasks", operation_id="delete_project_tasks")
async def delete_project_tasks(project_id: str, request: Request, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Delete the given tasks of a project (admins, as Zou)."""
    project = await access.readable_project(session, principal, parse_uuid(project_id))
    access.check_admin(principal)
    ids = _ids(await json_body(request))
    tasks = list((await session.scalars(select(Task).where(Task.id.in_(ids), Task.project_id == project.id))).all())
    return json_response(await task_ops.delete_tasks(session, principal, tasks))


@router.delete("/actions/projects/{project_id}/task-types/{task_type_id}/delete-tasks",
               operation_id="delete_project_task_type_tasks", status_code=204)
async def delete_task_type_tasks(project_id: str, task_type_id: str, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """Delete every task of a type in a project (admins, as Zou)."""
    project = await access.readable_project(session, principal, parse_uuid(project_id))
    access.check_admin(principal)
    tasks = list((await session.scalars(select(Task).where(
        Task.project_id == project.id, Task.task_type_id == parse_uuid(task_type_id)))).all())
    await task_ops.delete_tasks(session, principal, tasks)
    return Response(status_code=204)


@router.get("/data/tasks/open-tasks", operation_id="get_open_tasks")
async def open_tasks(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Unfinished tasks of running projects, with stats; filters: project_id, task_type_id,
    task_status_id, person_id, page, limit."""
    q = request.query_params
    conditions: list[Any] = [open_project(), TaskStatus.is_done.is_(False)]
    for key, column in (("project_id", Task.project_id), ("task_type_id", Task.task_type_id),
                        ("task_status_id", Task.task_status_id)):
        if q.get(key):
            conditions.append(column == parse_uuid(q[key], key))
    if q.get("person_id"):
        conditions.append(assigned_to_person(parse_uuid(q["person_id"], "person_id")))
    if principal.is_vendor:
        conditions.append(assigned_to_person(principal.id))
    try:
        page = max(int(q.get("page", 1)), 1)
        limit = max(int(q.get("limit", 100)), 1)
    except ValueError as exc:
        raise BadRequest("page and limit must be integers") from exc
    rows = await todo_tasks(session, principal, *conditions)
    chunk = rows[(page - 1) * limit: page * limit]
    for row in chunk:
        for old, new in (("task_type_name", "type_name"), ("task_status_name", "status_name"),
                         ("task_type_color", "type_color"), ("task_status_color", "status_color"),
                         ("task_status_short_name", "status_short_name")):
            row[new] = row.pop(old)
        for key in ("task_estimation", "task_duration", "task_start_date", "task_due_date", "last_comment"):
            row.pop(key, None)
    amounts: dict[str, int] = {}
    for row in rows:
        amounts[row["task_status_id"]] = amounts.get(row["task_status_id"], 0) + 1
    stats = {
        "total_duration": sum(r["duration"] or 0 for r in rows),
        "total_estimation": sum(r["estimation"] or 0 for r in rows),
        "total": len(rows),
        "status": [{"task_status_id": k, "amount": v} for k, v in sorted(amounts.items())],
    }
    return json_response({"data": chunk, "stats": stats, "limit": limit, "is_more": page * limit < len(rows),
                          "page": page})


@router.get("/data/tasks/{task_id}/full", operation_id="get_full_task")
async def full_task(task_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """A task with its entity, entity type, project, status, type, assignees and assigner."""
    task = await task_ops.visible_task(session, principal, parse_uuid(task_id))
    # clients are not told who works on a task (no assignees, persons nor assigner)
    assignees = [] if principal.is_client else (await assignees_of(session, [task.id]))[task.id]
    row = serialize_task(task, assignees)
    entity = await session.get(Entity, task.entity_id)
    assert entity is not None
    entity_type = await session.get(EntityType, entity.entity_type_id)
    project = await session.get(Project, task.project_id)
    found = list(await session.scalars(
        select(Person).where(Person.id.in_([uuid.UUID(a) for a in assignees] + [task.assigner_id or uuid.uuid4()]))))
    persons = {uuid.UUID(row["id"]): row for row in await serialize_persons(session, found)}
    assigner = persons.get(task.assigner_id) if task.assigner_id else None
    row.update(
        entity=entity.serialize(), entity_type=entity_type.serialize() if entity_type else None,
        is_subscribed=await is_subscribed_task(session, principal=principal, task_id=task.id),
        persons=[persons[uuid.UUID(a)] for a in assignees if uuid.UUID(a) in persons],
        project=project.serialize() if project else None,
        task_status=(await session.get(TaskStatus, task.task_status_id)).serialize(),  # type: ignore[union-attr]
        task_type=(await session.get(TaskType, task.task_type_id)).serialize(),  # type: ignore[union-attr]
        assigner=assigner,
    )
    if principal.is_client:
        del row["assigner"]
    if entity_type is not None and entity_type.name in ("Shot", "Scene") and entity.parent_id:
        sequence = await session.get(Entity, entity.parent_id)
        row["sequence"] = sequence.serialize(type_name="Sequence") if sequence else None
        episode = await session.get(Entity, sequence.parent_id) if sequence and sequence.parent_id else None
        if episode is not None:
            row["episode"] = episode.serialize(type_name="Episode")
    return json_response(row)


@router.get("/data/entities/{entity_id}/task-types/{task_type_id}/tasks", operation_id="get_entity_type_tasks")
async def entity_task_type_tasks(entity_id: str, task_type_id: str, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """An entity's tasks of one type."""
    entity, _ = await get_entity(session, principal, parse_uuid(entity_id))
    return json_response(await plain_tasks(session, principal, Task.entity_id == entity.id,
                                           Task.task_type_id == parse_uuid(task_type_id)))


# --- per person ----------------------------------------------------------------------


async def _person_for(session: Any, principal: Any, person_id: str) -> uuid.UUID:
    """A person whose tasks the caller may list: themselves, or anyone for supervisors+."""
    pid = parse_uuid(person_id)
    if pid != principal.id and principal.role not in access.SUPERVISORS:
        raise Forbidden()
    await task_ops.get_person(session, pid)
    return pid


@router.get("/data/persons/{person_id}/tasks", operation_id="get_person_tasks")
async def person_tasks(person_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """Unfinished tasks assigned to a person in running projects (the caller's scope)."""
    pid = await _person_for(session, principal, person_id)
    return Response(await todo_tasks_json(session, principal, assigned_to_person(pid), open_project(),
                                               TaskStatus.is_done.is_(False)), media_type="application/json")


@router.get("/data/persons/{person_id}/related-tasks/{task_type_id}", operation_id="get_person_related_tasks")
async def related_tasks(person_id: str, task_type_id: str, principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks of a type on the entities where the person has a task assigned."""
    pid = await _person_for(session, principal, person_id)
    mine = select(Task.entity_id).where(assigned_to_person(pid))
    return json_response(await plain_tasks(session, principal, Task.entity_id.in_(mine),
                                           Task.task_type_id == parse_uuid(task_type_id)))


@router.get("/data/persons/task-dates", operation_id="get_persons_task_dates")
async def task_dates(principal: CurrentUser, session: SessionDep) -> Response:
    """For each person with tasks in running projects: the first start and last due date."""
    if principal.role not in access.SUPERVISORS:
        raise Forbidden()
    stmt = (
        select(task_person_link.c.person_id, func.min(Task.start_date), func.max(Task.due_date))
        .join(Task, Task.id == task_person_link.c.task_id)
        .join(Project, Project.id == Task.project_id)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .where(ProjectStatus.name == "Open", TaskStatus.is_done.is_(False),
               access.project_visible(principal, Task.project_id))
        .group_by(task_person_link.c.person_id)
        .order_by(task_person_link.c.person_id)
    )
    rows = (await session.execute(stmt)).all()
    return json_response([
        {"person_id": str(pid), "min_date": lo, "max_date": hi, "busy_periods": []} for pid, lo, hi in rows
    ])



@router.post("/actions/projects/{project_id}/task-types/{task_type_id}/create-tasks/{entity_type}",
             operation_id="create_entity_type_tasks", status_code=201)
async def create_tasks_for_type(project_id: str, task_type_id: str, entity_type: str, request: Request,
                                principal: CurrentUser, session: SessionDep) -> Response:
    """One task of this type for each given entity of an entity type named in the path
    ("Shot", "sequence", "Character"...; managers)."""
    project = await access.readable_project(session, principal, parse_uuid(project_id))
    await access.check_manager(session, principal, project.id)
    kind = await entity_rules.entity_type_named(session, entity_type)
    return await _create_tasks(request, principal, session, project_id, task_type_id, kind)


@router.post("/actions/projects/{project_id}/task-types/{task_type_id}/set-shot-nb-frames",
             operation_id="set_shots_nb_frames")
async def set_shot_nb_frames(project_id: str, task_type_id: str, request: Request, principal: CurrentUser,
                             session: SessionDep) -> Response:
    """Set nb_frames of the given shots (managers); answers the shots changed."""
    from ..domain.entities import emit_entity_event

    project = await access.readable_project(session, principal, parse_uuid(project_id))
    await access.check_manager(session, principal, project.id)
    body = await json_object(request)
    items = body.get("shots")
    if not isinstance(items, list):
        raise BadRequest("Validation error.", data={"errors": [{"field": "shots", "message": "Field required"}]})
    out = []
    for item in items:
        if not isinstance(item, dict) or "shot_id" not in item:
            raise BadRequest("shots items need shot_id and nb_frames")
        shot, _ = await get_entity(session, principal, parse_uuid(item["shot_id"]), "Shot")
        if shot.project_id != project.id:
            raise BadRequest("Shot not in this project")
        try:
            shot.nb_frames = int(item.get("nb_frames"))  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise BadRequest("nb_frames must be an integer") from exc
        await session.flush()
        await emit_entity_event(session, "update", shot, actor_id=principal.id, type_name="Shot")
        out.append(shot.serialize(type_name="Shot"))
    return json_response(out)


@router.get("/data/tasks/open-tasks/stats", operation_id="get_open_tasks_stats")
async def open_tasks_stats(principal: CurrentUser, session: SessionDep) -> Response:
    """Per running project: task count, done count, durations and estimations, by type and status."""
    stmt = (
        select(Task.project_id, Task.task_type_id, Task.task_status_id, func.count(Task.id),
               func.count(Task.id).filter(TaskStatus.is_done.is_(True)),
               func.coalesce(func.sum(Task.duration), 0.0), func.coalesce(func.sum(Task.estimation), 0.0))
        .join(Project, Project.id == Task.project_id)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .where(ProjectStatus.name == "Open", access.project_visible(principal, Task.project_id))
        .group_by(Task.project_id, Task.task_type_id, Task.task_status_id)
        .order_by(Task.project_id, Task.task_type_id, Task.task_status_id)
    )
    out: dict[str, Any] = {}
    for project_id, tt, ts, amount, done, duration, estimation in await session.execute(stmt):
        project = out.setdefault(str(project_id), {"amount": 0, "amount_done": 0, "total_duration": 0.0,
                                                   "total_estimation": 0.0, "task_types": []})
        project["amount"] += amount
        project["amount_done"] += done
        project["total_duration"] += float(duration)
        project["total_estimation"] += float(estimation)
        project["task_types"].append({
            "task_status_id": str(ts), "task_type_id": str(tt), "project_id": str(project_id), "amount": amount,
            "amount_done": done, "total_duration": float(duration), "total_estimation": float(estimation)})
    return json_response(out)
