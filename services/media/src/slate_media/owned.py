"""What media owns and production replicates: preview and attachment files, answered
with the snapshots their events carry (``slate_common.replica``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.replica import Owned

from .domain.previews import snapshot as preview_snapshot
from .models import AttachmentFile, PreviewFile


async def _preview(session: AsyncSession, preview: PreviewFile) -> dict[str, Any]:
    return await preview_snapshot(session, preview=preview)


async def _attachment(session: AsyncSession, attachment: AttachmentFile) -> dict[str, Any]:
    return attachment.serialize()  # type: ignore[no-any-return]


OWNED: dict[str, Owned] = {
    "preview-file": Owned(PreviewFile, _preview),
    "attachment-file": Owned(AttachmentFile, _attachment),
}
