"""Frames of a preview: one frame of a movie (ffmpeg, reading the stored normalised
movie through a presigned URL), and frames with Kitsu's drawings on them.

An annotation belongs to the frame at its ``time`` (frame index = round(time x project
fps); Zou's ``frame_number`` is that index + 1). A movie's annotated frame is taken
from the normalised movie, a picture's from its mid-size preview (the picture Kitsu
draws on), and the drawings are rendered by ``slate_media.annotations``.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.tokens import Principal

from .. import annotations as drawings
from ..adapters import processing
from ..adapters.storage import Storage
from ..config import MediaSettings
from ..models import PreviewFile, ProjectReplica, TaskReplica
from . import pipeline

PICTURE_EXTENSIONS = processing.PICTURE_EXTENSIONS


async def project_fps(session: AsyncSession, *, preview: PreviewFile) -> float:
    task = await session.get(TaskReplica, preview.task_id) if preview.task_id else None
    project = await session.get(ProjectReplica, task.project_id) if task and task.project_id else None
    return processing.parse_fps((project.snapshot if project else {}).get("fps"))


def frame_seconds(index: int, *, fps: float, duration: float) -> float:
    """Where to seek for the 0-based frame ``index``: half a frame early, so that rounding
    of timestamps never skips to the next frame; never past the last frame."""
    return max(0.0, min((index - 0.5) / fps, max(duration - 1 / fps, 0.0)))


async def extract_frame(storage: Storage, *, settings: MediaSettings, preview_id: uuid.UUID, seconds: float,
                        dest: Path) -> None:
    """Write the frame of the stored normalised movie at ``seconds`` to ``dest`` (PNG)."""
    bucket, key = pipeline.derivative_key(preview_id, name="hd")
    url = await asyncio.to_thread(storage.client.presigned_get_object, storage.bucket(bucket), key)
    argv = processing.extract_frame_command(processing.ffmpeg_binary(settings.ffmpeg), url, dest, seconds)
    try:
        await asyncio.to_thread(processing.run_ffmpeg, argv, timeout=120)
    except processing.MediaError as exc:
        raise BadRequest(f"The frame could not be extracted: {exc}") from exc
    if not dest.exists():  # noqa: ASYNC240 -- one stat of a local scratch file
        raise NotFound()


# -- annotated frames -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnotatedFrame:
    number: int  # 1-based, as Zou's frame_number
    image: Image.Image


async def annotated_preview(session: AsyncSession, *, principal: Principal, preview_id: uuid.UUID) -> PreviewFile:
    """The preview, for a caller allowed to export its drawings: an admin, or a manager
    in the preview's production (as Zou: others get 403, a missing preview 404)."""
    preview = await session.get(PreviewFile, preview_id)
    if preview is None:
        raise NotFound()
    if principal.is_admin:
        return preview
    task = await session.get(TaskReplica, preview.task_id) if preview.task_id else None
    project = await session.get(ProjectReplica, task.project_id) if task and task.project_id else None
    if principal.role != "manager" or project is None or principal.id not in (project.team or []):
        raise Forbidden()
    return preview


def _kind(preview: PreviewFile, what: str) -> str:
    ext = (preview.extension or "").lower()
    if preview.is_movie or ext == "mp4":
        return "movie"
    if ext in PICTURE_EXTENSIONS:
        return "picture"
    raise BadRequest(f"Cannot extract {what} from preview with extension '{preview.extension}'")


async def _require_source(storage: Storage, preview: PreviewFile, kind: str) -> None:
    bucket, key = pipeline.derivative_key(preview.id, name="hd" if kind == "movie" else "preview")
    if preview.status != "ready" or await storage.stat(bucket, key) is None:
        raise NotFound(f"404 Not Found: No stored {kind} for preview file {preview.id}.")


async def _picture(storage: Storage, preview: PreviewFile) -> Image.Image:
    data = await storage.read_bytes(*pipeline.derivative_key(preview.id, name="preview"))
    return await asyncio.to_thread(lambda: Image.open(io.BytesIO(data)).convert("RGB"))


