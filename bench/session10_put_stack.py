#!/usr/bin/env python3
"""Session 10 (issue 16): PUT /data/tasks/<id> as a manager on a running stack, CPU per
request of every process group (psutil, as ``session9_stack_calls.py``) and latency at one
client, alternating in blocks two bodies on the same task:

- ``skip``: the mix's body (estimation and priority): with session 10's code the event
  names ``estimation, priority, updated_at`` and media's task replica, which keeps none
  of them, acks it without a transaction; the writer does not wait for media;
- ``apply``: the same plus ``assignees`` set to the task's current assignees (nothing
  changes: PUT stores no assignees), so the event names ``assignees`` and media applies
  it and is waited for, as every update was before session 10.

Blocks of ``--block`` calls, variants alternating (order swapped each round); CPU per
request per block, medians over the blocks; latencies pooled, p50. The ``Server-Timing``
header's settle-wait is averaged per variant.

    .venv/bin/python bench/session10_put_stack.py --root-pid <pid running the stack> \\
        --port <gateway port> --ids ids.json [--blocks 12] [--block 25]

``ids.json``: {"manager": <a manager's access token>, "task": <task id>}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import time

import psutil
from session9_stack_calls import cpu, groups


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root-pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--blocks", type=int, default=12)
    ap.add_argument("--block", type=int, default=25)
    args = ap.parse_args()
    ids = json.load(open(args.ids))
    path = f"/api/data/tasks/{ids['task']}"
    conn = http.client.HTTPConnection("127.0.0.1", args.port)
    headers = {"Authorization": f"Bearer {ids['manager']}", "Content-Type": "application/json"}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    assignees = json.loads(resp.read())["assignees"]

    def one(i: int, variant: str) -> tuple[float, float]:
        body: dict[str, object] = {"estimation": 480 * (1 + i % 10), "priority": i % 4}
        if variant == "apply":
            body["assignees"] = assignees
        started = time.perf_counter()
        conn.request("PUT", path, body=json.dumps(body).encode(), headers=headers)
        resp = conn.getresponse()
        resp.read()
        took = (time.perf_counter() - started) * 1000
        assert resp.status == 200, resp.status
        wait = re.search(r"settle-wait;dur=([0-9.]+)", resp.getheader("server-timing") or "")
        return took, float(wait.group(1)) if wait else 0.0

    for i in range(20):
        one(i, "skip")
        one(i, "apply")
    found = groups(psutil.Process(args.root_pid))
    per_block: dict[str, list[dict[str, float]]] = {"skip": [], "apply": []}
    latencies: dict[str, list[float]] = {"skip": [], "apply": []}
    waits: dict[str, list[float]] = {"skip": [], "apply": []}
    for round_ in range(args.blocks):
        for variant in (("skip", "apply") if round_ % 2 == 0 else ("apply", "skip")):
            before = cpu(found)
            for i in range(args.block):
                took, wait = one(i, variant)
                latencies[variant].append(took)
                waits[variant].append(wait)
            after = cpu(found)
            per_block[variant].append({k: 1000 * (after[k] - before[k]) / args.block for k in after})
    for variant, blocks in per_block.items():
        keys = sorted(blocks[0], key=lambda k: -statistics.median(b[k] for b in blocks))
        split = {k: round(statistics.median(b[k] for b in blocks), 2) for k in keys
                 if statistics.median(b[k] for b in blocks) >= 0.01}
        total = statistics.median(sum(b.values()) for b in blocks)
        print(f"{variant}: p50 {statistics.median(latencies[variant]):.2f} ms, settle-wait mean "
              f"{statistics.fmean(waits[variant]):.2f} ms, CPU {total:.2f} ms/request (median of {len(blocks)} blocks) "
              f"{split}")
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
