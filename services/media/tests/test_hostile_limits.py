"""The limits that keep a hostile upload from taking the service's memory or time: a
picture's size read from its header before decoding, a movie's frame and length read by
the probe before transcoding, ffmpeg's memory and time, a body that stops arriving."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import uuid
import zlib
from typing import Any

import pytest
from PIL import Image

from slate_common.testing.tokens import TestSigner

from .test_bad_input import new_preview, send, stored_keys  # noqa: TID252

ADMIN = uuid.uuid4()


@pytest.fixture(scope="module")
async def s(world, signer: TestSigner) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    project = await world.project([ADMIN])
    task = await world.task(project, await world.entity(project))
    comment = await world.comment(task, ADMIN)
    return {"task": task, "comment": comment, "h": signer.headers(ADMIN, "admin")}


@pytest.fixture
def settings(media_app):  # type: ignore[no-untyped-def]
    return media_app.state.runtime.settings


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring ``width`` x ``height``, with a few bytes of pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b""))


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


async def test_a_picture_declaring_60000_pixels_square_is_refused_unread(client, s, media_app) -> None:  # type: ignore[no-untyped-def]
    preview = await new_preview(client, s)
    started = time.monotonic()
    r = await send(client, s, preview["id"], "huge.png", png_declaring(60_000, 60_000))
    assert r.status_code == 400
    assert r.json() == {"error": True, "message": "The picture is too large: the limit is 89478485 pixels."}
    assert time.monotonic() - started < 5  # refused from the header, nothing decoded
    assert await stored_keys(media_app, preview["id"]) == []


async def test_a_picture_over_the_configured_limit_is_refused(client, s, media_app, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(settings, "max_picture_pixels", 64 * 64)
    preview = await new_preview(client, s)
    r = await send(client, s, preview["id"], "big.png", png((65, 64)))
    assert r.status_code == 400 and r.json()["message"] == "The picture is too large: the limit is 4096 pixels."
    assert await stored_keys(media_app, preview["id"]) == []
    # an avatar too: decoded in the API process, so refused from the header as well
    r = await client.post(f"/pictures/thumbnails/persons/{ADMIN}", headers=s["h"],
                          files={"file": ("me.png", png((65, 64)), "image/png")})
    assert r.status_code == 400 and r.json()["message"] == "The picture is too large: the limit is 4096 pixels."
    r = await client.post(f"/pictures/thumbnails/persons/{ADMIN}", headers=s["h"],
                          files={"file": ("me.png", png((64, 64)), "image/png")})
    assert r.status_code == 201


@pytest.mark.slow  # a real transcode, or a wait for the timeout
async def test_a_movie_over_the_frame_limit_is_broken_before_transcoding(  # type: ignore[no-untyped-def]
    client, s, media_files, wait_status, settings, monkeypatch,
) -> None:
    monkeypatch.setattr(settings, "max_movie_pixels", 320 * 180)
    preview = await new_preview(client, s)
    r = await send(client, s, preview["id"], "clip.mov", media_files["movie"].read_bytes())
    assert r.status_code == 201
    done = await wait_status(preview["id"], s["h"])
    assert done["status"] == "broken"
    assert done["status_reason"] == "The movie's frames are too large: 640 x 360 pixels, the limit is 57600 pixels."


@pytest.mark.slow  # a real transcode, or a wait for the timeout
async def test_ffmpeg_beyond_its_memory_is_stopped_and_the_preview_broken(  # type: ignore[no-untyped-def]
    client, s, media_files, wait_status, settings, monkeypatch,
) -> None:
    monkeypatch.setattr(settings, "ffmpeg_memory_bytes", 64 * 1024 * 1024)  # x264 cannot even start in that
    preview = await new_preview(client, s)
    assert (await send(client, s, preview["id"], "clip.mov", media_files["movie"].read_bytes())).status_code == 201
    done = await wait_status(preview["id"], s["h"])
    assert done["status"] == "broken"
    assert done["status_reason"].startswith(("Movie normalisation failed: ", "Uploaded file is not a readable movie: "))


@pytest.mark.slow  # a real transcode, or a wait for the timeout
async def test_ffmpeg_beyond_its_time_is_stopped_and_the_preview_broken(  # type: ignore[no-untyped-def]
    client, s, media_files, wait_status, settings, monkeypatch,
) -> None:
    monkeypatch.setattr(settings, "ffmpeg_timeout_seconds", 0.05)
    preview = await new_preview(client, s)
    assert (await send(client, s, preview["id"], "clip.mov", media_files["movie"].read_bytes())).status_code == 201
    done = await wait_status(preview["id"], s["h"])
    assert (done["status"], done["status_reason"]) == ("broken", "Movie processing took longer than 0.05 seconds; stopped.")


@pytest.mark.slow  # a real transcode, or a wait for the timeout
async def test_an_upload_that_stops_arriving_is_dropped(client, s, media_app, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(settings, "upload_idle_seconds", 1.0)
    preview = await new_preview(client, s)
    boundary = "slatestall"
    stalled = asyncio.Event()

    async def body():  # type: ignore[no-untyped-def]
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.png\"\r\n"
               "Content-Type: image/png\r\n\r\n").encode() + png((64, 64))[:40]
        stalled.set()
        await asyncio.sleep(30)  # never finishes
        yield b"never sent"

    started = time.monotonic()
    r = await client.post(f"/pictures/preview-files/{preview['id']}", content=body(),
                          headers={**s["h"], "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert stalled.is_set()
    assert r.status_code == 408
    assert r.json() == {"error": True, "message": "The upload stopped arriving before it was complete; it was dropped."}
    assert time.monotonic() - started < 10
    assert await stored_keys(media_app, preview["id"]) == []
    after = (await client.get(f"/data/preview-files/{preview['id']}", headers=s["h"])).json()
    assert after["file_size"] == 0 and after["original_name"] is None
    # the preview still takes its file
    assert (await send(client, s, preview["id"], "still.png", png((64, 36)))).status_code == 201
