#!/usr/bin/env python3
"""Session 10 (issue 16), paired in one process: GET /data/persons as an artist on auth's app
built here with the environment of a running auth process (as bench/inprocess_calls.py),
blocks of ``--block`` calls alternating two variants, the order swapped each round; CPU per
call ``time.process_time()``, medians per round; the answers of both variants compared
byte for byte first.

- ``built`` / ``cached``: the listing's statement built for every request (the code
  before: ``CrudHooks.listing_key`` None) / built once (``PersonHooks.listing_key``).

    .venv/bin/python bench/session10_toggle_auth.py --pid <auth pid> --ids ids.json [--rounds 3]

``ids.json``: {"artist": <an artist's access token>}.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inprocess_calls as ic  # noqa: E402
import psutil  # noqa: E402


async def main_async(args: argparse.Namespace) -> None:
    environ = psutil.Process(args.pid).environ()
    os.environ.update({k: v for k, v in environ.items() if k.startswith(("SLATE_", "OTEL_"))})
    os.environ["SLATE_AUTH_WORKERS_ENABLED"] = "false"
    app = importlib.import_module("slate_auth.main").create_app()
    from slate_common.crud.hooks import CrudHooks

    from slate_auth import hooks

    new_key = hooks.PersonHooks.listing_key
    variants = {"built": lambda: setattr(hooks.PersonHooks, "listing_key", CrudHooks.listing_key),
                "cached": lambda: setattr(hooks.PersonHooks, "listing_key", new_key)}
    token = json.loads(Path(args.ids).read_text())["artist"]
    headers = [(b"authorization", f"Bearer {token}".encode())]

    async def one() -> tuple[float, bytes]:
        started = time.process_time()
        status, body = await ic.call(app, "GET", "/data/persons", headers, b"")
        spent = time.process_time() - started
        assert status == 200, (status, body[:200])
        return spent, body

    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
        answers = {}
        for name, install in variants.items():
            install()
            answers[name] = (await one())[1]
        assert len(set(answers.values())) == 1, "the variants answer differently"
        print(f"answers equal ({len(answers['built'])} bytes)", flush=True)
        for install in variants.values():
            install()
            for _ in range(args.warmup):
                await one()
        gc.collect()
        names = list(variants)
        for round_ in range(args.rounds):
            times: dict[str, list[float]] = {name: [] for name in names}
            for _ in range(args.count // args.block):
                for name in names if round_ % 2 == 0 else names[::-1]:
                    variants[name]()
                    for _ in range(args.block):
                        times[name].append((await one())[0])
            figures = ", ".join(f"{name} {1000 * statistics.median(v):.3f} ms" for name, v in times.items())
            print(f"round {round_ + 1} GET /data/persons: {figures}; load {os.getloadavg()[0]:.2f}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--block", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    asyncio.run(main_async(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
