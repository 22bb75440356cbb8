"""Media pipeline benchmark: upload-to-ready of previews against the bare ffmpeg
command lines the workers run, and worker throughput (1 vs 2 worker processes).

Everything on loopback, on the embedded infrastructure (PostgreSQL, NATS, SeaweedFS S3
from the wheels) started for the run: the media API in-process (uploads go through
its HTTP routes with an ASGI client), workers as real ``python -m slate_media worker``
processes. Bounded: a fixed number of clips and repetitions, nothing open-ended.

    .venv/bin/python bench/media_pipeline.py [--clips 20] [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def make_clip(path: Path, seconds: float, size: str) -> Path:
    from slate_media.processing import ffmpeg_binary

    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=duration={seconds}:size={size}:rate=25",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-shortest",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True,
    )
    return path


def make_still(path: Path) -> Path:
    from PIL import Image

    # A 4K still with real content (a gradient noise pattern), not a flat colour.
    im = Image.effect_mandelbrot((3840, 2160), (-2.2, -1.2, 1.0, 1.2), 100).convert("RGB")
    im.save(path, "PNG")
    return path


def bare_commands(src: Path, work: Path, settings: Any) -> list[list[str]]:
    """The ffmpeg command lines a worker runs for a movie: probe, normalise, probe."""
    from slate_media import processing as p

    ffmpeg = p.ffmpeg_binary(settings.ffmpeg)
    info = p.probe(ffmpeg, src)
    out = p.movie_outputs(work)
    normalize = p.normalize_command(
        ffmpeg, src, out, info, fps=25.0, resolution=(1920, 1080), hd_preset=settings.hd_preset,
        hd_crf=settings.hd_crf, ld_preset=settings.ld_preset, ld_crf=settings.ld_crf, ld_height=settings.ld_height,
        threads=settings.ffmpeg_threads,
    )
    probe_cmd = [ffmpeg, "-hide_banner", "-nostdin", "-i"]
    return [probe_cmd + [str(src)], normalize, probe_cmd + [str(out.hd)]]


def run_bare(src: Path, settings: Any) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        cmds = bare_commands(src, Path(tmp), settings)
        started = time.perf_counter()
        for argv in cmds:
            subprocess.run(argv, capture_output=True, check=False)
        return time.perf_counter() - started


def run_bare_still(src: Path) -> float:
    from slate_media import processing as p

    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        started = time.perf_counter()
        p.picture_derivatives(src, Path(tmp))
        return time.perf_counter() - started


class Bench:
    def __init__(self, args: argparse.Namespace, home: Path) -> None:
        self.args = args
        self.home = home
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_workers(self, n: int, env: dict[str, str]) -> None:
        for i in range(n):
            log = (self.home / f"worker-{len(self.workers)}.log").open("wb")
            self.workers.append(subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "slate_media", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            ))
        time.sleep(0.5)

    def wait_workers_ready(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = sum("media_worker_started" in (self.home / f"worker-{i}.log").read_text(errors="replace")
                        for i in range(len(self.workers) - n, len(self.workers)))
            if ready == n:
                return
            time.sleep(0.2)
        raise RuntimeError("workers did not start")

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


async def main(args: argparse.Namespace) -> None:  # noqa: PLR0915
    from slate_common.events import Event
    from slate_common.testing import create_database, migrate_database, start_infra
    from slate_common.testing.tokens import TestSigner, service_client

    home = Path(tempfile.mkdtemp(prefix="slate-media-bench-"))
    media_dir = home / "media"
    media_dir.mkdir()
    print(f"# media pipeline bench ({platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"load {os.getloadavg()[0]:.2f}) home {home}", flush=True)
    clip = make_clip(media_dir / "clip-1080p-10s.mov", 10, "1920x1080")
    still = make_still(media_dir / "still-4k.png")
    small = [make_clip(media_dir / f"clip-{i:02d}.mov", args.small_seconds, args.small_size) for i in range(args.clips)]

    with start_infra(home / "infra", "embedded") as infra:
        os.environ.update(infra.env())
        from slate_media.config import MediaSettings
        from slate_media.consumers import consumers
        from slate_media.main import create_app

        database = create_database(infra, prefix="slate_media_bench")
        migrate_database("media", database)
        settings = MediaSettings(database_url=database, jobs_enabled=False)
        env = {**os.environ, "SLATE_MEDIA_DATABASE_URL": database, "SLATE_LOG_LEVEL": "INFO"}
        env.pop("SLATE_MEDIA_JOBS_ENABLED", None)
        app = create_app(settings)
        signer = TestSigner()
        admin = uuid.uuid4()
        h = signer.headers(admin, "admin")
        bench = Bench(args, home)
        try:
            async with service_client(app, signer) as client:
                project_id, task_id, comment_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
                handlers = consumers()
                async with app.state.runtime.sessionmaker() as session, session.begin():
                    for event in (
                        Event("project:new", {"project_id": str(project_id), "snapshot": {"id": str(project_id), "name": "Bench", "team": [], "fps": "25", "resolution": "1920x1080"}}),
                        Event("task:new", {"task_id": str(task_id), "snapshot": {"id": str(task_id), "project_id": str(project_id), "entity_id": str(uuid.uuid4()), "assignees": []}}),
                        Event("comment:new", {"comment_id": str(comment_id), "snapshot": {"id": str(comment_id), "object_id": str(task_id)}}),
                    ):
                        await handlers[event.name](session, event)

                async def submit(path: Path) -> tuple[str, float]:
                    r = await client.post(f"/actions/tasks/{task_id}/comments/{comment_id}/add-preview", json={}, headers=h)
                    pid = r.json()["id"]
                    started = time.perf_counter()
                    up = await client.post(f"/pictures/preview-files/{pid}", headers=h,
                                           files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
                    assert up.status_code == 201, up.text
                    return pid, started

                async def wait_ready(pids: list[str]) -> float:
                    pending = set(pids)
                    while pending:
                        for pid in list(pending):
                            body = (await client.get(f"/data/preview-files/{pid}", headers=h)).json()
                            if body["status"] == "ready":
                                pending.discard(pid)
                            elif body["status"] == "broken":
                                raise RuntimeError(f"{pid} broken: {body}")
                        if pending:
                            await asyncio.sleep(0.05)
                    return time.perf_counter()

                async def throughput(results: dict[str, float]) -> None:
                    for n in (1, 2):
                        if n == 2:
                            bench.start_workers(1, env)
                            bench.wait_workers_ready(1)
                        started = time.perf_counter()
                        pids = [(await submit(p))[0] for p in small]
                        end = await wait_ready(pids)
                        results[f"{n}w"] = end - started
                        print(f"{n} worker(s): {len(small)} clips in {end - started:.1f}s = "
                              f"{60 * len(small) / (end - started):.1f} clips/min", flush=True)
                    bench.stop_workers()
                    started = time.perf_counter()
                    for p in small:
                        run_bare(p, settings)
                    results["bare1"] = time.perf_counter() - started
                    started = time.perf_counter()
                    from concurrent.futures import ThreadPoolExecutor

                    with ThreadPoolExecutor(2) as pool:
                        list(pool.map(lambda p: run_bare(p, settings), small))
                    results["bare2"] = time.perf_counter() - started
                    print(f"bare ffmpeg, sequential: {results['bare1']:.1f}s; two at a time: {results['bare2']:.1f}s "
                          f"(= {results['bare1'] / results['bare2']:.2f}x)", flush=True)
                    print(f"pipeline 1 worker vs bare sequential: {100 * (results['1w'] - results['bare1']) / results['bare1']:+.1f}%; "
                          f"2 workers vs 1: {results['1w'] / results['2w']:.2f}x", flush=True)

                # -- upload-to-ready, one worker, alternating with the bare commands ----------
                bench.start_workers(1, env)
                bench.wait_workers_ready(1)
                rows: dict[str, list[float]] = {"clip": [], "clip_bare": [], "still": [], "still_bare": []}
                for _ in range(args.repeat if args.only in (None, "latency") else 0):
                    rows["clip_bare"].append(run_bare(clip, settings))
                    pid, t0 = await submit(clip)
                    rows["clip"].append(await wait_ready([pid]) - t0)
                    rows["still_bare"].append(run_bare_still(still))
                    pid, t0 = await submit(still)
                    rows["still"].append(await wait_ready([pid]) - t0)
                for key in ("clip", "still") if args.only in (None, "latency") else ():
                    med, bare = statistics.median(rows[key]), statistics.median(rows[key + "_bare"])
                    print(f"{key}: upload-to-ready median {med:.2f}s (runs {[round(v, 2) for v in rows[key]]}); "
                          f"bare median {bare:.2f}s (runs {[round(v, 2) for v in rows[key + '_bare']]}); "
                          f"overhead {med - bare:+.2f}s = {100 * (med - bare) / bare:+.1f}%", flush=True)

                # -- throughput: 1 worker, then 2 workers, over the same clips --------------
                results: dict[str, float] = {}
                if args.only != "latency":
                    await throughput(results)

        finally:
            bench.stop_workers()
    if not args.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--small-seconds", type=float, default=3.0)
    parser.add_argument("--small-size", default="1280x720")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", choices=("latency", "throughput"), default=None)
    parser.add_argument("--keep", action="store_true", help="keep the scratch home (logs, data)")
    asyncio.run(main(parser.parse_args()))
