"""From upload to ready: store the original, queue the job, and what the job does.

The upload is checked (extension, empty file, picture readable), stored under its
final key, and only then is the preview marked ``processing`` with a job queued
(same transaction). A worker downloads the source, runs ffmpeg and Pillow in a
scratch directory, stores the derivatives, and marks the preview ``ready``, or
``broken`` with the reason when the file itself is at fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from slate_common.db import transaction
from slate_common.errors import BadRequest
from slate_common.logging import get_logger
from slate_common.tokens import Principal

from ..adapters import processing
from ..adapters.downloads import mime_of
from ..adapters.jobs import enqueue_preview_job
from ..adapters.storage import Storage
from ..adapters.uploads import Upload
from ..config import MediaSettings
from ..models import PreviewFile, ProjectReplica, TaskReplica
from . import access
from . import previews as preview_rules

log = get_logger(__name__)


# -- where things are stored ------------------------------------------------------------


def source_key(preview_id: uuid.UUID, *, extension: str) -> tuple[str, str]:
    kind = processing.kind_of(extension)
    if kind == "movie":
        return "movies", f"source/{preview_id}.{extension}"
    if kind == "picture":
        return "previews", f"uploads/{preview_id}.{extension}"
    return "files", f"originals/{preview_id}.{extension}"


def derivative_key(preview_id: uuid.UUID, *, name: str) -> tuple[str, str]:
    return {
        "original": ("previews", f"originals/{preview_id}.png"),
        "preview": ("previews", f"previews/{preview_id}.png"),
        "thumbnail": ("previews", f"thumbnails/{preview_id}.png"),
        "square": ("previews", f"thumbnails-square/{preview_id}.png"),
        "hd": ("movies", f"originals/{preview_id}.mp4"),
        "ld": ("movies", f"low/{preview_id}.mp4"),
        "tiles": ("movies", f"tiles/{preview_id}.png"),
    }[name]


# -- upload -------------------------------------------------------------------------------


def check_upload(upload: Upload) -> str:
    """The kind of an acceptable upload ("picture", "movie", "file"), else a clear 400."""
    ext = upload.extension
    kind = processing.kind_of(ext)
    if not ext:
        raise BadRequest("The file has no extension: its type cannot be told.")
    if kind is None:
        raise BadRequest(f"Files with the extension .{ext} are not accepted as previews.")
    if upload.size == 0:
        raise BadRequest("The uploaded file is empty.")
    return kind


async def check_upload_access(
    sessionmaker: async_sessionmaker[AsyncSession], *, principal: Principal, preview_id: uuid.UUID,
    task_id: uuid.UUID | None = None,
) -> None:
    """Checked before the body is read (and again after), in a short transaction."""
    async with transaction(sessionmaker) as session:
        if task_id is not None:  # through a task's address: its visibility first (Zou: 403)
            await access.task_visible(session, principal=principal, task_id=task_id)
        preview = await preview_rules.get_preview_to_upload(session, principal=principal, preview_id=preview_id)
        if task_id is not None and preview.task_id != task_id:
            raise BadRequest("This preview is not a preview of this task.")
        await preview_rules.check_upload_allowed(session, principal=principal, preview=preview)


async def accept_upload(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    storage: Storage,
    principal: Principal,
    preview_id: uuid.UUID,
    upload: Upload,
    comment_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    jobs_subject: str = "slate.jobs.media",
    max_picture_pixels: int = processing.MAX_PICTURE_PIXELS,
) -> dict[str, Any]:
    clock = time.perf_counter()
    kind = check_upload(upload)
    # the access is checked again now the body is in (side by side with reading the picture)
    outcomes = await asyncio.gather(
        check_upload_access(sessionmaker, principal=principal, preview_id=preview_id, task_id=task_id),
        *([asyncio.to_thread(processing.check_picture, Path(upload.path), max_pixels=max_picture_pixels)]
          if kind == "picture" else []),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    checked = time.perf_counter()
    bucket, key = source_key(preview_id, extension=upload.extension)
    await storage.put_file(bucket, key, upload.file, upload.size, upload.content_type or mime_of(upload.extension))
    stored = time.perf_counter()
    log.info("preview_upload_stored", preview_file_id=str(preview_id), size=upload.size,
             ms={"check": round((checked - clock) * 1000, 1), "store": round((stored - checked) * 1000, 1)})
    async with transaction(sessionmaker) as session:
        preview = await preview_rules.get_preview(session, principal=principal, preview_id=preview_id, for_update=True)
        preview.original_name = upload.stem[:250]
        preview.source_extension = upload.extension
        preview.file_size = upload.size
        preview.extension = {"movie": "mp4", "picture": "png"}.get(kind, upload.extension)
        preview.is_movie = kind == "movie"
        preview.status_reason = None
        preview.attempts = 0
        preview.upload_token = uuid.uuid4()
        if comment_id is not None:
            await preview_rules.link_to_comment(session, preview=preview, comment_id=comment_id)
        if kind == "file":
            preview.status = "ready"
            await preview_rules.emit_preview(session, name="add-file", preview=preview, actor_id=principal.id)
        else:
            preview.status = "processing"
            enqueue_preview_job(session, preview.id, preview.upload_token, subject_prefix=jobs_subject,
                                source_extension=upload.extension)
        await preview_rules.emit_preview(session, name="update", preview=preview, actor_id=principal.id)
        return preview_rules.serialize(preview)


# -- the job ------------------------------------------------------------------------------

#: Where a movie's two renditions are served from (``/movies/<prefix>/preview-files/...``).
MOVIE_PREFIXES = ("originals", "low")


def movie_data(info: processing.Probe, *, source_size: int) -> dict[str, Any]:
    """A movie preview's ``data`` once transcoded, in Zou's shape: the renditions, and the
    uploaded source's size and duration before normalisation."""
    return {"movie_prefixes": list(MOVIE_PREFIXES), "original_width": info.width, "original_height": info.height,
            "original_duration": float(info.duration), "original_file_size": source_size}



