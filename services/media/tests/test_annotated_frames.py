"""Annotated frames: a real movie and a real picture go through the pipeline, Kitsu-style
drawings are added, and the frames come back with the drawings in their pixels (PNG),
in a zip, and in a PDF; permissions and bad input as Zou answers them."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from typing import Any

import pytest
from PIL import Image

from slate_common.testing.tokens import TestSigner

pytestmark = pytest.mark.slow  # see pytest.ini

ADMIN = uuid.uuid4()
RED, GREEN, BLUE = (255, 0, 0), (0, 200, 0), (20, 40, 255)


def stroke(points: list[tuple[float, float]], color: str, width: float, canvas: tuple[int, int]) -> dict[str, Any]:
    """A free-hand stroke as Kitsu's fabric.js canvas serialises it."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    path = [["M", *points[0]], *[["L", *p] for p in points[1:]]]
    return {"type": "path", "version": "5.3.0", "originX": "left", "originY": "top",
            "left": min(xs) - width / 2, "top": min(ys) - width / 2,
            "width": max(xs) - min(xs), "height": max(ys) - min(ys), "fill": None, "stroke": color,
            "strokeWidth": width, "strokeLineCap": "round", "strokeLineJoin": "round", "scaleX": 1, "scaleY": 1,
            "angle": 0, "opacity": 1, "path": path, "canvasWidth": canvas[0], "canvasHeight": canvas[1],
            "id": str(uuid.uuid4())}


def rect(left: float, top: float, w: float, h: float, color: str, width: float, canvas: tuple[int, int]) -> dict[str, Any]:
    return {"type": "rect", "version": "5.3.0", "originX": "left", "originY": "top", "left": left, "top": top,
            "width": w, "height": h, "fill": "transparent", "stroke": color, "strokeWidth": width, "scaleX": 1,
            "scaleY": 1, "angle": 0, "opacity": 1, "canvasWidth": canvas[0], "canvasHeight": canvas[1],
            "id": str(uuid.uuid4())}


def text(left: float, top: float, value: str, color: str, size: int, canvas: tuple[int, int]) -> dict[str, Any]:
    return {"type": "i-text", "version": "5.3.0", "originX": "left", "originY": "top", "left": left, "top": top,
            "width": size * len(value) * 0.6, "height": size * 1.16, "fill": color, "stroke": None,
            "text": value, "fontSize": size, "fontFamily": "Arial", "scaleX": 1, "scaleY": 1, "angle": 0,
            "canvasWidth": canvas[0], "canvasHeight": canvas[1], "id": str(uuid.uuid4())}


def png(content: bytes) -> Image.Image:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(content)).convert("RGB")


def pdf_pages(content: bytes) -> int:
    assert content[:5] == b"%PDF-"
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", content))


