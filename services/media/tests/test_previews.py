"""Previews end to end inside the media service: add on a comment, upload, the job
(ffmpeg and Pillow for real), downloads with Range, events."""

from __future__ import annotations

import io
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from slate_common.testing.tokens import TestSigner

pytestmark = pytest.mark.slow  # see pytest.ini

ADMIN = uuid.uuid4()


@pytest.fixture(scope="module")
async def setup(world, signer: TestSigner) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    artist, other = uuid.uuid4(), uuid.uuid4()
    project = await world.project([ADMIN, artist])
    entity = await world.entity(project)
    task = await world.task(project, entity, assignees=[artist])
    comment = await world.comment(task, artist)
    return {
        "project": project, "entity": entity, "task": task, "comment": comment, "artist": artist, "other": other,
        "admin_h": signer.headers(ADMIN, "admin"), "artist_h": signer.headers(artist, "user"),
        "other_h": signer.headers(other, "user"),
    }


async def add_preview(client, s: dict[str, Any], comment: dict[str, Any] | None = None, headers=None, **body: Any):  # type: ignore[no-untyped-def]
    comment = comment or s["comment"]
    return await client.post(
        f"/actions/tasks/{s['task']['id']}/comments/{comment['id']}/add-preview", json=body,
        headers=headers or s["admin_h"],
    )


async def upload(client, preview_id: str, path: Path | None, headers, *, name: str | None = None, data: bytes | None = None):  # type: ignore[no-untyped-def]
    content = data if data is not None else path.read_bytes()  # type: ignore[union-attr]
    return await client.post(f"/pictures/preview-files/{preview_id}", headers=headers,
                             files={"file": (name or path.name, content, "application/octet-stream")})  # type: ignore[union-attr]


def png_size(content: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(content)).size


async def test_add_preview_shapes_revisions_and_positions(client, setup, world, outbox) -> None:  # type: ignore[no-untyped-def]
    s = setup
    r = await add_preview(client, s)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["type"] == "PreviewFile"
    assert (first["revision"], first["position"], first["status"], first["extension"]) == (1, 1, "processing", "mp4")
    assert first["task_id"] == s["task"]["id"] and first["person_id"] == str(ADMIN)
    assert first["comments"] == [s["comment"]["id"]]
    for key in ("name", "original_name", "file_size", "validation_status", "annotations", "width", "height",
                "duration", "is_movie", "source", "uploaded_movie_url", "data", "created_at"):
        assert key in first
    assert "status_reason" not in first and "attempts" not in first

    second = (await add_preview(client, s)).json()
    assert (second["revision"], second["position"]) == (1, 2)
    comment2 = await world.comment(s["task"], s["artist"])
    third = (await add_preview(client, s, comment2)).json()
    assert (third["revision"], third["position"]) == (2, 1)
    fourth = (await add_preview(client, s, comment2, revision=7)).json()
    assert (fourth["revision"], fourth["position"]) == (7, 1)

    news = [e for e in await outbox("preview-file:new") if e["data"]["preview_file_id"] == first["id"]]
    assert len(news) == 1
    snap = news[0]["data"]["snapshot"]
    assert snap["task_id"] == s["task"]["id"] and snap["comment_id"] == s["comment"]["id"]
    assert snap["revision"] == 1 and snap["status"] == "processing" and news[0]["project_id"] == s["project"]["id"]

    bad = await client.post(f"/actions/tasks/{s['task']['id']}/comments/{uuid.uuid4()}/add-preview", json={},
                            headers=s["admin_h"])
    assert bad.status_code == 404 and bad.json()["error"] is True


