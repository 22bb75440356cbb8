"""Path parameter aliases and the storage/settings dependencies of media's routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from slate_common.app import runtime_of
from slate_common.errors import BadRequest

from ..config import MediaSettings
from ..storage import Storage


def storage_of(request: Request) -> Storage:
    return request.app.state.storage  # type: ignore[no-any-return]


def settings_of(request: Request) -> MediaSettings:
    return runtime_of(request).settings  # type: ignore[return-value]


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise BadRequest("Malformed ID.", data=None) from exc


StorageDep = Annotated[Storage, Depends(storage_of)]
SettingsDep = Annotated[MediaSettings, Depends(settings_of)]


def _id(name: str) -> object:
    def dep(value: str = Path(alias=name)) -> uuid.UUID:
        return parse_id(value)

    dep.__name__ = f"parse_{name}"
    return Depends(dep)


InstanceId = Annotated[uuid.UUID, _id("instance_id")]
PreviewFileId = Annotated[uuid.UUID, _id("preview_file_id")]
TaskId = Annotated[uuid.UUID, _id("task_id")]
CommentId = Annotated[uuid.UUID, _id("comment_id")]
ProjectId = Annotated[uuid.UUID, _id("project_id")]
AttachmentFileId = Annotated[uuid.UUID, _id("attachment_file_id")]
EntityId = Annotated[uuid.UUID, _id("entity_id")]
