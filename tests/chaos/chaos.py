"""Faults under load: the Kitsu mix plus preview uploads while processes are killed.

A chaos run boots its own embedded stack (every service, one media worker process, the
gateway, NATS and PostgreSQL under the stack's supervisor), seeds a small production
through the public API (``bench/production_seed.py``), then runs N clients through the
gateway with the Kitsu mix of ``/work/shared/bench/load.py`` (reads, comments with a
status change, task updates) plus preview uploads (a comment, its preview, a PNG). Meanwhile
it ``kill -9``s, in turn, each service process, the media worker, the gateway, NATS and
PostgreSQL (``Stack.kill``) and lets the supervisor restart them.

Every write is recorded with its values and what the client saw. Afterwards, once the
stack is quiet again, it checks:

* every write answered 2xx is readable with its values (comments, task estimation and
  priority, previews ready); a write answered otherwise (502/503/504 or no answer) may or
  may not have been applied, and is counted apart;
* no comment was created twice, and no listing a client read held an id twice;
* every outbox row was published, every event row of the outboxes is in the
  ``SLATE_EVENTS`` stream (ids compared), and every durable event consumer has the id of
  every event its filter matches in its service's inbox table (applied once: the inbox
  key is the event id), with nothing pending;
* no preview with an uploaded source is still ``processing``, and the jobs stream is empty;
* each killed process was serving again within ``serving_bound`` seconds of its restart
  (the supervisor's respawn), and, apart, how long it took to be ready (``/readyz``: its
  backlog of events applied) and how long clients of the gateway waited.

A 502, 503 or 504 (or a refused connection) while a process is down is allowed and
counted; a 2xx followed by a lost write, a duplicate, any other 5xx, or a 4xx to a valid
request is a failure.

Short mode (``tests/chaos/test_chaos.py``, in ``make test``): 4 clients, each target
killed once, one kill every 10 s, about 2 minutes of load. Long mode (on a quiet machine):

    .venv/bin/python tests/chaos/chaos.py --clients 32 --duration 600 --kill-every 60 \\
        --out bench/out/chaos-long.json
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import sys
import tempfile
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
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from production_seed import ARTIST_PASSWORD, Scale, SeedResult, seed  # noqa: E402

from slate_common.config import SERVICES  # noqa: E402
from slate_common.events.consistency import keeps_of_metadata  # noqa: E402
from slate_common.events.versions import affects, changed_of  # noqa: E402
from slate_common.stack import Stack, StackConfig  # noqa: E402

#: The Kitsu mix of /work/shared/bench/load.py (same operations and weights) plus previews.
MIX: dict[str, int] = {
    "auth_authenticated": 8,
    "projects_open": 6,
    "persons": 5,
    "user_tasks": 10,
    "task_get": 14,
    "task_comments": 14,
    "shot_get": 6,
    "project_shots": 4,
    "project_assets": 4,
    "shots_with_tasks_episode": 2,
    "assets_with_tasks": 2,
    "comment_post": 6,
    "task_put": 4,
    "preview_upload": 3,
}
#: Answers allowed while a process is down (the gateway's "upstream away" answers).
DOWN_STATUSES = frozenset({502, 503, 504})
#: A client's pause after such an answer (or none): people and scripts do not retry in a
#: tight loop, and a storm of instant 503s would starve the restarting process of CPU.
DOWN_PAUSE = 0.5
EVENTS_STREAM = "SLATE_EVENTS"
JOBS_STREAM = "SLATE_MEDIA_JOBS"
WORKER = "media-worker"


def default_targets() -> list[str]:
    """Each service process, a worker, the gateway, NATS and PostgreSQL, in that order."""
    return [*SERVICES, WORKER, "gateway", "nats", "postgres"]


@dataclass
class ChaosConfig:
    clients: int = 4
    duration: float = 120.0  # seconds of load
    kill_every: float = 10.0
    lead: float = 8.0  # load before the first kill
    rounds: int | None = 1  # kills of each target (None: until the end of the load)
    targets: list[str] = field(default_factory=default_targets)
    serving_bound: float = 5.0  # seconds from a restart to serving again
    settle_timeout: float = 180.0  # after the load, for backlogs and jobs to drain
    request_timeout: float = 30.0
    seed: int = 17


@dataclass
class Kill:
    target: str
    at: float  # seconds since the load started
    restart_s: float | None = None  # kill -> the supervisor's respawn
    serving_s: float | None = None  # respawn -> serving (its port answers, or its loop runs)
    ready_s: float | None = None  # respawn -> ready (/readyz: backlog applied)
    backlog_s: float | None = None  # serving -> ready
    client_s: float | None = None  # kill -> first 2xx of a client call through the gateway
    probe_status: int | str | None = None  # the probe's last answer
    cpu_s: float | None = None  # CPU the new process (and its children) used up to serving
    cpu_wait_s: float | None = None  # time it spent runnable, waiting for a CPU, up to serving
    load_per_cpu: float = 0.0  # the machine's 1-minute load average per CPU at the kill


@dataclass
class Ledger:
    """What the clients sent and saw."""

    codes: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    duplicates_seen: int = 0
    # comments: text -> {"task_id", "status_id", "id" (when acked), "acked"}
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # task id -> [(estimation, priority, acked)] in the order sent (one client per task)
    puts: dict[str, list[tuple[int, int, bool]]] = field(default_factory=lambda: defaultdict(list))
    # preview id -> {"task_id", "comment_id", "uploaded"}
    previews: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload_retries: int = 0
    uploads_abandoned: int = 0

    def fail(self, what: str) -> None:
        if len(self.failures) < 200:
            self.failures.append(what)


class Call:
    """One HTTP call's outcome: status (None when no answer came) and JSON body."""

    def __init__(self, status: int | None, body: Any, error: str = "") -> None:
        self.status, self.body, self.error = status, body, error

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, ledger: Ledger, timeout: float) -> None:
        self.session, self.base, self.ledger = session, base.rstrip("/"), ledger
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.down_answers = 0

    async def call(self, op: str, method: str, path: str, token: str, *, json_body: Any = None,
                   data: Any = None, record: bool = True) -> Call:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self.session.request(method, self.base + path, json=json_body, data=data, headers=headers,
                                            timeout=self.timeout) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            if record:
                self.ledger.codes[(op, "no answer")] += 1
            self.down_answers += 1
            return Call(None, None, repr(exc)[:200])
        if status in DOWN_STATUSES:
            self.down_answers += 1
        if record:
            self.ledger.codes[(op, str(status))] += 1
            if status >= 500 and status not in DOWN_STATUSES:
                self.ledger.fail(f"{op}: {method} {path} -> {status} {raw[:300]!r}")
            elif 400 <= status < 500:
                self.ledger.fail(f"{op}: {method} {path} -> {status} {raw[:300]!r}")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return Call(status, body)


