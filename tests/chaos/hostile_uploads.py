"""Hostile uploads through the gateway: every answer clear, memory bounded, no job stuck.

Boots its own embedded stack (media with one worker process, an 8 MB upload limit and a
3 s idle limit on upload bodies, so the oversized and stalled kinds are quick), makes a
task and a few comments through the public API, then sends ``count`` uploads of mixed
hostile kinds (``hostile_files.catalogue()`` plus a body that never finishes arriving and
one over the upload limit) from ``clients`` concurrent clients: previews to
``POST /pictures/preview-files/{id}`` (a new preview each), avatars to
``POST /pictures/thumbnails/persons/{id}``.

Each answer must be one of:

* a 4xx with Zou's error body ``{"error": true, "message": "..."}``;
* a 2xx whose preview then leaves ``processing`` within ``settle_bound`` seconds, as
  ``broken`` with a ``status_reason``, or ``ready`` (a truncated movie ffmpeg can still
  read, a PNG behind an odd name);

never a 5xx nor a cut connection. Meanwhile the RSS of every media process (the API
process, the worker process, their children: uvicorn workers, ffmpeg) is sampled; at the
end no preview may be left ``processing``, the jobs stream must be empty and its
consumer hold nothing pending, and a good picture and a good movie still go through.

Short mode: ``tests/chaos/test_hostile_uploads.py`` (one of each kind). Long mode:

    .venv/bin/python tests/chaos/hostile_uploads.py --count 1000 --clients 4 --out bench/out/hostile-uploads.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import nats
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile_files import Hostile, catalogue, clip, good_png, stalled_body_head  # noqa: E402

from slate_common.stack import Stack, StackConfig  # noqa: E402

UPLOAD_LIMIT = 8 * 1024 * 1024
IDLE_SECONDS = 3.0
JOBS_STREAM = "SLATE_MEDIA_JOBS"
#: Kinds the runner sends itself (not files: ways of sending).
SPECIAL = ("stalled_body", "oversized")


def hostile_stack(home: Path, extra_env: dict[str, str] | None = None) -> Stack:
    env = {
        "SLATE_LOG_LEVEL": "INFO",
        "SLATE_AUTH_LOGIN_ADDRESS_MAX_FAILURES": "100000",
        "SLATE_MEDIA_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        "SLATE_MEDIA_UPLOAD_IDLE_SECONDS": str(IDLE_SECONDS),
        "SLATE_MEDIA_HD_PRESET": "ultrafast",
        "SLATE_MEDIA_LD_PRESET": "ultrafast",
        **(extra_env or {}),
    }
    config = StackConfig.on_free_ports(home, worker_processes={"media": 1}, gateway_replicas=1, extra_env=env)
    return Stack(config)


# -- memory --------------------------------------------------------------------------------


class RssSampler:
    """Samples, every ``interval`` seconds in a thread, the RSS of each media process with its
    children (uvicorn workers, ffmpeg); keeps each one's peak and the peak of their sum."""

    def __init__(self, stack: Stack, interval: float = 0.2) -> None:
        self.stack = stack
        self.interval = interval
        self.peaks: dict[str, int] = defaultdict(int)
        self.peak_total = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def roots(self) -> dict[str, int]:
        out = {}
        for name in self.stack.processes("media"):
            pid = self.stack.supervisor[name].pid
            if pid:
                out[name] = pid
        return out

    def sample(self) -> None:
        total = 0
        for name, pid in self.roots().items():
            try:
                root = psutil.Process(pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            rss = 0
            for p in procs:
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peaks[name] = max(self.peaks[name], rss)
            total += rss
        self.peak_total = max(self.peak_total, total)
        self.samples += 1

    def open_scratch_files(self) -> list[str]:
        """Upload scratch files a media process still holds open (a dropped upload must not)."""
        held = []
        for pid in self.roots().values():
            try:
                root = psutil.Process(pid)
                for proc in [root, *root.children(recursive=True)]:
                    held += [f.path for f in proc.open_files() if "slate-upload-" in f.path]
            except psutil.Error:
                continue
        return held

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# -- the run -------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str
    status: int | None
    body: Any = None
    error: str = ""
    preview_id: str | None = None
    final: str | None = None  # the preview's status once settled
    reason: str | None = None
    seconds: float = 0.0


@dataclass
class Fixture:
    token: str
    person_id: str
    task_id: str
    comments: list[str] = field(default_factory=list)


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def call(self, method: str, path: str, token: str | None, **kw: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kw.pop("headers", {}))
        async with self.session.request(method, self.base + path, headers=headers, **kw) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text

    async def ok(self, method: str, path: str, token: str | None, **kw: Any) -> Any:
        status, body = await self.call(method, path, token, **kw)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {str(body)[:300]}")
        return body


async def make_fixture(api: Api, email: str, password: str, comments: int) -> Fixture:
    login = await api.ok("POST", "/auth/login", None, json={"email": email, "password": password})
    token, person = login["access_token"], login["user"]["id"]
    project = await api.ok("POST", "/data/projects", token, json={"name": f"Hostile {uuid.uuid4().hex[:6]}"})
    types = await api.ok("GET", "/data/entity-types", token)
    asset_type = next(t for t in types if t["name"] == "Character")
    asset = await api.ok("POST", "/data/entities", token, json={"name": "hero", "project_id": project["id"],
                                                               "entity_type_id": asset_type["id"]})
    task_type = next(t for t in await api.ok("GET", "/data/task-types", token) if t["for_entity"] == "Asset")
    await api.ok("POST", f"/data/projects/{project['id']}/settings/task-types", token,
                 json={"task_type_id": task_type["id"]})
    [task] = await api.ok("POST", f"/data/entities/{asset['id']}/tasks", token, json={"task_type_ids": [task_type["id"]]})
    status = (await api.ok("GET", "/data/task-status", token))[0]
    fx = Fixture(token, person, task["id"])
    for i in range(comments):
        c = await api.ok("POST", f"/actions/tasks/{task['id']}/comment", token,
                         json={"task_status_id": status["id"], "comment": f"hostile {i}"})
        fx.comments.append(c["id"])
    return fx


def zou_error(body: Any) -> bool:
    return isinstance(body, dict) and body.get("error") is True and isinstance(body.get("message"), str) and bool(body["message"])


async def new_preview(api: Api, fx: Fixture, n: int) -> str:
    comment = fx.comments[n % len(fx.comments)]
    body = await api.ok("POST", f"/actions/tasks/{fx.task_id}/comments/{comment}/add-preview", fx.token, json={})
    return str(body["id"])


async def send_file(api: Api, fx: Fixture, h: Hostile, n: int) -> Outcome:
    started = time.monotonic()
    if h.target == "avatar":
        path, preview_id = f"/pictures/thumbnails/persons/{fx.person_id}", None
    else:
        preview_id = await new_preview(api, fx, n)
        path = f"/pictures/preview-files/{preview_id}"
    # the form is written by hand: HTTP clients refuse a NUL or a newline in a file name
    boundary = f"hostile{uuid.uuid4().hex}"
    body_bytes = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; ".encode()
                  + b'filename="' + h.filename.replace('"', "%22").encode() + b'"\r\n'
                  + b"Content-Type: application/octet-stream\r\n\r\n" + h.content + f"\r\n--{boundary}--\r\n".encode())
    try:
        status, body = await api.call("POST", path, fx.token, data=body_bytes,
                                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Outcome(h.kind, None, error=repr(exc)[:200], preview_id=preview_id, seconds=time.monotonic() - started)
    return Outcome(h.kind, status, body, preview_id=preview_id, seconds=time.monotonic() - started)


async def send_oversized(api: Api, fx: Fixture, n: int) -> Outcome:
    """A movie over the upload limit, announced (Content-Length) or not (chunked), in turn."""
    started = time.monotonic()
    preview_id = await new_preview(api, fx, n)
    boundary = f"hostile{n}"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big{n}.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    mb = b"\x01" * (1024 * 1024)
    parts = UPLOAD_LIMIT // len(mb) + 2

    async def chunked():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(parts):
            yield mb
        yield tail

    headers = {"Authorization": f"Bearer {fx.token}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    data: Any = head + mb * parts + tail if n % 2 == 0 else chunked()
    try:
        async with api.session.post(f"{api.base}/pictures/preview-files/{preview_id}", data=data, headers=headers) as r:
            text = await r.text()
            try:
                body: Any = json.loads(text)
            except ValueError:
                body = text
            return Outcome("oversized", r.status, body, preview_id=preview_id, seconds=time.monotonic() - started)
    except (TimeoutError, aiohttp.ClientError) as exc:
        # a server may close while the client still writes the refused body: the answer
        # was then sent but not read by this client
        return Outcome("oversized", None, error=repr(exc)[:200], preview_id=preview_id,
                       seconds=time.monotonic() - started)


async def send_stalled(api: Api, fx: Fixture, n: int, gateway: tuple[str, int]) -> Outcome:
    """Announce a whole movie (Content-Length), send its first 2 KB, then nothing: the
    server must answer (408) on its own and free the request."""
    started = time.monotonic()
    preview_id = await new_preview(api, fx, n)
    boundary = f"stall{n}"
    head = stalled_body_head(boundary)
    declared = len(head) + len(clip()) + 64
    request = (f"POST /api/pictures/preview-files/{preview_id} HTTP/1.1\r\nHost: {gateway[0]}:{gateway[1]}\r\n"
               f"Authorization: Bearer {fx.token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
               f"Content-Length: {declared}\r\n\r\n").encode() + head
    reader, writer = await asyncio.open_connection(*gateway)
    try:
        writer.write(request)
        await writer.drain()
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=IDLE_SECONDS + 30)
        except TimeoutError:
            return Outcome("stalled_body", None, error="no answer", preview_id=preview_id,
                           seconds=time.monotonic() - started)
        status = int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else None
        length = 0
        while True:
            header = await asyncio.wait_for(reader.readline(), timeout=10)
            if header in (b"\r\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        raw = await asyncio.wait_for(reader.readexactly(length), timeout=10) if length else b""
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("latin-1")
        return Outcome("stalled_body", status, body, preview_id=preview_id, seconds=time.monotonic() - started)
    finally:
        writer.close()


async def settle(dsn: str, outcomes: list[Outcome], bound: float) -> dict[str, Any]:
    """Wait (up to ``bound`` s after the last upload) for every accepted preview to leave
    ``processing``; record each one's final status and reason."""
    ids = [uuid.UUID(o.preview_id) for o in outcomes if o.preview_id]
    started = time.monotonic()
    conn = await asyncpg.connect(dsn)
    try:
        while True:
            rows = await conn.fetch("select id, status, status_reason, source_extension from preview_file "
                                    "where id = any($1::uuid[])", ids)
            state = {str(r["id"]): r for r in rows}
            waiting = [i for i, r in state.items() if r["status"] == "processing" and r["source_extension"]]
            if not waiting or time.monotonic() - started > bound:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    for o in outcomes:
        r = state.get(o.preview_id or "")
        if r is not None and o.status is not None and 200 <= o.status < 300:
            o.final, o.reason = r["status"], r["status_reason"]
    return {"stuck_processing": len(waiting), "settle_s": round(time.monotonic() - started, 1)}


def stored_objects(stack: Stack) -> set[str]:
    """Every object name in media's preview buckets (previews, movies, files)."""
    from minio import Minio

    infra = stack.infra
    client = Minio(infra.s3_endpoint, access_key=infra.s3_access_key, secret_key=infra.s3_secret_key, secure=False)
    names = set()
    for kind in ("previews", "movies", "files"):
        bucket = f"slate-{kind}"
        if client.bucket_exists(bucket):
            names |= {o.object_name for o in client.list_objects(bucket, recursive=True)}
    return names


async def refused_left_nothing(stack: Stack, dsn: str, outcomes: list[Outcome]) -> list[str]:
    """A refused upload (4xx or no answer) left its preview without a file: no source
    recorded on the row, no object stored under its id."""
    refused = [o for o in outcomes if o.preview_id and (o.status is None or o.status >= 400)]
    if not refused:
        return []
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("select id, source_extension, file_size, status from preview_file "
                                "where id = any($1::uuid[])", [uuid.UUID(o.preview_id or "") for o in refused])
    finally:
        await conn.close()
    problems = [f"refused upload left its preview {r['id']} with a file: {dict(r)}" for r in rows
                if r["source_extension"] is not None or r["file_size"]]
    names = await asyncio.to_thread(stored_objects, stack)
    for o in refused:
        held = [n for n in names if o.preview_id and o.preview_id in n]
        if held:
            problems.append(f"{o.kind}: refused upload left objects {held}")
    return problems


async def jobs_left(nats_url: str) -> dict[str, int]:
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        info = await js.stream_info(JOBS_STREAM)
        pending = ack_pending = 0
        for c in await js.consumers_info(JOBS_STREAM):
            pending += c.num_pending
            ack_pending += c.num_ack_pending
        return {"queued": info.state.messages, "pending": pending, "ack_pending": ack_pending}
    finally:
        await nc.close()


def judge(o: Outcome) -> str | None:
    """What is wrong with an answer (None: a clear answer)."""
    if o.status is None:
        if o.kind == "oversized" and "Connection" in o.error:
            return None  # refused while the client was still writing: see send_oversized
        return f"{o.kind}: no answer ({o.error})"
    if o.status >= 500:
        return f"{o.kind}: {o.status} {str(o.body)[:200]}"
    if 400 <= o.status < 500:
        return None if zou_error(o.body) else f"{o.kind}: {o.status} not in Zou's error shape: {str(o.body)[:200]}"
    if o.preview_id is None:  # an avatar accepted: only good pictures may be
        return None
    if o.final == "broken":
        return None if o.reason else f"{o.kind}: broken without a reason"
    if o.final == "ready":
        return None
    return f"{o.kind}: preview left {o.final!r} after a {o.status}"


def label(o: Outcome) -> str:
    if o.status is None:
        return "no answer"
    if 400 <= o.status < 500 and isinstance(o.body, dict):
        return f"{o.status} {o.body.get('message', '')[:80]}"
    if o.final:
        return f"{o.status} -> {o.final}" + (f": {o.reason[:70]}" if o.reason else "")
    return str(o.status)


def plan(count: int, seed: int, only: list[str] | None = None) -> list[str]:
    kinds = only or [*catalogue(seed), *SPECIAL]
    if count <= len(kinds):
        return kinds[:count]
    rnd = random.Random(seed)
    rest = [rnd.choice(kinds) for _ in range(count - len(kinds))]
    return kinds + rest


#: Peak RSS of each media process with its children (its uvicorn workers, the ffmpeg runs).
#: Measured 190-240 MB through these runs; one decoded bomb takes it to 1.5-3 GB.
RSS_BOUND_MB = 400


async def run(stack: Stack, *, count: int, clients: int, seed: int = 0, settle_bound: float = 120.0,
              kinds: list[str] | None = None, rss_bound_mb: int = RSS_BOUND_MB, log: Any = print) -> dict[str, Any]:
    base = stack.gateway_url + "/api"
    gateway = ("127.0.0.1", stack.config.ports["gateway"])
    files = catalogue(seed)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        api = Api(session, base)
        fx = await make_fixture(api, stack.config.admin_email, stack.config.admin_password, comments=max(4, clients))
        todo = list(enumerate(plan(count, seed, kinds)))
        outcomes: list[Outcome] = []
        counter = itertools.count()

        async def client() -> None:
            while todo:
                n, kind = todo.pop(0)
                if kind == "stalled_body":
                    o = await send_stalled(api, fx, n, gateway)
                elif kind == "oversized":
                    o = await send_oversized(api, fx, n)
                else:
                    o = await send_file(api, fx, files[kind](n), n)
                outcomes.append(o)
                done = next(counter) + 1
                if done % 100 == 0:
                    log(f"{done}/{count} sent")

        started = time.monotonic()
        with RssSampler(stack) as rss:
            await asyncio.gather(*(client() for _ in range(clients)))
            sent_s = time.monotonic() - started
            dsn = stack.infra.postgres_dsn.rsplit("/", 1)[0] + "/slate_media"
            settled = await settle(dsn, outcomes, settle_bound)
            wall = time.monotonic() - started
            # the service still serves: a good picture and a good movie go through
            after = [await send_file(api, fx, Hostile("good_png", "good.png", good_png()), 0),
                     await send_file(api, fx, Hostile("good_movie", "good.mp4", clip()), 1)]
            after_settled = await settle(dsn, after, settle_bound)
            scratch = rss.open_scratch_files()
        jobs = await jobs_left(stack.infra.nats_url)
        leftovers = await refused_left_nothing(stack, dsn, outcomes)

    problems = [p for p in (judge(o) for o in outcomes) if p] + leftovers
    for o in after:
        if o.status != 201 or o.final != "ready":
            problems.append(f"after the run, a good {o.kind} upload: {o.status} -> {o.final} {o.reason or o.body}")
    if settled["stuck_processing"] or after_settled["stuck_processing"]:
        problems.append(f"previews left processing: {settled['stuck_processing']}")
    for name, peak in rss.peaks.items():
        if peak > rss_bound_mb * 2**20:
            problems.append(f"{name}: RSS peaked at {round(peak / 2**20)} MB (bound {rss_bound_mb} MB)")
    if scratch:
        problems.append(f"upload scratch files still open: {scratch[:5]}")
    if any(jobs.values()):
        problems.append(f"jobs left: {jobs}")
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        per_kind[o.kind][label(o)] += 1
    slowest: dict[str, float] = defaultdict(float)
    for o in outcomes:
        slowest[o.kind] = max(slowest[o.kind], o.seconds)
    return {
        "count": len(outcomes),
        "clients": clients,
        "sent_s": round(sent_s, 1),
        "wall_s": round(wall, 1),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "per_kind": {k: dict(v) for k, v in sorted(per_kind.items())},
        "slowest_answer_s": {k: round(v, 2) for k, v in sorted(slowest.items())},
        "rss_peak_mb": {k: round(v / 2**20) for k, v in rss.peaks.items()},
        "rss_peak_total_mb": round(rss.peak_total / 2**20),
        "rss_samples": rss.samples,
        "settle": settled,
        "jobs_left": jobs,
        "scratch_files_open": len(scratch),
        "after": [label(o) for o in after],
        "problems": problems,
    }


def print_report(report: dict[str, Any], out: Any = sys.stdout) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"{report['count']} uploads, {report['clients']} clients, sent in {report['sent_s']} s, "
      f"settled {report['settle']}, wall {report['wall_s']} s, load {report['load_avg']} on {report['cpus']} CPUs")
    for kind, answers in report["per_kind"].items():
        p(f"  {kind:<24} " + "; ".join(f"{n} x {a}" for a, n in answers.items()))
    p(f"RSS peak (MB) per media process with its children: {report['rss_peak_mb']}, "
      f"together {report['rss_peak_total_mb']} ({report['rss_samples']} samples)")
    p(f"jobs left {report['jobs_left']}; after the run: {report['after']}")
    p(f"problems: {len(report['problems'])}")
    for x in report["problems"][:40]:
        p(f"  - {x}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", help="the stack's data (default: a temporary directory)")
    parser.add_argument("--out", help="write the report as JSON here")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting of the stack (e.g. SLATE_MEDIA_MAX_PICTURE_PIXELS=300000000 to see a bomb decoded)")
    parser.add_argument("--kinds", help="comma-separated kinds to send (default: all, mixed)")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="slate-hostile-") as tmp:
        stack = hostile_stack(Path(args.home or tmp), extra)
        t = time.monotonic()
        with stack:
            print(f"stack up in {time.monotonic() - t:.1f}s at {stack.gateway_url}", flush=True)
            report = asyncio.run(run(stack, count=args.count, clients=args.clients, seed=args.seed,
                                     kinds=args.kinds.split(",") if args.kinds else None,
                                     log=lambda m: print(m, flush=True)))
    print_report(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2, default=str))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
