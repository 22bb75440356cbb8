#!/usr/bin/env python3
"""CPU per call of one service app in this process: issue 16's paired comparisons.

Builds the service's app here with the environment of a running service process of a
stack (``--pid``: its settings, database, NATS, auth's JWKS; the outbox relay and
consumers off, so that only the calls use this process's CPU), runs its lifespan, and
calls it through its whole ASGI stack (every middleware, FastAPI, the token check, the
session, the handler, the access log line; no sockets, so neither uvicorn's HTTP parsing
nor the gateway): ``--count`` calls of each ``--path`` per round after ``--warmup``,
``time.process_time()`` around each call, the median per round printed. Every answer
must be 200 (or ``--status``).

``--toggle-index`` alternates, within each round, blocks of calls through FastAPI's own
router and through the route index in front of it (``slate_common.route_index``): the
paired figure of that change, in one process. Two versions of the code are compared by
running this with PYTHONPATH on each version's sources, alternately, on the same stack.

    .venv/bin/python bench/inprocess_calls.py --service production --pid <pid of a production process> \
        --token <access token> --path /data/tasks/<id> [--path ...] [--count 500] [--warmup 100] \
        [--rounds 3] [--toggle-index] [--method PUT --body '{"priority": 1}']
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import statistics
import sys
import time
from typing import Any

import psutil

SERVICES = {"production": "slate_production", "auth": "slate_auth", "media": "slate_media",
            "planning": "slate_planning", "import-export": "slate_import_export"}


async def call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def measure(app: Any, args: argparse.Namespace) -> None:
    from slate_common.route_index import RouteIndex

    router = app.router
    index = router.middleware_stack if isinstance(router.middleware_stack, RouteIndex) else None
    if args.toggle_index and index is None:
        raise SystemExit("--toggle-index: this code has no route index")
    headers = [(b"authorization", f"Bearer {args.token}".encode()), (b"content-type", b"application/json")]
    body = args.body.encode() if args.body else b""
    variants = [("scan", router.app), ("index", index)] if args.toggle_index else [("code", router.middleware_stack)]

    async def one(path: str) -> float:
        started = time.process_time()
        status, answer = await call(app, args.method, path, headers, body)
        spent = time.process_time() - started
        if status != args.status:
            raise SystemExit(f"{args.method} {path}: {status} {answer[:300]!r}")
        return spent

    for path in args.path:
        for _ in range(args.warmup):
            await one(path)
    for round_ in range(args.rounds):
        for path in args.path:
            times: dict[str, list[float]] = {name: [] for name, _ in variants}
            order = variants if round_ % 2 == 0 else variants[::-1]
            for _ in range(args.count // args.block):
                for name, entry in order:
                    router.middleware_stack = entry
                    for _ in range(args.block):
                        times[name].append(await one(path))
            router.middleware_stack = index or router.middleware_stack
            figures = ", ".join(f"{name} {1000 * statistics.median(v):.3f} ms (mean {1000 * statistics.fmean(v):.3f})"
                                for name, v in times.items())
            print(f"round {round_ + 1} {args.method} {path}: {figures}; load {os.getloadavg()[0]:.2f}", flush=True)


async def main_async(args: argparse.Namespace) -> None:
    environ = psutil.Process(args.pid).environ()
    os.environ.update({k: v for k, v in environ.items() if k.startswith(("SLATE_", "OTEL_"))})
    prefix = "SLATE_" + args.service.upper().replace("-", "_") + "_"
    os.environ[prefix + "WORKERS_ENABLED"] = "false"
    os.environ["SLATE_LOG_LEVEL"] = environ.get("SLATE_LOG_LEVEL", "INFO")
    main_module = importlib.import_module(SERVICES[args.service] + ".main")
    app = main_module.create_app()
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
        gc.collect()
        await measure(app, args)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--service", default="production", choices=sorted(SERVICES))
    ap.add_argument("--pid", type=int, required=True, help="a running process of that service (its environment)")
    ap.add_argument("--token", required=True)
    ap.add_argument("--path", action="append", required=True)
    ap.add_argument("--method", default="GET")
    ap.add_argument("--body", default="")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--block", type=int, default=50, help="calls in a row per variant with --toggle-index")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--toggle-index", action="store_true")
    args = ap.parse_args()
    if args.body:
        json.loads(args.body)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
