"""Path parameter aliases and the storage/settings dependencies of media's routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from slate_common.app import runtime_of
from slate_common.params import parse_id, path_id  # noqa: F401  (re-exported for the routes)

from ..config import MediaSettings
from ..storage import Storage


async def storage_of(request: Request) -> Storage:
    return request.app.state.storage  # type: ignore[no-any-return]


async def settings_of(request: Request) -> MediaSettings:
    return runtime_of(request).settings  # type: ignore[return-value]


StorageDep = Annotated[Storage, Depends(storage_of)]
SettingsDep = Annotated[MediaSettings, Depends(settings_of)]


InstanceId = Annotated[uuid.UUID, path_id("instance_id")]
PreviewFileId = Annotated[uuid.UUID, path_id("preview_file_id")]
TaskId = Annotated[uuid.UUID, path_id("task_id")]
CommentId = Annotated[uuid.UUID, path_id("comment_id")]
ProjectId = Annotated[uuid.UUID, path_id("project_id")]
AttachmentFileId = Annotated[uuid.UUID, path_id("attachment_file_id")]
EntityId = Annotated[uuid.UUID, path_id("entity_id")]
ShotId = Annotated[uuid.UUID, path_id("shot_id")]