#: Media's answer to a second file on one preview (as Zou's).
ALREADY_UPLOADED = "This preview already has its file."


def png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 36), ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256)).save(out, "PNG")
    return out.getvalue()


@dataclass
class VirtualUser:
    index: int
    artist_token: str
    manager_token: str
    own_tasks: list[str]  # the artist's tasks (comments, previews)
    put_tasks: list[str]  # tasks only this client updates (their last value is known)
    rng: random.Random
    n: int = 0


class Load:
    def __init__(self, client: Client, fixture: SeedResult, ledger: Ledger) -> None:
        self.c, self.fx, self.ledger = client, fixture, ledger
        self.task_ids = [t["id"] for t in fixture.tasks]

    def _no_duplicates(self, op: str, call: Call) -> None:
        if call.ok and isinstance(call.body, list):
            ids = [row.get("id") for row in call.body if isinstance(row, dict)]
            dups = len(ids) - len(set(ids))
            if dups:
                self.ledger.duplicates_seen += dups
                self.ledger.fail(f"{op}: a listing held {dups} id(s) twice")

    async def run(self, op: str, vu: VirtualUser) -> None:
        pid, rng, c = self.fx.project_id, vu.rng, self.c
        if op == "auth_authenticated":
            await c.call(op, "GET", "/auth/authenticated", vu.artist_token)
        elif op == "projects_open":
            await c.call(op, "GET", "/data/projects/open", vu.artist_token)
        elif op == "persons":
            self._no_duplicates(op, await c.call(op, "GET", "/data/persons", vu.artist_token))
        elif op == "user_tasks":
            self._no_duplicates(op, await c.call(op, "GET", "/data/user/tasks", vu.artist_token))
        elif op == "task_get":
            await c.call(op, "GET", f"/data/tasks/{rng.choice(self.task_ids)}", vu.artist_token)
        elif op == "task_comments":
            task = rng.choice(vu.own_tasks or self.task_ids)
            self._no_duplicates(op, await c.call(op, "GET", f"/data/tasks/{task}/comments", vu.artist_token))
        elif op == "shot_get":
            await c.call(op, "GET", f"/data/shots/{rng.choice(self.fx.shot_ids)}", vu.artist_token)
        elif op == "project_shots":
            self._no_duplicates(op, await c.call(op, "GET", f"/data/projects/{pid}/shots", vu.manager_token))
        elif op == "project_assets":
            self._no_duplicates(op, await c.call(op, "GET", f"/data/projects/{pid}/assets", vu.manager_token))
        elif op == "shots_with_tasks_episode":
            episode = rng.choice(self.fx.episode_ids)
            self._no_duplicates(op, await c.call(
                op, "GET", f"/data/shots/with-tasks?project_id={pid}&episode_id={episode}", vu.manager_token))
        elif op == "assets_with_tasks":
            self._no_duplicates(op, await c.call(op, "GET", f"/data/assets/with-tasks?project_id={pid}",
                                                 vu.manager_token))
        elif op == "comment_post":
            await self.comment(op, vu)
        elif op == "task_put":
            await self.task_put(vu)
        elif op == "preview_upload":
            await self.preview(vu)
        else:  # pragma: no cover - MIX and this list go together
            raise ValueError(op)

    async def comment(self, op: str, vu: VirtualUser) -> tuple[str, str | None]:
        vu.n += 1
        task = vu.rng.choice(vu.own_tasks)
        status = self.fx.status_ids["wip" if vu.n % 2 else "wfa"]
        text = f"chaos {vu.index}-{vu.n}: {uuid.uuid4().hex[:8]}"
        record: dict[str, Any] = {"task_id": task, "status_id": status, "id": None, "acked": False}
        self.ledger.comments[text] = record
        call = await self.c.call(op, "POST", f"/actions/tasks/{task}/comment", vu.artist_token,
                                 json_body={"task_status_id": status, "comment": text})
        if call.ok:
            record["id"], record["acked"] = call.body["id"], True
        return task, record["id"]

    async def task_put(self, vu: VirtualUser) -> None:
        vu.n += 1
        task = vu.rng.choice(vu.put_tasks)
        estimation, priority = (vu.index * 100_000 + vu.n) * 60, vu.rng.randint(0, 3)
        self.ledger.puts[task].append((estimation, priority, False))
        call = await self.c.call("task_put", "PUT", f"/data/tasks/{task}", vu.manager_token,
                                 json_body={"estimation": estimation, "priority": priority})
        if call.ok:
            self.ledger.puts[task][-1] = (estimation, priority, True)

    async def preview(self, vu: VirtualUser) -> None:
        """Kitsu's three calls: a comment, a preview on it, the picture. A failed upload is
        sent again (as a user would), so that a preview is not left waiting for its file."""
        task, comment_id = await self.comment("preview_comment", vu)
        if comment_id is None:
            return
        call = await self.c.call("preview_add", "POST", f"/actions/tasks/{task}/comments/{comment_id}/add-preview",
                                 vu.artist_token, json_body={})
        if not call.ok:
            return
        preview_id = call.body["id"]
        record = {"task_id": task, "comment_id": comment_id, "uploaded": False}
        self.ledger.previews[preview_id] = record
        picture = png(vu.index * 100_000 + vu.n)
        for attempt in range(30):
            form = aiohttp.FormData()
            form.add_field("file", picture, filename=f"take{vu.n}.png", content_type="image/png")
            up = await self.c.call("preview_upload", "POST", f"/pictures/preview-files/{preview_id}",
                                   vu.artist_token, data=form, record=attempt == 0)
            if up.ok:
                record["uploaded"] = True
                return
            if attempt > 0 and up.status == 400 and ALREADY_UPLOADED in json.dumps(up.body or {}):
                # an earlier attempt landed though its answer was lost (a process died after
                # storing it): Zou refuses a second file on a preview, so does Slate. The
                # final checks still require this preview to be ready.
                self.ledger.codes[("preview_upload", "400 already uploaded by a lost attempt")] += 1
                record["uploaded"] = True
                return
            if up.status is not None and up.status not in DOWN_STATUSES:
                if attempt > 0:  # not recorded by the client on a retry: record it here
                    self.ledger.fail(f"preview_upload: retry {attempt} -> {up.status} {json.dumps(up.body)[:300]}")
                return  # a failure, recorded by the client
            self.ledger.upload_retries += 1
            await asyncio.sleep(0.5)
        self.ledger.uploads_abandoned += 1


