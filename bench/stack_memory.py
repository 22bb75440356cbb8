#!/usr/bin/env python3
"""Memory of the whole embedded stack: every service, the gateway, PostgreSQL, NATS, S3.

Boots the stack with :class:`slate_common.stack.Stack` on free ports in a temporary
SLATE_HOME, waits for it to settle, and sums the resident memory of every supervised
process and its children (PostgreSQL runs a process per backend). Then it drives a
bounded load through the gateway (logins, project creations and listings; loopback
only) and measures again.

RSS double-counts pages shared between processes (PostgreSQL's shared buffers, the
Python interpreter's libraries); PSS shares them out and is the fairer sum. Both are
printed; the budget (1.5 GB total, 150 MB per Python service) is checked on RSS.

    .venv/bin/python bench/stack_memory.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from slate_common.stack import Stack, StackConfig

PYTHON_PROCS = ("auth", "production", "media", "import-export", "planning", "gateway")


def measure(stack: Stack) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for name in stack.supervisor.names:
        pid = stack.supervisor[name].pid
        if pid is None:
            continue
        root = psutil.Process(pid)
        rss = pss = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                info = proc.memory_full_info()
            except psutil.NoSuchProcess:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        out[name] = (rss / 2**20, pss / 2**20)
    return out


def report(title: str, mem: dict[str, tuple[float, float]]) -> float:
    print(f"\n{title}")
    print(f"{'process':<16}{'RSS MB':>10}{'PSS MB':>10}")
    for name, (rss, pss) in sorted(mem.items()):
        print(f"{name:<16}{rss:>10.1f}{pss:>10.1f}")
    total_rss = sum(r for r, _ in mem.values())
    total_pss = sum(p for _, p in mem.values())
    print(f"{'total':<16}{total_rss:>10.1f}{total_pss:>10.1f}")
    worst = max(mem[n][0] for n in PYTHON_PROCS if n in mem)
    print(f"budget: total RSS {total_rss:.0f} MB (< 1536), largest Python process {worst:.0f} MB (< 150)")
    return total_rss


async def load(gateway: str, email: str, password: str, requests: int, concurrency: int) -> float:
    async with httpx.AsyncClient(base_url=gateway + "/api", timeout=30) as client:
        token = (await client.post("/auth/login", json={"email": email, "password": password})).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(requests):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                if i % 10 == 0:
                    r = await client.post("/data/projects", json={"name": f"mem {i} {time.time()}"}, headers=h)
                elif i % 10 == 1:
                    r = await client.post("/auth/login", json={"email": email, "password": password})
                else:
                    r = await client.get("/data/projects/open", headers=h)
                assert r.status_code in (200, 201), r.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--settle", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slate-mem-") as home:
        # The load logs in ~200 times from one address: successful logins are never limited.
        config = StackConfig.on_free_ports(Path(home))
        stack = Stack(config)
        with stack:
            time.sleep(args.settle)
            report("after start (idle)", measure(stack))
            seconds = asyncio.run(load(stack.gateway_url, stack.config.admin_email, stack.config.admin_password,
                                       args.requests, args.concurrency))
            print(f"\nload: {args.requests} requests at {args.concurrency} concurrent clients in {seconds:.1f} s")
            time.sleep(2)
            report("after load", measure(stack))


if __name__ == "__main__":
    main()
