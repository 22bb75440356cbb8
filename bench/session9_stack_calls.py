#!/usr/bin/env python3
"""Session 9 (issue 16): CPU per call of every process group of a running stack (the
children of the process that runs it: services with their workers, PostgreSQL, NATS, S3),
for ``count`` calls of one route through the gateway as the seed's first manager (PUT:
the mix's body), after 20; p50 at one client.

    .venv/bin/python bench/session9_stack_calls.py --root-pid <pid running the stack> \\
        --port <gateway port> --ids ids.json PUT /api/data/tasks/<id> 150

``ids.json``: {"manager": <a manager's access token>}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import time

import psutil


def groups(root: psutil.Process) -> dict[str, list[psutil.Process]]:
    out: dict[str, list[psutil.Process]] = {}
    for proc in root.children():
        cmd = " ".join(proc.cmdline())
        if "postgres" in cmd:
            name = "postgres"
        elif "nats-server" in cmd:
            name = "nats"
        elif "weed" in cmd:
            name = "s3"
        elif "-m slate" in cmd:
            name = cmd.split("-m ")[-1].split()[0].replace("slate_", "")
        else:
            name = "other"
        out.setdefault(name, []).extend([proc, *proc.children(recursive=True)])
    return out


def cpu(found: dict[str, list[psutil.Process]]) -> dict[str, float]:
    totals = {}
    for name, procs in found.items():
        spent = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            spent += times.user + times.system + times.children_user + times.children_system
        totals[name] = spent
    return totals


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root-pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("method")
    ap.add_argument("path")
    ap.add_argument("count", type=int)
    args = ap.parse_args()
    token = json.load(open(args.ids))["manager"]
    conn = http.client.HTTPConnection("127.0.0.1", args.port)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def one(i: int) -> None:
        body = (json.dumps({"estimation": 480 * (1 + i % 10), "priority": i % 4}).encode()
                if args.method == "PUT" else None)
        conn.request(args.method, args.path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status

    for i in range(20):
        one(i)
    found = groups(psutil.Process(args.root_pid))
    before = cpu(found)
    latencies = []
    for i in range(args.count):
        started = time.perf_counter()
        one(i)
        latencies.append((time.perf_counter() - started) * 1000)
    after = cpu(found)
    per = {k: round(1000 * (after[k] - before[k]) / args.count, 2) for k in after}
    ordered = dict(sorted(per.items(), key=lambda x: -x[1]))
    print(f"{args.method} {args.path}: p50 {statistics.median(latencies):.1f} ms, CPU {sum(per.values()):.2f} "
          f"ms/request {ordered}; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
