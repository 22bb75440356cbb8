#!/usr/bin/env python3
"""Where the server's CPU goes, per request and per layer, on the shared Kitsu mix
(issue 16: "server CPU per request ... reported per layer").

1. Boots Slate's embedded stack on free ports in a temporary home and seeds it with the
   shared seeder (../shared/bench/seed.py, ``--scale``), then VACUUM ANALYZE.
2. Runs the mix (../shared/bench/load.py) at ``-c`` clients. During its measured window
   it reads the CPU time of every process of the stack (psutil, children included) and
   samples every Python process with py-spy (``--nonblocking``, 100 Hz, non-idle threads,
   so samples follow CPU time).
3. Splits each process group's CPU seconds over layers in proportion to its samples, and
   prints CPU milliseconds per request: per process group (gateway, each service,
   PostgreSQL, NATS, S3) and per layer (see ``LAYERS``).

    .venv/bin/python bench/cpu_layers.py [-c 32] [--duration 30] [--warmup 5] [--scale 1]

A sample is given to the first layer that matches, in this order: event publication and
consumers when any frame of the stack is in them (so a consumer's SQL counts as
consumer work), then the innermost frame that belongs to a known library (driver before
ORM, ORM before the app code that called it). Bounded: seeding, one run of
warmup + duration seconds. Needs py-spy (`pip install py-spy`; `make install` has it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from slate_common.stack import Stack, StackConfig

HERE = Path(__file__).resolve().parent
SHARED = (HERE.parent.parent / "shared" / "bench").resolve()
OUT = HERE / "out"

#: Layers a frame can belong to: (layer, path fragments). A sample is given to
#: "events" if any frame matches it, else to the innermost frame that matches any other.
EVENTS = ("events", ("/slate_common/events/", "/slate_common/bus", "/slate_common/replica", "/nats/"))
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("postgres driver", ("/asyncpg/",)),
    ("ORM", ("/sqlalchemy/",)),
    ("serialization", ("/orjson", "/pydantic/", "/pydantic_core/", "/json/", "/slate_common/serialization",
                       "/fastapi/encoders", "/msgspec")),
    ("logging, tracing, metrics", ("/structlog/", "/logging/", "/opentelemetry/", "/prometheus_client/",
                                   "/slate_common/metrics", "/slate_common/tracing", "/slate_common/logging")),
    ("HTTP client (gateway)", ("/httpx/", "/httpcore/", "/h11/", "/anyio/")),
    ("HTTP framework", ("/uvicorn/", "/starlette/", "/fastapi/", "/httptools/", "/multipart/", "/python_multipart/")),
    ("auth (tokens)", ("/jwt/", "/cryptography/", "/argon2/", "/slate_common/auth")),
    ("app code", ("/slate_", "/gateway/", "/slate/")),
    ("asyncio loop", ("/asyncio/", "/selectors.py", "/uvloop/")),
]


def classify(stack: list[str]) -> str:
    if any(fragment in frame for frame in stack for fragment in EVENTS[1]):
        return EVENTS[0]
    for frame in reversed(stack):  # innermost first
        for layer, fragments in LAYERS:
            if any(fragment in frame for fragment in fragments):
                return layer
    return "other"


def read_raw(path: Path) -> collections.Counter[str]:
    """py-spy's raw format: ``frame;frame;...;leaf count`` per line."""
    counts: collections.Counter[str] = collections.Counter()
    if not path.exists():
        return counts
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[classify(stack.split(";"))] += int(count)
    return counts


def tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(procs: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
            out[proc.pid] = times.user + times.system
        except psutil.Error:
            continue
    return out


def group_of(name: str) -> str:
    """``production-2`` and ``production-worker`` are production; ``gateway-2`` the gateway."""
    for base in ("gateway", "auth", "production", "media", "import-export", "planning", "postgres", "nats", "s3"):
        if name == base or name.startswith(base + "-"):
            return base
    return name


def is_python(proc: psutil.Process) -> bool:
    try:
        return "python" in Path(proc.exe()).name
    except psutil.Error:
        return False


async def vacuum_analyze(dsn: str) -> None:
    """As the shared bench did for Zou after seeding: fresh planner statistics."""
    main_db = await asyncpg.connect(dsn)
    try:
        names = [r["datname"] for r in await main_db.fetch("select datname from pg_database where datname like 'slate%'")]
    finally:
        await main_db.close()
    for name in names:
        conn = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/" + name)
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-c", "--clients", type=int, default=32)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    home = Path(tempfile.mkdtemp(prefix="slate-cpu-layers-"))
    config = StackConfig.on_free_ports(home, extra_env={"SLATE_LOG_LEVEL": "WARNING"})
    stack = Stack(config)
    spy = Path(sys.executable).with_name("py-spy")
    with stack:
        base = stack.gateway_url + "/api"
        admin = ["--email", config.admin_email, "--password", config.admin_password]
        code = subprocess.call([sys.executable, str(SHARED / "seed.py"), "--base-url", base, *admin, "--scale",
                                str(args.scale), "--time-spents", "0", "--out", str(OUT / f"cpu-{stamp}-seed.json")])
        print(f"seed exit code {code} (1 = stopped at the time spents, which planning does not serve yet)",
              flush=True)
        asyncio.run(vacuum_analyze(stack.infra.postgres_dsn))
        groups: dict[str, list[psutil.Process]] = collections.defaultdict(list)
        for name in stack.supervisor.names:
            groups[group_of(name)].extend(tree(stack.supervisor[name].pid))
        roots = ",".join(str(stack.supervisor[n].pid) for n in stack.supervisor.names if stack.supervisor[n].pid)
        result_file = OUT / f"cpu-{stamp}-load.json"
        load = subprocess.Popen(
            [sys.executable, str(SHARED / "load.py"), "--base-url", base, "--admin-email", config.admin_email,
             "--admin-password", config.admin_password, "-c", str(args.clients), "--duration", str(args.duration),
             "--warmup", str(args.warmup), "--server-pids", roots, "--out", str(result_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert load.stderr is not None
        for line in load.stderr:  # the driver's setup (logins: password hashing) is not measured
            if line.startswith("setup done"):
                break
        time.sleep(args.warmup + 1)
        window = max(5.0, args.duration - 3)
        spies = []
        for group, procs in groups.items():
            for proc in procs:
                if is_python(proc):
                    raw = OUT / f"cpu-{stamp}-{group}-{proc.pid}.txt"
                    spies.append((group, raw, subprocess.Popen(
                        [str(spy), "record", "--pid", str(proc.pid), "--format", "raw", "--full-filenames",
                         "--nonblocking", "--rate", str(args.rate), "--duration", str(int(window)),
                         "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        before = {g: cpu_seconds(p) for g, p in groups.items()}
        started = time.monotonic()
        time.sleep(window)
        after = {g: cpu_seconds(p) for g, p in groups.items()}
        seconds = time.monotonic() - started
        for _, _, proc in spies:
            proc.wait(timeout=60)
        load.communicate(timeout=args.duration + 120)
    result = json.loads(result_file.read_text())
    rps = result["overall"]["rps"]
    requests = rps * seconds  # requests served during the sampled window
    cpu = {g: sum(after[g].get(pid, 0.0) - before[g].get(pid, 0.0) for pid in after[g]) for g in groups}
    layers: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for group, raw, _ in spies:
        layers[group].update(read_raw(raw))
    table: dict[str, dict[str, float]] = {}
    for group, total in sorted(cpu.items(), key=lambda kv: -kv[1]):
        per_request = 1000 * total / requests
        samples = sum(layers[group].values())
        if samples:
            table[group] = {layer: per_request * n / samples for layer, n in layers[group].items()}
        else:
            table[group] = {"(not Python)": per_request}
    by_layer: collections.Counter[str] = collections.Counter()
    for rows in table.values():
        by_layer.update(rows)
    total_ms = sum(by_layer.values())
    print(f"\nmix at C={args.clients}: {rps:.1f} req/s, p50 {result['overall']['p50_ms']} ms, "
          f"p99 {result['overall']['p99_ms']} ms; sampled window {seconds:.1f}s, ~{requests:.0f} requests")
    print(f"server CPU per request: {total_ms:.2f} ms (load.py's own figure: "
          f"{result.get('cpu', {}).get('server_cpu_ms_per_request')})\n")
    print("| process group | CPU ms/request | biggest layers |")
    print("|---|---|---|")
    for group, rows in table.items():
        top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(rows.items(), key=lambda kv: -kv[1])[:4])
        print(f"| {group} | {sum(rows.values()):.2f} | {top} |")
    print("\n| layer (all processes) | CPU ms/request | share |")
    print("|---|---|---|")
    for layer, ms in by_layer.most_common():
        print(f"| {layer} | {ms:.2f} | {100 * ms / total_ms:.0f}% |")
    summary = {"clients": args.clients, "rps": rps, "window_seconds": seconds, "requests": requests,
               "cpu_seconds": cpu, "per_group_layer_ms": table, "per_layer_ms": dict(by_layer),
               "load_result": str(result_file), "machine_load": os.getloadavg()}
    (OUT / f"cpu-{stamp}.json").write_text(json.dumps(summary, indent=1))
    print(f"\nresults: {OUT}/cpu-{stamp}.json (raw py-spy samples beside it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
