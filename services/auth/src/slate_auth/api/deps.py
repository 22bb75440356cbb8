"""Annotated aliases shared by auth's routers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from ..config import AuthSettings
from ..domain.keys import KeyRing


def _settings(request: Request) -> AuthSettings:
    return request.app.state.auth_settings  # type: ignore[no-any-return]


# The dependencies are coroutines: FastAPI runs a plain ``def`` dependency in its thread
# pool, a hop there and back per request.
async def _settings_dep(request: Request) -> AuthSettings:
    return _settings(request)


async def _keyring(request: Request) -> KeyRing:
    return request.app.state.keyring  # type: ignore[no-any-return]


Settings = Annotated[AuthSettings, Depends(_settings_dep)]
Keys = Annotated[KeyRing, Depends(_keyring)]
PersonId = Annotated[uuid.UUID, Path()]
DepartmentId = Annotated[uuid.UUID, Path()]