@dataclass(frozen=True)
class JobPlan:
    preview_id: uuid.UUID
    upload_token: uuid.UUID | None
    source_extension: str
    kind: str
    fps: float
    resolution: tuple[int, int]
    hd_bitrate: int | None
    ld_bitrate: int | None


def _project_settings(project: ProjectReplica | None) -> dict[str, Any]:
    snap = project.snapshot if project is not None else {}
    return {
        "fps": processing.parse_fps(snap.get("fps")),
        "resolution": processing.parse_resolution(snap.get("resolution")),
        "hd_bitrate": snap.get("hd_bitrate_compression") or None,
        "ld_bitrate": snap.get("ld_bitrate_compression") or None,
    }


async def _start(
    session: AsyncSession, settings: MediaSettings, preview_id: uuid.UUID, upload_token: uuid.UUID | None
) -> JobPlan | None:
    """Count this start, or give up on a job that keeps failing; None: nothing to do
    (the preview is gone, done, or was uploaded again since this job was queued)."""
    row = (await session.execute(  # the preview (locked) and its project's settings in one round trip
        select(PreviewFile, ProjectReplica)
        .outerjoin(TaskReplica, TaskReplica.id == PreviewFile.task_id)
        .outerjoin(ProjectReplica, ProjectReplica.id == TaskReplica.project_id)
        .where(PreviewFile.id == preview_id)
        .with_for_update(of=PreviewFile)
    )).first()
    if row is None:
        return None
    preview, project = row
    if preview.status != "processing" or not preview.source_extension:
        return None
    if upload_token is not None and preview.upload_token != upload_token:
        return None
    preview.attempts += 1
    if preview.attempts > settings.job_max_attempts:
        preview.status = "broken"
        preview.status_reason = (
            f"Processing was started {settings.job_max_attempts} times without finishing; giving up."
        )
        await preview_rules.emit_preview(session, name="update", preview=preview)
        return None
    kind = processing.kind_of(preview.source_extension) or "file"
    return JobPlan(preview_id, preview.upload_token, preview.source_extension, kind, **_project_settings(project))


