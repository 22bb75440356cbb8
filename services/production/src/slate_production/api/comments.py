"""Comments: the status-change comment, batches, replies, acknowledgements, edits,
deletions and listings (per task, per project, and Zou's /data/comments)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BeforeValidator, ConfigDict, model_validator
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest, Forbidden
from slate_common.params import (
    Body,
    CommentId,
    FormOrJson,
    InstanceId,
    JsonBody,
    JsonObject,
    OptionalId,
    ProjectId,
    ReplyId,
    RequiredId,
    TaskId,
    documented_body,
    invalid_field,
    json_body,
    json_object,
    parse_id,
    validate,
)
from slate_common.security import CurrentUser
from slate_common.serialization import json_response, loads

from ..domain import access
from ..domain import comment_commands as commands
from ..domain import comment_queries as queries
from ..models import Comment

router = APIRouter(tags=["Comments"])


def _blank_none(value: Any) -> Any:
    return None if value == "" else value


#: "" is no value, as the form fields of Kitsu send it.
Stamp = Annotated[dt.datetime | None, BeforeValidator(_blank_none)]
Checklist = Annotated[list[Any] | dict[str, Any] | None, BeforeValidator(_blank_none)]


class CommentIn(Body):
    """A status-change comment: the text as ``comment`` (or ``text``); ``checklist`` and
    ``links`` as JSON (JSON strings in a form)."""

    task_status_id: RequiredId
    comment: str | None = None
    text: str | None = None
    person_id: OptionalId = None
    checklist: Checklist = None
    links: list[str] | None = None
    created_at: Stamp = None

    def args(self) -> dict[str, Any]:
        """The arguments of ``create_comment``."""
        given = self.model_fields_set
        text = self.comment if "comment" in given else self.text if "text" in given else ""
        return {"task_status_id": self.task_status_id, "text": text, "person_id": self.person_id,
                "checklist": self.checklist, "links": self.links, "created_at": self.created_at}


class BatchCommentIn(CommentIn):
    """One comment of a batch on several tasks: its task as ``task_id`` (or ``object_id``)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": [key], "properties": {key: {"type": "string", "format": "uuid"}}} for key in ("task_id", "object_id")]})

    task_id: OptionalId = None
    object_id: OptionalId = None


class CommentManyIn(BatchCommentIn):
    """One comment of comment-many."""


class BatchIn(Body):
    comments: list[CommentIn]


class BatchTasksIn(Body):
    comments: list[BatchCommentIn]


class ReplyIn(Body):
    text: str | None = ""


class RawCommentIn(Body):
    """A comment row (/data/comments): the task it is on, the rest optional."""

    object_id: RequiredId
    task_status_id: OptionalId = None
    person_id: OptionalId = None
    text: str | None = None
    checklist: Checklist = None
    links: list[str] | None = None
    created_at: Stamp = None
    for_client: bool | None = None
    pinned: bool | None = None


class CommentEdit(Body):
    """The editable fields of a comment; a new status relabels it."""

    text: str | None = None
    checklist: Checklist = None
    pinned: bool | None = None
    for_client: bool | None = None
    links: list[str] | None = None
    data: dict[str, Any] | None = None
    task_status_id: OptionalId = None


class MoveIn(Body):
    target_task_id: RequiredId


class CopyClientCommentsIn(Body):
    task_ids: list[RequiredId]
    prefix: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _list(cls, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("task_ids"), list):  # Zou: "Field required"
            raise invalid_field("task_ids")
        return data


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


@router.post("/actions/tasks/{task_id}/comment", operation_id="comment_task", status_code=201,
             openapi_extra=documented_body(CommentIn))
