"""The to-do pages' task lists: tasks to check, done tasks."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import Forbidden
from slate_common.params import PersonId
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import todo

router = APIRouter(tags=["Tasks"])


@router.get("/data/user/tasks-to-check", operation_id="get_user_tasks_to_check")
async def tasks_to_check(principal: CurrentUser, session: SessionDep) -> Response:
    """Tasks waiting for the caller's feedback (supervisors, managers, admins)."""
    return json_response(await todo.tasks_to_check(session, principal=principal))


@router.get("/data/user/tasks-to-check/filter-values", operation_id="get_user_tasks_to_check_filter_values")
async def tasks_to_check_filter_values(principal: CurrentUser, session: SessionDep) -> Response:
    """The projects, task types, statuses, episodes and persons of the tasks to check."""
    return json_response(await todo.tasks_to_check_filter_values(session, principal=principal))


@router.get("/data/user/done-tasks", operation_id="get_user_done_tasks")
async def done_tasks(principal: CurrentUser, session: SessionDep) -> Response:
    """The caller's tasks in a done status, in open projects."""
    return json_response(await todo.done_tasks(session, person_id=principal.id))


@router.get("/data/persons/{person_id}/done-tasks", operation_id="get_person_done_tasks")
async def person_done_tasks(person_id: PersonId, principal: CurrentUser, session: SessionDep) -> Response:
    """A person's done tasks in the caller's projects. As Zou: a vendor lists their own
    only, a client gets an empty list for anyone else."""
    if person_id != principal.id:
        if principal.is_vendor:
            raise Forbidden()
        if principal.is_client:
            return json_response([])
    return json_response(await todo.done_tasks(session, person_id=person_id, viewer=principal))
