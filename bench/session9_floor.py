#!/usr/bin/env python3
"""Session 9 (issue 16): the floor of a light call on a running stack. One keep-alive
client, 400 calls after 50, CPU of the gateway, auth and PostgreSQL (psutil, children
included) per call, p50: a trivial route of auth directly (no middleware; all middleware
without and with a token check), a 404 the gateway answers alone, a 401 through the
gateway (the hop plus auth's middleware and token check), then /auth/authenticated and
/data/persons directly and through the gateway.

    .venv/bin/python bench/session9_floor.py --gateway-port P --auth-port P --gateway-pid PID \\
        --auth-pid PID --postgres-pid PID --ids ids.json [--rounds 1]

``ids.json``: {"artist": <an artist's access token>}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import time
from typing import Any

import psutil


def processes(pids: dict[str, int]) -> dict[str, list[psutil.Process]]:
    out = {}
    for group, pid in pids.items():
        proc = psutil.Process(pid)
        out[group] = [proc, *proc.children(recursive=True)]
    return out


def cpu(groups: dict[str, list[psutil.Process]]) -> dict[str, float]:
    totals = {}
    for group, procs in groups.items():
        spent = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            spent += times.user + times.system + times.children_user + times.children_system
        totals[group] = spent
    return totals


def run(pids: dict[str, int], port: int, path: str, token: str | None, count: int = 400,
        warmup: int = 50) -> tuple[Any, ...]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def one() -> int:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status

    status = 0
    for _ in range(warmup):
        status = one()
    groups = processes(pids)
    before = cpu(groups)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        one()
        latencies.append((time.perf_counter() - started) * 1000)
    after = cpu(groups)
    per = {g: round(1000 * (after[g] - before[g]) / count, 2) for g in after}
    return status, round(statistics.median(latencies), 2), per, round(sum(per.values()), 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    for name in ("--gateway-port", "--auth-port", "--gateway-pid", "--auth-pid", "--postgres-pid"):
        ap.add_argument(name, type=int, required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    token = json.load(open(args.ids))["artist"]
    pids = {"gateway": args.gateway_pid, "auth": args.auth_pid, "postgres": args.postgres_pid}
    gw, auth = args.gateway_port, args.auth_port
    calls = [("auth direct /healthz (no middleware)", auth, "/healthz", None),
             ("auth direct 404 (all middleware, no token)", auth, "/auth/nothing-here", None),
             ("auth direct /auth/authenticated", auth, "/auth/authenticated", token),
             ("auth direct /auth/jwks.json (all middleware, no DB)", auth, "/auth/jwks.json", None),
             ("gateway 404 (gateway alone)", gw, "/api/auth/nothing-here", None),
             ("gateway -> auth 401 (no token)", gw, "/api/auth/authenticated", None),
             ("gateway -> /auth/authenticated", gw, "/api/auth/authenticated", token),
             ("gateway -> /data/persons", gw, "/api/data/persons", token)]
    for _ in range(args.rounds):
        print("load", os.getloadavg()[0])
        print("| call | status | p50 ms | CPU ms/request | per group |")
        for name, port, path, tok in calls:
            status, p50, per, total = run(pids, port, path, tok)
            print(f"| {name} | {status} | {p50} | {total} | {per} |", flush=True)


if __name__ == "__main__":
    main()
