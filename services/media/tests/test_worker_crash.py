"""A media worker killed with kill -9 in the middle of a transcode loses nothing: the
job goes to another worker. Real processes (``python -m slate_media worker``) on their
own NATS server, the database and S3 of the test infrastructure."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from slate_common.events import Event
from slate_common.stack import EmbeddedNats, free_port_block
from slate_common.testing import eventually
from slate_common.testing.tokens import TestSigner, service_client

from .conftest import make_movie  # noqa: TID252

pytestmark = pytest.mark.slow  # see pytest.ini


@pytest.fixture
def private_nats(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = EmbeddedNats(tmp_path, free_port_block(2))
    server.start()
    server.wait_ready(60)
    yield server.url
    server.stop()


def start_worker(env: dict[str, str], log: Path, *python_options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, *python_options, "-m", "slate_media", "worker"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,  # its ffmpeg dies with it, as in a container crash
    )


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


async def test_killed_worker_job_is_redelivered(infra, make_database, bucket_prefix, private_nats, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from slate_media.config import MediaSettings
    from slate_media.consumers import consumers
    from slate_media.main import create_app
    from slate_media.models import PreviewFile

    database = make_database("media", migrate=True)
    prefix = bucket_prefix
    env = {**os.environ, **infra.env(), "SLATE_NATS_URL": private_nats, "SLATE_MEDIA_DATABASE_URL": database,
           "SLATE_MEDIA_BUCKET_PREFIX": prefix, "SLATE_MEDIA_JOB_ACK_WAIT": "4", "SLATE_MEDIA_HD_PRESET": "slow",
           "SLATE_LOG_LEVEL": "INFO"}
    monkeypatch.setenv("SLATE_NATS_URL", private_nats)
    settings = MediaSettings(database_url=database, bucket_prefix=prefix, jobs_enabled=False)
    app = create_app(settings)  # the API side: takes uploads, queues jobs, runs no job itself
    signer = TestSigner()
    admin = uuid.uuid4()
    headers = signer.headers(admin, "admin")
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(env, log) for log in logs]
    try:
        async with service_client(app, signer) as client:
            # replicas, through the consumer's handlers with real envelopes on the real database
            project_id, task_id, comment_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            handlers = consumers()
            feed = [
                Event("project:new", {"project_id": str(project_id), "snapshot": {
                    "id": str(project_id), "name": "K", "team": [], "fps": "25"}}),
                Event("task:new", {"task_id": str(task_id), "snapshot": {
                    "id": str(task_id), "project_id": str(project_id), "entity_id": str(uuid.uuid4()), "assignees": []}}),
                Event("comment:new", {"comment_id": str(comment_id), "snapshot": {
                    "id": str(comment_id), "object_id": str(task_id), "person_id": str(admin)}}),
            ]
            async with app.state.runtime.sessionmaker() as session, session.begin():
                for event in feed:
                    await handlers[event.name](session, event)

            movie = make_movie(tmp_path / "long.mov", seconds=6, size="1920x1080", audio=True)
            preview = (await client.post(f"/actions/tasks/{task_id}/comments/{comment_id}/add-preview", json={},
                                         headers=headers)).json()
            pid = preview["id"]
            r = await client.post(f"/pictures/preview-files/{pid}", headers=headers,
                                  files={"file": ("long.mov", movie.read_bytes(), "video/quicktime")})
            assert r.status_code == 201, r.text

            def started_in() -> list[int]:
                return [i for i, log in enumerate(logs) if pid in log.read_text(errors="replace")
                        and "preview_job_started" in log.read_text(errors="replace")]

            async def someone_started() -> list[int]:
                return started_in()

            first = (await eventually(someone_started, timeout=60))[0]
            await asyncio.sleep(2.0)  # well inside the transcode (several seconds for 6 s of 1080p at preset slow)
            current = (await client.get(f"/data/preview-files/{pid}", headers=headers)).json()
            assert current["status"] == "processing"
            kill_group(workers[first])
            assert "preview_job_done" not in logs[first].read_text(errors="replace")  # died mid-job
            survivor = 1 - first

            async def ready() -> dict[str, Any] | None:
                body = (await client.get(f"/data/preview-files/{pid}", headers=headers)).json()
                return body if body["status"] != "processing" else None

            done = await eventually(ready, timeout=180, interval=0.5)
            assert done["status"] == "ready", done
            assert (done["width"], done["height"]) == (1920, 1080)
            assert pid in logs[survivor].read_text(errors="replace")
            async with app.state.runtime.sessionmaker() as session:
                assert (await session.get(PreviewFile, uuid.UUID(pid))).attempts == 2
            movie_out = await client.get(f"/movies/originals/preview-files/{pid}.mp4", headers=headers)
            assert movie_out.status_code == 200 and len(movie_out.content) > 10_000
            assert (await client.get(f"/movies/tiles/preview-files/{pid}.png", headers=headers)).status_code == 200
    finally:
        for proc in workers:
            kill_group(proc)


async def test_the_worker_imports_its_loops_not_its_routes(infra, make_database, bucket_prefix, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``python -m slate_media worker`` runs slate_media.loops: the real command, up to
    ``worker_running``, imports none of the routes, the CRUD router, the OpenAPI layer nor
    FastAPI (docs/reliability.md: a restarted worker serves sooner without them)."""
    env = {**os.environ, **infra.env(), "SLATE_MEDIA_DATABASE_URL": make_database("media", migrate=True),
           "SLATE_MEDIA_BUCKET_PREFIX": bucket_prefix, "SLATE_LOG_LEVEL": "INFO"}
    log = tmp_path / "worker.log"
    proc = start_worker(env, log, "-X", "importtime")
    try:
        async def running() -> bool:
            assert proc.poll() is None, log.read_text(errors="replace")
            return "worker_running" in log.read_text(errors="replace")

        await eventually(running, timeout=60)
        await asyncio.sleep(1.0)  # its jobs loop starts once NATS answers: imported by then
    finally:
        kill_group(proc)
    imported = {line.rsplit("|", 1)[1].strip() for line in log.read_text(errors="replace").splitlines()
                if line.startswith("import time:") and "|" in line}
    # (what importlib.import_module loads itself is not listed: the loops' own imports are)
    assert {"slate_media.adapters.jobs", "slate_media.consumers", "slate_media.owned", "slate_common.runtime"} <= imported
    unwanted = sorted(name for name in imported
                      if name.startswith(("slate_media.api", "slate_media.main", "slate_common.crud",
                                          "slate_common.openapi", "slate_common.app", "fastapi")))
    assert unwanted == []
    assert "service_started" not in log.read_text(errors="replace")  # create_service_app's lifespan never ran
