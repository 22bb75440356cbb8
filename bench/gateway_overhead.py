#!/usr/bin/env python3
"""Gateway overhead: a small GET, direct to the upstream vs through the gateway.

Starts a small FastAPI upstream (uvicorn, one process) and the gateway
(``python -m slate_gateway serve``) on loopback, then runs wrk (32 connections,
one thread, --latency) alternately against the upstream and the gateway, the
order swapped every pair so drift hits both sides equally.  Prints per-run
numbers, the median over runs of each side's median and p99, the median of the
paired differences, and the gateway's RSS before/after.

Two load shapes, each measured proxy vs direct:

- ``saturated``: 32 connections firing back-to-back (closed loop, no think
  time).  The box is then CPU-bound (upstream + gateway + wrk on 2 cores), so
  this measures the throughput cost of the gateway's CPU as much as its latency.
- ``paced``: the same 32 connections, each waiting a random 0..2x``--think-ms``
  between requests (a wrk ``delay()`` script): 32 concurrent clients at roughly
  half the upstream's capacity, which measures the latency the gateway adds.

    python bench/gateway_overhead.py [--pairs 6] [--duration 3] [--think-ms 30] [--pin]

``--pin`` puts the upstream alone on CPU 1 and wrk + the gateway on CPU 0, so the
gateway competes with the load generator rather than with the service it
measures (as it would on separate cores in a deployment).  Needs ``wrk``
(``apt-get install wrk``).  Bounded: pairs x 2 x duration seconds of load.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PATH = "/data/projects/open"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:  # not listening yet
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def to_ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(url: str, duration: int, connections: int, cpu: str | None,
        script: str | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    if cpu is not None:
        cmd = ["taskset", "-c", cpu] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.MULTILINE))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50": to_ms(lat["50"]), "p99": to_ms(lat["99"]), "rps": rps,
            "non2xx": float(errors.group(1)) if errors else 0.0}


def measure(args: argparse.Namespace, shape: str, script: str | None, direct: str,
            proxied: str, gw_pid: int, wrk_cpu: str | None
            ) -> tuple[dict[str, list[dict[str, float]]], float]:
    """Alternating direct/gateway wrk runs; returns the runs and gateway CPU per request."""
    runs: dict[str, list[dict[str, float]]] = {"direct": [], "gateway": []}
    gw_ticks = 0
    gw_requests = 0.0
    for i in range(args.pairs):
        order = [("direct", direct), ("gateway", proxied)]
        if i % 2:
            order.reverse()
        for name, url in order:
            t0 = cpu_ticks(gw_pid)
            r = wrk(url, args.duration, args.connections, wrk_cpu, script)
            if name == "gateway":
                gw_ticks += cpu_ticks(gw_pid) - t0
                gw_requests += r["rps"] * args.duration
            runs[name].append(r)
            print(f"{shape:9s} pair {i + 1} {name:8s} p50 {r['p50']:7.2f} ms  p99 {r['p99']:7.2f} ms"
                  f"  {r['rps']:8.0f} req/s  non-2xx {r['non2xx']:.0f}", flush=True)
    cpu_us = gw_ticks / os.sysconf("SC_CLK_TCK") / max(gw_requests, 1) * 1e6
    return runs, cpu_us


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--think-ms", type=int, default=30,
                    help="mean think time of the paced runs (0: skip them)")
    ap.add_argument("--duration", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--pin", action="store_true", help="upstream on CPU 1; gateway and wrk on CPU 0")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found (apt-get install wrk)")

    up_port, gw_port = free_port(), free_port()
    py = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT / "gateway" / "src")}
    pin = (lambda cpu: ["taskset", "-c", cpu]) if args.pin else (lambda cpu: [])
    upstream = subprocess.Popen(
        pin("1") + [py, "-m", "uvicorn", "gateway_upstream_app:app", "--host", "127.0.0.1",
                    "--port", str(up_port), "--log-level", "warning", "--no-access-log"],
        cwd=HERE, env=env)
    gw_env = {**env, "SLATE_PORT": str(gw_port),
              "SLATE_PRODUCTION_URL": f"http://127.0.0.1:{up_port}",
              "SLATE_AUTH_URL": "off", "SLATE_MEDIA_URL": "off",
              "SLATE_IMPORT_EXPORT_URL": "off", "SLATE_PLANNING_URL": "off"}
    gateway = subprocess.Popen(pin("0") + [py, "-m", "slate_gateway", "serve"], env=gw_env)
    wrk_cpu = "0" if args.pin else None
    direct = f"http://127.0.0.1:{up_port}{PATH}"
    proxied = f"http://127.0.0.1:{gw_port}/api{PATH}"
    try:
        wait(f"http://127.0.0.1:{up_port}/healthz")
        wait(f"http://127.0.0.1:{gw_port}/readyz")
        rss_before = rss_kb(gateway.pid)
        for url in (direct, proxied):  # warm-up
            wrk(url, 1, args.connections, wrk_cpu)
        script_path = Path(tempfile.mkdtemp()) / "think.lua"
        script_path.write_text(
            f"function delay() return math.random(0, {2 * args.think_ms}) end\n")
        shapes = [("saturated", None)]
        if args.think_ms:
            shapes.append(("paced", str(script_path)))
        results = {}
        for shape, script in shapes:
            results[shape] = measure(args, shape, script, direct, proxied, gateway.pid, wrk_cpu)
        rss_after = rss_kb(gateway.pid)
    finally:
        for p in (gateway, upstream):
            p.terminate()
        for p in (gateway, upstream):
            p.wait(10)

    print()
    print(f"wrk -t1 -c{args.connections} -d{args.duration}s --latency, {args.pairs} alternating pairs"
          f" per load shape{', pinned (upstream CPU 1; gateway+wrk CPU 0)' if args.pin else ', unpinned'}")
    print(f"{'':20s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s':>8s}   (median over runs)")
    for shape, (runs, cpu_us) in results.items():
        def med(name: str, key: str, runs: dict[str, list[dict[str, float]]] = runs) -> float:
            return statistics.median(r[key] for r in runs[name])

        for name in ("direct", "gateway"):
            print(f"{shape + ' ' + name:20s} {med(name, 'p50'):8.2f} {med(name, 'p99'):8.2f}"
                  f" {med(name, 'rps'):8.0f}")
        d50 = [g["p50"] - d["p50"] for d, g in zip(runs["direct"], runs["gateway"])]
        d99 = [g["p99"] - d["p99"] for d, g in zip(runs["direct"], runs["gateway"])]
        print(f"{shape + ' added':20s} {med('gateway', 'p50') - med('direct', 'p50'):+8.2f}"
              f" {med('gateway', 'p99') - med('direct', 'p99'):+8.2f}"
              f"   (median of paired differences: p50 {statistics.median(d50):+.2f},"
              f" p99 {statistics.median(d99):+.2f}; gateway CPU {cpu_us:.0f} us/request)")
    print(f"gateway RSS: {rss_before / 1024:.1f} MB before, {rss_after / 1024:.1f} MB after")


if __name__ == "__main__":
    main()
