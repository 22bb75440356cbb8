"""Downloads of a preview's files: /pictures/* and /movies/* (Range, cache headers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import NotFound
from slate_common.params import InstanceId
from slate_common.security import CurrentUser

from ..adapters.downloads import mime_of, object_response
from ..domain import pipeline
from ..domain import previews as rules
from ..models import PreviewFile
from .deps import SettingsDep, StorageDep

router = APIRouter(tags=["Previews"])


async def _preview(session: Any, principal: Any, instance_id: Any) -> PreviewFile:
    return await rules.get_preview(session, principal=principal, preview_id=instance_id)


def _picture(name: str) -> Any:
    async def handler(instance_id: InstanceId, request: Request, principal: CurrentUser, session: SessionDep,
                      storage: StorageDep) -> Response:
        preview = await _preview(session, principal, instance_id)
        bucket, key = pipeline.derivative_key(preview.id, name=name)
        return await object_response(request, storage, bucket, key, media_type="image/png")

    return handler


for _name, _path, _op in (
    ("original", "/pictures/originals/preview-files/{instance_id}.png", "get_preview_original_png"),
    ("preview", "/pictures/previews/preview-files/{instance_id}.png", "get_preview_picture"),
    ("thumbnail", "/pictures/thumbnails/preview-files/{instance_id}.png", "get_preview_thumbnail"),
    ("square", "/pictures/thumbnails-square/preview-files/{instance_id}.png", "get_preview_square_thumbnail"),
    ("tiles", "/movies/tiles/preview-files/{instance_id}.png", "get_preview_tiles"),
):
    router.add_api_route(_path, _picture(_name), methods=["GET"], operation_id=_op,
                         summary=f"The {_name} picture of a preview (PNG)")


@router.get("/pictures/originals/preview-files/{instance_id}/download", operation_id="download_preview_original")
async def download_picture(instance_id: InstanceId, request: Request, principal: CurrentUser, session: SessionDep,
                           storage: StorageDep) -> Response:
    """The original of a picture or file preview, as an attachment."""
    preview = await _preview(session, principal, instance_id)
    if preview.is_movie or preview.extension == "png":
        bucket, key = pipeline.derivative_key(preview.id, name="original")
        ext = "png"
    else:
        bucket, key = pipeline.source_key(preview.id, extension=preview.extension or "")
        ext = preview.extension or ""
    return await object_response(request, storage, bucket, key, media_type=mime_of(ext),
                                 download_name=await rules.download_name(session, preview=preview, extension=ext))


@router.get("/pictures/originals/preview-files/{instance_id}.{extension}", operation_id="get_preview_original_file")
async def original_file(instance_id: InstanceId, extension: str, request: Request, principal: CurrentUser,
                        session: SessionDep, storage: StorageDep) -> Response:
    """The original of a file preview (pdf, glb, ...) in its own extension."""
    preview = await _preview(session, principal, instance_id)
    ext = extension.lower()
    if ext != (preview.extension or "").lower() or preview.is_movie or ext == "png":
        raise NotFound()
    bucket, key = pipeline.source_key(preview.id, extension=ext)
    return await object_response(request, storage, bucket, key, media_type=mime_of(ext))


def _movie(name: str, *, download: bool = False) -> Any:
    async def handler(instance_id: InstanceId, request: Request, principal: CurrentUser, session: SessionDep,
                      storage: StorageDep, settings: SettingsDep) -> Response:
        preview = await _preview(session, principal, instance_id)
        if not preview.is_movie or (name == "source" and not settings.serve_movie_source):
            raise NotFound()
        if name == "source":
            bucket, key = pipeline.source_key(preview.id, extension=preview.source_extension or "mp4")
            media_type = mime_of(preview.source_extension)
        else:
            bucket, key = pipeline.derivative_key(preview.id, name=name)
            media_type = "video/mp4"
        filename = await rules.download_name(session, preview=preview, extension="mp4") if download else None
        return await object_response(request, storage, bucket, key, media_type=media_type, download_name=filename)

    return handler


for _name, _path, _op, _dl in (
    ("hd", "/movies/originals/preview-files/{instance_id}.mp4", "get_preview_movie", False),
    ("ld", "/movies/low/preview-files/{instance_id}.mp4", "get_preview_movie_low", False),
    ("source", "/movies/source/preview-files/{instance_id}.mp4", "get_preview_movie_source", False),
    ("hd", "/movies/originals/preview-files/{instance_id}/download", "download_preview_movie", True),
):
    router.add_api_route(_path, _movie(_name, download=_dl), methods=["GET"], operation_id=_op,
                         summary="A movie of a preview (HTTP Range supported)")
