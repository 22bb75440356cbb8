"""Path ids and bodies parsed the way Zou answers bad ones (400, ``Malformed ID.``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from slate_common.errors import BadRequest
from slate_common.params import parse_id, path_id  # noqa: F401  (re-exported for the routes)
from slate_common.serialization import loads

TaskId = Annotated[uuid.UUID, path_id("task_id")]
CommentId = Annotated[uuid.UUID, path_id("comment_id")]
ProjectId = Annotated[uuid.UUID, path_id("project_id")]
NotificationId = Annotated[uuid.UUID, path_id("notification_id")]
InstanceId = Annotated[uuid.UUID, path_id("instance_id")]


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return loads(raw)
    except ValueError as exc:
        raise BadRequest("The browser (or proxy) sent a request that this server could not understand.") from exc


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("A JSON object is expected.")
    return body


async def form_or_json(request: Request) -> dict[str, Any]:
    """Zou's routes that take form fields accept JSON as well."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        return {k: v for k, v in form.items()}
    return await json_object(request)


JsonObject = Annotated[dict[str, Any], Depends(json_object)]
JsonBody = Annotated[Any, Depends(json_body)]
FormOrJson = Annotated[dict[str, Any], Depends(form_or_json)]
