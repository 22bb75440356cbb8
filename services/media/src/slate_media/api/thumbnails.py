"""Thumbnails of persons (avatars), projects and organisations; preview backgrounds."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest, NotFound, SlateError
from slate_common.params import InstanceId, PersonId, PreviewBackgroundFileId, ProjectId, documented_upload
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..adapters import processing
from ..adapters.downloads import mime_of, object_response
from ..adapters.uploads import receive_upload, upload_limits
from ..domain import access, files
from .deps import SettingsDep, StorageDep

router = APIRouter(tags=["Thumbnails"])


class ProjectBackgroundBody(BaseModel):
    """As Zou 1.0.97 documents it (a body that does not fit: the validation handler's 400)."""

    model_config = ConfigDict(extra="ignore")
    preview_background_file_id: uuid.UUID


def _get_thumbnail(kind: str) -> Any:
    async def handler(instance_id: InstanceId, request: Request, principal: CurrentUser, storage: StorageDep) -> Response:
        return await object_response(request, storage, "thumbnails", files.avatar_key(kind, instance_id=instance_id),
                                     media_type="image/png")

    handler.__doc__ = f"The thumbnail of one of the {kind} (PNG)."
    return handler


def _post_thumbnail(kind: str) -> Any:
    async def handler(instance_id: InstanceId, request: Request, principal: CurrentUser, session: SessionDep,
                      storage: StorageDep, settings: SettingsDep) -> Response:
        await files.check_avatar_change(session, principal=principal, kind=kind, instance_id=instance_id)
        upload = await receive_upload(request, **upload_limits(settings))
        try:
            out = await files.set_avatar(session, storage=storage, principal=principal, kind=kind,
                                         instance_id=instance_id, upload=upload,
                                         scratch_dir=settings.scratch_dir, max_pixels=settings.max_picture_pixels)
        finally:
            upload.close()
        return json_response(out, status_code=201)

    handler.__doc__ = f"Set the thumbnail of one of the {kind} (multipart field ``file``)."
    return handler


class MethodNotAllowed(SlateError):
    status_code = 405


async def _project_png_post(instance_id: InstanceId, principal: CurrentUser) -> Response:
    """Zou takes a project's picture at the address without ``.png`` only (405 here)."""
    raise MethodNotAllowed("The method is not allowed for the requested URL.")


for _kind in ("persons", "projects", "organisations"):
    for _suffix in (".png", ""):  # the .png form first: "{instance_id}" alone would match it
        _path = f"/pictures/thumbnails/{_kind}/{{instance_id}}{_suffix}"
        _op = f"{_kind}_thumbnail{'_png' if _suffix else ''}"
        router.add_api_route(_path, _get_thumbnail(_kind), methods=["GET"], operation_id=f"get_{_op}")
        _post = _project_png_post if (_kind, _suffix) == ("projects", ".png") else _post_thumbnail(_kind)
        router.add_api_route(_path, _post, methods=["POST"], operation_id=f"set_{_op}", status_code=201,
                             openapi_extra=None if _post is _project_png_post else documented_upload())


@router.delete("/actions/user/clear-avatar", operation_id="clear_own_avatar", status_code=204)
async def clear_own_avatar(principal: CurrentUser, session: SessionDep, storage: StorageDep) -> Response:
    """Remove the caller's avatar."""
    await files.clear_avatar(session, storage=storage, principal=principal, person_id=principal.id)
    return Response(status_code=204)


@router.delete("/actions/persons/{person_id}/clear-avatar", operation_id="clear_person_avatar", status_code=204)
async def clear_person_avatar(person_id: PersonId, principal: CurrentUser, session: SessionDep, storage: StorageDep) -> Response:
    """Remove a person's avatar (the person or an admin)."""
    await files.clear_avatar(session, storage=storage, principal=principal, person_id=person_id)
    return Response(status_code=204)


# -- preview backgrounds ------------------------------------------------------------------


@router.post("/pictures/preview-background-files/{instance_id}", operation_id="upload_preview_background", status_code=201,
             openapi_extra=documented_upload())
async def upload_background(instance_id: InstanceId, request: Request, principal: CurrentUser, session: SessionDep,
                            storage: StorageDep, settings: SettingsDep) -> Response:
    """Store the HDR file of a preview background (admins); any other format deletes it (400)."""
    access.check_admin(principal)
    await files.get_background(session, background_id=instance_id)
    upload = await receive_upload(request, **upload_limits(settings))
    try:
        out = await files.upload_background(session, storage=storage, principal=principal, background_id=instance_id,
                                            upload=upload)
    finally:
        upload.close()
    if out is None:  # answered, not raised: the deletion is committed
        return json_response({"error": True, "message": f"Preview backgrounds must be .hdr files, not .{upload.extension}.",
                              "data": None}, status_code=400)
    return json_response(out, status_code=201)


@router.get("/pictures/preview-background-files/{instance_id}.{extension}", operation_id="get_preview_background")
async def get_background(instance_id: InstanceId, extension: str, request: Request, principal: CurrentUser,
                         session: SessionDep, storage: StorageDep) -> Response:
    """A preview background file in its own extension."""
    background = await files.get_background(session, background_id=instance_id)
    if (background.extension or "") != extension.lower():
        raise NotFound()
    key = files.background_key(instance_id, extension=extension.lower())
    return await object_response(request, storage, "files", key, media_type=mime_of(extension))


@router.get("/pictures/thumbnails/preview-background-files/{instance_id}.png", operation_id="get_preview_background_thumbnail")
async def get_background_thumbnail(instance_id: InstanceId, request: Request, principal: CurrentUser, storage: StorageDep) -> Response:
    """The thumbnail of a preview background."""
    return await object_response(request, storage, "thumbnails", files.background_thumbnail_key(instance_id),
                                 media_type="image/png")


@router.post("/pictures/thumbnails/preview-background-files/{instance_id}.png",
             operation_id="set_preview_background_thumbnail", status_code=201, openapi_extra=documented_upload())
async def set_background_thumbnail(instance_id: InstanceId, request: Request, principal: CurrentUser, session: SessionDep,
                                   storage: StorageDep, settings: SettingsDep) -> Response:
    """Replace the thumbnail of a preview background with a picture (admins, as every other
    write on preview backgrounds: Zou 1.0.97's handler fails before any check, see intentional.toml)."""
    access.check_admin(principal)
    await files.get_background(session, background_id=instance_id)
    upload = await receive_upload(request, **upload_limits(settings))
    try:
        try:
            await files.set_background_thumbnail(storage, background_id=instance_id, src=Path(upload.path))
        except processing.MediaError as exc:
            raise BadRequest(str(exc)) from exc
    finally:
        upload.close()
    return json_response({"thumbnail_path": f"pictures/thumbnails/preview-background-files/{instance_id}.png"}, status_code=201)


@router.get("/data/projects/{project_id}/settings/preview-background-files", operation_id="get_project_preview_backgrounds")
async def project_backgrounds(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """The preview backgrounds of a production."""
    return json_response(await files.project_backgrounds(session, principal=principal, project_id=project_id))


@router.post("/data/projects/{project_id}/settings/preview-background-files",
             operation_id="add_project_preview_background", status_code=201)
async def add_project_background(project_id: ProjectId, body: ProjectBackgroundBody, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """Link a preview background to a production."""
    return json_response(
        await files.add_project_background(session, principal=principal, project_id=project_id,
                                           background_id=body.preview_background_file_id),
        status_code=201,
    )


@router.delete("/data/projects/{project_id}/settings/preview-background-files/{preview_background_file_id}",
               operation_id="remove_project_preview_background", status_code=204)
async def remove_project_background(project_id: ProjectId, preview_background_file_id: PreviewBackgroundFileId,
                                    principal: CurrentUser, session: SessionDep) -> Response:
    """Unlink a preview background from a production."""
    await files.remove_project_background(session, principal=principal, project_id=project_id,
                                          background_id=preview_background_file_id)
    return Response(status_code=204)