# -- watching processes -----------------------------------------------------------------


async def _http_ok(session: aiohttp.ClientSession, url: str, token: str | None = None) -> bool:
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=2)) as resp:
            await resp.read()
            return 200 <= resp.status < 300
    except (aiohttp.ClientError, TimeoutError, ConnectionError):
        return False


def load_per_cpu() -> float:
    return os.getloadavg()[0] / (os.cpu_count() or 1)


def cpu_of(pid: int | None) -> tuple[float | None, float | None]:
    """CPU seconds used by ``pid`` and its live children, and seconds they spent waiting
    for a CPU (``/proc/<pid>/schedstat``: on CPU, on the run queue)."""
    if pid is None:
        return None, None
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None, None
    used = waited = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            used += times.user + times.system
            with open(f"/proc/{proc.pid}/schedstat") as f:
                waited += int(f.read().split()[1]) / 1e9
        except (psutil.Error, OSError, ValueError, IndexError):
            continue
    return round(used, 2), round(waited, 2)


def _log_count(stack: Stack, name: str, needle: str) -> int:
    path = stack.home / "logs" / f"{name}.log"
    try:
        return path.read_text(errors="replace").count(needle)
    except OSError:
        return 0


class Watcher:
    """Serving and readiness of each supervised process, and a client call for each."""

    def __init__(self, stack: Stack, session: aiohttp.ClientSession, admin_token: str, project_id: str) -> None:
        self.stack, self.session, self.token, self.project_id = stack, session, admin_token, project_id

    async def serving(self, name: str, counts: dict[str, int]) -> bool:
        s = self.stack
        if name == "postgres":
            try:
                conn = await asyncpg.connect(s.infra.postgres_dsn, timeout=2)
                try:
                    return await conn.fetchval("select 1") == 1
                finally:
                    await conn.close()
            except (OSError, asyncpg.PostgresError, TimeoutError):
                return False
        if name == "nats":
            assert s.nats is not None
            return await _http_ok(self.session, f"{s.nats.monitor_url}/healthz?js-enabled-only=true")
        if name.endswith("-worker") or "-worker-" in name:
            return _log_count(s, name, "worker_running") > counts["worker_running"]
        return await _http_ok(self.session, f"http://127.0.0.1:{s.port_of(name)}/healthz")

    async def ready(self, name: str, counts: dict[str, int]) -> bool:
        s = self.stack
        if name.endswith("-worker") or "-worker-" in name:
            return _log_count(s, name, "consumer_caught_up") > counts["consumer_caught_up"]
        if name in ("postgres", "nats"):  # the services it serves are ready again
            names = [*s.config.services, *s.gateway_names]
        else:
            names = [name]
        for other in names:
            if not await _http_ok(self.session, f"http://127.0.0.1:{s.port_of(other)}/readyz"):
                return False
        return True

    def probe_path(self, name: str) -> str | None:
        """A call through the gateway that needs ``name``."""
        return {
            "auth": "/api/auth/authenticated",
            "production": f"/api/data/projects/{self.project_id}",
            "media": "/api/data/preview-background-files",
            "gateway": "/api/auth/authenticated",
            "postgres": f"/api/data/projects/{self.project_id}",
        }.get(name)

    async def probe(self, name: str) -> int | str:
        """The status of a call through the gateway that needs ``name`` ("no answer")."""
        s = self.stack
        if name == "nats":  # reads need no NATS: a write does (its events)
            try:
                async with self.session.put(
                    f"{s.gateway_url}/api/data/projects/{self.project_id}",
                    json={"description": f"probe {uuid.uuid4().hex[:6]}"},
                    headers={"Authorization": f"Bearer {self.token}"}, timeout=aiohttp.ClientTimeout(total=10),
                ) as resp:
                    await resp.read()
                    return resp.status
            except (aiohttp.ClientError, TimeoutError, ConnectionError):
                return "no answer"
        path = self.probe_path(name)
        assert path is not None
        try:
            async with self.session.get(s.gateway_url + path, headers={"Authorization": f"Bearer {self.token}"},
                                        timeout=aiohttp.ClientTimeout(total=10)) as resp:
                await resp.read()
                return resp.status
        except (aiohttp.ClientError, TimeoutError, ConnectionError):
            return "no answer"

    async def kill(self, name: str, t0: float, deadline: float = 120.0) -> Kill:
        s = self.stack
        proc = s.supervisor[name]
        restarts = proc.restarts
        counts = {k: _log_count(s, name, k) for k in ("worker_running", "consumer_caught_up")}
        killed_at = time.monotonic()
        record = Kill(name, round(killed_at - t0, 1), load_per_cpu=round(load_per_cpu(), 2))
        await asyncio.to_thread(s.kill, name)
        end = killed_at + deadline

        async def client() -> None:
            if self.probe_path(name) is None and name != "nats":  # serves no public route yet
                return
            while time.monotonic() < end:
                record.probe_status = await self.probe(name)
                if isinstance(record.probe_status, int) and 200 <= record.probe_status < 300:
                    record.client_s = round(time.monotonic() - killed_at, 2)
                    return
                await asyncio.sleep(0.1)

        probe = asyncio.create_task(client())
        while time.monotonic() < end and not (proc.restarts > restarts and proc.running()):
            await asyncio.sleep(0.05)
        if proc.restarts > restarts:
            respawned = proc.started_at
            record.restart_s = round(respawned - killed_at, 2)
            while time.monotonic() < end:
                if await self.serving(name, counts):
                    record.serving_s = round(time.monotonic() - respawned, 2)
                    record.cpu_s, record.cpu_wait_s = cpu_of(proc.pid)
                    break
                await asyncio.sleep(0.05)
            while time.monotonic() < end:
                if await self.ready(name, counts):
                    record.ready_s = round(time.monotonic() - respawned, 2)
                    break
                await asyncio.sleep(0.1)
            if record.serving_s is not None and record.ready_s is not None:
                record.backlog_s = round(max(0.0, record.ready_s - record.serving_s), 2)
        await probe
        return record


