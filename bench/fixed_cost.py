#!/usr/bin/env python3
"""The fixed cost of a request (issue 16): CPU per request of each process and the
latency at one client, for light calls through the gateway and straight to a service.

1. Boots Slate's embedded stack on free ports in a temporary home (log level INFO, as
   deployed: one access log line per request) and seeds it with the shared seeder
   (../shared/bench/seed.py, ``--scale``, 0.1 by default).
2. Logs in as an artist (role user) of the seeded project, as the shared mix does.
3. For each call, one client with a keep-alive connection sends ``--requests`` requests
   back to back after ``--warmup`` of them, and the CPU time of every process of the
   stack (psutil, children included) is read before and after: CPU ms per request for the
   gateway, the service, PostgreSQL and NATS, and the p50 / p90 latency.

    .venv/bin/python bench/fixed_cost.py [--scale 0.1] [--requests 400] [--rounds 3]

``--control FIFO`` keeps the stack up after the first measurement and reads commands
from the named pipe: ``measure``, ``restart`` (the services, to load changed code),
``profile <group> <call>`` (py-spy raw samples of that group's processes while the call
runs), ``quit``. For iterating on the code; the numbers in bench/RESULTS.md come from
one-shot runs. Bounded: one seed, rounds x calls x requests sequential requests.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from slate_common.stack import Stack, StackConfig

HERE = Path(__file__).resolve().parent
SHARED = (HERE.parent.parent / "shared" / "bench").resolve()
OUT = HERE / "out"
GROUPS = ("gateway", "auth", "production", "media", "import-export", "planning", "postgres", "nats")
SERVICES = ("auth", "production", "media", "import-export", "planning")
ARTIST = "artist01@studio-bench.com"  # seed.py's first artist
ARTIST_PASSWORD = "bench-artist-pass"


class Client:
    """One keep-alive HTTP/1.1 connection (http.client: the client's own CPU is small and
    not counted: only the stack's processes are measured)."""

    def __init__(self, base: str, token: str | None = None) -> None:
        parts = urlsplit(base)
        self.prefix = parts.path.rstrip("/")
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, dict[str, str]]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, self.prefix + path, body=data, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())


def processes(stack: Stack) -> dict[str, list[psutil.Process]]:
    groups: dict[str, list[psutil.Process]] = collections.defaultdict(list)
    for name in stack.supervisor.names:
        pid = stack.supervisor[name].pid
        if not pid:
            continue
        group = next((g for g in GROUPS if name == g or name.startswith(g + "-")), name)
        try:
            root = psutil.Process(pid)
            groups[group].extend([root, *root.children(recursive=True)])
        except psutil.NoSuchProcess:
            continue
    return groups


