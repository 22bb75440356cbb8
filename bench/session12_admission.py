#!/usr/bin/env python3
"""The shared mix at N clients against a running embedded stack, as session 12 measured the
bound on the requests at work (``SLATE_<SERVICE>_MAX_ACTIVE_REQUESTS``): the mix's and a few
calls' latencies, the CPU of every process of the stack per request over load.py's measured
window, and (``--probe``) one more client posting a comment on its own task every 0.15 s
beside the mix, reading where each answer's time went from its ``Server-Timing`` header
(settle-publish, settle-wait).

One setting per start of the stack, e.g.::

    SLATE_HOME=/tmp/stackB SLATE_PORT_BASE=31000 SLATE_ADMIN_PASSWORD=slate-admin-password \\
    SLATE_PRODUCTION_MAX_ACTIVE_REQUESTS=6 .venv/bin/slate up &
    .venv/bin/python ../shared/bench/seed.py --base-url http://127.0.0.1:31000 --email admin@example.com --password slate-admin-password
    .venv/bin/python bench/session12_admission.py --root $(pgrep -f "slate up" | head -1) --label bound-6 --probe

then stop it, start it with another value (0: no bound) and run again; alternate.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from session9_stack_calls import cpu, groups  # noqa: E402

LOAD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "load.py"
SHOWN = ("ALL", "comment_post", "task_put", "task_get", "user_tasks", "shots_with_tasks_episode", "auth_authenticated")


def probe(base: str, admin_password: str, seconds: float, out: list[tuple[float, str]]) -> None:
    """Comments of one seeded artist on their first task, alternating wip and wfa."""
    with httpx.Client(base_url=base, timeout=30) as c:
        admin = c.post("/api/auth/login", json={"email": "admin@example.com", "password": admin_password}).json()
        headers = {"Authorization": f"Bearer {admin['access_token']}"}
        artist = next(p for p in c.get("/api/data/persons", headers=headers).json() if p["email"].startswith("artist"))
        login = c.post("/api/auth/login", json={"email": artist["email"], "password": "bench-artist-pass"}).json()
        mine = {"Authorization": f"Bearer {login['access_token']}"}
        task_id = c.get("/api/data/user/tasks", headers=mine).json()[0]["id"]
        status = {s["short_name"]: s["id"] for s in c.get("/api/data/task-status", headers=headers).json()}
        end, n = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            n += 1
            started = time.perf_counter()
            r = c.post(f"/api/actions/tasks/{task_id}/comment", headers=mine,
                       json={"task_status_id": status["wip" if n % 2 else "wfa"], "comment": f"probe {n}"})
            r.raise_for_status()
            out.append(((time.perf_counter() - started) * 1000, r.headers.get("server-timing", "")))
            time.sleep(0.15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=int, required=True, help="pid of `slate up`")
    ap.add_argument("--base-url", default="http://127.0.0.1:31000")
    ap.add_argument("--admin-password", default="slate-admin-password")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--duration", type=int, default=25)
    ap.add_argument("--label", default="")
    ap.add_argument("--probe", action="store_true", help="post comments beside the mix, with their Server-Timing")
    args = ap.parse_args()
    proc = subprocess.Popen([sys.executable, "-u", str(LOAD), "--base-url", args.base_url, "--admin-password",
                             args.admin_password, "-c", str(args.clients), "-d", str(args.duration), "--warmup", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    before: dict[str, float] | None = None
    probed: list[tuple[float, str]] = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("setup done") and before is None:
            time.sleep(2.5)  # the logins are outside the window
            found = groups(psutil.Process(args.root))
            before = cpu(found)
            if args.probe:
                threading.Thread(target=probe, args=(args.base_url, args.admin_password, args.duration - 6, probed),
                                 daemon=True).start()
    after = cpu(found)
    total = next(line for line in lines if line.startswith("ALL"))
    n = int(total.split()[1])
    per = {k: 1000 * (after[k] - (before or {}).get(k, 0.0)) / n for k in after}
    top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(per.items(), key=lambda x: -x[1])[:6])
    print(f"== {args.label} C={args.clients}: CPU ms/request {sum(per.values()):.2f} ({top})")
    print("   endpoint count rps p50 p95 p99 max errors bytes")
    for line in lines:
        if line.split()[:1] and line.split()[0] in SHOWN:
            print("  ", line.rstrip())
    if probed:
        print(f"   probe: {len(probed)} comments, p50 {statistics.median(ms for ms, _ in probed):.1f} ms")
        for ms, timing in sorted(probed)[:: max(1, len(probed) // 10)]:
            print(f"     {ms:7.1f} ms  {timing}")


if __name__ == "__main__":
    main()
