"""The /data models media owns: one line each."""

from typing import Any

from slate_common.crud import CrudSpec

from .hooks import AttachmentFileHooks, PreviewBackgroundHooks, PreviewFileHooks
from .models import AttachmentFile, PreviewBackgroundFile, PreviewFile

SPECS: list[CrudSpec[Any]] = [
    CrudSpec(PreviewFile, "preview-files", hooks=PreviewFileHooks(), event_name="preview-file"),
    CrudSpec(AttachmentFile, "attachment-files", hooks=AttachmentFileHooks(), event_name="attachment-file"),
    CrudSpec(
        PreviewBackgroundFile, "preview-background-files", hooks=PreviewBackgroundHooks(),
        event_name="preview-background-file",
    ),
]
