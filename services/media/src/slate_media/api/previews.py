"""Preview routes beyond CRUD: add on a comment, upload, positions, annotations, main
previews, listings per entity and project, frame and tile extraction."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path as FsPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict
from starlette.responses import Response

from slate_common.app import Runtime, SessionDep
from slate_common.db import transaction
from slate_common.errors import BadRequest, NotFound
from slate_common.params import (
    CommentId,
    InstanceId,
    PreviewFileId,
    ProjectId,
    ShotId,
    TaskId,
    documented_upload,
    path_id,
)
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..adapters.uploads import receive_upload, upload_limits
from ..domain import access, frames, pipeline
from ..domain import previews as rules
from .deps import SettingsDep, StorageDep

router = APIRouter(tags=["Previews"])


def _int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{name} must be an integer.") from exc


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


#: An integer, as a number or its digits in a string; an empty string is no value.
OptionalInt = Annotated[int | None, BeforeValidator(_blank_is_none)]


# The bodies, as Zou 1.0.97 documents and accepts them; a body that does not fit gets the
# shared validation handler's 400 ({"error": true, "message": "Validation error.", ...}).


class AddPreviewBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    revision: OptionalInt = None


class PositionBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    position: int


class AnnotationsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    additions: list[dict[str, Any]] | None = None
    updates: list[dict[str, Any]] | None = None
    deletions: list[Any] | None = None


class TaskIdsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    task_ids: list[uuid.UUID]


@router.post("/actions/tasks/{task_id}/comments/{comment_id}/add-preview", operation_id="add_preview", status_code=201)
async def add_preview(task_id: TaskId, comment_id: CommentId, principal: CurrentUser, session: SessionDep,
                      body: AddPreviewBody | None = None) -> Response:
    """Create a preview awaiting its file on a comment (revision: the comment's, or the next)."""
    preview = await rules.add_preview(session, principal=principal, task_id=task_id, comment_id=comment_id,
                                      revision=body.revision if body else None)
    return json_response(await rules.serialize_with_comments(session, preview=preview), status_code=201)


async def _upload(request: Request, runtime: Runtime, storage: Any, settings: Any, principal: Any, preview_id: Any, **kw: Any) -> Response:
    await pipeline.check_upload_access(runtime.sessionmaker, principal=principal, preview_id=preview_id,
                                       task_id=kw.get("task_id"))
    upload = await receive_upload(request, **upload_limits(settings))
    try:
        out = await pipeline.accept_upload(runtime.sessionmaker, storage=storage, principal=principal,
                                           preview_id=preview_id, upload=upload,
                                           jobs_subject=settings.jobs_subject,
                                           max_picture_pixels=settings.max_picture_pixels, **kw)
    finally:
        upload.close()
    return json_response(out, status_code=201)


@router.post("/pictures/preview-files/{instance_id}", operation_id="upload_preview_file", status_code=201,
             openapi_extra=documented_upload())
async def upload_preview(instance_id: InstanceId, request: Request, principal: CurrentUser, runtime: Runtime,
                         storage: StorageDep, settings: SettingsDep) -> Response:
    """Upload the file of a preview (multipart field ``file``); processing follows."""
    return await _upload(request, runtime, storage, settings, principal, instance_id)


@router.post("/actions/tasks/{task_id}/comments/{comment_id}/preview-files/{preview_file_id}",
             operation_id="upload_comment_preview_file", status_code=201,
             openapi_extra=documented_upload(required=False))
async def upload_comment_preview(task_id: TaskId, comment_id: CommentId, preview_file_id: PreviewFileId, request: Request,
                                 principal: CurrentUser, runtime: Runtime, storage: StorageDep, settings: SettingsDep) -> Response:
    """Without a file (as Kitsu calls it): a new preview on the comment, in the given
    preview's revision at the next position, awaiting its file (Zou's extra preview).
    With a multipart file: the file of that preview."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _upload(request, runtime, storage, settings, principal, preview_file_id, comment_id=comment_id,
                             task_id=task_id)
    async with transaction(runtime.sessionmaker) as session:
        preview = await rules.add_extra_preview(session, principal=principal, task_id=task_id, comment_id=comment_id,
                                                preview_id=preview_file_id)
        out = await rules.serialize_with_comments(session, preview=preview)
    return json_response(out, status_code=201)


@router.delete("/actions/tasks/{task_id}/comments/{comment_id}/preview-files/{preview_file_id}",
               operation_id="delete_comment_preview_file", status_code=204)
async def delete_comment_preview(task_id: TaskId, comment_id: CommentId, preview_file_id: PreviewFileId,
                                 principal: CurrentUser, session: SessionDep) -> Response:
    """Delete a preview from a comment of a task."""
    await rules.remove_from_comment(session, principal=principal, task_id=task_id, comment_id=comment_id,
                                    preview_id=preview_file_id)
    return Response(status_code=204)


@router.put("/actions/preview-files/{preview_file_id}/update-position", operation_id="update_preview_position")
async def update_position(preview_file_id: PreviewFileId, body: PositionBody, principal: CurrentUser,
                          session: SessionDep) -> Response:
    """Move a preview within its revision; returns the revision's previews in order."""
    items = await rules.update_position(session, principal=principal, preview_id=preview_file_id,
                                        position=body.position)
    return json_response([rules.serialize(p) for p in items])


@router.put("/actions/preview-files/{preview_file_id}/update-annotations", operation_id="update_preview_annotations")
async def update_annotations(preview_file_id: PreviewFileId, principal: CurrentUser, session: SessionDep,
                             body: AnnotationsBody | None = None) -> Response:
    """Add, change and remove drawings on a preview."""
    preview = await rules.update_annotations(session, principal=principal, preview_id=preview_file_id,
                                             body=body.model_dump() if body else {})
    return json_response(rules.serialize(preview))


@router.put("/actions/preview-files/{preview_file_id}/set-main-preview", operation_id="set_main_preview")
async def set_main_preview(preview_file_id: PreviewFileId, principal: CurrentUser, session: SessionDep) -> Response:
    """Make the preview its entity's picture; returns the entity."""
    preview = await rules.get_preview(session, principal=principal, preview_id=preview_file_id)
    return json_response(await rules.set_main_preview(session, principal=principal, preview=preview))


@router.put("/actions/tasks/set-main-preview", operation_id="set_main_preview_from_tasks")
async def set_main_from_tasks(body: TaskIdsBody, principal: CurrentUser, session: SessionDep) -> Response:
    """For each task, its last preview becomes its entity's picture; returns the entities."""
    out = []
    for task_id in body.task_ids:
        entity = await rules.set_main_from_task(session, principal=principal, task_id=task_id)
        if entity is not None:
            out.append(entity)
    return json_response(out)


@router.put("/actions/tasks/{task_id}/set-main-preview", operation_id="set_main_preview_from_task")
async def set_main_from_task(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """The task's last preview becomes its entity's picture."""
    entity = await rules.set_main_from_task(session, principal=principal, task_id=task_id)
    if entity is None:
        raise BadRequest("This task has no preview.", data=None)
    return json_response(entity)


def _entity_listing(kind: str) -> Any:
    kinds = None if kind == "entity" else (kind,)

    async def listing(entity_id: uuid.UUID, principal: CurrentUser, session: SessionDep) -> Response:
        return json_response(await rules.previews_of_entity(session, principal=principal, entity_id=entity_id,
                                                            kinds=kinds))

    # the path parameter is {<kind>_id}: an annotation object, as the string form could not
    # name ``kind`` (postponed annotations are read in the module's globals)
    listing.__annotations__["entity_id"] = Annotated[uuid.UUID, path_id(f"{kind}_id")]
    listing.__doc__ = f"Previews of the tasks of a {kind}, newest revision first."
    return listing


@router.get("/data/shots/{shot_id}/preview-files", operation_id="get_shot_preview_files")
async def shot_previews(shot_id: ShotId, principal: CurrentUser, session: SessionDep) -> Response:
    """A shot's previews per task type id, newest revision first."""
    return json_response(await rules.previews_of_shot_by_task_type(session, principal=principal, shot_id=shot_id))


for _kind, _plural in (("entity", "entities"), ("edit", "edits"), ("concept", "concepts")):
    router.add_api_route(f"/data/{_plural}/{{{_kind}_id}}/preview-files", _entity_listing(_kind), methods=["GET"],
                         operation_id=f"get_{_kind}_preview_files")


@router.get("/data/projects/{project_id}/preview-files", operation_id="get_project_preview_files")
async def project_previews(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Every preview of a project."""
    return json_response(await rules.previews_of_project(session, principal=principal, project_id=project_id))


@router.get("/actions/preview-files/{preview_file_id}/extract-frame", operation_id="extract_preview_frame")
async def extract_frame(preview_file_id: PreviewFileId, request: Request, principal: CurrentUser, session: SessionDep,
                        storage: StorageDep, settings: SettingsDep) -> Response:
    """A frame of a movie preview as PNG (``frame_number``, default 0); managers only."""
    preview = await rules.get_preview(session, principal=principal, preview_id=preview_file_id)
    access.check_manager(principal)
    if not preview.is_movie or preview.status != "ready":
        raise NotFound()
    frame = _int(request.query_params.get("frame_number"), "frame_number") or 0
    if frame < 0:
        raise BadRequest("frame_number must be positive.")
    fps = await frames.project_fps(session, preview=preview)
    seconds = min(frame / fps, max(preview.duration - 1 / fps, 0))
    with tempfile.TemporaryDirectory(prefix="slate-frame-", dir=settings.scratch_dir) as tmp:
        dest = FsPath(tmp) / "frame.png"
        await frames.extract_frame(storage, settings=settings, preview_id=preview.id, seconds=seconds, dest=dest)
        data = dest.read_bytes()
    return Response(data, media_type="image/png", headers={"Cache-Control": "max-age=604800, private"})


FrameNumber = Annotated[int | None, Query(ge=1)]


@router.get("/actions/preview-files/{preview_file_id}/extract-annotated-frame", operation_id="extract_annotated_frame")
async def extract_annotated_frame(preview_file_id: PreviewFileId, principal: CurrentUser, session: SessionDep,
                                  storage: StorageDep, settings: SettingsDep, frame_number: FrameNumber = None) -> Response:
    """A frame with its drawings as PNG: a movie's ``frame_number`` (1-based), a picture itself."""
    frame = await frames.annotated_frame(session, storage=storage, settings=settings, principal=principal,
                                         preview_id=preview_file_id,
                                         frame_number=frame_number)
    return Response(await asyncio.to_thread(frames.png_bytes, frame.image), media_type="image/png",
                    headers={"Cache-Control": "no-cache"})


@router.get("/actions/preview-files/{preview_file_id}/extract-annotated-frames", operation_id="extract_annotated_frames")
async def extract_annotated_frames(preview_file_id: PreviewFileId, principal: CurrentUser, session: SessionDep,
                                   storage: StorageDep, settings: SettingsDep) -> Response:
    """Every annotated frame of a preview, one PNG each, in a zip."""
    preview, items = await frames.annotated_frames(session, storage=storage, settings=settings, principal=principal,
                                                   preview_id=preview_file_id)
    base = (await rules.download_name(session, preview=preview, extension="x"))[:-2]
    data = await asyncio.to_thread(frames.zip_bytes, [(f"{base}_frame_{f.number}.png", f.image) for f in items])
    return _attachment(data, "application/zip", f"{base}_annotated_frames.zip")


@router.get("/actions/preview-files/{preview_file_id}/extract-annotated-frames-pdf",
            operation_id="extract_annotated_frames_pdf")
async def extract_annotated_frames_pdf(preview_file_id: PreviewFileId, principal: CurrentUser, session: SessionDep,
                                       storage: StorageDep, settings: SettingsDep) -> Response:
    """Every annotated frame of a preview, one page each, in a PDF."""
    preview, items = await frames.annotated_frames(session, storage=storage, settings=settings, principal=principal,
                                                   preview_id=preview_file_id)
    base = (await rules.download_name(session, preview=preview, extension="x"))[:-2]
    data = await asyncio.to_thread(frames.pdf_bytes, [f.image for f in items])
    return _attachment(data, "application/pdf", f"{base}_annotated_frames.pdf")


def _attachment(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Cache-Control": "no-cache", "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@router.get("/actions/preview-files/{preview_file_id}/extract-tile", operation_id="extract_preview_tile")
async def extract_tile(preview_file_id: PreviewFileId, principal: CurrentUser, session: SessionDep, storage: StorageDep) -> Response:
    """The tile sheet of a movie preview (its frames in a grid) as PNG."""
    preview = await rules.get_preview(session, principal=principal, preview_id=preview_file_id)
    if not preview.is_movie:
        raise BadRequest("This preview is not a movie.", data=None)  # Zou's 400 carries data: null
    bucket, key = pipeline.derivative_key(preview.id, name="tiles")
    if await storage.stat(bucket, key) is None:
        raise NotFound()
    return Response(await storage.read_bytes(bucket, key), media_type="image/png",
                    headers={"Cache-Control": "max-age=604800, private"})
