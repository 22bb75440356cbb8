"""Media service tests: the app in-process on real PostgreSQL, NATS and S3, its job loop
running ffmpeg for real, replicas fed by events published on the real stream."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nats
import pytest

from slate_common.events import Event
from slate_common.testing.tokens import TestSigner, service_client

TEST_UPLOAD_LIMIT = 8 * 1024 * 1024


def ffmpeg_bin() -> str:
    from slate_media.adapters.processing import ffmpeg_binary

    return ffmpeg_binary()


def make_movie(path: Path, *, seconds: float = 2, size: str = "640x360", rate: int = 25, audio: bool = True) -> Path:
    """A test movie from ffmpeg's test sources (never committed)."""
    argv = [ffmpeg_bin(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc=duration={seconds}:size={size}:rate={rate}"]
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-shortest"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(argv, check=True)
    return path


def make_picture(path: Path, size: tuple[int, int] = (1920, 1080), fmt: str = "PNG") -> Path:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", size, (40, 90, 160))
    ImageDraw.Draw(im).rectangle([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(220, 40, 40))
    im.save(path, fmt)
    return path


@pytest.fixture(scope="session")
def signer() -> TestSigner:
    return TestSigner()


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media-files")
    files = {
        "png": make_picture(d / "still.png"),
        "jpg": make_picture(d / "small.jpg", (640, 480), "JPEG"),
        "movie": make_movie(d / "clip.mov"),
    }
    (d / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not really a movie" * 500)
    files["corrupt"] = d / "corrupt.mp4"
    (d / "doc.pdf").write_bytes(b"%PDF-1.4\n% a test document\n%%EOF\n")
    files["pdf"] = d / "doc.pdf"
    return files


@pytest.fixture(scope="session")
def bucket_prefix() -> str:
    """One set of buckets for every media test (each bucket costs SeaweedFS 7 volumes)."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def media_db(infra, make_database):  # type: ignore[no-untyped-def]
    return make_database("media", migrate=True)


@pytest.fixture(scope="session")
async def media_app(media_db, bucket_prefix):  # type: ignore[no-untyped-def]
    from slate_media.config import MediaSettings
    from slate_media.main import create_app

    settings = MediaSettings(
        database_url=media_db,
        max_upload_bytes=TEST_UPLOAD_LIMIT,
        bucket_prefix=bucket_prefix,
        jobs_stream=f"MEDIA_JOBS_{uuid.uuid4().hex[:8]}",
        jobs_subject=f"test.jobs.{uuid.uuid4().hex[:8]}",
        job_ack_wait=20,
        hd_preset="ultrafast",
        ld_preset="ultrafast",
    )
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(media_app, signer):  # type: ignore[no-untyped-def]
    async with service_client(media_app, signer) as c:
        yield c


@pytest.fixture(scope="session")
async def js(infra):  # type: ignore[no-untyped-def]
    nc = await nats.connect(infra.nats_url)
    yield nc.jetstream()
    await nc.drain()


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 30.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        await asyncio.sleep(interval)


@pytest.fixture(scope="session")
def publish(js):  # type: ignore[no-untyped-def]
    """Publish an event as production does: envelope, subject, Nats-Msg-Id."""

    async def _publish(name: str, data: dict[str, Any], *, project_id: Any = None) -> Event:
        event = Event(name=name, data=data, project_id=uuid.UUID(str(project_id)) if project_id else None)
        subject = "slate.events.production." + name.replace(":", ".")
        await js.publish(subject, event.to_json(), headers={"Nats-Msg-Id": str(event.id)})
        return event

    return _publish


@pytest.fixture(scope="session")
def db(media_app):  # type: ignore[no-untyped-def]
    """Run SQL on the media database through the app's own sessionmaker."""
    from sqlalchemy import text

    async def _fetch(sql: str, **params: Any) -> list[Any]:
        async with media_app.state.runtime.sessionmaker() as session:
            return list((await session.execute(text(sql), params)).all())

    return _fetch


@pytest.fixture(scope="session")
def world(client, publish, db):  # type: ignore[no-untyped-def]
    """Factories feeding media's replicas through production's events."""

    class World:
        async def project(self, team: list[uuid.UUID], **extra: Any) -> dict[str, Any]:
            pid = uuid.uuid4()
            snap = {"id": str(pid), "name": f"Film {pid.hex[:6]}", "team": [str(t) for t in team],
                    "fps": "25", "resolution": "1920x1080", "type": "Project", **extra}
            await publish("project:new", {"project_id": str(pid), "snapshot": snap}, project_id=pid)
            await eventually(lambda: db("select 1 from project_replica where id = :i", i=pid))
            return snap

        async def update_project(self, snap: dict[str, Any]) -> None:
            await publish("project:update", {"project_id": snap["id"], "snapshot": snap}, project_id=snap["id"])

        async def entity(self, project: dict[str, Any], kind: str = "asset", name: str = "hero") -> dict[str, Any]:
            eid = uuid.uuid4()
            snap = {"id": str(eid), "name": name, "project_id": project["id"], "preview_file_id": None, "type": "Asset"}
            await publish(f"{kind}:new", {f"{kind}_id": str(eid), "snapshot": snap}, project_id=project["id"])
            await eventually(lambda: db("select 1 from entity_replica where id = :i", i=eid))
            return snap

        async def task(self, project: dict[str, Any], entity: dict[str, Any] | None = None,
                       assignees: list[uuid.UUID] = ()) -> dict[str, Any]:  # type: ignore[assignment]
            tid = uuid.uuid4()
            snap = {"id": str(tid), "project_id": project["id"], "entity_id": entity["id"] if entity else str(uuid.uuid4()),
                    "task_type_id": str(uuid.uuid4()), "task_status_id": str(uuid.uuid4()),
                    "assignees": [str(a) for a in assignees], "type": "Task"}
            await publish("task:new", {"task_id": str(tid), "snapshot": snap}, project_id=project["id"])
            await eventually(lambda: db("select 1 from task_replica where id = :i", i=tid))
            return snap

        async def comment(self, task: dict[str, Any], person_id: uuid.UUID) -> dict[str, Any]:
            cid = uuid.uuid4()
            snap = {"id": str(cid), "object_id": task["id"], "object_type": "Task", "person_id": str(person_id),
                    "task_status_id": task["task_status_id"], "text": "take 1", "type": "Comment"}
            await publish("comment:new", {"comment_id": str(cid), "snapshot": snap}, project_id=task["project_id"])
            await eventually(lambda: db("select 1 from comment_replica where id = :i", i=cid))
            return snap

    return World()


@pytest.fixture(scope="session")
def wait_status(client):  # type: ignore[no-untyped-def]
    async def _wait(preview_id: str, headers: dict[str, str], *, timeout: float = 120) -> dict[str, Any]:
        async def done() -> Any:
            r = await client.get(f"/data/preview-files/{preview_id}", headers=headers)
            body = r.json()
            return body if body.get("status") != "processing" else None

        return await eventually(done, timeout=timeout, interval=0.3)  # type: ignore[no-any-return]

    return _wait


@pytest.fixture(scope="session")
def outbox(db):  # type: ignore[no-untyped-def]
    """Events media wrote, as decoded envelopes (name, data)."""
    from slate_common.serialization import loads

    async def _events(name: str | None = None) -> list[dict[str, Any]]:
        rows = await db("select payload from outbox_event where subject like 'slate.events.%' order by seq")
        out = [loads(bytes(r[0])) for r in rows]
        return [e for e in out if name is None or e["name"] == name]

    return _events
