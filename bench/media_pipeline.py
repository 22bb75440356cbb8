"""Media pipeline benchmark: upload-to-ready of previews against the bare ffmpeg
command lines the workers run, and worker throughput (1 vs 2 worker processes).

Everything on loopback, on the embedded infrastructure (PostgreSQL, NATS, SeaweedFS S3
from the wheels) started for the run: the media API in-process (uploads go through
its HTTP routes with an ASGI client), workers as real ``python -m slate_media worker``
processes. Bounded: a fixed number of clips and repetitions, nothing open-ended.

Phases: upload-to-ready of a 10 s 1080p clip (``--repeat``) and of a 4K still
(``--still-repeat``, with where its time goes); throughput over ``--clips`` short clips
with 1 and 2 unpinned workers (ffmpeg threads: the CPUs a worker may use) against the
same ffmpeg command lines one and two at a time; then "one worker per core": each
worker pinned to its own core with taskset and SLATE_MEDIA_FFMPEG_THREADS=1, against
the bare commands pinned the same way. Readiness is seen from the preview-file:update
events (as Kitsu learns it, broken ones too), backed by a slow poll (``--poll``, 5 s). ~6-7 minutes on a quiet 2-core
machine; ``--only`` runs one phase. Each throughput run also prints the CPU seconds by
process (this process with the in-process API, each worker's Python and its ffmpeg runs,
PostgreSQL, SeaweedFS, NATS, and the rest of the machine) and each worker's jobs.

    .venv/bin/python bench/media_pipeline.py [--clips 20] [--repeat 2] [--only still]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
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
    from slate_media.adapters.processing import ffmpeg_binary

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


def bare_commands(src: Path, work: Path, settings: Any, threads: int | None = None) -> list[list[str]]:
    """The ffmpeg command lines a worker runs for a movie: probe, normalise, probe."""
    from slate_media.adapters import processing as p

    ffmpeg = p.ffmpeg_binary(settings.ffmpeg)
    info = p.probe(ffmpeg, src)
    out = p.movie_outputs(work)
    normalize = p.normalize_command(
        ffmpeg, src, out, info, fps=25.0, resolution=(1920, 1080), hd_preset=settings.hd_preset,
        hd_crf=settings.hd_crf, ld_preset=settings.ld_preset, ld_crf=settings.ld_crf, ld_height=settings.ld_height,
        threads=settings.ffmpeg_thread_count() if threads is None else threads,
    )
    probe_cmd = [ffmpeg, "-hide_banner", "-nostdin", "-i"]
    return [probe_cmd + [str(src)], normalize, probe_cmd + [str(out.hd)]]


def run_bare(src: Path, settings: Any, *, threads: int | None = None, cpu: int | None = None) -> float:
    """The worker's ffmpeg command lines for one movie; ``cpu``: pinned to that core (taskset)."""
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        cmds = bare_commands(src, Path(tmp), settings, threads)
        started = time.perf_counter()
        for argv in cmds:
            subprocess.run(pin + argv, capture_output=True, check=False)
        return time.perf_counter() - started


def run_bare_still(src: Path) -> float:
    from slate_media.adapters import processing as p

    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        started = time.perf_counter()
        p.picture_derivatives(src, Path(tmp))
        return time.perf_counter() - started