@pytest.fixture(scope="module")
async def s(world, signer: TestSigner, client, media_files, wait_status) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    manager, artist, outsider = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    project = await world.project([ADMIN, manager, artist])
    entity = await world.entity(project, "shot", "sh020")
    task = await world.task(project, entity, assignees=[artist])
    comment = await world.comment(task, artist)
    admin = signer.headers(ADMIN, "admin")
    previews: dict[str, str] = {}
    for name in ("movie", "jpg", "pdf", "bare"):
        r = await client.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview", json={}, headers=admin)
        previews[name] = r.json()["id"]
        if name != "bare":
            path = media_files[name]
            r = await client.post(f"/pictures/preview-files/{previews[name]}", headers=admin,
                                  files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
            assert r.status_code == 201, r.text
    for name in ("movie", "jpg", "pdf"):
        assert (await wait_status(previews[name], admin))["status"] == "ready"
    return {"project": project, "previews": previews, "admin": admin, "manager": signer.headers(manager, "manager"),
            "artist": signer.headers(artist, "user"), "outsider_manager": signer.headers(outsider, "manager"),
            "outsider": signer.headers(outsider, "user")}


async def annotate(client, preview_id: str, frames: list[dict[str, Any]], headers) -> None:  # type: ignore[no-untyped-def]
    r = await client.put(f"/actions/preview-files/{preview_id}/update-annotations",
                         json={"additions": frames, "updates": [], "deletions": []}, headers=headers)
    assert r.status_code == 200, r.text


def url(preview_id: str, route: str) -> str:
    return f"/actions/preview-files/{preview_id}/{route}"


async def test_movie_annotated_frame_png_zip_pdf(client, s) -> None:  # type: ignore[no-untyped-def]
    pid, h = s["previews"]["movie"], s["admin"]
    canvas = (640, 360)  # the movie's own size: drawings land where they were drawn
    await annotate(client, pid, [
        {"time": 0.4, "frame": 10, "drawing": {"objects": [stroke([(100, 180), (540, 180)], "#ff0000", 10, canvas)]}},
        {"time": 1.0, "frame": 25, "drawing": {"objects": [rect(200, 100, 200, 120, "#00c800", 8, canvas)]}},
    ], h)

    # frame_number is 1-based: the drawing made at 0.4 s (frame index 10) is frame 11
    r = await client.get(url(pid, "extract-annotated-frame?frame_number=11"), headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    annotated = png(r.content)
    assert annotated.size == (640, 360)
    bare = png((await client.get(url(pid, "extract-frame?frame_number=10"), headers=h)).content)
    assert annotated.getpixel((320, 180)) == RED and annotated.getpixel((110, 178)) == RED
    assert bare.getpixel((320, 180)) != RED
    # away from the stroke the frame is the movie's own frame, untouched
    for xy in ((50, 50), (600, 300), (320, 100), (320, 260)):
        assert annotated.getpixel(xy) == bare.getpixel(xy) != RED
    diff = [(x, y) for x in range(0, 640, 8) for y in range(0, 360, 8)
            if abs(y - 180) > 8 and annotated.getpixel((x, y)) != bare.getpixel((x, y))]
    assert diff == []

    r = await client.get(url(pid, "extract-annotated-frame?frame_number=26"), headers=h)
    frame26 = png(r.content)
    # fabric places a stroked box by its outer edge: the 8 px stroke is centred 4 px inside left/top
    assert frame26.getpixel((300, 104)) == GREEN and frame26.getpixel((204, 160)) == GREEN  # top and left edges
    assert frame26.getpixel((300, 160)) != GREEN  # inside the (unfilled) rectangle

    r = await client.get(url(pid, "extract-annotated-frames"), headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["content-disposition"].endswith("_annotated_frames.zip")
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = archive.namelist()
    assert [n.rsplit("_", 2)[-2:] for n in names] == [["frame", "11.png"], ["frame", "26.png"]]
    assert all(n.startswith(s["project"]["name"].lower().replace(" ", "_") + "_sh020_v1") for n in names)
    assert png(archive.read(names[0])).getpixel((320, 180)) == RED
    assert png(archive.read(names[1])).getpixel((300, 104)) == GREEN

    r = await client.get(url(pid, "extract-annotated-frames-pdf"), headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].endswith("_annotated_frames.pdf")
    assert pdf_pages(r.content) == 2
    assert b"/Width 640" in r.content and b"/Height 360" in r.content


async def test_picture_annotations_scaled_from_kitsus_canvas(client, s) -> None:  # type: ignore[no-untyped-def]
    pid, h = s["previews"]["jpg"], s["admin"]
    canvas = (320, 240)  # drawn on a canvas half the picture's size (640x480)
    await annotate(client, pid, [
        {"time": 0, "frame": 0, "drawing": {"objects": [
            stroke([(20, 200), (300, 200)], "#1428ff", 4, canvas),
            text(40, 20, "RETAKE", "#ff0000", 30, canvas),
        ]}},
    ], h)
    r = await client.get(url(pid, "extract-annotated-frame"), headers=h)  # frame_number is ignored on pictures
    assert r.status_code == 200, r.text
    image = png(r.content)
    assert image.size == (640, 480)
    assert image.getpixel((320, 400)) == BLUE and image.getpixel((320, 397)) == BLUE  # 4 px wide at half scale -> 8
    assert image.getpixel((320, 420)) != BLUE
    text_box = image.crop((80, 40, 80 + 360, 40 + 80))
    assert sum(1 for px in text_box.getdata() if px == RED) > 500  # the word is written in red, at twice the size
    assert all(px != RED for px in image.crop((0, 200, 640, 380)).getdata())

    r = await client.get(url(pid, "extract-annotated-frames-pdf"), headers=h)
    assert r.status_code == 200 and pdf_pages(r.content) == 1
    r = await client.get(url(pid, "extract-annotated-frames"), headers=h)
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert len(names) == 1 and names[0].endswith("_frame_1.png")


async def test_annotated_frames_permissions(client, s) -> None:  # type: ignore[no-untyped-def]
    pid = s["previews"]["jpg"]
    for route in ("extract-annotated-frame", "extract-annotated-frames", "extract-annotated-frames-pdf"):
        # as Zou: a manager of the production may, anyone else is refused (403), even its artists
        assert (await client.get(url(pid, route), headers=s["manager"])).status_code == 200
        for who in ("artist", "outsider", "outsider_manager"):
            r = await client.get(url(pid, route), headers=s[who])
            assert r.status_code == 403 and r.json()["error"] is True, (who, route)
        r = await client.get(url(str(uuid.uuid4()), route), headers=s["admin"])
        assert r.status_code == 404 and r.json()["error"] is True
        assert (await client.get(url(pid, route))).status_code == 401


async def test_annotated_frames_bad_input(client, s) -> None:  # type: ignore[no-untyped-def]
    h, movie, pdf, bare = s["admin"], s["previews"]["movie"], s["previews"]["pdf"], s["previews"]["bare"]

    async def error(path: str, status: int = 400) -> str:
        r = await client.get(path, headers=h)
        assert r.status_code == status, r.text
        assert r.json()["error"] is True
        return str(r.json()["message"])

    # a preview without drawings
    for route in ("extract-annotated-frames", "extract-annotated-frames-pdf"):
        assert await error(url(bare, route)) == "Preview file has no annotations"
    # movies need a frame, with drawings, and a positive integer
    assert await error(url(movie, "extract-annotated-frame")) == "frame_number is required for movie previews"
    assert await error(url(movie, "extract-annotated-frame?frame_number=3")) == "No annotation found for frame 3"
    for bad in ("0", "-2", "abc"):
        r = await client.get(url(movie, f"extract-annotated-frame?frame_number={bad}"), headers=h)
        assert r.status_code == 400 and r.json()["message"] == "Validation error."
        assert r.json()["data"]["errors"][0]["field"] == "frame_number"
    # a preview that is not a movie nor a picture
    await annotate(client, pdf, [{"time": 0, "drawing": {"objects": [rect(1, 1, 5, 5, "#000", 1, (10, 10))]}}], h)
    assert await error(url(pdf, "extract-annotated-frame")) == "Cannot extract annotated frame from preview with extension 'pdf'"
    assert await error(url(pdf, "extract-annotated-frames-pdf")) == "Cannot extract annotated frames from preview with extension 'pdf'"
    # drawings on a preview whose file never came: nothing to draw on (404, as Zou)
    await annotate(client, bare, [{"time": 0, "drawing": {"objects": [rect(1, 1, 5, 5, "#000", 1, (10, 10))]}}], h)
    message = await error(url(bare, "extract-annotated-frame?frame_number=1"), 404)
    assert message.endswith(f"No stored movie for preview file {bare}.")
    assert (await error(url(bare, "extract-annotated-frames"), 404)).endswith(f"preview file {bare}.")
