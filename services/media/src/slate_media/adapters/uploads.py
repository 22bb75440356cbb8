"""Uploads streamed from the request body to a scratch file, never whole in memory.

The multipart body is parsed as it arrives (python-multipart); the bytes of the file
part go to a temporary file that is deleted when the upload is closed. The size limit
is enforced on the declared Content-Length first and then on the bytes actually read,
so an oversized upload is refused as soon as it passes the limit (413). A body that stops
arriving (no byte for ``idle_timeout`` seconds, or still arriving after ``total_timeout``)
is refused with a 408 and its scratch file removed: nothing was stored, nothing queued.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

import python_multipart as multipart
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from slate_common.errors import BadRequest, PayloadTooLarge, SlateError

from ..config import MediaSettings

#: Bytes of multipart framing tolerated above the file size limit.
FRAMING_SLACK = 64 * 1024
WRITE_BATCH = 4 * 1024 * 1024


@dataclass
class Upload:
    filename: str
    file: IO[bytes]
    size: int
    content_type: str | None
    fields: dict[str, str] = field(default_factory=dict)
    field_name: str = ""

    @property
    def stem(self) -> str:
        return PurePosixPath(self.filename).stem

    @property
    def extension(self) -> str:
        return PurePosixPath(self.filename).suffix.lstrip(".").lower()

    @property
    def path(self) -> str:
        return self.file.name  # type: ignore[no-any-return]

    def close(self) -> None:
        self.file.close()


def check_filename(name: str) -> str:
    """A bare file name: no directory part, no '..', no control characters."""
    if not name or name in (".", ".."):
        raise BadRequest("The uploaded file has no name.")
    if "/" in name or "\\" in name or "\x00" in name or any(ord(c) < 32 for c in name):
        raise BadRequest("Invalid file name: it must not contain a path.")
    if name.startswith(".."):
        raise BadRequest("Invalid file name: it must not contain a path.")
    return name


class UploadTimeout(SlateError):
    status_code = 408


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The file is too large: the limit is {limit} bytes.")


async def _chunks(request: Request, idle_timeout: float | None, total_timeout: float | None) -> AsyncIterator[bytes]:
    """The body's chunks, each due within ``idle_timeout`` seconds and all within ``total_timeout``."""
    stream = request.stream().__aiter__()
    deadline = None if total_timeout is None else time.monotonic() + total_timeout
    while True:
        wait = idle_timeout
        if deadline is not None:
            left = deadline - time.monotonic()
            wait = left if wait is None else min(wait, left)
        try:
            async with asyncio.timeout(None if wait is None else max(wait, 0.0)):  # no task per chunk
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            raise UploadTimeout("The upload stopped arriving before it was complete; it was dropped.") from exc
        yield chunk


async def receive_uploads(
    request: Request, *, limit: int, scratch_dir: str | None = None, field_names: tuple[str, ...] | None = None,
    idle_timeout: float | None = 30.0, total_timeout: float | None = 3600.0,
) -> list[Upload]:
    """Every file part of a multipart body (optionally only ``field_names``), each in a
    scratch file; non-file fields are kept in each upload's ``fields``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FRAMING_SLACK:
        raise too_large(limit)
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise BadRequest("A multipart/form-data body with a file is expected.")

    uploads: list[Upload] = []
    fields: dict[str, str] = {}
    state: dict[str, Any] = {"name": b"", "value": b"", "headers": {}, "file": None, "field": None,
                             "data": bytearray(), "size": 0, "pending": [], "buffered": 0}

    def on_part_begin() -> None:
        state.update(headers={}, file=None, field=None, data=bytearray(), size=0)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["name"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["name"].lower()] = state["value"]
        state["name"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, opts = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        state["field"] = name
        if b"filename" in opts and (field_names is None or name in field_names):
            filename = opts[b"filename"].decode("utf-8", "replace")
            tmp = tempfile.NamedTemporaryFile(prefix="slate-upload-", dir=scratch_dir)  # noqa: SIM115
            ctype_part = state["headers"].get(b"content-type")
            upload = Upload(filename, tmp, 0, ctype_part.decode("latin-1") if ctype_part else None, fields, name)
            uploads.append(upload)
            state["file"] = upload

    def on_part_data(data: bytes, start: int, end: int) -> None:
        upload = state["file"]
        if upload is None:
            if len(state["data"]) + (end - start) > 1024 * 1024:
                raise BadRequest("A form field is too large.")
            state["data"] += data[start:end]
            return
        upload.size += end - start
        if upload.size > limit:
            raise too_large(limit)
        state["pending"].append((upload, bytes(data[start:end])))
        state["buffered"] += end - start

    def on_part_end() -> None:
        if state["file"] is None and state["field"]:
            fields[state["field"]] = state["data"].decode("utf-8", "replace")

    parser = multipart.MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
            "on_header_field": on_header_field, "on_header_value": on_header_value,
            "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
        },
    )

    def flush(batch: list[tuple[Upload, bytes]]) -> None:
        for upload, chunk in batch:
            upload.file.write(chunk)

    try:
        async for chunk in _chunks(request, idle_timeout, total_timeout):
            try:
                parser.write(chunk)
            except multipart.exceptions.MultipartParseError as exc:
                raise BadRequest("The multipart body is malformed.") from exc
            if state["buffered"] >= WRITE_BATCH:
                batch, state["pending"], state["buffered"] = state["pending"], [], 0
                await asyncio.to_thread(flush, batch)
        parser.finalize()
        if state["pending"]:
            await asyncio.to_thread(flush, state["pending"])
            state["pending"] = []
        for upload in uploads:
            upload.file.flush()
            upload.file.seek(0)
    except ClientDisconnect as exc:
        for upload in uploads:
            upload.close()
        raise BadRequest("The upload was interrupted.") from exc
    except BaseException:
        for upload in uploads:
            upload.close()
        raise
    return uploads


async def receive_upload(
    request: Request, *, limit: int, scratch_dir: str | None = None, field: str = "file",
    idle_timeout: float | None = 30.0, total_timeout: float | None = 3600.0,
) -> Upload:
    """The one file of an upload form (field ``file``, or the only file sent)."""
    uploads = await receive_uploads(request, limit=limit, scratch_dir=scratch_dir, idle_timeout=idle_timeout,
                                    total_timeout=total_timeout)
    named = sorted(uploads, key=lambda u: u.field_name != field)
    if not named:
        raise BadRequest("No file was uploaded (a multipart field named 'file' is expected).")
    chosen = named[0]
    for extra in named[1:]:
        extra.close()
    check_filename(chosen.filename)
    return chosen


def upload_limits(settings: MediaSettings) -> dict[str, Any]:
    """The keyword arguments of :func:`receive_upload` from media's settings."""
    return {"limit": settings.max_upload_bytes, "scratch_dir": settings.scratch_dir,
            "idle_timeout": settings.upload_idle_seconds or None, "total_timeout": settings.upload_max_seconds or None}
