"""Load generator of the production benchmark: a weighted mix of what Kitsu does.

Runs in its own process (the orchestrator, bench/production_bench.py, starts one per
target and concurrency level, optionally pinned with taskset). N clients loop, each
picking a request kind by weight, with keep-alive connections (aiohttp on uvloop, bodies
read in full and not parsed), for ``--duration`` seconds after ``--warmup`` seconds or
until ``--max-requests`` measured requests. Writes per-kind latencies, throughput and its
own CPU time as JSON.

    python bench/production_load.py --fixture F.json --concurrency 32 --duration 20 --out R.json

The fixture (written by the orchestrator) gives the API base, tokens (a manager and the
artists) and ids from the seed. Kinds the fixture lists in ``skip`` are left out of the
mix (their weight is dropped, the others keep theirs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from production_seed import ARTIST_PASSWORD, Api, ApiError, SeedResult, gather_limited, new_session


@dataclass(frozen=True)
class Kind:
    name: str
    weight: int
    role: str  # "manager" or "artist": whose token
    what: str


# What a studio does in Kitsu through a day, per request (sums to 100).
KINDS: tuple[Kind, ...] = (
    Kind("projects_open", 10, "artist", "GET /data/projects/open"),
    Kind("shots_with_tasks", 5, "manager", "GET /data/shots/with-tasks?project_id= (whole production)"),
    Kind("assets_with_tasks", 10, "manager", "GET /data/assets/with-tasks?project_id="),
    Kind("task_comments", 30, "artist", "GET /data/tasks/{id}/comments"),
    Kind("user_todo", 20, "artist", "GET /data/user/tasks (artist)"),
    Kind("comment_status", 15, "artist", "POST /actions/tasks/{id}/comment with a status change (own task)"),
    Kind("update_task", 10, "manager", "PUT /data/tasks/{id} {priority}"),
)
KIND_NAMES = tuple(k.name for k in KINDS)


def build_request(kind: str, fx: dict[str, Any], rng: random.Random, artist: dict[str, Any]
                  ) -> tuple[str, str, bytes | None, str]:
    """(method, path, body, token) of one request of ``kind``."""
    pid = fx["project_id"]
    manager = fx["manager_token"]
    if kind == "projects_open":
        return "GET", "/data/projects/open", None, artist["token"]
    if kind == "shots_with_tasks":
        return "GET", f"/data/shots/with-tasks?project_id={pid}", None, manager
    if kind == "assets_with_tasks":
        return "GET", f"/data/assets/with-tasks?project_id={pid}", None, manager
    if kind == "task_comments":
        return "GET", f"/data/tasks/{rng.choice(fx['commented_task_ids'])}/comments", None, artist["token"]
    if kind == "user_todo":
        return "GET", "/data/user/tasks", None, artist["token"]
    if kind == "comment_status":
        status = fx["status_ids"][rng.choice(("wip", "wfa"))]
        body = {"task_status_id": status, "comment": f"Pass {rng.randint(1, 99)}: fixed the timing, please check."}
        return "POST", f"/actions/tasks/{rng.choice(artist['task_ids'])}/comment", orjson.dumps(body), artist["token"]
    if kind == "update_task":
        body = {"priority": rng.randint(0, 3)}
        return "PUT", f"/data/tasks/{rng.choice(fx['task_ids'])}", orjson.dumps(body), manager
    raise ValueError(kind)


async def make_fixture(base: str, s: SeedResult) -> dict[str, Any]:
    """The load generator's input: ids from the seed and tokens of a manager and every artist."""
    problems: dict[str, str] = {}
    async with new_session() as session:
        api = Api(session, base)

        async def login(email: str, role: str) -> str:
            try:
                return await api.login(email, ARTIST_PASSWORD)
            except ApiError as exc:
                problems[role] = f"a seeded {role} cannot log in ({exc.status})"
                return ""

        managers = [p for p in s.persons.values() if p["role"] == "manager"]
        artists = [(pid, p) for pid, p in s.persons.items() if p["role"] == "user"]
        manager_token = await login(managers[0]["email"], "manager") if managers else ""

        async def artist(item: tuple[str, dict[str, Any]]) -> dict[str, Any]:
            pid, p = item
            return {"id": pid, "task_ids": p["task_ids"] or [""], "token": await login(p["email"], "artist")}

        return {
            "base": base,
            "project_id": s.project_id,
            "status_ids": s.status_ids,
            "commented_task_ids": s.commented_task_ids or [""],
            "task_ids": [t["id"] for t in s.tasks] or [""],
            "manager_token": manager_token,
            "artists": await gather_limited(4, artists, artist) or [{"id": "", "task_ids": [""], "token": ""}],
            "login_problems": problems,
            "skip": [],
        }


