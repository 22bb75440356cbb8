"""The request toolkit: what every route parses, written once, answering as Zou does.

- **Ids.** ``ProjectId``, ``TaskId``... are ``Annotated`` path parameters parsed by
  :func:`path_id`; a malformed one is Zou's 400 ``{"message": "Malformed ID.", "data": null}``.
  :func:`parse_id` / :func:`optional_id` do the same for a query or body value, with the
  message the route has always given.
- **Bodies.** :data:`JsonObject` (a JSON object, Zou's 400 for anything else) and
  :func:`body_model`, a :class:`Body` model validated from it: a bad body is Zou's 400
  ``Validation error.`` with the field list (never FastAPI's 422). :data:`Required`,
  :data:`RequiredId` and :data:`OptionalId` are the field types of Zou's checks.
  :func:`documented_body` documents a body a route reads itself (after a permission
  check, as Zou does, or from a form as well as JSON) in the OpenAPI.
- **Flags.** :func:`flag`: Zou's boolean query parameters are true for ``true`` in any
  case and false for anything else (``1`` and ``yes`` are false there too).
- **Pages.** :func:`page_of` reads ``page``/``limit``; :func:`page_envelope` and
  :func:`paginate` produce Zou's ``{"data", "total", "nb_pages", "limit", "offset", "page"}``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import BadRequest, validation_errors
from .serialization import loads

MALFORMED_ID = "Malformed ID."

M = TypeVar("M", bound=BaseModel)


# --- ids --------------------------------------------------------------------------------


def parse_id(value: Any, message: str = MALFORMED_ID) -> uuid.UUID:
    """``value`` as an id; Zou's 400 (``message``, ``"data": null``) otherwise."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise BadRequest(message, data=None) from exc


def optional_id(value: Any, message: str = MALFORMED_ID) -> uuid.UUID | None:
    """An id, or None when absent or empty."""
    if value is None or value == "":
        return None
    return parse_id(value, message)


def invalid_field(field: str, message: str = "Field required") -> BadRequest:
    """Zou's 400 for one bad body field, in the shape of its validation errors."""
    return BadRequest("Validation error.", data={"errors": [{"field": field, "message": message}]})


def required_id(value: Any, field: str, message: str = MALFORMED_ID) -> uuid.UUID:
    """A body id Zou requires: absent, null or "" is "Field required"; malformed, ``message``."""
    if value is None or value == "":
        raise invalid_field(field)
    return parse_id(value, message)


def path_id(name: str) -> Any:
    """``Annotated[uuid.UUID, path_id("task_id")]``: the path parameter, parsed. The
    dependency is a coroutine: FastAPI runs a plain ``def`` dependency in its thread
    pool, a thread hop per request for a string parse."""

    async def dep(value: str = Path(alias=name)) -> uuid.UUID:
        return parse_id(value)

    dep.__name__ = f"path_{name}"
    return Depends(dep)


AssetId = Annotated[uuid.UUID, path_id("asset_id")]
AssetTypeId = Annotated[uuid.UUID, path_id("asset_type_id")]
AttachmentFileId = Annotated[uuid.UUID, path_id("attachment_file_id")]
CommentId = Annotated[uuid.UUID, path_id("comment_id")]
EntityId = Annotated[uuid.UUID, path_id("entity_id")]
EntityLinkId = Annotated[uuid.UUID, path_id("entity_link_id")]
EpisodeId = Annotated[uuid.UUID, path_id("episode_id")]
FilterGroupId = Annotated[uuid.UUID, path_id("filter_group_id")]
FilterId = Annotated[uuid.UUID, path_id("filter_id")]
InstanceId = Annotated[uuid.UUID, path_id("instance_id")]
NewsId = Annotated[uuid.UUID, path_id("news_id")]
NotificationId = Annotated[uuid.UUID, path_id("notification_id")]
PersonId = Annotated[uuid.UUID, path_id("person_id")]
PreviewBackgroundFileId = Annotated[uuid.UUID, path_id("preview_background_file_id")]
PreviewFileId = Annotated[uuid.UUID, path_id("preview_file_id")]
ProjectId = Annotated[uuid.UUID, path_id("project_id")]
ReplyId = Annotated[uuid.UUID, path_id("reply_id")]
SequenceId = Annotated[uuid.UUID, path_id("sequence_id")]
ShotId = Annotated[uuid.UUID, path_id("shot_id")]
TaskId = Annotated[uuid.UUID, path_id("task_id")]
TaskStatusId = Annotated[uuid.UUID, path_id("task_status_id")]
TaskTypeId = Annotated[uuid.UUID, path_id("task_type_id")]