def cpu(groups: dict[str, list[psutil.Process]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for group, procs in groups.items():
        total = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
            except psutil.Error:
                continue
        out[group] = total
    return out


def calls(stack: Stack, token: str, ids: dict[str, str]) -> dict[str, tuple[str, str]]:
    """name -> (base url, path)."""
    gw = stack.gateway_url + "/api"
    auth = stack.service_url("auth")
    prod = stack.service_url("production")
    return {
        "authenticated (gateway)": (gw, "/auth/authenticated"),
        "authenticated (auth direct)": (auth, "/auth/authenticated"),
        "persons (gateway)": (gw, "/data/persons"),
        "task (gateway)": (gw, f"/data/tasks/{ids['task']}"),
        "task (production direct)": (prod, f"/data/tasks/{ids['task']}"),
        "shot (gateway)": (gw, f"/data/shots/{ids['shot']}"),
    }


def measure_call(stack: Stack, groups: dict[str, list[psutil.Process]], base: str, path: str, token: str,
                 requests: int, warmup: int) -> dict[str, Any]:
    client = Client(base, token)
    for _ in range(warmup):
        status, body, _ = client.call("GET", path)
        assert status == 200, (path, status, body[:200])
    latencies = []
    before = cpu(groups)
    for _ in range(requests):
        started = time.perf_counter()
        status, _, _ = client.call("GET", path)
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200
    after = cpu(groups)
    latencies.sort()
    per_group = {g: round(1000 * (after[g] - before[g]) / requests, 3) for g in after}
    return {
        "p50_ms": round(statistics.median(latencies), 3),
        "p90_ms": round(latencies[int(len(latencies) * 0.9)], 3),
        "cpu_ms": {g: v for g, v in per_group.items() if v >= 0.005},
        "cpu_total_ms": round(sum(per_group.values()), 3),
    }


def measure(stack: Stack, token: str, ids: dict[str, str], requests: int, warmup: int, rounds: int) -> dict[str, Any]:
    groups = processes(stack)
    results: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for _ in range(rounds):
        for name, (base, path) in calls(stack, token, ids).items():
            results[name].append(measure_call(stack, groups, base, path, token, requests, warmup))
    summary = {}
    for name, runs in results.items():
        keys = sorted({g for run in runs for g in run["cpu_ms"]})
        summary[name] = {
            "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
            "p90_ms": round(statistics.median(r["p90_ms"] for r in runs), 2),
            "cpu_total_ms": round(statistics.median(r["cpu_total_ms"] for r in runs), 2),
            "cpu_ms": {g: round(statistics.median(r["cpu_ms"].get(g, 0.0) for r in runs), 2) for g in keys},
        }
    return {"load_before_after": os.getloadavg(), "calls": summary}


def report(result: dict[str, Any]) -> None:
    print(f"\nload average {' '.join(f'{x:.2f}' for x in result['load_before_after'])}")
    print("| call | p50 ms | p90 ms | CPU ms/request (all) | per process group |")
    print("|---|---|---|---|---|")
    for name, row in result["calls"].items():
        split = ", ".join(f"{g} {v:.2f}" for g, v in sorted(row["cpu_ms"].items(), key=lambda kv: -kv[1]) if v >= 0.01)
        print(f"| {name} | {row['p50_ms']:.2f} | {row['p90_ms']:.2f} | {row['cpu_total_ms']:.2f} | {split} |")
    sys.stdout.flush()


def profile(stack: Stack, token: str, ids: dict[str, str], group: str, call: str, requests: int, stamp: str) -> None:
    spy = Path(sys.executable).with_name("py-spy")
    groups = processes(stack)
    base, path = calls(stack, token, ids)[call]
    spies = []
    for proc in groups[group]:
        if "python" not in proc.name():
            continue
        raw = OUT / f"fixed-{stamp}-{group}-{proc.pid}-{int(time.time())}.txt"
        spies.append((raw, subprocess.Popen(
            [str(spy), "record", "--pid", str(proc.pid), "--format", "raw", "--full-filenames", "--nonblocking",
             "--rate", "500", "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    time.sleep(1.0)
    measure_call(stack, groups, base, path, token, requests, 0)
    for raw, spy_proc in spies:
        spy_proc.send_signal(2)
        spy_proc.wait(timeout=30)
        print("profile:", raw, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--control", help="a named pipe to read commands from (keeps the stack up)")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    home = Path(tempfile.mkdtemp(prefix="slate-fixed-cost-"))
    config = StackConfig.on_free_ports(home)
    with Stack(config) as stack:
        base = stack.gateway_url + "/api"
        code = subprocess.call([sys.executable, str(SHARED / "seed.py"), "--base-url", base, "--email",
                                config.admin_email, "--password", config.admin_password, "--scale", str(args.scale),
                                "--time-spents", "0", "--out", str(OUT / f"fixed-{stamp}-seed.json")],
                               stdout=subprocess.DEVNULL)
        print(f"seed exit code {code} (1 = stopped at the time spents, which planning does not serve yet)",
              flush=True)
        anonymous = Client(base)
        status, body, _ = anonymous.call("POST", "/auth/login", {"email": ARTIST, "password": ARTIST_PASSWORD})
        assert status == 200, body
        token = json.loads(body)["access_token"]
        me = Client(base, token)
        task = json.loads(me.call("GET", "/data/user/tasks")[1])[0]
        ids = {"task": task["id"], "shot": task["entity_id"]}
        if me.call("GET", f"/data/shots/{task['entity_id']}")[0] != 200:
            shots = json.loads(me.call("GET", f"/data/projects/{task['project_id']}/shots")[1])
            ids["shot"] = shots[0]["id"]
        result = measure(stack, token, ids, args.requests, args.warmup, args.rounds)
        report(result)
        (OUT / f"fixed-{stamp}.json").write_text(json.dumps(result, indent=1))
        if not args.control:
            return 0
        print(f"stack up at {stack.gateway_url}; commands on {args.control}", flush=True)
        while True:
            with open(args.control) as fifo:
                lines = [line.strip() for line in fifo if line.strip()]
            for line in lines:
                verb, *rest = line.split(" ", 1)
                if verb == "quit":
                    return 0
                try:
                    if verb == "restart":
                        for service in (*SERVICES, "gateway"):
                            stack.restart_service(service, hard=False)
                        stack.wait_healthy(names=list(SERVICES), path="/readyz")
                        print("restarted", flush=True)
                    elif verb == "measure":
                        report(measure(stack, token, ids, args.requests, args.warmup, args.rounds))
                    elif verb == "profile":
                        group, call = rest[0].split(" ", 1)
                        profile(stack, token, ids, group, call, args.requests * 3, stamp)
                except Exception as exc:  # noqa: BLE001 -- a development loop: say it and go on
                    print("error:", repr(exc), flush=True)


if __name__ == "__main__":
    sys.exit(main())
