#!/usr/bin/env python3
"""Session 10 (issue 16), paired in one process: PUT /data/tasks/<id> as a manager with the
mix's body (estimation and priority, values changing every call, as load.py sends them),
on production's app built here with the environment of a running production process (as
bench/inprocess_calls.py: relay and consumers off; the settle publishes to the stack's
NATS). Blocks of ``--block`` calls alternate the variants named in ``VARIANTS`` (the
code before a change and after it, swapped in by assignment), the order swapped each
round; CPU per call ``time.process_time()``, medians per round. Before timing, both
variants' answers and events are compared byte for byte (``updated_at`` and the event's
id and time aside) for the same body; their ``Slate-*`` headers are printed.

    .venv/bin/python bench/session10_put_inprocess.py --pid <production pid> --ids ids.json \\
        [--variants unnamed,named] [--rounds 3] [--count 300] [--block 25]

``ids.json``: {"manager": <token>, "task": <task id>}. With ``--variants code`` it only
calls the code as it is (for a profile: ``py-spy record -- .venv/bin/python ...``).
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inprocess_calls as ic  # noqa: E402
import psutil  # noqa: E402

#: name -> a function that installs that variant (filled in by ``install_variants``).
VARIANTS: dict[str, Callable[[], None]] = {"code": lambda: None}


def install_variants() -> None:
    """``unnamed``: the update's event without ``Slate-Changed`` (every update before
    session 10: media applies it and the writer waits for media); ``named``: as the code
    is (media skips it, nothing is waited for, the events are published in the
    background)."""
    from slate_common.crud.hooks import CrudHooks

    from slate_production.hooks import TaskHooks

    named = TaskHooks.changed_fields
    VARIANTS["unnamed"] = lambda: setattr(TaskHooks, "changed_fields", CrudHooks.changed_fields)
    VARIANTS["named"] = lambda: setattr(TaskHooks, "changed_fields", named)


async def main_async(args: argparse.Namespace) -> None:
    environ = psutil.Process(args.pid).environ()
    os.environ.update({k: v for k, v in environ.items() if k.startswith(("SLATE_", "OTEL_"))})
    os.environ["SLATE_PRODUCTION_WORKERS_ENABLED"] = "false"
    os.environ["SLATE_LOG_LEVEL"] = environ.get("SLATE_LOG_LEVEL", "INFO")
    app = importlib.import_module("slate_production.main").create_app()
    install_variants()
    ids = json.loads(Path(args.ids).read_text())
    path = f"/data/tasks/{ids['task']}"
    headers = [(b"authorization", f"Bearer {ids['manager']}".encode()), (b"content-type", b"application/json")]
    names = args.variants.split(",")
    counter = 0

    async def one(body: dict[str, Any] | None = None) -> tuple[float, bytes]:
        nonlocal counter
        counter += 1
        body = body or {"estimation": 480 * (1 + counter % 10), "priority": counter % 4}
        started = time.process_time()
        status, answer = await ic.call(app, "PUT", path, headers, json.dumps(body).encode())
        spent = time.process_time() - started
        if status != 200:
            raise SystemExit(f"PUT {path}: {status} {answer[:300]!r}")
        return spent, answer

    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
        if len(names) > 1:
            await compare(app, names, one, ids["task"])
        for name in names:
            VARIANTS[name]()
            for _ in range(args.warmup):
                await one()
        gc.collect()
        for round_ in range(args.rounds):
            times: dict[str, list[float]] = {name: [] for name in names}
            order = names if round_ % 2 == 0 else names[::-1]
            for _ in range(args.count // args.block):
                for name in order:
                    VARIANTS[name]()
                    for _ in range(args.block):
                        times[name].append((await one())[0])
            figures = ", ".join(f"{name} {1000 * statistics.median(v):.3f} ms" for name, v in times.items())
            print(f"round {round_ + 1} PUT {path}: {figures}; load {os.getloadavg()[0]:.2f}", flush=True)


async def compare(app: Any, names: list[str], one: Any, task_id: str) -> None:
    """Each variant's answer and event for the same change, byte for byte."""
    from sqlalchemy import select

    from slate_common.db import transaction
    from slate_common.events import OutboxEvent
    from slate_common.serialization import dumps, loads

    def plain(raw: bytes, drop: tuple[str, ...]) -> bytes:
        doc = loads(raw)
        for key in drop:
            doc.pop(key, None)
        if isinstance(doc.get("data"), dict) and isinstance(doc["data"].get("snapshot"), dict):
            doc["data"]["snapshot"].pop("updated_at", None)
        return dumps(doc)

    seen: dict[str, tuple[bytes, bytes, dict[str, Any]]] = {}
    for name in names:
        VARIANTS[name]()
        await one({"estimation": 4321, "priority": 1})  # the same starting point for each
        _, answer = await one({"estimation": 1234, "priority": 3})
        async with transaction(app.state.runtime.sessionmaker) as session:
            row = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq.desc()).limit(1))).one()
        headers = {k: v for k, v in row.headers.items() if k.startswith("Slate")}
        seen[name] = (plain(answer, ("updated_at",)), plain(row.payload, ("id", "occurred_at")))
        print(f"{name}: event headers {headers}", flush=True)
    first = seen[names[0]]
    for name in names[1:]:
        if seen[name] != first:
            raise SystemExit(f"variant {name} differs from {names[0]}:\n{seen[name]}\n{first}")
    print(f"answers and events equal across {names}: {first[0][:80]!r}...", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True, help="a running production process (its environment)")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--variants", default="code")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--block", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    asyncio.run(main_async(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
