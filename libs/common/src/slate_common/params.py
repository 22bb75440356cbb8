"""Path ids parsed the way Zou answers bad ones (400, ``Malformed ID.``), for every service."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Depends, Path

from .errors import BadRequest


def parse_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise BadRequest("Malformed ID.", data=None) from exc


def path_id(name: str) -> Any:
    """``Annotated[uuid.UUID, path_id("task_id")]``: the path parameter, parsed. The
    dependency is a coroutine: FastAPI runs a plain ``def`` dependency in its thread
    pool, a thread hop per request for a string parse."""

    async def dep(value: str = Path(alias=name)) -> uuid.UUID:
        return parse_id(value)

    dep.__name__ = f"path_{name}"
    return Depends(dep)