# -- the run ------------------------------------------------------------------------------


async def _admin_token(session: aiohttp.ClientSession, base: str, email: str, password: str) -> str:
    async with session.post(f"{base}/auth/login", json={"email": email, "password": password}) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"login {email}: {resp.status} {body}")
        return str(body["access_token"])


def seed_scale(clients: int) -> Scale:
    return Scale(episodes=1, sequences_per_episode=2, shots_per_sequence=10, assets_per_type=5,
                 managers=2, supervisors=1, artists=max(4, min(16, clients)), comments=40)


async def run_load(stack: Stack, cfg: ChaosConfig, log: Any = print) -> dict[str, Any]:
    """Seed, run the load with the kills, wait for quiet, check; the report (a dict)."""
    api = stack.gateway_url + "/api"
    email, password = stack.config.admin_email, stack.config.admin_password
    started = time.monotonic()
    fixture = await seed(api, email, password, seed_scale(cfg.clients), concurrency=4, tag="chaos")
    if fixture.failed:
        raise RuntimeError(f"seed failed: {fixture.failed}")
    log(f"seeded in {time.monotonic() - started:.1f}s: {fixture.counts}")
    ledger = Ledger()
    connector = aiohttp.TCPConnector(limit=cfg.clients * 2 + 16)
    async with aiohttp.ClientSession(connector=connector) as session:
        admin = await _admin_token(session, api, email, password)
        client = Client(session, api, ledger, cfg.request_timeout)
        artists = [(pid, p) for pid, p in fixture.persons.items() if p["role"] == "user"]
        managers = [p for p in fixture.persons.values() if p["role"] == "manager"]
        tokens: dict[str, str] = {}
        for p in [*(a for _, a in artists), *managers]:
            tokens[p["email"]] = await _admin_token(session, api, p["email"], ARTIST_PASSWORD)
        all_tasks = [t["id"] for t in fixture.tasks]
        base_rng = random.Random(cfg.seed)
        vus = []
        for i in range(cfg.clients):
            _, artist = artists[i % len(artists)]
            vus.append(VirtualUser(
                index=i, artist_token=tokens[artist["email"]],
                manager_token=tokens[managers[i % len(managers)]["email"]],
                own_tasks=artist["task_ids"], put_tasks=all_tasks[i::cfg.clients] or all_tasks[:1],
                rng=random.Random(base_rng.random()),
            ))
        load = Load(client, fixture, ledger)
        names, weights = list(MIX), list(MIX.values())
        t0 = time.monotonic()
        stop_at = t0 + cfg.duration

        async def loop(vu: VirtualUser) -> None:
            while time.monotonic() < stop_at:
                before = client.down_answers
                await load.run(vu.rng.choices(names, weights)[0], vu)
                if client.down_answers > before:  # a user waits a moment before the next click
                    await asyncio.sleep(DOWN_PAUSE)

        watcher = Watcher(stack, session, admin, fixture.project_id)
        kills: list[Kill] = []

        async def killer() -> None:
            tail = min(cfg.kill_every, 20.0)
            total = None if cfg.rounds is None else cfg.rounds * len(cfg.targets)
            watches = []
            i = 0
            while total is None or i < total:
                at = t0 + cfg.lead + i * cfg.kill_every
                if at > stop_at - tail:
                    break
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                name = cfg.targets[i % len(cfg.targets)]
                log(f"{at - t0:6.1f}s kill -9 {name}")
                watches.append(asyncio.create_task(watcher.kill(name, t0)))
                i += 1
            kills.extend(await asyncio.gather(*watches))

        await asyncio.gather(killer(), *(loop(vu) for vu in vus))
        load_s = time.monotonic() - t0
        log(f"load done in {load_s:.1f}s; {sum(ledger.codes.values())} requests")
        quiet = await wait_quiet(stack, session, cfg.settle_timeout)
        log(f"quiet after {quiet['seconds']}s")
        checks = await verify(stack, session, api, admin, ledger)
        events = await audit_events(stack)
    report = summarize(cfg, ledger, kills, checks, events, quiet, load_s)
    return report


