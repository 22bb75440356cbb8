"""Guessing entities from a file path (the project's file tree templates)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import NotFound
from slate_common.params import Body
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import access, file_paths

router = APIRouter(tags=["Entities"])


def _filled(value: Any) -> Any:
    if value is None or value == "":
        raise PydanticCustomError("missing", "Field required")
    return value


class PathGuess(Body):
    #: a project id; one that is not an id names no project (404, as Zou)
    project_id: Annotated[str, BeforeValidator(_filled), Field(min_length=1, json_schema_extra={"format": "uuid"})]
    file_path: Annotated[str, BeforeValidator(_filled), Field(min_length=1)]
    #: the path's separator, "/" unless given
    sep: str | None = None


async def _guess(body: PathGuess, principal: CurrentUser, session: SessionDep) -> Response:
    try:
        project_id = uuid.UUID(body.project_id)
    except ValueError as exc:
        raise NotFound() from exc
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    return json_response(await file_paths.guess_from_path(session, project=project, file_path=body.file_path,
                                                          sep=body.sep or "/"))


@router.post("/data/entities/guess-from-path", operation_id="guess_entities_from_path")
async def guess_from_path(body: PathGuess, principal: CurrentUser, session: SessionDep) -> Response:
    """The project's file tree templates a path fits, with the ids its tokens name."""
    return await _guess(body, principal, session)


@router.post("/data/entities/guess_from_path", operation_id="guess_entities_from_path_legacy")
async def guess_from_path_legacy(body: PathGuess, principal: CurrentUser, session: SessionDep) -> Response:
    """Same as /data/entities/guess-from-path (Zou's older spelling)."""
    return await _guess(body, principal, session)
