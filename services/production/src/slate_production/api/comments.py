"""Comments: the status-change comment, batches, replies, acknowledgements, edits,
deletions and listings (per task, per project, and Zou's /data/comments)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest, Forbidden
from slate_common.params import (
    CommentId,
    FormOrJson,
    InstanceId,
    JsonBody,
    JsonObject,
    ProjectId,
    TaskId,
    invalid_field,
    json_body,
    json_object,
    parse_id,
)
from slate_common.security import CurrentUser
from slate_common.serialization import json_response, loads

from ..domain import access
from ..domain import comment_commands as commands
from ..domain import comment_queries as queries
from ..models import Comment

router = APIRouter(tags=["Comments"])


def _comment_args(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("task_status_id") in (None, ""):
        raise invalid_field("task_status_id")
    text = body.get("comment", body.get("text", ""))
    if text is not None and not isinstance(text, str):
        raise BadRequest("comment must be a string")
    return {
        "task_status_id": parse_id(body["task_status_id"]), "text": text,
        "person_id": parse_id(body["person_id"]) if body.get("person_id") else None,
        "checklist": body.get("checklist"), "links": body.get("links"), "created_at": body.get("created_at"),
    }


async def _comment_body(request: Request) -> dict[str, Any]:
    """JSON, or form fields as Kitsu sends them with attachments (``checklist`` and
    ``links`` as JSON strings). Files belong to media: they are refused here."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await json_object(request)
    form = await request.form()
    if any(not isinstance(v, str) for _, v in form.multi_items()):
        raise BadRequest("Files are not accepted here: post the comment, then add its files with "
                         "/actions/tasks/<task_id>/comments/<comment_id>/add-attachment.")
    body: dict[str, Any] = {k: v for k, v in form.items()}
    for key in ("checklist", "links"):
        if isinstance(body.get(key), str) and body[key]:
            try:
                body[key] = loads(body[key])
            except ValueError as exc:
                raise BadRequest(f"{key} must be JSON") from exc
    return body