async def _count(conn: asyncpg.Connection, sql: str, *args: Any) -> int:
    return int(await conn.fetchval(sql, *args))


def _dsn(stack: Stack, service: str) -> str:
    return stack.infra.postgres_dsn.rsplit("/", 1)[0] + "/slate_" + service.replace("-", "_")


async def wait_quiet(stack: Stack, session: aiohttp.ClientSession, timeout: float) -> dict[str, Any]:
    """Every process up and ready, every outbox published, no consumer with anything
    pending, no preview job waiting: the state the checks compare."""
    started = time.monotonic()
    deadline = started + timeout
    last: dict[str, Any] = {}
    nc = None
    while time.monotonic() < deadline:
        last = {}
        try:
            ready = [n for n in [*stack.config.services, *stack.gateway_names]
                     if not await _http_ok(session, f"http://127.0.0.1:{stack.port_of(n)}/readyz")]
            last["not_ready"] = ready
            unpublished = {}
            processing = 0
            for svc in stack.config.services:
                conn = await asyncpg.connect(_dsn(stack, svc), timeout=5)
                try:
                    unpublished[svc] = await _count(conn, "select count(*) from outbox_event where published_at is null")
                    if svc == "media":
                        processing = await _count(
                            conn, "select count(*) from preview_file where status = 'processing' "
                                  "and source_extension is not null")
                finally:
                    await conn.close()
            last["unpublished"] = {k: v for k, v in unpublished.items() if v}
            last["previews_processing"] = processing
            if nc is None or not nc.is_connected:
                nc = await nats.connect(stack.infra.nats_url, connect_timeout=2, max_reconnect_attempts=0)
            js = nc.jetstream()
            pending = {}
            for info in await js.consumers_info(EVENTS_STREAM):
                if info.num_pending or info.num_ack_pending:
                    pending[info.name] = (info.num_pending, info.num_ack_pending)
            jobs = (await js.stream_info(JOBS_STREAM)).state.messages
            last["consumers_pending"] = pending
            last["jobs_queued"] = jobs
            if not ready and not last["unpublished"] and not processing and not pending and not jobs:
                break
        except Exception as exc:  # noqa: BLE001 - something still restarting: look again
            last["error"] = repr(exc)[:200]
            if nc is not None:
                await nc.close()
                nc = None
        await asyncio.sleep(1.0)
    if nc is not None:
        await nc.close()
    last["seconds"] = round(time.monotonic() - started, 1)
    return last


