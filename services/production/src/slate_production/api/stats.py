"""Production statistics: retakes per episode, burndown of open tasks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import Forbidden
from slate_common.params import ProjectId
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, stats

router = APIRouter(tags=["Stats"])


@router.get("/data/projects/{project_id}/episodes/retake-stats", operation_id="get_episode_retake_stats")
async def episode_retake_stats(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Shot tasks done, in retake and other per episode and task type, with retake rounds."""
    await access.readable_project(session, principal=principal, project_id=project_id)
    if principal.is_client:
        raise Forbidden()
    return json_response(await stats.episode_retake_stats(session, principal=principal, project_id=project_id))


@router.get("/data/tasks/open-tasks/burndown", operation_id="get_open_tasks_burndown")
async def open_tasks_burndown(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Totals, schedule bounds and tasks done per day of the open tasks matching the filters."""
    return json_response(await stats.open_tasks_burndown(session, principal=principal, params=dict(request.query_params)))
