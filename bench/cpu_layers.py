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
   prints CPU milliseconds per request: in issue 16's layers (``ISSUE_LAYERS``: gateway,
   service framework and serialization, app code, ORM, PostgreSQL, events and consumers),
   per process group (gateway, each service, PostgreSQL, NATS, S3) and per sampled layer
   (see ``LAYERS``).

    .venv/bin/python bench/cpu_layers.py [-c 32] [--duration 30] [--warmup 5] [--scale 1]

A sample is given to the first layer that matches, in this order: event publication and
consumers when any frame of the stack is in them (so a consumer's SQL counts as
consumer work), then the innermost frame that belongs to a known library (driver before
ORM, ORM before the app code that called it). Bounded: seeding, one run of
warmup + duration seconds. Needs py-spy (`.venv/bin/pip install py-spy`: it is in the
gateway's `dev` extra, which `make install` does not install).

Its functions are imported by ``bench/side_by_side.py --layers``.
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


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU seconds used so far by the process trees under ``roots``: every live process's
    own time plus what its reaped children used (a PostgreSQL backend that exits during a
    window moves into its postmaster's children time, so the total keeps it)."""
    total = 0.0
    for pid in roots:
        for proc in tree(pid):
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system + times.children_user + times.children_system
    return total


def stack_groups(stack: Stack) -> dict[str, list[psutil.Process]]:
    """The stack's processes (children included) by process group (see ``group_of``)."""
    groups: dict[str, list[psutil.Process]] = collections.defaultdict(list)
    for name in stack.supervisor.names:
        groups[group_of(name)].extend(tree(stack.supervisor[name].pid))
    return groups


def stack_roots(stack: Stack) -> list[int]:
    """The supervisor's processes: every service, the gateway, PostgreSQL, NATS, S3."""
    pids = (stack.supervisor[name].pid for name in stack.supervisor.names)
    return [pid for pid in pids if pid]


def load_command(base: str, email: str, password: str, clients: int, duration: float, warmup: float,
                 roots: list[int], out: Path, *extra: str) -> list[str]:
    """The shared driver, called as ../shared/bench/run_matrix.sh calls it."""
    return [sys.executable, str(SHARED / "load.py"), "--base-url", base, "--admin-email", email,
            "--admin-password", password, *extra, "-c", str(clients), "--duration", str(duration),
            "--warmup", str(warmup), "--server-pids", ",".join(map(str, roots)), "--out", str(out)]


def wait_setup(load: subprocess.Popen[str]) -> None:
    """Read the driver's stderr until its setup (logins: password hashing) is done; the
    measured window starts ``--warmup`` seconds later."""
    assert load.stderr is not None
    for line in load.stderr:
        if line.startswith("setup done"):
            return


def measure_layers(stack: Stack, *, clients: int, duration: float, warmup: float, rate: int,
                   out_dir: Path, stamp: str) -> dict[str, Any]:
    """Run the mix at ``clients`` on a seeded stack, sample every Python process with
    py-spy in the measured window, and split each process group's CPU over layers."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit(f"{spy} is missing: .venv/bin/pip install py-spy")
    config = stack.config
    base = stack.gateway_url + "/api"
    groups = stack_groups(stack)
    result_file = out_dir / f"cpu-{stamp}-load.json"
    load = subprocess.Popen(
        load_command(base, config.admin_email, config.admin_password, clients, duration, warmup,
                     stack_roots(stack), result_file),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_setup(load)
    time.sleep(warmup + 1)
    window = max(min(5.0, duration - 1), duration - 3)  # inside the measured window
    spies = []
    for group, procs in groups.items():
        for proc in procs:
            if is_python(proc):
                raw = out_dir / f"cpu-{stamp}-{group}-{proc.pid}.txt"
                spies.append((group, raw, subprocess.Popen(
                    [str(spy), "record", "--pid", str(proc.pid), "--format", "raw", "--full-filenames",
                     "--nonblocking", "--rate", str(rate), "--duration", str(int(window)),
                     "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    before = {g: cpu_seconds(p) for g, p in groups.items()}
    started = time.monotonic()
    time.sleep(window)
    after = {g: cpu_seconds(p) for g, p in groups.items()}
    seconds = time.monotonic() - started
    for _, _, proc in spies:
        proc.wait(timeout=60)
    load.communicate(timeout=duration + 120)
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
    return {"clients": clients, "rps": rps, "p50_ms": result["overall"]["p50_ms"],
            "p99_ms": result["overall"]["p99_ms"], "window_seconds": seconds, "requests": requests,
            "cpu_seconds": cpu, "per_group_layer_ms": table, "per_layer_ms": dict(by_layer),
            "issue_layers_ms": issue_layers(table),
            "load_cpu_ms_per_request": (result.get("cpu") or {}).get("server_cpu_ms_per_request"),
            "load_result": str(result_file), "machine_load": os.getloadavg()}


#: The layers issue 16 asks the report for, from (process group, sampled layer) pairs.
SERVICE_FRAMEWORK = ("HTTP framework", "serialization", "logging, tracing, metrics", "auth (tokens)",
                     "asyncio loop", "HTTP client (gateway)", "other")
ISSUE_LAYERS = ("gateway", "service framework and serialization", "service app code (domain, CRUD)",
                "ORM and driver", "PostgreSQL", "events and consumers (incl. NATS)", "S3 and the rest")


def issue_layer(group: str, layer: str) -> str:
    if layer == EVENTS[0] or group == "nats":
        return "events and consumers (incl. NATS)"
    if group == "gateway":
        return "gateway"
    if group == "postgres":
        return "PostgreSQL"
    if group not in ("auth", "production", "media", "import-export", "planning"):
        return "S3 and the rest"
    if layer in ("ORM", "postgres driver"):
        return "ORM and driver"
    if layer == "app code":
        return "service app code (domain, CRUD)"
    return "service framework and serialization"


def issue_layers(per_group_layer_ms: dict[str, dict[str, float]]) -> dict[str, float]:
    """CPU ms per request in the layers of issue 16 (gateway, service framework and
    serialization, app code, ORM, PostgreSQL, events and consumers, the rest)."""
    out = dict.fromkeys(ISSUE_LAYERS, 0.0)
    for group, rows in per_group_layer_ms.items():
        for layer, ms in rows.items():
            out[issue_layer(group, layer)] += ms
    return out


def layer_tables(summary: dict[str, Any]) -> str:
    """The markdown tables of a ``measure_layers`` summary."""
    table: dict[str, dict[str, float]] = summary["per_group_layer_ms"]
    by_layer = collections.Counter(summary["per_layer_ms"])
    total_ms = sum(by_layer.values()) or 1e-9
    lines = [f"mix at C={summary['clients']}: {summary['rps']:.1f} req/s, p50 {summary['p50_ms']} ms, "
             f"p99 {summary['p99_ms']} ms; sampled window {summary['window_seconds']:.1f}s, "
             f"~{summary['requests']:.0f} requests",
             f"server CPU per request: {total_ms:.2f} ms (load.py's own figure: "
             f"{summary['load_cpu_ms_per_request']})", "",
             "| layer (issue 16) | CPU ms/request | share |", "|---|---|---|"]
    lines += [f"| {layer} | {ms:.2f} | {100 * ms / total_ms:.0f}% |"
              for layer, ms in summary["issue_layers_ms"].items()]
    lines += ["", "| process group | CPU ms/request | biggest layers |", "|---|---|---|"]
    for group, rows in table.items():
        top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(rows.items(), key=lambda kv: -kv[1])[:4])
        lines.append(f"| {group} | {sum(rows.values()):.2f} | {top} |")
    lines += ["", "| layer (all processes) | CPU ms/request | share |", "|---|---|---|"]
    lines += [f"| {layer} | {ms:.2f} | {100 * ms / total_ms:.0f}% |" for layer, ms in by_layer.most_common()]
    return "\n".join(lines)


def seed_slate(stack: Stack, scale: float, out: Path) -> int:
    """The shared seeder through the gateway; its last step, time spents, stops on
    planning's 404 (not served yet) after everything the mix reads is seeded."""
    config = stack.config
    code = subprocess.call([sys.executable, str(SHARED / "seed.py"), "--base-url", stack.gateway_url + "/api",
                            "--email", config.admin_email, "--password", config.admin_password, "--scale",
                            str(scale), "--time-spents", "0", "--out", str(out)])
    print(f"seed exit code {code} (1 = stopped at the time spents, which planning does not serve yet)",
          flush=True)
    return code


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
    stack = Stack(StackConfig.on_free_ports(home, extra_env={"SLATE_LOG_LEVEL": "WARNING"}))
    with stack:
        seed_slate(stack, args.scale, OUT / f"cpu-{stamp}-seed.json")
        asyncio.run(vacuum_analyze(stack.infra.postgres_dsn))
        summary = measure_layers(stack, clients=args.clients, duration=args.duration, warmup=args.warmup,
                                 rate=args.rate, out_dir=OUT, stamp=stamp)
    print("\n" + layer_tables(summary))
    (OUT / f"cpu-{stamp}.json").write_text(json.dumps(summary, indent=1))
    print(f"\nresults: {OUT}/cpu-{stamp}.json (raw py-spy samples beside it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