async def verify(stack: Stack, session: aiohttp.ClientSession, api: str, token: str, ledger: Ledger
                 ) -> dict[str, Any]:
    """Read every acknowledged write back through the gateway, as the admin."""
    headers = {"Authorization": f"Bearer {token}"}
    sem = asyncio.Semaphore(8)
    lost: list[str] = []
    duplicates: list[str] = []

    async def get(path: str) -> tuple[int, Any]:
        async with sem, session.get(api + path, headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as resp:
            body = await resp.read()
            return resp.status, (json.loads(body) if body else None)

    # comments: every task that got one, listed once; each text at most once
    tasks = sorted({c["task_id"] for c in ledger.comments.values()})
    listings = dict(zip(tasks, await asyncio.gather(*(get(f"/data/tasks/{t}/comments") for t in tasks)), strict=True))
    texts: Counter[str] = Counter()
    by_id: dict[str, dict[str, Any]] = {}
    for task, (status, body) in listings.items():
        if status != 200:
            lost.append(f"comments of task {task}: {status}")
            continue
        for row in body:
            texts[row.get("text") or ""] += 1
            by_id[row["id"]] = row
    applied_unacked = 0
    for text, record in ledger.comments.items():
        if texts[text] > 1:
            duplicates.append(f"comment {text!r} is there {texts[text]} times")
        if record["acked"]:
            row = by_id.get(record["id"])
            if row is None or row.get("text") != text or row.get("task_status_id") != record["status_id"]:
                lost.append(f"comment {record['id']} ({text!r}) on task {record['task_id']}: {row}")
        elif texts[text]:
            applied_unacked += 1
    # task updates: the last acknowledged values, or those of a later unanswered write
    put_tasks = sorted(t for t, writes in ledger.puts.items() if any(w[2] for w in writes))
    answers = await asyncio.gather(*(get(f"/data/tasks/{t}") for t in put_tasks))
    for task, (status, body) in zip(put_tasks, answers, strict=True):
        writes = ledger.puts[task]
        last = max(i for i, w in enumerate(writes) if w[2])
        allowed = {(w[0], w[1]) for w in writes[last:]}  # the later ones were not answered
        got = (body or {}).get("estimation"), (body or {}).get("priority")
        if status != 200 or got not in allowed:
            lost.append(f"task {task}: {got} not among {sorted(allowed)} (last acknowledged {writes[last][:2]})")
    # previews: uploaded ones are ready, and their comment lists them
    uploaded = [p for p, r in ledger.previews.items() if r["uploaded"]]
    answers = await asyncio.gather(*(get(f"/data/preview-files/{p}") for p in uploaded))
    for preview, (status, body) in zip(uploaded, answers, strict=True):
        record = ledger.previews[preview]
        comment = by_id.get(record["comment_id"]) or {}
        listed = {p["id"] if isinstance(p, dict) else p for p in comment.get("previews") or []}
        if status != 200 or body.get("status") != "ready" or preview not in listed:
            lost.append(f"preview {preview}: {status} {(body or {}).get('status')} listed={preview in listed}")
    return {
        "comments_acked": sum(r["acked"] for r in ledger.comments.values()),
        "comments_unanswered": sum(not r["acked"] for r in ledger.comments.values()),
        "comments_unanswered_applied": applied_unacked,
        "task_updates_acked": sum(w[2] for ws in ledger.puts.values() for w in ws),
        "task_updates_unanswered": sum(not w[2] for ws in ledger.puts.values() for w in ws),
        "previews_uploaded": len(uploaded),
        "lost": lost,
        "duplicates": duplicates,
    }


def _matches(subject: str, pattern: str) -> bool:
    s, p = subject.split("."), pattern.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(s) == len(p)


async def audit_events(stack: Stack) -> dict[str, Any]:
    """Outbox rows, the stream and the inbox tables, compared by event id."""
    outbox: dict[str, set[str]] = {}
    jobs_rows = 0
    unpublished = 0
    for svc in stack.config.services:
        conn = await asyncpg.connect(_dsn(stack, svc), timeout=10)
        try:
            rows = await conn.fetch("select id::text, subject, published_at from outbox_event")
        finally:
            await conn.close()
        outbox[svc] = {r["id"] for r in rows if r["subject"].startswith("slate.events.")}
        jobs_rows += sum(1 for r in rows if not r["subject"].startswith("slate.events."))
        unpublished += sum(1 for r in rows if r["published_at"] is None)
    all_outbox = set().union(*outbox.values())

    nc = await nats.connect(stack.infra.nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(EVENTS_STREAM)).state
        name = f"chaos-audit-{uuid.uuid4().hex[:8]}"
        await js.add_consumer(EVENTS_STREAM, ConsumerConfig(
            durable_name=name, ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL,
            filter_subject="slate.events.>", inactive_threshold=120.0, metadata={"slate.readable": "false"},
        ))
        stream: list[tuple[str, str, frozenset[str] | None]] = []  # (event id, subject, fields it changed)
        try:
            sub = await js.pull_subscribe_bind(durable=name, stream=EVENTS_STREAM)
            while len(stream) < state.messages:
                try:
                    msgs = await sub.fetch(500, timeout=5)
                except nats.errors.TimeoutError:
                    break
                for msg in msgs:
                    event_id = (msg.headers or {}).get("Nats-Msg-Id") or json.loads(msg.data).get("id")
                    stream.append((str(event_id), msg.subject, changed_of(msg.headers)))
        finally:
            await js.delete_consumer(EVENTS_STREAM, name)
        consumers = [c for c in await js.consumers_info(EVENTS_STREAM) if c.name.endswith("-events")]
    finally:
        await nc.close()
    stream_ids = Counter(i for i, _, _ in stream)
    groups = {}
    for info in consumers:
        svc = info.name.removesuffix("-events")
        filters = list(info.config.filter_subjects or []) or [info.config.filter_subject or ">"]
        keeps = keeps_of_metadata(info.config.metadata)
        matching = [(i, subject, changed) for i, subject, changed in stream if any(_matches(subject, f) for f in filters)]
        # an update that changed none of the fields the group keeps is acked without being
        # applied (docs/consistency.md point 8): it has nothing to apply, so no inbox row
        expected = {i for i, subject, changed in matching
                    if not keeps or affects(changed, keeps.get(subject.split(".", 3)[-1]))}
        skipped = len({i for i, _, _ in matching} - expected)
        conn = await asyncpg.connect(_dsn(stack, svc), timeout=10)
        try:
            inbox = Counter(r["id"] for r in await conn.fetch(
                "select id::text from inbox_event where consumer = $1", info.name))
        finally:
            await conn.close()
        groups[info.name] = {
            "expected": len(expected),
            "skipped_unchanged": skipped,
            "applied": len(expected & set(inbox)),
            "not_applied": sorted(expected - set(inbox))[:20],
            "applied_twice": sum(1 for n in inbox.values() if n > 1),
            "pending": info.num_pending, "ack_pending": info.num_ack_pending,
            "redelivered": info.num_redelivered,
        }
    return {
        "outbox_events": len(all_outbox),
        "outbox_job_rows": jobs_rows,
        "outbox_unpublished": unpublished,
        "stream_messages": state.messages,
        "stream_read": len(stream),
        "stream_duplicates": sum(n - 1 for n in stream_ids.values()),
        "missing_from_stream": sorted(all_outbox - set(stream_ids))[:20],
        "missing_from_stream_count": len(all_outbox - set(stream_ids)),
        "stream_not_in_outbox": len(set(stream_ids) - all_outbox),
        "consumers": groups,
    }


def serving_bound(cfg: ChaosConfig, load: float) -> float:
    """The bound on respawn -> serving: ``cfg.serving_bound`` on a machine with CPU to
    spare, stretched by how oversubscribed the machine was at the kill (1-minute load
    average per CPU above 1): a process that waits for a core starts later, but one that
    hangs is still caught."""
    return cfg.serving_bound * max(1.0, load)


def summarize(cfg: ChaosConfig, ledger: Ledger, kills: list[Kill], checks: dict[str, Any],
              events: dict[str, Any], quiet: dict[str, Any], load_s: float) -> dict[str, Any]:
    codes: dict[str, dict[str, int]] = defaultdict(dict)
    for (op, code), n in sorted(ledger.codes.items()):
        codes[op][code] = n
    totals: Counter[str] = Counter()
    for (_, code), n in ledger.codes.items():
        totals[code] += n
    acked_writes = checks["comments_acked"] + checks["task_updates_acked"] + checks["previews_uploaded"]
    problems = list(ledger.failures)
    problems += [f"lost: {x}" for x in checks["lost"]]
    problems += [f"duplicate: {x}" for x in checks["duplicates"]]
    if events["missing_from_stream_count"]:
        problems.append(f"{events['missing_from_stream_count']} outbox events not in the stream: "
                        f"{events['missing_from_stream']}")
    if events["outbox_unpublished"]:
        problems.append(f"{events['outbox_unpublished']} outbox rows never published")
    for name, group in events["consumers"].items():
        if group["not_applied"] or group["applied_twice"]:
            problems.append(f"consumer {name}: {group['expected'] - group['applied']} events not applied "
                            f"{group['not_applied']}, {group['applied_twice']} applied twice")
    if quiet.get("previews_processing"):
        problems.append(f"{quiet['previews_processing']} previews stuck in processing")
    if quiet.get("jobs_queued"):
        problems.append(f"{quiet['jobs_queued']} preview jobs still queued")
    if quiet.get("not_ready") or quiet.get("error"):
        problems.append(f"not quiet after the load: {quiet}")
    for k in kills:
        bound = serving_bound(cfg, k.load_per_cpu)
        if k.serving_s is None or k.serving_s > bound:
            problems.append(f"{k.target} not serving within {bound:.1f}s of its restart: {k}")
        if k.ready_s is None:
            problems.append(f"{k.target} never ready again: {k}")
    killed = {k.target for k in kills}
    if cfg.rounds is not None and killed != set(cfg.targets):
        problems.append(f"not every target was killed: {sorted(set(cfg.targets) - killed)}")
    return {
        "config": {"clients": cfg.clients, "duration_s": cfg.duration, "kill_every_s": cfg.kill_every,
                   "rounds": cfg.rounds, "targets": cfg.targets},
        "load_s": round(load_s, 1),
        "requests": sum(ledger.codes.values()),
        "status_totals": dict(totals),
        "status_by_operation": codes,
        "writes_acknowledged": acked_writes,
        "writes": {k: v for k, v in checks.items() if k not in ("lost", "duplicates")},
        "lost": len(checks["lost"]),
        "duplicates_stored": len(checks["duplicates"]),
        "duplicates_seen_by_clients": ledger.duplicates_seen,
        "down_answers": sum(n for (_, code), n in ledger.codes.items()
                            if code == "no answer" or (code.isdigit() and int(code) in DOWN_STATUSES)),
        "upload_retries": ledger.upload_retries,
        "uploads_abandoned": ledger.uploads_abandoned,
        "events": events,
        "quiet": quiet,
        "kills": [k.__dict__ for k in kills],
        "problems": problems,
    }


def chaos_stack(home: Path, **overrides: Any) -> Stack:
    """The stack a chaos run kills: every service, one media worker process, on free ports."""
    extra = {"SLATE_LOG_LEVEL": "INFO", "SLATE_AUTH_LOGIN_ADDRESS_MAX_FAILURES": "100000"}
    config = StackConfig.on_free_ports(home, worker_processes={"media": 1}, gateway_replicas=1,
                                       extra_env=extra, **overrides)
    return Stack(config)


def print_report(report: dict[str, Any], out: Any = sys.stdout) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"load {report['load_s']}s, {report['requests']} requests, status {report['status_totals']}")
    p(f"writes acknowledged {report['writes_acknowledged']} {report['writes']}")
    p(f"lost {report['lost']}, duplicates stored {report['duplicates_stored']}, "
      f"duplicates seen by clients {report['duplicates_seen_by_clients']}, down answers {report['down_answers']}")
    ev = report["events"]
    p(f"events: outbox {ev['outbox_events']}, stream {ev['stream_messages']} (read {ev['stream_read']}, "
      f"duplicates {ev['stream_duplicates']}), missing {ev['missing_from_stream_count']}")
    for name, g in ev["consumers"].items():
        p(f"  {name}: expected {g['expected']} applied {g['applied']} twice {g['applied_twice']} "
          f"skipped (nothing kept changed) {g.get('skipped_unchanged', 0)} redelivered {g['redelivered']}")
    p("kills (s): target, at, kill->respawn, respawn->serving, respawn->ready, backlog, kill->client 2xx, "
      "CPU used and CPU waited up to serving, load/cpu, probe")
    for k in report["kills"]:
        p(f"  {k['target']:<14}{k['at']:>7}{k['restart_s']!s:>7}{k['serving_s']!s:>7}{k['ready_s']!s:>7}"
          f"{k['backlog_s']!s:>7}{k['client_s']!s:>7}{k['cpu_s']!s:>7}{k['cpu_wait_s']!s:>7}"
          f"{k['load_per_cpu']:>6}  {k['probe_status']}")
    p(f"problems: {len(report['problems'])}")
    for x in report["problems"][:40]:
        p(f"  - {x}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--kill-every", type=float, default=60.0)
    parser.add_argument("--lead", type=float, default=15.0, help="seconds of load before the first kill")
    parser.add_argument("--rounds", type=int, default=0, help="kills of each target (0: until the end)")
    parser.add_argument("--home", help="the stack's data (default: a temporary directory)")
    parser.add_argument("--out", help="write the report as JSON here")
    args = parser.parse_args()
    cfg = ChaosConfig(clients=args.clients, duration=args.duration, kill_every=args.kill_every, lead=args.lead,
                      rounds=args.rounds or None)
    with tempfile.TemporaryDirectory(prefix="slate-chaos-") as tmp:
        stack = chaos_stack(Path(args.home or tmp))
        t = time.monotonic()
        with stack:
            print(f"stack up in {time.monotonic() - t:.1f}s at {stack.gateway_url}", flush=True)
            report = asyncio.run(run_load(stack, cfg, log=lambda m: print(m, flush=True)))
    print_report(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2, default=str))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