def run_job_sync(
    plan: JobPlan, *, storage: Storage, settings: MediaSettings, work: Path, timings: dict[str, float] | None = None,
    src: Path | None = None,
) -> dict[str, Any]:
    """Download (unless ``src`` is already here), transcode, derive, store; returns the
    facts to record. Synchronous. Each derivative is stored as soon as it is written,
    side by side with the rest of the work, and all are stored before this returns."""
    timings = timings if timings is not None else {}
    clock = time.perf_counter()
    if src is None:
        bucket, key = source_key(plan.preview_id, extension=plan.source_extension)
        src = work / f"source.{plan.source_extension}"
        storage.fetch_to_path_sync(bucket, key, src)
    timings["download"] = time.perf_counter() - clock
    result: dict[str, Any] = {}

    def put(name: str, path: Path) -> None:
        bucket, key = derivative_key(plan.preview_id, name=name)
        storage.put_path_sync(bucket, key, path, "video/mp4" if path.suffix == ".mp4" else "image/png")

    with ThreadPoolExecutor(max_workers=4) as pool:
        puts: list[Future[None]] = []

        def store(name: str, path: Path) -> None:
            puts.append(pool.submit(put, name, path))

        if plan.kind == "picture":
            out = processing.picture_derivatives(src, work, on_saved=store, max_pixels=settings.max_picture_pixels)
            width, height = out["size"]  # type: ignore[misc]
            result.update(width=width, height=height, duration=0.0)
        else:
            ffmpeg_bin = processing.ffmpeg_binary(settings.ffmpeg)
            memory = settings.ffmpeg_memory_bytes or None
            info = processing.probe(ffmpeg_bin, src, memory_bytes=memory)
            processing.check_movie(info, max_pixels=settings.max_movie_pixels, max_seconds=settings.max_movie_seconds)
            outputs = processing.movie_outputs(work)
            argv = processing.normalize_command(
                ffmpeg_bin, src, outputs, info, fps=plan.fps, resolution=plan.resolution,
                hd_preset=settings.hd_preset, hd_crf=settings.hd_crf, ld_preset=settings.ld_preset,
                ld_crf=settings.ld_crf, ld_height=settings.ld_height, hd_bitrate_mbps=plan.hd_bitrate,
                ld_bitrate_mbps=plan.ld_bitrate, threads=settings.ffmpeg_thread_count(),
            )
            timeout = min(settings.ffmpeg_timeout_seconds, max(600.0, info.duration * 30))
            processing.run_ffmpeg(argv, timeout=timeout, memory_bytes=memory)
            normalized = processing.probe(ffmpeg_bin, outputs.hd, memory_bytes=memory)
            for name, path in (("hd", outputs.hd), ("ld", outputs.ld), ("tiles", outputs.tiles)):
                store(name, path)
            processing.picture_derivatives(outputs.frame, work, on_saved=store, max_pixels=settings.max_picture_pixels)
            result.update(width=normalized.width, height=normalized.height, duration=round(info.duration, 3),
                          data=movie_data(info, source_size=src.stat().st_size))
        timings["process"] = time.perf_counter() - clock - timings["download"]
        for future in puts:
            future.result()
    timings["store"] = time.perf_counter() - clock - timings["download"] - timings["process"]
    return result


async def _settle(task: asyncio.Task[None] | None) -> None:
    """Let an early download finish (its file is in the scratch directory) before leaving."""
    if task is not None:
        with contextlib.suppress(Exception):
            await task


def job_source(data: dict[str, Any]) -> str | None:
    """The source's extension when the job carries it (so the download need not wait for the row)."""
    ext = data.get("source_extension")
    return ext if isinstance(ext, str) and processing.kind_of(ext) in ("picture", "movie") else None


async def process_preview(
    sessionmaker: async_sessionmaker[AsyncSession], *, storage: Storage, settings: MediaSettings, preview_id: uuid.UUID,
    upload_token: uuid.UUID | None = None, source_extension: str | None = None,
) -> str:
    """Run one preview job; returns the outcome ("ready", "broken", "skipped").
    Errors other than a bad file propagate, and the job is retried. When the job names
    the source's extension, the source is downloaded while the start is recorded."""
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="slate-job-", dir=settings.scratch_dir) as tmp:
        work = Path(tmp)
        early: asyncio.Task[None] | None = None
        src: Path | None = None
        if source_extension:
            src = work / f"source.{source_extension}"
            bucket, key = source_key(preview_id, extension=source_extension)
            early = asyncio.create_task(asyncio.to_thread(storage.fetch_to_path_sync, bucket, key, src))
        try:
            async with transaction(sessionmaker) as session:
                plan = await _start(session, settings, preview_id, upload_token)
        except BaseException:
            await _settle(early)
            raise
        if plan is None:
            await _settle(early)
            return "skipped"
        if early is not None:
            if plan.source_extension == source_extension:
                await early  # a failed download is retried like any storage error
            else:
                await _settle(early)
                src = None
        timings = {"start": time.perf_counter() - clock}
        log.info("preview_job_started", preview_file_id=str(preview_id), kind=plan.kind)
        try:
            result = await asyncio.to_thread(run_job_sync, plan, storage=storage, settings=settings, work=work,
                                            timings=timings, src=src)
        except processing.MediaError as exc:
            return await _finish(sessionmaker, plan, status="broken", reason=str(exc))
    return await _finish(sessionmaker, plan, status="ready", facts=result, timings=timings, clock=clock)


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession], plan: JobPlan, *, status: str,
    reason: str | None = None, facts: dict[str, Any] | None = None, timings: dict[str, float] | None = None,
    clock: float | None = None,
) -> str:
    preview_id = plan.preview_id
    async with transaction(sessionmaker) as session:
        preview = await session.get(PreviewFile, preview_id, with_for_update=True)
        if preview is None or preview.status != "processing" or preview.upload_token != plan.upload_token:
            return "skipped"
        preview.status = status
        preview.status_reason = reason
        for key, value in (facts or {}).items():
            setattr(preview, key, value)
        await preview_rules.emit_previews(session, names=("add-file", "update") if status == "ready" else ("update",),
                                          preview=preview)
    timings = dict(timings or {})
    if clock is not None:
        timings["total"] = time.perf_counter() - clock
    log.info("preview_job_done", preview_file_id=str(preview_id), status=status, reason=reason,
             ms={k: round(v * 1000, 1) for k, v in timings.items()})
    return status
