"""Zou-compatible serialization: UUID strings, ISO timestamps without zone, a "type"
field per model, free "data" dicts. Responses are rendered with orjson."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import orjson
from starlette.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"not serializable: {type(value).__name__}")


_OPTS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=_OPTS)


def loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)


def serialize_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, dict, list)):
        return value
    return _default(value)


def now() -> dt.datetime:
    """Naive UTC now, second precision kept by the column; Zou stores naive UTC."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class ZouJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return ZouJSONResponse(content, status_code=status_code, headers=headers)
