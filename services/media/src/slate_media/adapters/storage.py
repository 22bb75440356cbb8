"""Object storage through the minio SDK (MinIO, or SeaweedFS's S3 in the embedded stack).

The SDK is synchronous: every call runs in a thread. Objects are written whole or not
at all (a single PUT, or a multipart upload the SDK aborts on error), so a failed
upload never leaves a half-written object behind.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import urllib3
from minio import Minio
from minio.error import S3Error

from ..config import MediaSettings

BUCKET_KINDS = ("previews", "movies", "files", "thumbnails", "attachments")
PART_SIZE = 16 * 1024 * 1024
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    last_modified: Any  # datetime (UTC)
    content_type: str | None


class Storage:
    def __init__(self, settings: MediaSettings) -> None:
        shared = settings.shared
        self.settings = settings
        self.client = Minio(
            shared.s3_endpoint,
            access_key=shared.s3_access_key,
            secret_key=shared.s3_secret_key,
            secure=shared.s3_secure,
            http_client=urllib3.PoolManager(
                maxsize=16,
                timeout=urllib3.Timeout(connect=5.0, read=120.0),
                retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
            ),
        )
        self._buckets_ready = False

    def bucket(self, kind: str) -> str:
        return self.settings.bucket(kind)

    # -- setup ------------------------------------------------------------------------
    def _ensure_buckets(self) -> None:
        for kind in BUCKET_KINDS:
            name = self.bucket(kind)
            if not self.client.bucket_exists(name):
                try:
                    self.client.make_bucket(name)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
        self._buckets_ready = True

    async def ensure_buckets(self) -> None:
        if not self._buckets_ready:
            await asyncio.to_thread(self._ensure_buckets)

    # -- writes -----------------------------------------------------------------------
    async def put_file(self, kind: str, key: str, fileobj: IO[bytes], size: int, content_type: str) -> None:
        await self.ensure_buckets()
        await asyncio.to_thread(
            # minio types its stream BinaryIO and only reads it: any IO[bytes] does
            self.client.put_object, self.bucket(kind), key, cast(BinaryIO, fileobj), size,
            content_type=content_type, part_size=PART_SIZE,
        )

    async def put_path(self, kind: str, key: str, path: Path, content_type: str) -> None:
        await self.ensure_buckets()
        await asyncio.to_thread(
            self.client.fput_object, self.bucket(kind), key, str(path),
            content_type=content_type, part_size=PART_SIZE,
        )

    async def put_bytes(self, kind: str, key: str, data: bytes, content_type: str) -> None:
        await self.put_file(kind, key, io.BytesIO(data), len(data), content_type)

    def put_path_sync(self, kind: str, key: str, path: Path, content_type: str) -> None:
        if not self._buckets_ready:
            self._ensure_buckets()
        self.client.fput_object(self.bucket(kind), key, str(path), content_type=content_type, part_size=PART_SIZE)

    def fetch_to_path_sync(self, kind: str, key: str, path: Path) -> None:
        """The object into ``path`` with one GET (the SDK's fget_object asks for the
        object's stat first: one more request, for a scratch file we own anyway)."""
        resp = self.client.get_object(self.bucket(kind), key)
        try:
            with path.open("wb") as out:
                for chunk in resp.stream(CHUNK):
                    out.write(chunk)
        finally:
            resp.close()
            resp.release_conn()

    async def fetch_to_path(self, kind: str, key: str, path: Path) -> None:
        await asyncio.to_thread(self.fetch_to_path_sync, kind, key, path)

    async def remove(self, kind: str, *keys: str) -> None:
        def _remove() -> None:
            for key in keys:
                try:
                    self.client.remove_object(self.bucket(kind), key)
                except S3Error as exc:
                    if exc.code not in ("NoSuchKey", "NoSuchBucket"):
                        raise

        await asyncio.to_thread(_remove)

    # -- reads ------------------------------------------------------------------------
    async def stat(self, kind: str, key: str) -> ObjectInfo | None:
        def _stat() -> ObjectInfo | None:
            try:
                st = self.client.stat_object(self.bucket(kind), key)
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchBucket", "NoSuchObject"):
                    return None
                raise
            return ObjectInfo(int(st.size or 0), str(st.etag or ""), st.last_modified, st.content_type)

        return await asyncio.to_thread(_stat)

    async def read_bytes(self, kind: str, key: str) -> bytes:
        def _read() -> bytes:
            resp = self.client.get_object(self.bucket(kind), key)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()

        return await asyncio.to_thread(_read)

    async def iter_range(self, kind: str, key: str, offset: int, length: int) -> AsyncIterator[bytes]:
        """Yield ``length`` bytes from ``offset``, a chunk at a time (bounded memory)."""
        if length <= 0:
            return
        resp = await asyncio.to_thread(self.client.get_object, self.bucket(kind), key, offset, length)
        try:
            while True:
                chunk = await asyncio.to_thread(resp.read, CHUNK)
                if not chunk:
                    break
                yield chunk
        finally:
            resp.close()
            resp.release_conn()
