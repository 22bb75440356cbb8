#!/usr/bin/env python3
"""Where one write's time goes at 1 client (docs/consistency.md): the two writes of the
shared Kitsu mix (a comment with a status change, a task update), issued one after the
other, with the consistency mechanism on and off.

Every settled write answers a ``Server-Timing`` header (slate_common.app.SettleMiddleware):
``settle-publish`` (its events published and acknowledged by JetStream), ``settle-wait``
(until every readable group announced them; ``desc`` names the group announced last) and
``settle-consumer`` (that group's own time for the batch, receipt to announcement). So per
write kind this prints the medians of: the whole call at the client, publish, wait, the
slowest group's own time, the rest of the wait (transport and the pull's wake-up), and
which groups were last how often.

1. Boots Slate's embedded stack on free ports in a temporary home and seeds a small
   production with the shared seeder (../shared/bench/seed.py ``--scale``).
2. For each of ``--rounds`` rounds, alternating on/off: restarts every service with
   ``SLATE_CONSISTENCY_ENABLED`` set, then issues ``--writes`` writes of each kind.

    .venv/bin/python bench/write_chain.py [--rounds 2] [--writes 200] [--scale 0.1]

Bounded: seeding (about a minute at --scale 0.1), then rounds x 2 modes x 2 x writes
sequential calls (a few seconds each hundred) and a stack restart per mode.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from slate_common.stack import Stack, StackConfig

HERE = Path(__file__).resolve().parent
SHARED = (HERE.parent.parent / "shared" / "bench").resolve()
OUT = HERE / "out"
SERVICES = ("auth", "production", "media", "import-export", "planning")
TIMING = re.compile(r'([\w-]+);dur=([\d.]+)(?:;desc="([^"]*)")?')


def parse_timing(header: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, dur, desc in TIMING.findall(header or ""):
        out[name] = float(dur)
        if desc:
            out[f"{name}-desc"] = desc
    return out


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def run_writes(base: str, token: str, tasks: list[str], statuses: list[str], n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for i in range(n):
            task = tasks[i % len(tasks)]
            for kind in ("comment_post", "task_put"):
                if kind == "comment_post":
                    body = {"task_status_id": statuses[i % 2], "comment": f"write chain {i}"}
                    started = time.perf_counter()
                    r = client.post(f"/actions/tasks/{task}/comment", json=body)
                else:
                    body = {"estimation": (i % 10 + 1) * 480, "priority": i % 4}
                    started = time.perf_counter()
                    r = client.put(f"/data/tasks/{task}", json=body)
                took = (time.perf_counter() - started) * 1000
                if r.status_code >= 300:
                    raise SystemExit(f"{kind}: {r.status_code} {r.text[:200]}")
                rows.append({"kind": kind, "ms": took, **parse_timing(r.headers.get("server-timing", ""))})
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows), "client_p50": median([r["ms"] for r in rows])}
    settled = [r for r in rows if "settle-wait" in r]
    if settled:
        out["publish_p50"] = median([r["settle-publish"] for r in settled])
        out["wait_p50"] = median([r["settle-wait"] for r in settled])
        own = [r for r in settled if "settle-consumer" in r]
        out["slowest_own_p50"] = median([r["settle-consumer"] for r in own])
        out["wait_minus_own_p50"] = median([r["settle-wait"] - r["settle-consumer"] for r in own])
        out["slowest"] = dict(collections.Counter(r.get("settle-wait-desc", "-") for r in settled).most_common())
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--writes", type=int, default=200)
    ap.add_argument("--scale", type=float, default=0.1)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    home = Path(tempfile.mkdtemp(prefix="slate-write-chain-"))
    config = StackConfig.on_free_ports(home, extra_env={"SLATE_LOG_LEVEL": "WARNING"})
    results: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    with Stack(config) as stack:
        base = stack.gateway_url + "/api"
        subprocess.run([sys.executable, str(SHARED / "seed.py"), "--base-url", base, "--email", config.admin_email,
                        "--password", config.admin_password, "--scale", str(args.scale), "--comments", "20",
                        "--time-spents", "0", "--out", str(OUT / f"write-chain-{stamp}-seed.json")], check=False)
        login = httpx.post(f"{base}/auth/login", json={"email": config.admin_email, "password": config.admin_password})
        token = login.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        project = httpx.get(f"{base}/data/projects/open", headers=auth).json()[0]["id"]
        tasks = [t["id"] for t in httpx.get(f"{base}/data/projects/{project}/tasks", headers=auth).json()][:50]
        names = {s["short_name"]: s["id"] for s in httpx.get(f"{base}/data/task-status", headers=auth).json()}
        statuses = [names["wip"], names["wfa"]]
        for n in range(args.rounds):
            for mode in (("on", "off") if n % 2 == 0 else ("off", "on")):
                env = {"SLATE_CONSISTENCY_ENABLED": "true" if mode == "on" else "false"}
                for service in SERVICES:
                    stack.restart_service(service, env, hard=False)
                stack.wait_healthy(names=list(SERVICES), path="/readyz")
                run_writes(base, token, tasks, statuses, 10)  # warm up
                results[mode].extend(run_writes(base, token, tasks, statuses, args.writes))
                print(f"round {n} {mode}: {args.writes} x 2 writes", flush=True)
    summary = {mode: {kind: summarize([r for r in rows if r["kind"] == kind]) for kind in ("comment_post", "task_put")}
               for mode, rows in results.items()}
    (OUT / f"write-chain-{stamp}.json").write_text(json.dumps({"summary": summary, "runs": results}, indent=1))
    print(json.dumps(summary, indent=1))
    for kind in ("comment_post", "task_put"):
        on, off = summary["on"][kind], summary["off"][kind]
        print(f"{kind}: p50 on {on['client_p50']} ms, off {off['client_p50']} ms "
              f"(+{round(on['client_p50'] - off['client_p50'], 2)} ms); publish {on.get('publish_p50')}, "
              f"wait {on.get('wait_p50')} (slowest group's own {on.get('slowest_own_p50')}, "
              f"the rest {on.get('wait_minus_own_p50')}); last: {on.get('slowest')}")
    print(f"results: {OUT}/write-chain-{stamp}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
