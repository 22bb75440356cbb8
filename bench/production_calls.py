#!/usr/bin/env python3
"""CPU per request and latency of each production call of the shared Kitsu mix, one
call at a time (issue 16, production part).

For each call of the mix that production serves (``../shared/bench/load.py``: the same
sessions, parameters and random picks as the mix), runs ``--count`` requests in a row
through the gateway (one client), and reports the call's p50 latency and the CPU
milliseconds per request of the production processes and of PostgreSQL (psutil, the
processes' user + system time over the loop, divided by the count). The gateway's and
auth's CPU are printed apart: they are the fixed cost of every request, not this call's.

Against a running, seeded stack (``--home``: its processes are the ones whose working
directory or data directory is under it):

    .venv/bin/python bench/production_calls.py --base-url http://127.0.0.1:PORT/api \\
        --admin-password ... --home /tmp/stack-home [--count 200] [--only project_shots]

or ``--boot`` to boot and seed a stack of its own first (a few minutes at ``--scale 1``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

HERE = Path(__file__).resolve().parent
SHARED = (HERE.parent.parent / "shared" / "bench").resolve()
sys.path.insert(0, str(SHARED))
import load  # noqa: E402  (the shared mix: its discovery and its calls)

#: The calls of the mix production serves, in the mix's order.
CALLS = ("projects_open", "user_tasks", "task_get", "task_comments", "shot_get", "project_shots", "project_assets",
         "shots_with_tasks_episode", "assets_with_tasks", "comment_post", "task_put")
GROUPS = ("production", "postgres", "gateway", "auth", "media", "other")


def group_of(proc: psutil.Process) -> str | None:
    try:
        cmd = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    if "postgres" in cmd:
        return "postgres"
    for name in ("production", "gateway", "auth", "media"):
        if f"slate_{name}" in cmd:
            return name
    if "spawn_main" in cmd:  # a uvicorn worker: its parent says whose
        try:
            parent = proc.parent()
        except psutil.NoSuchProcess:
            return None
        return group_of(parent) if parent is not None else None
    return "other"


def stack_processes(home: Path) -> dict[int, str]:
    """The stack's processes under ``home`` (working directory or command line), by group."""
    found: dict[int, str] = {}
    text = str(home.resolve())
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            cwd = proc.info["cwd"] or ""
            cmd = " ".join(proc.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if cwd.startswith(text) or text in cmd:
            group = group_of(proc)
            if group is not None:
                found[proc.pid] = group
    # postgres backends: children of the postmaster
    for pid, group in list(found.items()):
        if group == "postgres":
            try:
                for child in psutil.Process(pid).children(recursive=True):
                    found[child.pid] = "postgres"
            except psutil.NoSuchProcess:
                pass
    return found


def cpu_times(pids: dict[int, str]) -> dict[str, float]:
    out = dict.fromkeys(GROUPS, 0.0)
    for pid, group in pids.items():
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[group] += t.user + t.system
    return out


async def measure(client: load.Client, ops: dict[str, Any], vu: dict[str, Any], name: str, count: int,
                  home: Path) -> dict[str, Any]:
    for _ in range(min(20, count)):  # warm: caches, prepared statements, connections
        code, _ = await ops[name](client, vu)
    pids = stack_processes(home)
    before = cpu_times(pids)
    lat = []
    codes: dict[int, int] = {}
    t0 = time.perf_counter()
    for _ in range(count):
        start = time.perf_counter()
        code, _ = await ops[name](client, vu)
        lat.append((time.perf_counter() - start) * 1000)
        codes[code] = codes.get(code, 0) + 1
    wall = time.perf_counter() - t0
    await asyncio.sleep(0.3)  # a write's background work (outbox marking, consumers) lands
    pids.update(stack_processes(home))
    after = cpu_times(pids)
    lat.sort()
    cpu = {g: round(1000 * (after[g] - before.get(g, 0.0)) / count, 2) for g in GROUPS}
    return {"call": name, "count": count, "codes": codes, "p50_ms": round(statistics.median(lat), 2),
            "p90_ms": round(lat[int(len(lat) * 0.9)], 2), "rps": round(count / wall, 1),
            "cpu_ms": cpu, "prod_pg_cpu_ms": round(cpu["production"] + cpu["postgres"], 2),
            "loadavg": [round(x, 2) for x in os.getloadavg()]}


async def run(args: argparse.Namespace, home: Path) -> list[dict[str, Any]]:
    lopts = argparse.Namespace(admin_email=args.admin_email, admin_password=args.admin_password,
                               project_name="Bench Show", email_domain="studio-bench.com")
    async with aiohttp.ClientSession() as http:
        client = load.Client(http, args.base_url, 60.0)
        ctx = await load.discover(client, lopts)
        ops = load.build_ops(ctx)
        # the mix's first client: a Layout artist (seed.py's fifth block) and the first manager
        arts = ctx["artists"]
        artist = arts[min(4 * 4, len(arts) - 1)]
        vu = {"id": 0, "rng": random.Random(1), "n_comments": 0,
              "own_tasks": ctx["tasks_by_person"].get(artist["id"], []),
              "artist_token": await client.login(artist["email"], "bench-artist-pass"),
              "manager_token": await client.login(ctx["managers"][0]["email"], "bench-artist-pass")}
        results = []
        for name in args.only.split(",") if args.only else CALLS:
            row = await measure(client, ops, vu, name, args.count, home)
            results.append(row)
            print(json.dumps(row), flush=True)
        return results


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", help="the gateway's /api URL of a seeded stack")
    ap.add_argument("--home", help="that stack's home directory (to find its processes)")
    ap.add_argument("--admin-email", default="admin@example.com")
    ap.add_argument("--admin-password", default="slate-admin-password")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--only", default=None, help="comma-separated calls (default: every production call)")
    ap.add_argument("--boot", action="store_true", help="boot and seed a stack of its own")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.boot:
        from slate_common.stack import Stack, StackConfig

        home = Path(tempfile.mkdtemp(prefix="slate-production-calls-"))
        config = StackConfig.on_free_ports(home, extra_env={"SLATE_LOG_LEVEL": "WARNING"})
        with Stack(config) as stack:
            args.base_url = stack.gateway_url + "/api"
            args.admin_email, args.admin_password = config.admin_email, config.admin_password
            subprocess.run([sys.executable, str(SHARED / "seed.py"), "--base-url", args.base_url, "--email",
                            config.admin_email, "--password", config.admin_password, "--scale", str(args.scale),
                            "--time-spents", "0"], check=False)
            results = asyncio.run(run(args, home))
    else:
        if not args.base_url or not args.home:
            ap.error("--base-url and --home, or --boot")
        home = Path(args.home)
        results = asyncio.run(run(args, home))
    print("\n| call | p50 ms | production CPU ms/req | PostgreSQL CPU ms/req | gateway | auth | load |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        c = r["cpu_ms"]
        print(f"| {r['call']} | {r['p50_ms']} | {c['production']} | {c['postgres']} | {c['gateway']} | {c['auth']} | "
              f"{r['loadavg'][0]} |")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
