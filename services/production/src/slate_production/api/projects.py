"""Project routes beyond CRUD."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain.projects import open_projects

router = APIRouter(prefix="/data/projects", tags=["Projects"])


@router.get("/open", operation_id="get_open_projects")
async def get_open_projects(principal: CurrentUser, session: SessionDep, name: str | None = None) -> Response:
    """Running projects the caller can see."""
    return json_response(await open_projects(session, principal, name))
