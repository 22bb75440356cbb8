"""Review through the gateway: a comment with a movie preview, transcoded by the media
worker, downloaded with a Range request, with its thumbnail and tiles; production
learns of the preview from media's events."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from PIL import Image

from slate_common.testing import eventually

from .conftest import asset_task


def make_movie(path: Path) -> Path:
    from slate_media.adapters.processing import ffmpeg_binary

    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=duration=2:size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-shortest",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True,
    )
    return path


async def test_comment_with_a_movie_preview(api, admin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    task, status = await asset_task(api, admin, "Review")
    r = await api.post(f"/actions/tasks/{task['id']}/comment", json={"task_status_id": status["id"], "comment": "v1"},
                       headers=admin)
    assert r.status_code == 201, r.text
    comment = r.json()

    # media's replicas have the task and the comment as soon as production answered
    r = await api.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview", json={}, headers=admin)
    assert r.status_code == 201, r.text
    preview = r.json()
    assert (preview["revision"], preview["position"], preview["task_id"]) == (1, 1, task["id"])
    movie = make_movie(tmp_path / "take1.mov")
    r = await api.post(f"/pictures/preview-files/{preview['id']}", headers=admin,
                       files={"file": ("take1.mov", movie.read_bytes(), "video/quicktime")})
    assert r.status_code == 201, r.text

    async def ready():  # type: ignore[no-untyped-def]
        body = (await api.get(f"/data/preview-files/{preview['id']}", headers=admin)).json()
        return body if body["status"] != "processing" else None

    done = await eventually(ready, timeout=180, interval=0.5)
    assert done["status"] == "ready" and done["is_movie"] is True
    assert (done["width"], done["height"]) == (640, 360)

    pid = preview["id"]
    full = await api.get(f"/movies/originals/preview-files/{pid}.mp4", headers=admin)
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4", (full.text[:300], full.headers)
    size = int(full.headers["content-length"])
    assert size == len(full.content) > 1000
    part = await api.get(f"/movies/originals/preview-files/{pid}.mp4", headers={**admin, "Range": "bytes=100-611"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-611/{size}" and part.headers["content-length"] == "512"
    assert part.content == full.content[100:612]
    assert part.headers["cache-control"] == "max-age=604800, private" and part.headers["accept-ranges"] == "bytes"
    unsatisfiable = await api.get(f"/movies/originals/preview-files/{pid}.mp4", headers={**admin, "Range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416

    thumb = await api.get(f"/pictures/thumbnails/preview-files/{pid}.png", headers=admin)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(thumb.content)).size == (150, 100)
    tiles = await api.get(f"/movies/tiles/preview-files/{pid}.png", headers=admin)
    assert tiles.status_code == 200 and tiles.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(tiles.content)).size[0] > 0
    low = await api.get(f"/movies/low/preview-files/{pid}.mp4", headers={**admin, "Range": "bytes=0-99"})
    assert low.status_code == 206 and len(low.content) == 100

    # Kitsu's drawings come back drawn on the frame (PNG) and in a PDF, through the gateway
    w, h = done["width"], done["height"]
    stroke = {"type": "path", "originX": "left", "originY": "top", "left": w * 0.1 - 4, "top": h / 2 - 4,
              "width": w * 0.8, "height": 0, "stroke": "#ff0000", "strokeWidth": 8, "fill": None,
              "path": [["M", w * 0.1, h / 2], ["L", w * 0.9, h / 2]], "canvasWidth": w, "canvasHeight": h,
              "id": "e2e-stroke"}
    r = await api.put(f"/actions/preview-files/{pid}/update-annotations", headers=admin,
                      json={"additions": [{"time": 0.4, "drawing": {"objects": [stroke]}}], "updates": [], "deletions": []})
    assert r.status_code == 200, r.text
    frame = await api.get(f"/actions/preview-files/{pid}/extract-annotated-frame?frame_number=11", headers=admin)
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/png", frame.text[:300]
    drawn = Image.open(io.BytesIO(frame.content)).convert("RGB")
    assert drawn.size == (w, h) and drawn.getpixel((w // 2, h // 2)) == (255, 0, 0)
    pdf = await api.get(f"/actions/preview-files/{pid}/extract-annotated-frames-pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"

    # production hears of the preview (preview-file events) and shows it on the comment
    comments = (await api.get(f"/data/tasks/{task['id']}/comments", headers=admin)).json()
    mine = [c for c in comments if c["id"] == comment["id"]]
    assert mine and pid in [p if isinstance(p, str) else p.get("id") for p in mine[0].get("previews", [])]
