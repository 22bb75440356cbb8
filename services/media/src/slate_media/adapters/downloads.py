"""Serving stored objects: Content-Type, Content-Length, HTTP Range (206/416), ETag and
Zou's cache headers, streamed from storage a chunk at a time."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import format_datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from slate_common.errors import NotFound, error_response

from .storage import Storage

CACHE_SECONDS = 7 * 24 * 3600
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")

MIME = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "mp4": "video/mp4",
    "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska", "avi": "video/x-msvideo",
    "pdf": "application/pdf", "glb": "model/gltf-binary", "gltf": "model/gltf+json", "svg": "image/svg+xml",
    "zip": "application/zip", "hdr": "image/vnd.radiance", "exr": "image/x-exr", "txt": "text/plain",
    "json": "application/json", "webp": "image/webp", "tif": "image/tiff", "tiff": "image/tiff",
}


def mime_of(extension: str | None) -> str:
    return MIME.get((extension or "").lower(), "application/octet-stream")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single byte range; None when it cannot be satisfied.
    Raises ValueError for a header that is not a single bytes range (then ignored)."""
    m = _RANGE.match(header)
    if not m or (not m.group(1) and not m.group(2)):
        raise ValueError(header)
    first, last = m.group(1), m.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if start >= size or (last and int(last) < start):
            return None
    else:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return None
        start, end = max(size - suffix, 0), size - 1
    return start, end


async def object_response(
    request: Request,
    storage: Storage,
    kind: str,
    key: str,
    *,
    media_type: str,
    download_name: str | None = None,
) -> Response:
    info = await storage.stat(kind, key)
    if info is None:
        raise NotFound()
    modified = info.last_modified or dt.datetime.now(dt.timezone.utc)
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=dt.timezone.utc)
    etag = f'"{info.etag}"'
    disposition = (
        f"attachment; filename*=UTF-8''{quote(download_name)}" if download_name else "inline"
    )
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": f"max-age={CACHE_SECONDS}, private",
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Expires": format_datetime(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=CACHE_SECONDS), usegmt=True),
        "ETag": etag,
        "Content-Disposition": disposition,
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    size = info.size
    start, end, status = 0, size - 1, 200
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and (not if_range or if_range == etag):
        try:
            span = parse_range(range_header, size)
        except ValueError:
            span = (0, size - 1)
            range_header = None  # not a single bytes range: answer the whole object
        if span is None:
            refused = error_response(416, "Requested range not satisfiable")
            refused.headers["Content-Range"] = f"bytes */{size}"
            refused.headers["Accept-Ranges"] = "bytes"
            return refused
        if range_header:
            start, end = span
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = max(end - start + 1, 0)
    headers["Content-Length"] = str(length)
    return StreamingResponse(
        storage.iter_range(kind, key, start, length), status_code=status, media_type=media_type, headers=headers
    )