async def _render_movie_frames(
    storage: Storage, settings: MediaSettings, preview: PreviewFile, fps: float, wanted: list[dict[str, Any]]
) -> list[AnnotatedFrame]:
    out = []
    with tempfile.TemporaryDirectory(prefix="slate-annotated-", dir=settings.scratch_dir) as tmp:
        for i, annotation in enumerate(wanted):
            index = drawings.frame_index(annotation, fps)
            dest = Path(tmp) / f"frame-{i}.png"
            seconds = frame_seconds(index, fps=fps, duration=preview.duration or 0.0)
            await extract_frame(storage, settings=settings, preview_id=preview.id, seconds=seconds, dest=dest)
            image = await asyncio.to_thread(_load_and_render, dest, drawings.objects_of(annotation))
            out.append(AnnotatedFrame(index + 1, image))
    return out


def _load_and_render(path: Path, objects: list[dict[str, Any]]) -> Image.Image:
    with Image.open(path) as frame:
        return drawings.render(frame, objects)


async def annotated_frame(
    session: AsyncSession, *,
    storage: Storage, settings: MediaSettings, principal: Principal, preview_id: uuid.UUID, frame_number: int | None,
) -> AnnotatedFrame:
    """One frame with its drawings: a movie's ``frame_number`` (1-based), a picture itself."""
    preview = await annotated_preview(session, principal=principal, preview_id=preview_id)
    kind = _kind(preview, "annotated frame")
    annotations = drawings.drawn(preview.annotations)
    if kind == "picture":
        if not annotations:
            raise BadRequest("No annotation found on picture preview")
        await _require_source(storage, preview, kind)
        image = await _picture(storage, preview)
        rendered = await asyncio.to_thread(drawings.render, image, drawings.objects_of(annotations[0]))
        return AnnotatedFrame(1, rendered)
    if frame_number is None:
        raise BadRequest("frame_number is required for movie previews")
    fps = await project_fps(session, preview=preview)
    wanted = [a for a in annotations if drawings.frame_index(a, fps) + 1 == frame_number]
    if not wanted:
        raise BadRequest(f"No annotation found for frame {frame_number}")
    await _require_source(storage, preview, kind)
    objects = [o for a in wanted for o in drawings.objects_of(a)]
    return (await _render_movie_frames(storage, settings, preview, fps, [{**wanted[0], "drawing": {"objects": objects}}]))[0]


async def annotated_frames(
    session: AsyncSession, *, storage: Storage, settings: MediaSettings, principal: Principal, preview_id: uuid.UUID,
) -> tuple[PreviewFile, list[AnnotatedFrame]]:
    """Every annotated frame of a preview, in frame order (one per annotation)."""
    preview = await annotated_preview(session, principal=principal, preview_id=preview_id)
    annotations = drawings.drawn(preview.annotations)
    if not annotations:
        raise BadRequest("Preview file has no annotations")
    kind = _kind(preview, "annotated frames")
    await _require_source(storage, preview, kind)
    if kind == "picture":
        image = await _picture(storage, preview)
        frames = [
            AnnotatedFrame(i + 1, await asyncio.to_thread(drawings.render, image, drawings.objects_of(a)))
            for i, a in enumerate(annotations)
        ]
        return preview, frames
    fps = await project_fps(session, preview=preview)
    ordered = sorted(annotations, key=lambda a: drawings.frame_index(a, fps))
    return preview, await _render_movie_frames(storage, settings, preview, fps, ordered)


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def zip_bytes(entries: list[tuple[str, Image.Image]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, image in entries:
            archive.writestr(name, png_bytes(image))
    return buf.getvalue()


def pdf_bytes(images: list[Image.Image]) -> bytes:
    """One page per picture, at 150 dpi (Pillow's PDF writer: JPEG-compressed pages)."""
    buf = io.BytesIO()
    first, *rest = images
    first.save(buf, "PDF", save_all=True, append_images=rest, resolution=150.0)
    return buf.getvalue()
