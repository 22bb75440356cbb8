"""Guessing entities from a file path (the project's file tree templates)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest, NotFound
from slate_common.params import JsonObject, invalid_field
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, file_paths

router = APIRouter(tags=["Entities"])


def _required(body: dict[str, object], field: str) -> str:
    value = body.get(field)
    if value is None or value == "":
        raise invalid_field(field)
    if not isinstance(value, str):
        raise invalid_field(field, "Input should be a valid string")
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
