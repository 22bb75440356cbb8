#!/usr/bin/env python3
"""What the consistency mechanism costs (docs/consistency.md): the shared Kitsu mix
(../shared/bench/load.py) with the mechanism on and off, alternating, on one stack.

1. Boots Slate's embedded stack on free ports in a temporary home and seeds it with the
   shared seeder (../shared/bench/seed.py, ``--scale``); its last step, time spents, stops
   on planning's 404 (not served yet) after everything the mix reads is seeded. Then
   VACUUM ANALYZE.
2. For each of ``--rounds`` rounds, in alternating order (on/off, then off/on, ...):
   restarts every service with ``SLATE_CONSISTENCY_ENABLED`` set, then runs the mix at
   each of ``--levels`` clients for ``--duration`` seconds after ``--warmup``.
3. Prints, per level and mode, the medians over the rounds of the write latency
   (comment_post and task_put: p50 and p99), the overall throughput and p50, and the
   ratio on/off; writes every run's load.py result and the summary under bench/out/.

    .venv/bin/python bench/consistency_cost.py [--rounds 3] [--levels 1,32] [--duration 30]

Bounded: seeding (a few minutes at --scale 1), then rounds x modes x levels runs of
warmup + duration seconds, plus a stack restart per mode.
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

from cpu_layers import vacuum_analyze

from slate_common.stack import Stack, StackConfig

HERE = Path(__file__).resolve().parent
SHARED = (HERE.parent.parent / "shared" / "bench").resolve()
OUT = HERE / "out"
WRITES = ("comment_post", "task_put")
SERVICES = ("auth", "production", "media", "import-export", "planning")


def run(cmd: list[str], check: bool = True, **kwargs: Any) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=check, **kwargs).returncode


def write_latency(result: dict[str, Any]) -> dict[str, float]:
    rows = {r["endpoint"]: r for r in result["endpoints"]}
    lat: list[float] = []
    for name in WRITES:
        lat.extend(rows.get(name, {}).get("latencies_ms") or [])
    out = {f"{name}_p50": rows[name]["p50_ms"] for name in WRITES if name in rows}
    out.update({f"{name}_p99": rows[name]["p99_ms"] for name in WRITES if name in rows})
    if lat:
        lat.sort()
        out["writes_p50"] = lat[len(lat) // 2]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--levels", default="1,32")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    home = Path(tempfile.mkdtemp(prefix="slate-consistency-bench-"))
    config = StackConfig.on_free_ports(home, extra_env={"SLATE_LOG_LEVEL": "WARNING"})
    stack = Stack(config)
    results: list[dict[str, Any]] = []
    with stack:
        base = stack.gateway_url + "/api"
        admin = ["--email", config.admin_email, "--password", config.admin_password]
        # The seeder's last step posts time spents (at least one, whatever --time-spents
        # says), which planning does not serve yet: everything before it is seeded, and
        # the mix does not use them.
        code = run([sys.executable, str(SHARED / "seed.py"), "--base-url", base, *admin, "--scale", str(args.scale),
                    "--time-spents", "0", "--out", str(OUT / f"consistency-{stamp}-seed.json")], check=False)
        print(f"seed exit code {code} (1 = stopped at the time spents)", flush=True)
        # the first round once measured the seeding's aftermath (autovacuum): settle it first
        asyncio.run(vacuum_analyze(stack.infra.postgres_dsn))
        for n in range(args.rounds):
            modes = ("on", "off") if n % 2 == 0 else ("off", "on")
            for mode in modes:
                env = {"SLATE_CONSISTENCY_ENABLED": "true" if mode == "on" else "false"}
                for service in SERVICES:
                    stack.restart_service(service, env, hard=False)
                stack.wait_healthy(names=list(SERVICES), path="/readyz")
                for level in levels:
                    out = OUT / f"consistency-{stamp}-r{n}-{mode}-c{level}.json"
                    run([sys.executable, str(SHARED / "load.py"), "--base-url", base,
                         "--admin-email", config.admin_email, "--admin-password", config.admin_password,
                         "-c", str(level), "--duration", str(args.duration), "--warmup", str(args.warmup),
                         "--out", str(out)], stdout=subprocess.DEVNULL)
                    result = json.loads(out.read_text())
                    results.append({"round": n, "mode": mode, "level": level,
                                    "rps": result["overall"]["rps"], "p50": result["overall"]["p50_ms"],
                                    "p99": result["overall"]["p99_ms"], "errors": result["overall"].get("errors"),
                                    **write_latency(result)})
                    print(json.dumps(results[-1]), flush=True)
    summary = []
    for level in levels:
        row: dict[str, Any] = {"level": level}
        for mode in ("on", "off"):
            runs = [r for r in results if r["level"] == level and r["mode"] == mode]
            for key in ("rps", "p50", "writes_p50", "comment_post_p50", "comment_post_p99", "task_put_p50",
                        "task_put_p99"):
                values = [r[key] for r in runs if r.get(key) is not None]
                row[f"{mode}_{key}"] = round(statistics.median(values), 2) if values else None
        row["rps_ratio"] = round(row["on_rps"] / row["off_rps"], 3) if row["off_rps"] else None
        row["writes_p50_added_ms"] = (round(row["on_writes_p50"] - row["off_writes_p50"], 2)
                                      if row["on_writes_p50"] is not None and row["off_writes_p50"] is not None
                                      else None)
        summary.append(row)
    (OUT / f"consistency-{stamp}.json").write_text(json.dumps({"runs": results, "summary": summary}, indent=1))
    print("\n| clients | mode | req/s | p50 | writes p50 | comment_post p50 / p99 | task_put p50 / p99 |")
    print("|---|---|---|---|---|---|---|")
    for row in summary:
        for mode in ("on", "off"):
            print(f"| {row['level']} | {mode} | {row[f'{mode}_rps']} | {row[f'{mode}_p50']} | "
                  f"{row[f'{mode}_writes_p50']} | {row[f'{mode}_comment_post_p50']} / {row[f'{mode}_comment_post_p99']} | "
                  f"{row[f'{mode}_task_put_p50']} / {row[f'{mode}_task_put_p99']} |")
    for row in summary:
        print(f"C={row['level']}: throughput on/off {row['rps_ratio']}, writes p50 +{row['writes_p50_added_ms']} ms")
    print(f"results: {OUT}/consistency-{stamp}.json (home {home}, machine load {os.getloadavg()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