class CpuMeter:
    """CPU seconds by process group over a phase, from psutil: this bench process (the
    media API in-process and the bench's client), each worker's Python and its ffmpeg
    children, PostgreSQL (postmaster and backends), SeaweedFS, NATS, and the whole
    machine (so what ran outside this stack shows too). A process's reaped children
    count in its ``children_*`` times, so ffmpeg runs and closed backends are not lost."""

    def __init__(self, worker_pids: list[int]) -> None:
        self.worker_pids = worker_pids
        self.start: dict[str, float] = {}
        self.machine0 = 0.0

    @staticmethod
    def _machine() -> float:
        import psutil

        t = psutil.cpu_times()
        return sum(getattr(t, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq", "steal"))

    def _group(self, proc: Any) -> str:
        if proc.pid == os.getpid():
            return "bench process (media API in-process + bench client)"
        if proc.pid in self.worker_pids:
            return f"worker {self.worker_pids.index(proc.pid)}: Python"
        name = proc.name()
        if "ffmpeg" in name:
            try:
                parent = proc.ppid()
            except Exception:  # noqa: BLE001
                parent = -1
            if parent in self.worker_pids:
                return f"worker {self.worker_pids.index(parent)}: ffmpeg"
            return "other ffmpeg"
        for key, label in (("postgres", "PostgreSQL"), ("weed", "SeaweedFS (weed)"), ("nats", "NATS")):
            if key in name:
                return label
        return f"other ({name})"

    def sample(self) -> dict[str, float]:
        import psutil

        me = psutil.Process()
        out: dict[str, float] = {}
        for proc in [me, *me.children(recursive=True)]:
            try:
                with proc.oneshot():
                    t = proc.cpu_times()
                    group = self._group(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            own, reaped = t.user + t.system, t.children_user + t.children_system
            if proc.pid in self.worker_pids:  # a worker's reaped children: its ffmpeg runs
                out[group] = out.get(group, 0.0) + own
                ff = group.replace("Python", "ffmpeg")
                out[ff] = out.get(ff, 0.0) + reaped
            elif proc.pid == me.pid:
                out[group] = out.get(group, 0.0) + own
                out["bench: reaped children"] = out.get("bench: reaped children", 0.0) + reaped
            else:
                out[group] = out.get(group, 0.0) + own + reaped
        return out

    def begin(self) -> None:
        self.start = self.sample()
        self.machine0 = self._machine()

    def end(self) -> dict[str, float]:
        now_ = self.sample()
        delta = {k: now_.get(k, 0.0) - self.start.get(k, 0.0) for k in set(now_) | set(self.start)}
        delta = {k: v for k, v in delta.items() if v > 0.005}
        machine = self._machine() - self.machine0
        delta["outside this stack (whole machine minus the above)"] = max(0.0, machine - sum(delta.values()))
        return delta


def cpu_report(label: str, delta: dict[str, float], n: int, wall: float) -> None:
    total = sum(delta.values())
    print(f"### CPU by process, {label} ({n} clips, {wall:.1f} s wall, {total:.1f} CPU s in all)\n"
          f"| process | CPU s | ms per clip | share |\n|---|---|---|---|", flush=True)
    for key, value in sorted(delta.items(), key=lambda kv: -kv[1]):
        print(f"| {key} | {value:.2f} | {1000 * value / n:.0f} | {100 * value / total:.1f} % |", flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace, home: Path) -> None:
        self.args = args
        self.home = home
        self.workers: list[subprocess.Popen[bytes]] = []
        self.retired: list[subprocess.Popen[bytes]] = []
        self.n_logs = 0

    def start_workers(self, n: int, env: dict[str, str], *, cpus: list[int] | None = None,
                      threads: int | None = None) -> None:
        """``n`` worker processes; with ``cpus``, worker i is pinned to cpus[i] (taskset)."""
        for i in range(n):
            log = (self.home / f"worker-{self.n_logs}.log").open("wb")
            self.n_logs += 1
            pin = ["taskset", "-c", str(cpus[i])] if cpus else []
            wenv = dict(env)
            if threads is not None:
                wenv["SLATE_MEDIA_FFMPEG_THREADS"] = str(threads)
            self.workers.append(subprocess.Popen(  # noqa: S603
                [*pin, sys.executable, "-m", "slate_media", "worker"], env=wenv, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            ))
        time.sleep(0.5)

    def wait_workers_ready(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = sum("media_worker_started" in (self.home / f"worker-{i}.log").read_text(errors="replace")
                        for i in range(self.n_logs - n, self.n_logs))
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
        self.retired.extend(self.workers)
        self.workers = []

    def job_summary(self, first_log: int, started_wall: float, ended_wall: float) -> None:
        """Per worker of the last run: jobs done, time inside jobs, and time between them."""
        for i in range(first_log, self.n_logs):
            done = []
            for line in (self.home / f"worker-{i}.log").read_text(errors="replace").splitlines():
                if line.startswith("{") and '"preview_job_done"' in line:
                    with contextlib.suppress(ValueError):
                        done.append(json.loads(line).get("ms", {}))
            inside = sum(d.get("total", 0.0) for d in done) / 1000
            process = sum(d.get("process", 0.0) for d in done) / 1000
            print(f"  worker {i - first_log}: {len(done)} jobs, {inside:.1f} s inside jobs "
                  f"({process:.1f} s transcoding and deriving), {ended_wall - started_wall - inside:.1f} s outside "
                  f"(picking up, committing, idle)", flush=True)

    def worker_logs(self) -> list[dict[str, Any]]:
        """The JSON log lines of every worker started so far."""
        out = []
        for path in sorted(self.home.glob("worker-*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        return out


async def main(args: argparse.Namespace) -> None:  # noqa: PLR0915
    from slate_common.events import Event
    from slate_common.testing import create_database, migrate_database, start_infra
    from slate_common.testing.tokens import TestSigner, service_client

    bench_started = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="slate-media-bench-"))
    media_dir = home / "media"
    media_dir.mkdir()
    print(f"# media pipeline bench ({platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"load {os.getloadavg()[0]:.2f}) home {home}", flush=True)
    clip = make_clip(media_dir / "clip-1080p-10s.mov", 10, "1920x1080") if args.only in (None, "latency") else None
    still = make_still(media_dir / "still-4k.png")
    n_small = args.clips if args.only in (None, "throughput", "pinned") else 0
    small = [make_clip(media_dir / f"clip-{i:02d}.mov", args.small_seconds, args.small_size) for i in range(n_small)]

    # The bench's in-process client would log one "HTTP Request" line per call at INFO.
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
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
                        Event("project:new", {"project_id": str(project_id), "snapshot": {
                            "id": str(project_id), "name": "Bench", "team": [], "fps": "25", "resolution": "1920x1080"}}),
                        Event("task:new", {"task_id": str(task_id), "snapshot": {
                            "id": str(task_id), "project_id": str(project_id), "entity_id": str(uuid.uuid4()),
                            "assignees": []}}),
                        Event("comment:new", {"comment_id": str(comment_id), "snapshot": {
                            "id": str(comment_id), "object_id": str(task_id)}}),
                    ):
                        await handlers[event.name](session, event)

                async def submit(path: Path) -> tuple[str, float]:
                    r = await client.post(f"/actions/tasks/{task_id}/comments/{comment_id}/add-preview", json={}, headers=h)
                    pid = r.json()["id"]
                    started = time.perf_counter()
                    up = await client.post(f"/pictures/preview-files/{pid}", headers=h,
                                           files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
                    assert up.status_code == 201, up.text
                    uploads[pid] = time.perf_counter() - started
                    walls[pid] = [time.time()]
                    return pid, started

                # Readiness is seen as Kitsu sees it: the preview-file:update event with status
                # "ready" (published by the worker's relay right after its commit); a slow poll
                # of GET /data/preview-files/{id} backs it up and catches broken previews.
                import nats

                ready_at: dict[str, tuple[float, float]] = {}
                broken: dict[str, Any] = {}
                changed = asyncio.Event()

                async def on_update(msg: Any) -> None:
                    envelope = json.loads(msg.data)
                    snap = envelope.get("data", {}).get("snapshot", {})
                    if snap.get("status") == "ready":
                        ready_at.setdefault(snap["id"], (time.perf_counter(), time.time()))
                        changed.set()
                    elif snap.get("status") == "broken":
                        broken[snap["id"]] = snap.get("status_reason")
                        changed.set()

                nc = await nats.connect(infra.nats_url)
                await nc.subscribe("slate.events.media.preview-file.update", cb=on_update)

                async def wait_ready(pids: list[str]) -> float:
                    pending = set(pids)
                    last_poll = time.perf_counter()
                    while True:
                        pending -= ready_at.keys()
                        if not pending:
                            break
                        if pending & broken.keys():
                            raise RuntimeError(f"broken previews: {[(p, broken[p]) for p in pending & broken.keys()]}")
                        if time.perf_counter() - last_poll > args.poll:
                            last_poll = time.perf_counter()
                            for pid in list(pending):
                                body = (await client.get(f"/data/preview-files/{pid}", headers=h)).json()
                                if body["status"] == "ready":
                                    ready_at.setdefault(pid, (time.perf_counter(), time.time()))
                                elif body["status"] == "broken":
                                    raise RuntimeError(f"{pid} broken: {body}")
                            continue
                        changed.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(changed.wait(), timeout=args.poll)
                    for pid in pids:
                        walls.setdefault(pid, []).append(ready_at[pid][1])
                    return max(ready_at[pid][0] for pid in pids)

                async def pipeline_run(n: int, *, cpus: list[int] | None = None, threads: int | None = None,
                                       label: str = "") -> float:
                    bench.start_workers(n, env, cpus=cpus, threads=threads)
                    bench.wait_workers_ready(n)
                    meter = CpuMeter([w.pid for w in bench.workers])
                    first_log = bench.n_logs - n
                    meter.begin()
                    started, started_wall = time.perf_counter(), time.time()
                    pids = [(await submit(p))[0] for p in small]
                    end = await wait_ready(pids)
                    cpu = meter.end()
                    bench.stop_workers()
                    cpu_report(f"{label}{n} worker{'s' if n > 1 else ''}", cpu, len(pids), end - started)
                    bench.job_summary(first_log, started_wall, started_wall + end - started)
                    return end - started

                def bare_run(parallel: int, *, pinned: bool, threads: int | None) -> float:
                    from concurrent.futures import ThreadPoolExecutor

                    started = time.perf_counter()
                    if parallel == 1:
                        for p in small:
                            run_bare(p, settings, threads=threads, cpu=0 if pinned else None)
                    else:  # two at a time; pinned: each lane on its own core
                        lanes = [small[i::2] for i in range(2)]
                        with ThreadPoolExecutor(2) as pool:
                            list(pool.map(lambda lane: [run_bare(p, settings, threads=threads,
                                                                 cpu=lane[1] if pinned else None) for p in lane[0]],
                                          [(lanes[i], i) for i in range(2)]))
                    return time.perf_counter() - started

                def report(label: str, res: dict[str, float], load: tuple[float, float]) -> None:
                    n = len(small)
                    print(f"## throughput, {label} ({n} clips; load {load[0]:.2f} before, {load[1]:.2f} after)", flush=True)
                    print(f"| measure | pipeline | bare ffmpeg | pipeline vs bare |\n|---|---|---|---|\n"
                          f"| 1 worker / one at a time | {res['1w']:.1f} s ({60 * n / res['1w']:.1f} clips/min) | "
                          f"{res['bare1']:.1f} s | {100 * (res['1w'] - res['bare1']) / res['bare1']:+.1f} % |\n"
                          f"| 2 workers / two at a time | {res['2w']:.1f} s ({60 * n / res['2w']:.1f} clips/min) | "
                          f"{res['bare2']:.1f} s | {100 * (res['2w'] - res['bare2']) / res['bare2']:+.1f} % |\n"
                          f"| speed-up of 2 over 1 | {res['1w'] / res['2w']:.2f}x | {res['bare1'] / res['bare2']:.2f}x | |",
                          flush=True)

                async def throughput() -> None:
                    load0 = os.getloadavg()[0]
                    res = {"1w": await pipeline_run(1, label="unpinned, "), "2w": await pipeline_run(2, label="unpinned, ")}
                    res["bare1"] = bare_run(1, pinned=False, threads=None)
                    res["bare2"] = bare_run(2, pinned=False, threads=None)
                    report(f"unpinned, ffmpeg threads {settings.ffmpeg_thread_count()} (the CPUs the worker may use)",
                           res, (load0, os.getloadavg()[0]))

                async def throughput_pinned() -> None:
                    load0 = os.getloadavg()[0]
                    res = {"1w": await pipeline_run(1, cpus=[0], threads=1, label="pinned, "),
                           "2w": await pipeline_run(2, cpus=[0, 1], threads=1, label="pinned, ")}
                    res["bare1"] = bare_run(1, pinned=True, threads=1)
                    res["bare2"] = bare_run(2, pinned=True, threads=1)
                    report("one worker per core: each pinned to its own core with taskset, ffmpeg threads 1",
                           res, (load0, os.getloadavg()[0]))

                def still_profile(pids: list[str]) -> None:
                    """Where a still's upload-to-ready time goes, from the upload and the worker's logs."""
                    logs = bench.worker_logs()
                    for pid in pids:
                        picked = next((e for e in logs if e.get("event") == "job_picked"
                                       and e.get("data", {}).get("preview_file_id") == pid), {})
                        done = next((e for e in logs if e.get("event") == "preview_job_done"
                                     and e.get("preview_file_id") == pid), {})
                        def wall(entry: dict[str, Any]) -> float:
                            stamp = str(entry.get("timestamp", "")).rstrip("Z")
                            return dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.timezone.utc).timestamp()

                        uploaded, seen = walls[pid][0], walls[pid][-1]
                        print(f"  still {pid[:8]}: upload request {1000 * uploads[pid]:.0f} ms; job picked "
                              f"{1000 * (wall(picked) - uploaded):.0f} ms after (outbox, relay, JetStream, pick-up); "
                              f"job {done.get('ms')} ms; ready seen {1000 * (seen - wall(done)):.0f} ms after the "
                              f"job's end", flush=True)

                # -- upload-to-ready, one worker, alternating with the bare commands ----------
                uploads: dict[str, float] = {}
                walls: dict[str, list[float]] = {}
                rows: dict[str, list[float]] = {"clip": [], "clip_bare": [], "still": [], "still_bare": []}
                if args.only in (None, "latency", "still"):
                    bench.start_workers(1, env)
                    bench.wait_workers_ready(1)
                    load0 = os.getloadavg()[0]
                    for _ in range(args.repeat if args.only != "still" else 0):
                        assert clip is not None
                        rows["clip_bare"].append(run_bare(clip, settings))
                        pid, t0 = await submit(clip)
                        rows["clip"].append(await wait_ready([pid]) - t0)
                    still_pids = []
                    for _ in range(args.still_repeat):
                        rows["still_bare"].append(run_bare_still(still))
                        pid, t0 = await submit(still)
                        rows["still"].append(await wait_ready([pid]) - t0)
                        still_pids.append(pid)
                    bench.stop_workers()
                    print(f"## upload-to-ready (load {load0:.2f} before, {os.getloadavg()[0]:.2f} after)", flush=True)
                    for key in ("clip", "still"):
                        if not rows[key]:
                            continue
                        med, bare = statistics.median(rows[key]), statistics.median(rows[key + "_bare"])
                        print(f"{key}: upload-to-ready median {med:.2f}s (runs {[round(v, 2) for v in rows[key]]}); "
                              f"bare median {bare:.2f}s (runs {[round(v, 2) for v in rows[key + '_bare']]}); "
                              f"overhead {med - bare:+.2f}s = {100 * (med - bare) / bare:+.1f}%", flush=True)
                    still_profile(still_pids)

                # -- throughput over the same clips: unpinned, then one worker per core ------
                if args.only in (None, "throughput"):
                    await throughput()
                if args.only in (None, "pinned") and len(os.sched_getaffinity(0)) >= 2:
                    await throughput_pinned()
                await nc.drain()
                print(f"# done in {time.perf_counter() - bench_started:.0f} s; load {os.getloadavg()[0]:.2f}", flush=True)
        finally:
            bench.stop_workers()
    if not args.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--still-repeat", type=int, default=5)
    parser.add_argument("--poll", type=float, default=5.0,
                        help="seconds between status polls backing up the preview-file:update events (a poll "
                             "GETs every pending preview: polling often makes the bench compete with the workers)")
    parser.add_argument("--small-seconds", type=float, default=2.0)
    parser.add_argument("--small-size", default="1280x720")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", choices=("latency", "still", "throughput", "pinned"), default=None)
    parser.add_argument("--keep", action="store_true", help="keep the scratch home (logs, data)")
    asyncio.run(main(parser.parse_args()))
