from slate_common.events.models import InboxEvent, OutboxEvent

from .base import Base
from .preview import (
    AttachmentFile,
    PreviewBackgroundFile,
    PreviewFile,
    preview_file_comment,
    project_preview_background,
)
from .replica import CommentReplica, EntityReplica, ProjectReplica, TaskReplica

__all__ = [
    "AttachmentFile",
    "Base",
    "CommentReplica",
    "EntityReplica",
    "InboxEvent",
    "OutboxEvent",
    "PreviewBackgroundFile",
    "PreviewFile",
    "ProjectReplica",
    "TaskReplica",
    "preview_file_comment",
    "project_preview_background",
]
