"""Attachment files of comments: add, download, thumbnail, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.params import AttachmentFileId, CommentId, TaskId, documented_upload
from slate_common.security import CurrentUser
from slate_common.serialization import json_response

from ..adapters.downloads import mime_of, object_response
from ..adapters.uploads import check_filename, receive_uploads, upload_limits
from ..domain import files
from .deps import SettingsDep, StorageDep

router = APIRouter(tags=["Attachments"])


@router.post("/actions/tasks/{task_id}/comments/{comment_id}/add-attachment", operation_id="add_comment_attachments",
             status_code=201, openapi_extra=documented_upload())
async def add_attachment(task_id: TaskId, comment_id: CommentId, request: Request, principal: CurrentUser,
                         session: SessionDep, storage: StorageDep, settings: SettingsDep) -> Response:
    """Attach one or more files to a comment (multipart, every file field)."""
    await files.visible_comment(session, principal=principal, comment_id=comment_id)
    uploads = await receive_uploads(request, **upload_limits(settings))
    try:
        for upload in uploads:
            check_filename(upload.filename)
        out = await files.add_attachments(session, storage=storage, principal=principal, task_id=task_id,
                                          comment_id=comment_id,
                                          uploads=uploads)
    finally:
        for upload in uploads:
            upload.close()
    return json_response(out, status_code=201)


@router.get("/data/attachment-files/{attachment_file_id}/file/{file_name}", operation_id="download_attachment_file")
async def download_attachment(attachment_file_id: AttachmentFileId, file_name: str, request: Request,
                              principal: CurrentUser, session: SessionDep, storage: StorageDep) -> Response:
    """The stored file of an attachment."""
    attachment = await files.visible_attachment(session, principal=principal, attachment_id=attachment_file_id)
    return await object_response(request, storage, "attachments", files.attachment_key(attachment.id),
                                 media_type=attachment.mimetype or mime_of(attachment.extension))


@router.get("/pictures/thumbnails/attachment-files/{attachment_file_id}.png", operation_id="get_attachment_thumbnail")
async def attachment_thumbnail(attachment_file_id: AttachmentFileId, request: Request, principal: CurrentUser,
                               session: SessionDep, storage: StorageDep) -> Response:
    """The thumbnail of an attachment, if one was stored (Slate, as Zou, makes none: 404)."""
    attachment = await files.visible_attachment(session, principal=principal, attachment_id=attachment_file_id)
    return await object_response(request, storage, "attachments", files.attachment_thumbnail_key(attachment.id),
                                 media_type="image/png")


@router.delete("/data/tasks/{task_id}/comments/{comment_id}/attachments/{attachment_file_id}",
               operation_id="delete_comment_attachment", status_code=204)
async def delete_attachment(task_id: TaskId, comment_id: CommentId, attachment_file_id: AttachmentFileId,
                            principal: CurrentUser, session: SessionDep, storage: StorageDep) -> Response:
    """Remove an attachment from a comment."""
    await files.delete_attachment(session, storage=storage, principal=principal, task_id=task_id, comment_id=comment_id,
                                  attachment_id=attachment_file_id)
    return Response(status_code=204)