async def probe(fx: dict[str, Any]) -> dict[str, str]:
    """One request of each kind: kind -> "" when the target serves it, else why not."""
    rng = random.Random(7)
    out: dict[str, str] = {}
    async with new_session() as session:
        for kind in KINDS:
            if kind.role in fx["login_problems"]:
                out[kind.name] = fx["login_problems"][kind.role]
                continue
            method, path, body, token = build_request(kind.name, fx, rng, fx["artists"][0])
            if "//" in path or path.endswith("/") or path.endswith("project_id="):
                out[kind.name] = "no seeded data for it"
                continue
            try:
                await Api(session, fx["base"], token).call(method, path, orjson.loads(body) if body else None)
                out[kind.name] = ""
            except ApiError as exc:
                out[kind.name] = f"{method} {path.split('?')[0]} answered {exc.status}"
            except KeyError as exc:  # e.g. no "wip" status seeded
                out[kind.name] = f"no seeded data for it ({exc!r})"
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarize(samples: list[tuple[str, float, int, int]], seconds: float) -> dict[str, Any]:
    """samples: (kind, latency ms, status, bytes)."""
    def stats(rows: list[tuple[str, float, int, int]]) -> dict[str, Any]:
        ok = [r[1] for r in rows if 200 <= r[2] < 300]
        return {
            "requests": len(rows),
            "ok": len(ok),
            "errors": len(rows) - len(ok),
            "error_statuses": sorted({r[2] for r in rows if not 200 <= r[2] < 300}),
            "rps": round(len(ok) / seconds, 2) if seconds else 0.0,
            "median_ms": round(statistics.median(ok), 2) if ok else None,
            "p99_ms": round(percentile(ok, 99), 2) if ok else None,
            "mean_bytes": round(sum(r[3] for r in rows) / len(rows)) if rows else 0,
        }

    by_kind = {k: stats([s for s in samples if s[0] == k]) for k in KIND_NAMES if any(s[0] == k for s in samples)}
    return {"seconds": round(seconds, 3), "all": stats(samples), "kinds": by_kind}


async def run(fx: dict[str, Any], concurrency: int, duration: float, warmup: float, max_requests: int,
              seed: int, kinds: list[str] | None = None) -> dict[str, Any]:
    skip = set(fx.get("skip", []))
    mix = [k for k in KINDS if k.name not in skip and (kinds is None or k.name in kinds)]
    if not mix:
        return {"error": "every request kind is skipped", "skip": sorted(skip)}
    names = [k.name for k in mix]
    weights = [k.weight for k in mix]
    base = fx["base"].rstrip("/")
    samples: list[tuple[str, float, int, int]] = []
    phase = {"measuring": False, "stop": False}
    marks: dict[str, float] = {}
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, skip_auto_headers=("User-Agent",)) as http:
        async def client(i: int) -> None:
            rng = random.Random(seed * 1000 + i)
            artist = fx["artists"][i % len(fx["artists"])]
            while not phase["stop"]:
                kind = rng.choices(names, weights)[0]
                method, path, body, token = build_request(kind, fx, rng, artist)
                headers = {"Authorization": f"Bearer {token}"}
                if body is not None:
                    headers["Content-Type"] = "application/json"
                measuring = phase["measuring"]
                t0 = time.perf_counter()
                try:
                    async with http.request(method, base + path, data=body, headers=headers) as r:
                        raw = await r.read()
                        status, size = r.status, len(raw)
                except (TimeoutError, aiohttp.ClientError):
                    status, size = 599, 0  # counted as an error
                ms = (time.perf_counter() - t0) * 1000
                if status == 599:
                    await asyncio.sleep(0.1)  # a dead server is not spun on
                if measuring and phase["measuring"]:
                    samples.append((kind, ms, status, size))
                    if len(samples) >= max_requests:
                        phase["stop"] = True

        async def clock() -> None:
            await asyncio.sleep(warmup)
            marks["start"] = time.perf_counter()
            marks["cpu0"] = cpu_seconds()
            phase["measuring"] = True
            deadline = marks["start"] + duration
            while not phase["stop"] and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            phase["measuring"] = False
            phase["stop"] = True
            marks["end"] = time.perf_counter()
            marks["cpu1"] = cpu_seconds()

        await asyncio.gather(clock(), *(client(i) for i in range(concurrency)))
    seconds = marks["end"] - marks["start"]
    out = summarize(samples, seconds)
    out.update({
        "concurrency": concurrency,
        "mix": {k.name: k.weight for k in mix},
        "skipped": sorted(skip),
        "loadgen_cpu_s": round(marks["cpu1"] - marks["cpu0"], 3),
        "loadgen_cpu_share": round((marks["cpu1"] - marks["cpu0"]) / seconds, 3) if seconds else 0,
    })
    return out


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main(argv: list[str] | None = None, on_result: Callable[[dict[str, Any]], None] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", help="comma-separated subset of the kinds")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    with open(args.fixture) as f:
        fx = json.load(f)
    import uvloop

    result = uvloop.run(run(fx, args.concurrency, args.duration, args.warmup, args.max_requests, args.seed,
                             args.kinds.split(",") if args.kinds else None))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    else:
        print(json.dumps(result, indent=1))
    if on_result is not None:
        on_result(result)


if __name__ == "__main__":
    main()
