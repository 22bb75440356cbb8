#!/usr/bin/env python3
"""Where a service's event consumers run, measured on the shared Kitsu mix: inside its API
processes (the embedded stack's default) or in a ``worker`` process of their own
(SLATE_<SVC>_WORKERS_ENABLED=false on the API processes, as the Kubernetes deployment).

Writes wait for the readable consumer groups (docs/consistency.md); a consumer inside a
saturated API process waits its turn in the same event loop as the requests. This runs
both placements on one stack, alternating, and prints throughput, p50/p99 and the write
latencies per placement.

    .venv/bin/python bench/consumer_placement.py [--rounds 3] [--level 32] [--duration 30] [--scale 0.3]

Bounded: one seeding, then rounds x 2 placements x (warmup + duration) s, plus restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from consistency_cost import run, write_latency
from cpu_layers import vacuum_analyze

from slate_common.stack import Stack, StackConfig

HERE = Path(__file__).resolve().parent
SHARED = (HERE.parent.parent / "shared" / "bench").resolve()
OUT = HERE / "out"
MOVED = ("production", "media")  # the services whose consumers writers wait for


def place(stack: Stack, mode: str) -> None:
    """``inproc``: consumers in the API processes, no worker. ``worker``: API processes
    without relay and consumers, one worker process per service running them."""
    workers = [name for svc in MOVED for name in stack.worker_names(svc)]
    enabled = "true" if mode == "inproc" else "false"
    stack.supervisor.stop_together([*MOVED, *workers])
    for svc in MOVED:  # the API process only: a worker always runs its loops
        env = {**stack.process_env(svc), f"SLATE_{svc.upper()}_WORKERS_ENABLED": enabled}
        stack.supervisor.start(svc, env=env)
    if mode == "worker":
        for name in workers:
            stack.supervisor.start(name, env=stack.process_env(name))
    stack.wait_healthy(names=list(MOVED), path="/readyz")
    time.sleep(3)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--level", type=int, default=32)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--scale", type=float, default=0.3)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    home = Path(tempfile.mkdtemp(prefix="slate-placement-bench-"))
    config = StackConfig.on_free_ports(home, extra_env={"SLATE_LOG_LEVEL": "WARNING"},
                                       worker_processes={svc: 1 for svc in MOVED})
    stack = Stack(config)
    results: list[dict[str, Any]] = []
    with stack:
        base = stack.gateway_url + "/api"
        admin = ["--email", config.admin_email, "--password", config.admin_password]
        run([sys.executable, str(SHARED / "seed.py"), "--base-url", base, *admin, "--scale", str(args.scale),
             "--time-spents", "0", "--out", str(OUT / f"placement-{stamp}-seed.json")], check=False)
        asyncio.run(vacuum_analyze(stack.infra.postgres_dsn))
        for n in range(args.rounds):
            for mode in (("inproc", "worker") if n % 2 == 0 else ("worker", "inproc")):
                place(stack, mode)
                out = OUT / f"placement-{stamp}-r{n}-{mode}.json"
                run([sys.executable, str(SHARED / "load.py"), "--base-url", base,
                     "--admin-email", config.admin_email, "--admin-password", config.admin_password,
                     "-c", str(args.level), "--duration", str(args.duration), "--warmup", str(args.warmup),
                     "--out", str(out)], stdout=subprocess.DEVNULL)
                result = json.loads(out.read_text())
                results.append({"round": n, "mode": mode, "rps": result["overall"]["rps"],
                                "p50": result["overall"]["p50_ms"], "p99": result["overall"]["p99_ms"],
                                "errors": result["overall"].get("errors"), "load": os.getloadavg()[0],
                                **write_latency(result)})
                print(json.dumps(results[-1]), flush=True)
    (OUT / f"placement-{stamp}.json").write_text(json.dumps(results, indent=1))
    print("\n| placement | req/s | p50 | p99 | writes p50 | comment_post p50 / p99 | task_put p50 / p99 |")
    print("|---|---|---|---|---|---|---|")
    for mode in ("inproc", "worker"):
        runs = [r for r in results if r["mode"] == mode]

        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return round(statistics.median(r[key] for r in runs), 1)

        print(f"| {mode} | {med('rps')} | {med('p50')} | {med('p99')} | {med('writes_p50')} | "
              f"{med('comment_post_p50')} / {med('comment_post_p99')} | {med('task_put_p50')} / {med('task_put_p99')} |")
    print(f"results: {OUT}/placement-{stamp}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