async def comment_task(task_id: TaskId, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Comment on a task and set its status."""
    body = validate(CommentIn, await _comment_body(request))
    task, role = await queries.task_with_role(session, principal=principal, task_id=task_id, with_person=True)
    comment = await commands.create_comment(session, principal=principal, task=task, role=role, **body.args())
    return json_response(await queries.serialize_created(session, comment=comment), status_code=201)


@router.post("/actions/projects/{project_id}/tasks/comment-many", operation_id="comment_many_tasks", status_code=201,
             openapi_extra=documented_body(list[CommentManyIn]))
async def comment_many(project_id: ProjectId, body: JsonBody, principal: CurrentUser, session: SessionDep) -> Response:
    """Status-change comments on several tasks of a project."""
    if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
        raise BadRequest("A list of comments is expected.")
    items = [validate(CommentManyIn, i).model_dump(exclude_unset=True) for i in body]
    comments = await commands.comment_many(session, principal=principal, project_id=project_id, items=items)
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


@router.post("/actions/tasks/{task_id}/batch-comment", operation_id="batch_comment_task", status_code=201,
             openapi_extra=documented_body(BatchIn))
async def batch_comment_task(task_id: TaskId, request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Several comments on one task, in order."""
    task = await queries.get_task(session, task_id=task_id)
    out = []
    for item in await _batch_items(request):
        args = validate(CommentIn, item).args()
        comment = await commands.create_comment(session, principal=principal, task=task, **args)
        out.append(await queries.serialize_created(session, comment=comment))
    return json_response(out, status_code=201)


@router.post("/actions/tasks/batch-comment", operation_id="batch_comment_tasks", status_code=201,
             openapi_extra=documented_body(BatchTasksIn))
async def batch_comment_tasks(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Comments on several tasks; each item names its ``task_id``."""
    out = []
    for raw in await _batch_items(request):
        item = validate(BatchCommentIn, raw)
        task = await queries.get_task(session, task_id=parse_id(item.task_id or item.object_id))
        comment = await commands.create_comment(session, principal=principal, task=task, **item.args())
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
    comment = await queries.get_comment(session, comment_id=comment_id, task_id=task_id)
    await commands.delete_comment(session, principal=principal, comment=comment)
    return Response(status_code=204)


@router.post("/data/tasks/{task_id}/comments/{comment_id}/ack", operation_id="acknowledge_comment")
async def acknowledge(task_id: TaskId, comment_id: CommentId, principal: CurrentUser, session: SessionDep) -> Response:
    """Toggle the caller's acknowledgement of a comment."""
    comment = await queries.get_comment(session, comment_id=comment_id, task_id=task_id)
    comment = await commands.acknowledge(session, principal=principal, comment=comment)
    return json_response(await queries.serialize_with_links(session, comment=comment))


@router.post("/data/tasks/{task_id}/comments/{comment_id}/reply", operation_id="reply_comment",
             openapi_extra=documented_body(ReplyIn))
async def reply(task_id: TaskId, comment_id: CommentId, body: FormOrJson, principal: CurrentUser,
                session: SessionDep) -> Response:
    """Reply to a comment."""
    text = validate(ReplyIn, body).text
    comment = await queries.get_comment(session, comment_id=comment_id, task_id=task_id)
    return json_response(await commands.reply(session, principal=principal, comment=comment, text=text))


@router.delete("/data/tasks/{task_id}/comments/{comment_id}/reply/{reply_id}", operation_id="delete_reply")
async def delete_reply(task_id: TaskId, comment_id: CommentId, reply_id: ReplyId, principal: CurrentUser,
                       session: SessionDep) -> Response:
    """Delete a reply (its author, a manager or an admin)."""
    comment = await queries.get_comment(session, comment_id=comment_id, task_id=task_id)
    comment = await commands.delete_reply(session, principal=principal, comment=comment, reply_id=reply_id)
    return json_response(comment.serialize())


@router.get("/data/projects/{project_id}/comments", operation_id="get_project_comments")
async def project_comments(project_id: ProjectId, principal: CurrentUser, session: SessionDep,
                           limit: int | None = None, page: int = 1) -> Response:
    """Every comment of a project's tasks, newest first."""
    return json_response(await queries.project_comments(session, principal=principal, project_id=project_id, limit=limit, page=page))


# --- /data/comments ----------------------------------------------------------------------


async def _readable(session: SessionDep, principal: CurrentUser, comment_id: Any, *, task_id: Any = None) -> Comment:
    comment = await queries.get_comment(session, comment_id=comment_id, task_id=task_id)
    task = await queries.get_task(session, task_id=comment.object_id)
    await access.check_task_access(session, principal=principal, task=task)
    if principal.is_client:  # Zou gives clients no single comment
        raise Forbidden()
    if not await queries.comment_visible(session, principal=principal, comment_id=comment.id):
        raise Forbidden()
    return comment


@router.get("/data/comments", operation_id="list_comments")
async def list_comments(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """Every comment (admins), with Zou's filters and pagination."""
    if not principal.is_admin:
        raise Forbidden()
    return json_response(await queries.list_comments(session, params=request.query_params))


@router.post("/data/comments", operation_id="create_comment", status_code=201,
             openapi_extra=documented_body(RawCommentIn))
async def create_comment(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Create a comment row (admins): no status change, no notification, as Zou's
    generic route; the comment flow is /actions/tasks/<id>/comment."""
    if not principal.is_admin:
        raise Forbidden()
    if body.get("object_id") in (None, ""):
        raise BadRequest("A required field is missing.")
    fields = validate(RawCommentIn, body).model_dump(exclude_unset=True)
    comment = await commands.create_raw_comment(session, principal=principal, data=fields)
    out = await queries.serialize_with_links(session, comment=comment)
    if "links" not in body:  # Zou's answer names the column as the body left it (reads list [] after)
        out["links"] = None
    return json_response(out, status_code=201)


@router.get("/data/comments/{instance_id}", operation_id="get_comment")
async def get_comment(instance_id: InstanceId, principal: CurrentUser, session: SessionDep) -> Response:
    """One comment, with its links, replies and author."""
    comment = await _readable(session, principal, instance_id)
    return json_response(await queries.serialize_one(session, comment=comment))


@router.put("/data/comments/{instance_id}", operation_id="update_comment", openapi_extra=documented_body(CommentEdit))
async def update_comment(instance_id: InstanceId, body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Edit a comment (its author, a manager or an admin)."""
    comment = await queries.get_comment(session, comment_id=instance_id)
    edit = validate(CommentEdit, body).model_dump(exclude_unset=True)
    comment = await commands.update_comment(session, principal=principal, comment=comment, data=edit)
    return json_response(comment.serialize())  # the row alone, as Zou answers an edit


@router.delete("/data/comments/{instance_id}", operation_id="delete_comment", status_code=204)
async def delete_comment(instance_id: InstanceId, principal: CurrentUser, session: SessionDep) -> Response:
    """Delete a comment (its author, a manager or an admin)."""
    comment = await queries.get_comment(session, comment_id=instance_id)
    await commands.delete_comment(session, principal=principal, comment=comment)
    return Response(status_code=204)


@router.post("/actions/tasks/{task_id}/comments/{comment_id}/move", operation_id="move_comment",
             openapi_extra=documented_body(MoveIn))
async def move_comment(task_id: TaskId, comment_id: CommentId, body: JsonObject, principal: CurrentUser,
                       session: SessionDep) -> Response:
    """Move a comment to another task of the same entity (managers and admins)."""
    if not principal.is_manager:  # refused before the body is read, as Zou does
        raise Forbidden()
    target_task_id = validate(MoveIn, body).target_task_id
    source = await queries.get_task(session, task_id=task_id)
    comment = await queries.get_comment(session, comment_id=comment_id)
    comment = await commands.move_comment(session, principal=principal, comment=comment, source=source,
                                          target_task_id=target_task_id)
    return json_response(await queries.serialize_with_links(session, comment=comment))


@router.post("/actions/projects/{project_id}/tasks/copy-client-comments", operation_id="copy_client_comments",
             status_code=201, openapi_extra=documented_body(CopyClientCommentsIn))
async def copy_client_comments(project_id: ProjectId, body: JsonObject, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Copy each task's last client comment into a comment artists can read (managers)."""
    copy = validate(CopyClientCommentsIn, body)
    comments = await commands.copy_client_comments(session, principal=principal, project_id=project_id,
                                                   task_ids=copy.task_ids, prefix=copy.prefix)
    return json_response([await queries.serialize_created(session, comment=c) for c in comments], status_code=201)


@router.get("/data/tasks/{task_id}/attachment-files", operation_id="get_task_attachment_files")
async def task_attachment_files(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """Attachment files of a task's comments (admins)."""
    return json_response(await queries.attachment_files(session, principal=principal, task_id=task_id))


@router.get("/data/projects/{project_id}/attachment-files", operation_id="get_project_attachment_files")
async def project_attachment_files(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Attachment files of a project's comments (admins)."""
    return json_response(await queries.attachment_files(session, principal=principal, project_id=project_id))