# --- bodies -----------------------------------------------------------------------------

NOT_UNDERSTOOD = "The browser (or proxy) sent a request that this server could not understand."


async def json_body(request: Request) -> Any:
    """The JSON body, ``{}`` when empty; Zou's 400 when it is not JSON."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return loads(raw)
    except ValueError as exc:
        raise BadRequest(NOT_UNDERSTOOD) from exc


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


def _present(value: Any) -> Any:
    if value is None or value == "":
        raise PydanticCustomError("missing", "Field required")
    return value


def _id_value(value: Any) -> uuid.UUID:
    return parse_id(_present(value))


def _optional_id_value(value: Any) -> uuid.UUID | None:
    return optional_id(value)


#: Body fields as Zou checks them: absent, null and "" are all "Field required"; a
#: malformed id is the 400 ``Malformed ID.``.
Required = Annotated[Any, BeforeValidator(_present)]
RequiredId = Annotated[uuid.UUID, BeforeValidator(_id_value)]
OptionalId = Annotated[uuid.UUID | None, BeforeValidator(_optional_id_value)]


class Body(BaseModel):
    """Base of the request bodies: unknown keys are ignored, as Zou does."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)


def validate(model: type[M], body: Any) -> M:
    """``body`` as ``model``; Zou's 400 ``Validation error.`` with the field list otherwise
    (the same answer as the app's handler for FastAPI's own validation errors)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadRequest("Validation error.", data={"errors": validation_errors(exc.errors(), located=False)}) from exc


def body_model(model: type[M]) -> Any:
    """``Annotated[CommentIn, body_model(CommentIn)]``: the JSON object body, validated."""

    async def dep(body: JsonObject) -> M:
        return validate(model, body)

    dep.__name__ = f"body_{model.__name__}"
    return Depends(dep)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def documented_body(body_type: Any, *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` documenting ``body_type`` (a :class:`Body` model, or a type such as
    ``list[CommentIn]``) as the JSON request body of a route that reads it itself, with
    :data:`JsonObject`/:data:`JsonBody` and :func:`validate` where Zou reads it (after a
    permission check, say): FastAPI documents only the bodies it parses itself."""
    schema = TypeAdapter(body_type).json_schema()
    defs = schema.pop("$defs", {})
    return {"requestBody": {"required": required,
                            "content": {"application/json": {"schema": _inline(schema, defs)}}}}


def documented_upload(*, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` documenting a multipart upload (field ``file``, binary) of a route
    that streams its request itself (size limits, scratch files): FastAPI documents only
    the ``UploadFile`` parameters it parses."""
    schema = {"type": "object", "required": ["file"],
              "properties": {"file": {"type": "string", "format": "binary"}}}
    return {"requestBody": {"required": required, "content": {"multipart/form-data": {"schema": schema}}}}


# --- flags ------------------------------------------------------------------------------


def flag(value: str | None, default: bool = False) -> bool:
    """A boolean query parameter as Zou reads it: ``true`` (any case) is true, any other
    value false, ``default`` when absent."""
    if value is None:
        return default
    return value.lower() == "true"


# --- pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def page_of(params: Any, *, default_limit: int = 100) -> Page | None:
    """``page``/``limit`` of a query string (None without ``page``); 400 when not integers."""
    raw = params.get("page")
    if raw is None:
        return None
    try:
        return Page(max(int(raw), 1), max(int(params.get("limit", default_limit)), 1))
    except (TypeError, ValueError) as exc:
        raise BadRequest("page and limit must be integers") from exc


def page_envelope(data: Sequence[Any], total: int, page: Page, **extra: Any) -> dict[str, Any]:
    """Zou's page envelope around ``data``, one page of ``total`` rows."""
    return {"data": list(data), "total": total, "nb_pages": math.ceil(total / page.limit) if total else 0,
            "limit": page.limit, "offset": page.offset, "page": page.page, **extra}


async def count(session: AsyncSession, *, stmt: Select[Any]) -> int:
    """How many rows ``stmt`` selects."""
    return int(await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


async def paginate(session: AsyncSession, *, stmt: Select[Any], page: Page,
                   serialize: Callable[[Sequence[Any]], Awaitable[list[Any]] | list[Any]]) -> dict[str, Any]:
    """One page of ``stmt`` (already ordered; scalars) in Zou's envelope."""
    total = await count(session, stmt=stmt)
    rows = (await session.scalars(stmt.offset(page.offset).limit(page.limit))).all()
    data = serialize(rows)
    if not isinstance(data, list):
        data = await data
    return page_envelope(data, total, page)
