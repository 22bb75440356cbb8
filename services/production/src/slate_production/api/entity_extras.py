"""A shot's versions, a task's previews, and guessing entities from a file path."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest, NotFound
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, file_paths, previews, shot_versions, task_ops
from ..domain.entity_ops import get_entity
from .params import JsonObject, TaskId, path_id

router = APIRouter(tags=["Entities"])

ShotId = Annotated[uuid.UUID, path_id("shot_id")]


@router.get("/data/shots/{shot_id}/versions", operation_id="get_shot_versions")
async def get_shot_versions(shot_id: ShotId, principal: CurrentUser, session: SessionDep) -> Response:
    """The shot's name and data after each change of its frame range, newest first."""
    shot, _ = await get_entity(session, principal, shot_id, "Shot", assigned=True)
    return json_response(await shot_versions.shot_versions(session, shot_id=shot.id))


@router.get("/data/tasks/{task_id}/previews", operation_id="get_task_previews")
async def get_task_previews(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """The task's preview files, newest revision first."""
    task = await task_ops.visible_task(session, principal, task_id)
    return json_response(await previews.task_previews(session, task_id=task.id))


def _required(body: dict[str, object], field: str) -> str:
    value = body.get(field)
    if value is None or value == "":
        raise BadRequest("Validation error.", data={"errors": [{"field": field, "message": "Field required"}]})
    if not isinstance(value, str):
        raise BadRequest("Validation error.", data={"errors": [{"field": field, "message": "Input should be a valid string"}]})
    return value


async def _guess(body: dict[str, object], principal: CurrentUser, session: SessionDep) -> Response:
    project_value = _required(body, "project_id")
    file_path = _required(body, "file_path")
    sep = body.get("sep") or "/"
    if not isinstance(sep, str):
        raise BadRequest("sep must be a string")
    try:
        project_id = uuid.UUID(project_value)
    except ValueError as exc:
        raise NotFound() from exc
    project = await access.readable_project(session, principal, project_id)
    return json_response(await file_paths.guess_from_path(session, project=project, file_path=file_path, sep=sep))


@router.post("/data/entities/guess-from-path", operation_id="guess_entities_from_path")
async def guess_from_path(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """The project's file tree templates a path fits, with the ids its tokens name."""
    return await _guess(body, principal, session)


@router.post("/data/entities/guess_from_path", operation_id="guess_entities_from_path_legacy")
async def guess_from_path_legacy(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Same as /data/entities/guess-from-path (Zou's older spelling)."""
    return await _guess(body, principal, session)