@router.post("/actions/tasks/{task_id}/comment", operation_id="comment_task", status_code=201)
async def comment_task(task_id: TaskId, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Comment on a task and set its status."""
    body = await _comment_body(request)
    task, role = await queries.task_with_role(session, principal, task_id, with_person=True)
    comment = await commands.create_comment(session, principal=principal, task=task, role=role, **_comment_args(body))
    return json_response(await queries.serialize_created(session, comment=comment), status_code=201)


@router.post("/actions/projects/{project_id}/tasks/comment-many", operation_id="comment_many_tasks", status_code=201)
async def comment_many(project_id: ProjectId, body: JsonBody, principal: CurrentUser, session: SessionDep) -> Response:
    """Status-change comments on several tasks of a project."""
    if not isinstance(body, list):
        raise BadRequest("A list of comments is expected.")
    comments = await commands.comment_many(session, principal=principal, project_id=project_id, items=body)
    return json_response([await queries.serialize_created(session, comment=c) for c in comments], status_code=201)


async def _batch_items(request: Request) -> list[Any]:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        if any(not isinstance(v, str) for _, v in form.multi_items()):
            raise BadRequest("Files are not accepted here: add previews and attachments through the "
                             "comment's add-preview and add-attachment routes.")
        raw = form.get("comments")
        if not isinstance(raw, str):
            raise invalid_field("comments")
        try:
            items = loads(raw)
        except ValueError as exc:
            raise BadRequest("comments must be a JSON list") from exc
    else:
        body = await json_body(request)
        items = body.get("comments") if isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadRequest("comments must be a JSON list of objects", data=None)
    return items


@router.post("/actions/tasks/{task_id}/batch-comment", operation_id="batch_comment_task", status_code=201)
async def batch_comment_task(task_id: TaskId, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Several comments on one task, in order."""
    task = await queries.get_task(session, task_id)
    out = []
    for item in await _batch_items(request):
        comment = await commands.create_comment(session, principal=principal, task=task, **_comment_args(item))
        out.append(await queries.serialize_created(session, comment=comment))
    return json_response(out, status_code=201)


@router.post("/actions/tasks/batch-comment", operation_id="batch_comment_tasks", status_code=201)
async def batch_comment_tasks(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Comments on several tasks; each item names its ``task_id``."""
    out = []
    for item in await _batch_items(request):
        task = await queries.get_task(session, parse_id(item.get("task_id") or item.get("object_id")))
        comment = await commands.create_comment(session, principal=principal, task=task, **_comment_args(item))
        out.append(await queries.serialize_created(session, comment=comment))
    return json_response(out, status_code=201)


@router.get("/data/tasks/{task_id}/comments", operation_id="get_task_comments")
async def task_comments(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """A task's comments, newest first, with author, status, previews and links."""
    return json_response(await queries.task_comments(session, principal=principal, task_id=task_id))


@router.get("/data/tasks/{task_id}/comments/{comment_id}", operation_id="get_task_comment")
async def task_comment(task_id: TaskId, comment_id: CommentId, principal: CurrentUser, session: SessionDep) -> Response:
    """One comment of a task: the row alone, as Zou answers it here (/data/comments/<id>
    adds the links, the author and the replies' authors)."""
    comment = await _readable(session, principal, comment_id, task_id=task_id)
    return json_response(comment.serialize())


@router.delete("/data/tasks/{task_id}/comments/{comment_id}", operation_id="delete_task_comment", status_code=204)
async def delete_task_comment(task_id: TaskId, comment_id: CommentId, principal: CurrentUser, session: SessionDep) -> Response:
    """Delete a comment (its author, a manager or an admin)."""
    comment = await queries.get_comment(session, comment_id, task_id=task_id)
    await commands.delete_comment(session, principal=principal, comment=comment)
    return Response(status_code=204)


@router.post("/data/tasks/{task_id}/comments/{comment_id}/ack", operation_id="acknowledge_comment")
async def acknowledge(task_id: TaskId, comment_id: CommentId, principal: CurrentUser, session: SessionDep) -> Response:
    """Toggle the caller's acknowledgement of a comment."""
    comment = await queries.get_comment(session, comment_id, task_id=task_id)
    comment = await commands.acknowledge(session, principal=principal, comment=comment)
    return json_response(await queries.serialize_with_links(session, comment=comment))


@router.post("/data/tasks/{task_id}/comments/{comment_id}/reply", operation_id="reply_comment")
async def reply(task_id: TaskId, comment_id: CommentId, body: FormOrJson, principal: CurrentUser,
                session: SessionDep) -> Response:
    """Reply to a comment."""
    text = body.get("text", "")
    if text is not None and not isinstance(text, str):
        raise BadRequest("text must be a string")
    comment = await queries.get_comment(session, comment_id, task_id=task_id)
    return json_response(await commands.reply(session, principal=principal, comment=comment, text=text))


@router.delete("/data/tasks/{task_id}/comments/{comment_id}/reply/{reply_id}", operation_id="delete_reply")
async def delete_reply(task_id: TaskId, comment_id: CommentId, reply_id: str, principal: CurrentUser,
                       session: SessionDep) -> Response:
    """Delete a reply (its author, a manager or an admin)."""
    comment = await queries.get_comment(session, comment_id, task_id=task_id)
    comment = await commands.delete_reply(session, principal=principal, comment=comment, reply_id=parse_id(reply_id))
    return json_response(comment.serialize())


@router.get("/data/projects/{project_id}/comments", operation_id="get_project_comments")
async def project_comments(project_id: ProjectId, principal: CurrentUser, session: SessionDep,
                           limit: int | None = None, page: int = 1) -> Response:
    """Every comment of a project's tasks, newest first."""
    return json_response(await queries.project_comments(session, principal, project_id, limit=limit, page=page))


# --- /data/comments ----------------------------------------------------------------------


async def _readable(session: SessionDep, principal: CurrentUser, comment_id: Any, *, task_id: Any = None) -> Comment:
    comment = await queries.get_comment(session, comment_id, task_id=task_id)
    task = await queries.get_task(session, comment.object_id)
    await access.check_task_access(session, principal, task)
    if principal.is_client:  # Zou gives clients no single comment
        raise Forbidden()
    if not await queries.comment_visible(session, principal, comment_id=comment.id):
        raise Forbidden()
    return comment


@router.get("/data/comments", operation_id="list_comments")
async def list_comments(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Every comment (admins), with Zou's filters and pagination."""
    if not principal.is_admin:
        raise Forbidden()
    return json_response(await queries.list_comments(session, params=request.query_params))


@router.post("/data/comments", operation_id="create_comment", status_code=201)
async def create_comment(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Create a comment row (admins): no status change, no notification, as Zou's
    generic route; the comment flow is /actions/tasks/<id>/comment."""
    if not principal.is_admin:
        raise Forbidden()
    comment = await commands.create_raw_comment(session, principal=principal, data=body)
    out = await queries.serialize_with_links(session, comment=comment)
    if "links" not in body:  # Zou's answer names the column as the body left it (reads list [] after)
        out["links"] = None
    return json_response(out, status_code=201)


@router.get("/data/comments/{instance_id}", operation_id="get_comment")
async def get_comment(instance_id: InstanceId, principal: CurrentUser, session: SessionDep) -> Response:
    """One comment, with its links, replies and author."""
    comment = await _readable(session, principal, instance_id)
    return json_response(await queries.serialize_one(session, comment=comment))


@router.put("/data/comments/{instance_id}", operation_id="update_comment")
async def update_comment(instance_id: InstanceId, body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Edit a comment (its author, a manager or an admin)."""
    comment = await queries.get_comment(session, instance_id)
    comment = await commands.update_comment(session, principal=principal, comment=comment, data=body)
    return json_response(comment.serialize())  # the row alone, as Zou answers an edit


@router.delete("/data/comments/{instance_id}", operation_id="delete_comment", status_code=204)
async def delete_comment(instance_id: InstanceId, principal: CurrentUser, session: SessionDep) -> Response:
    """Delete a comment (its author, a manager or an admin)."""
    comment = await queries.get_comment(session, instance_id)
    await commands.delete_comment(session, principal=principal, comment=comment)
    return Response(status_code=204)


@router.post("/actions/tasks/{task_id}/comments/{comment_id}/move", operation_id="move_comment")
async def move_comment(task_id: TaskId, comment_id: CommentId, body: JsonObject, principal: CurrentUser,
                       session: SessionDep) -> Response:
    """Move a comment to another task of the same entity (managers and admins)."""
    if not principal.is_manager:  # refused before the body is read, as Zou does
        raise Forbidden()
    if body.get("target_task_id") in (None, ""):
        raise invalid_field("target_task_id")
    source = await queries.get_task(session, task_id)
    comment = await queries.get_comment(session, comment_id)
    comment = await commands.move_comment(session, principal=principal, comment=comment, source=source,
                                       target_task_id=parse_id(body["target_task_id"]))
    return json_response(await queries.serialize_with_links(session, comment=comment))


@router.post("/actions/projects/{project_id}/tasks/copy-client-comments", operation_id="copy_client_comments",
             status_code=201)
async def copy_client_comments(project_id: ProjectId, body: JsonObject, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Copy each task's last client comment into a comment artists can read (managers)."""
    ids = body.get("task_ids")
    if not isinstance(ids, list):
        raise invalid_field("task_ids")
    prefix = body.get("prefix")
    if prefix is not None and not isinstance(prefix, str):
        raise BadRequest("prefix must be a string")
    comments = await commands.copy_client_comments(session, principal=principal, project_id=project_id,
                                                task_ids=[parse_id(i) for i in ids], prefix=prefix)
    return json_response([await queries.serialize_created(session, comment=c) for c in comments], status_code=201)


@router.get("/data/tasks/{task_id}/attachment-files", operation_id="get_task_attachment_files")
async def task_attachment_files(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """Attachment files of a task's comments (admins)."""
    return json_response(await queries.attachment_files(session, principal, task_id=task_id))


@router.get("/data/projects/{project_id}/attachment-files", operation_id="get_project_attachment_files")
async def project_attachment_files(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Attachment files of a project's comments (admins)."""
    return json_response(await queries.attachment_files(session, principal, project_id=project_id))
