"""The storage/settings dependencies of media's routes (the id aliases are the
request toolkit's, :mod:`slate_common.params`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from slate_common.app import runtime_of

from ..adapters.storage import Storage
from ..config import MediaSettings


async def storage_of(request: Request) -> Storage:
    return request.app.state.storage  # type: ignore[no-any-return]


async def settings_of(request: Request) -> MediaSettings:
    return runtime_of(request).settings  # type: ignore[return-value]


StorageDep = Annotated[Storage, Depends(storage_of)]
SettingsDep = Annotated[MediaSettings, Depends(settings_of)]
