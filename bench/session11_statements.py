#!/usr/bin/env python3
"""The shared mix against a running embedded stack, with PostgreSQL's own view (session 11):
CPU per process group over load.py's measured window, and the deltas of
``pg_stat_statements`` (calls, plans, planning and execution time per request of the mix)
and ``pg_stat_database`` (reads, commits, new sessions) over the same window.

The stack must run with the extension loaded, e.g.::

    SLATE_HOME=/tmp/stackB SLATE_PORT_BASE=31000 SLATE_ADMIN_PASSWORD=slate-admin-password \\
    SLATE_POSTGRES_SETTINGS="shared_preload_libraries=pg_stat_statements;pg_stat_statements.track_planning=on" \\
    .venv/bin/slate up &
    .venv/bin/python ../shared/bench/seed.py --base-url http://127.0.0.1:31000 --email admin@example.com --password slate-admin-password
    .venv/bin/python bench/session11_statements.py --root $(pgrep -f "slate up" | head -1) --clients 8,32 --pg-port 31032

(``--pg-port``: the stack's PostgreSQL, SLATE_PORT_BASE + 32.) Each level: ``load.py -c N -d 20
--warmup 2``; the window starts 2.5 s after its "setup done" line (the logins are outside).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from session9_stack_calls import cpu, groups  # noqa: E402

LOAD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "load.py"
STATEMENTS = """
SELECT d.datname, calls, plans, total_plan_time, total_exec_time, mean_exec_time,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
ORDER BY total_exec_time + total_plan_time DESC LIMIT 20"""
DATABASES = ("SELECT datname, blks_read, blks_hit, xact_commit, sessions FROM pg_stat_database "
             "WHERE datname LIKE 'slate%'")


async def query(url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def run(args: argparse.Namespace, clients: int) -> None:
    url = f"postgresql://postgres@127.0.0.1:{args.pg_port}/slate_production"  # its views cover every database
    asyncio.run(query(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
    load = subprocess.Popen(  # noqa: S603
        [sys.executable, "-u", str(LOAD), "--base-url", args.base_url, "--admin-password", args.admin_password,
         "-c", str(clients), "-d", str(args.duration), "--warmup", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert load.stdout is not None
    lines, before, found, db0 = [], None, {}, []
    for line in load.stdout:
        lines.append(line)
        if line.startswith("setup done") and before is None:
            time.sleep(2.5)
            asyncio.run(query(url, "SELECT pg_stat_statements_reset()"))
            db0 = asyncio.run(query(url, DATABASES))
            found = groups(psutil.Process(args.root))
            before = cpu(found)
    assert before is not None, "load.py did not start"
    after = cpu(found)
    statements = asyncio.run(query(url, STATEMENTS))
    db1 = asyncio.run(query(url, DATABASES))
    overall = next(line for line in lines if line.startswith("ALL"))
    n = int(overall.split()[1])
    per = {k: round(1000 * (after[k] - before[k]) / n, 2) for k in after}
    print(f"== C={clients}: {overall.strip()}")
    print(f"   CPU ms/request {dict(sorted(per.items(), key=lambda x: -x[1])[:7])} total {sum(per.values()):.2f}")
    print(f"   PostgreSQL ms/request (top 20): execution {sum(r['total_exec_time'] for r in statements) / n:.3f}, "
          f"planning {sum(r['total_plan_time'] for r in statements) / n:.3f}")
    for r in statements:
        print(f"   {r['datname'][6:]:10s} calls/req {r['calls'] / n:6.3f} plans {r['plans']:5d} "
              f"mean {r['mean_exec_time']:8.3f} ms exec/req {r['total_exec_time'] / n:6.3f} | {r['q']}")
    start = {r["datname"]: r for r in db0}
    for r in db1:
        a = start[r["datname"]]
        print(f"   db {r['datname'][6:]:14s} reads {r['blks_read'] - a['blks_read']:7d} "
              f"commits/req {(r['xact_commit'] - a['xact_commit']) / n:5.2f} new sessions {r['sessions'] - a['sessions']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=int, required=True, help="pid of `slate up` (the stack's supervisor)")
    ap.add_argument("--clients", default="8,32")
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--pg-port", type=int, required=True)
    ap.add_argument("--base-url", default="http://127.0.0.1:31000")
    ap.add_argument("--admin-password", default="slate-admin-password")
    args = ap.parse_args()
    for clients in (int(c) for c in args.clients.split(",")):
        run(args, clients)


if __name__ == "__main__":
    main()
