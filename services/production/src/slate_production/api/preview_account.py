"""/data/projects/<id>/preview-account: a production's preview account (managers)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from slate_common.app import Runtime, SessionDep
from slate_common.params import Body, JsonBody, ProjectId, documented_body, validate
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..domain import preview_account as preview

router = APIRouter(tags=["Projects"])
PATH = "/data/projects/{project_id}/preview-account"


class PreviewAccountOpenSchema(Body):
    is_open: bool


@router.get(PATH, operation_id="get_preview_account")
async def get_preview_account(project_id: ProjectId, principal: CurrentUser, session: SessionDep,
                              runtime: Runtime) -> Response:
    """The production's preview account, or null."""
    return json_response(await preview.get_account(session, nc=runtime.nc, principal=principal, project_id=project_id))


@router.post(PATH, operation_id="create_preview_account", status_code=201)
async def create_preview_account(project_id: ProjectId, principal: CurrentUser, session: SessionDep,
                                 runtime: Runtime) -> Response:
    """Create the preview account, or give it a new password and close its window; answers the password."""
    return json_response(await preview.create_account(session, nc=runtime.nc, principal=principal, project_id=project_id), status_code=201)


@router.put(PATH, operation_id="open_preview_account", openapi_extra=documented_body(PreviewAccountOpenSchema))
async def open_preview_account(project_id: ProjectId, body: JsonBody, principal: CurrentUser,
                               session: SessionDep, runtime: Runtime) -> Response:
    """Open the access window for an hour, or close it (its sessions end)."""
    is_open = validate(PreviewAccountOpenSchema, body).is_open
    return json_response(await preview.set_open(session, nc=runtime.nc, principal=principal, project_id=project_id, is_open=is_open))


@router.delete(PATH, operation_id="delete_preview_account", status_code=204)
async def delete_preview_account(project_id: ProjectId, principal: CurrentUser, session: SessionDep,
                                 runtime: Runtime) -> Response:
    """Delete the preview account (its sessions end)."""
    await preview.delete_account(session, nc=runtime.nc, principal=principal, project_id=project_id)
    return Response(status_code=204)