async def test_picture_upload_to_ready_and_downloads(client, setup, media_files, wait_status, outbox) -> None:  # type: ignore[no-untyped-def]
    s = setup
    preview = (await add_preview(client, s, headers=s["artist_h"])).json()
    r = await upload(client, preview["id"], media_files["png"], s["artist_h"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["extension"] == "png" and body["original_name"] == "still" and body["status"] == "processing"
    assert body["file_size"] == media_files["png"].stat().st_size
    done = await wait_status(preview["id"], s["artist_h"])
    assert done["status"] == "ready", done
    assert (done["width"], done["height"], done["is_movie"]) == (1920, 1080, False)

    pid = preview["id"]
    original = await client.get(f"/pictures/originals/preview-files/{pid}.png", headers=s["artist_h"])
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/png"
    assert int(original.headers["content-length"]) == len(original.content)
    assert original.headers["cache-control"] == "max-age=604800, private"
    assert original.headers["accept-ranges"] == "bytes" and original.headers["etag"]
    assert png_size(original.content) == (1920, 1080)
    sizes = {}
    for kind in ("previews", "thumbnails", "thumbnails-square"):
        got = await client.get(f"/pictures/{kind}/preview-files/{pid}.png", headers=s["artist_h"])
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        sizes[kind] = png_size(got.content)
    assert sizes == {"previews": (1200, 675), "thumbnails": (150, 100), "thumbnails-square": (100, 100)}

    part = await client.get(f"/pictures/originals/preview-files/{pid}.png", headers={**s["artist_h"], "Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"] == f"bytes 0-99/{len(original.content)}"
    assert part.content == original.content[:100]
    beyond = await client.get(f"/pictures/originals/preview-files/{pid}.png",
                              headers={**s["artist_h"], "Range": f"bytes={len(original.content)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(original.content)}"
    cached = await client.get(f"/pictures/originals/preview-files/{pid}.png",
                              headers={**s["artist_h"], "If-None-Match": original.headers["etag"]})
    assert cached.status_code == 304

    dl = await client.get(f"/pictures/originals/preview-files/{pid}/download", headers=s["artist_h"])
    assert dl.status_code == 200 and dl.headers["content-disposition"].startswith("attachment;")
    assert "_v1.png" in dl.headers["content-disposition"] and dl.content == original.content
    assert (await client.get(f"/movies/originals/preview-files/{pid}.mp4", headers=s["artist_h"])).status_code == 404

    names = [e["name"] for e in await outbox() if e["data"].get("preview_file_id") == pid]
    assert names[0] == "preview-file:new" and "preview-file:add-file" in names and names[-1] == "preview-file:update"
    added = [e for e in await outbox("preview-file:add-file") if e["data"]["preview_file_id"] == pid][0]
    assert added["data"]["snapshot"]["status"] == "ready" and added["data"]["snapshot"]["width"] == 1920
    assert added["data"]["snapshot"]["comment_id"] == s["comment"]["id"]


async def test_jpeg_is_normalised_to_png(client, setup, media_files, wait_status) -> None:  # type: ignore[no-untyped-def]
    s = setup
    preview = (await add_preview(client, s)).json()
    r = await upload(client, preview["id"], media_files["jpg"], s["admin_h"])
    assert r.status_code == 201 and r.json()["extension"] == "png"
    done = await wait_status(preview["id"], s["admin_h"])
    assert (done["status"], done["width"], done["height"]) == ("ready", 640, 480)
    previewed = await client.get(f"/pictures/previews/preview-files/{preview['id']}.png", headers=s["admin_h"])
    assert png_size(previewed.content) == (640, 480)  # never upscaled


async def test_movie_upload_to_ready_and_range_downloads(client, media_app, setup, media_files, wait_status, outbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from slate_media.adapters.processing import ffmpeg_binary, probe

    s = setup
    preview = (await add_preview(client, s)).json()
    r = await upload(client, preview["id"], media_files["movie"], s["admin_h"])
    assert r.status_code == 201, r.text
    assert r.json()["extension"] == "mp4" and r.json()["is_movie"] is True
    done = await wait_status(preview["id"], s["admin_h"])
    assert done["status"] == "ready", done
    assert (done["width"], done["height"]) == (640, 360) and done["duration"] == pytest.approx(2.0, abs=0.1)
    # Zou's data of a transcoded movie: its renditions and the source's own facts; no uploaded name
    data = done["data"]
    assert data["movie_prefixes"] == ["originals", "low"] and (data["original_width"], data["original_height"]) == (640, 360)
    assert data["original_file_size"] == media_files["movie"].stat().st_size
    assert isinstance(data["original_duration"], float) and done["uploaded_movie_name"] is None
    pid = preview["id"]

    movie = await client.get(f"/movies/originals/preview-files/{pid}.mp4", headers=s["admin_h"])
    assert movie.status_code == 200 and movie.headers["content-type"] == "video/mp4"
    size = len(movie.content)
    assert int(movie.headers["content-length"]) == size
    (tmp_path / "hd.mp4").write_bytes(movie.content)
    info = probe(ffmpeg_binary(), tmp_path / "hd.mp4")
    assert (info.width, info.height, info.fps, info.has_audio) == (640, 360, 25.0, True)
    codec = subprocess.run([ffmpeg_binary(), "-hide_banner", "-i", str(tmp_path / "hd.mp4")], capture_output=True, text=True).stderr
    assert "Video: h264" in codec and "yuv420p" in codec and "Audio: aac" in codec

    ranged = await client.get(f"/movies/originals/preview-files/{pid}.mp4", headers={**s["admin_h"], "Range": "bytes=1000-1999"})
    assert ranged.status_code == 206 and ranged.headers["content-range"] == f"bytes 1000-1999/{size}"
    assert ranged.headers["content-length"] == "1000" and ranged.content == movie.content[1000:2000]
    tail = await client.get(f"/movies/originals/preview-files/{pid}.mp4", headers={**s["admin_h"], "Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == movie.content[-500:]

    low = await client.get(f"/movies/low/preview-files/{pid}.mp4", headers=s["admin_h"])
    assert low.status_code == 200 and low.headers["content-type"] == "video/mp4"
    (tmp_path / "ld.mp4").write_bytes(low.content)
    assert probe(ffmpeg_binary(), tmp_path / "ld.mp4").height <= 480
    source_path = f"/movies/source/preview-files/{pid}.mp4"
    assert (await client.get(source_path, headers=s["admin_h"])).status_code == 404  # as Zou 1.0.97
    settings = media_app.state.runtime.settings
    settings.serve_movie_source = True
    try:
        source = await client.get(source_path, headers=s["admin_h"])
    finally:
        settings.serve_movie_source = False
    assert source.content == media_files["movie"].read_bytes()
    tiles = await client.get(f"/movies/tiles/preview-files/{pid}.png", headers=s["admin_h"])
    assert tiles.status_code == 200 and png_size(tiles.content)[0] > 0
    thumb = await client.get(f"/pictures/thumbnails/preview-files/{pid}.png", headers=s["admin_h"])
    assert png_size(thumb.content) == (150, 100)
    assert png_size((await client.get(f"/pictures/originals/preview-files/{pid}.png", headers=s["admin_h"])).content) == (640, 360)
    dl = await client.get(f"/movies/originals/preview-files/{pid}/download", headers=s["admin_h"])
    assert dl.headers["content-disposition"].startswith("attachment;") and dl.content == movie.content

    frame = await client.get(f"/actions/preview-files/{pid}/extract-frame?frame_number=25", headers=s["admin_h"])
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/png"
    assert png_size(frame.content) == (640, 360)
    tile = await client.get(f"/actions/preview-files/{pid}/extract-tile", headers=s["admin_h"])
    assert tile.status_code == 200 and tile.content == tiles.content

    snap = [e for e in await outbox("preview-file:add-file") if e["data"]["preview_file_id"] == pid][0]["data"]["snapshot"]
    assert snap["is_movie"] is True and snap["status"] == "ready" and snap["duration"] == pytest.approx(2.0, abs=0.1)
