#!/usr/bin/env python3
"""Session 9 (issue 16), paired in one process: auth's app built here with the environment
of a running auth process, then blocks of 25 calls alternating the session-9 paths and the
ones before: /auth/authenticated (identity.caller_with_organisation of the branch point,
``--old``) and /data/persons (Person objects, and the departments read for every listing,
as before). Answers
checked byte for byte first
CPU per call: ``time.process_time()``, medians per round.

    .venv/bin/python bench/session9_toggle_auth.py --pid <auth pid> --ids ids.json --old /tmp/old
"""
import argparse
import asyncio
import gc
import importlib
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inprocess_calls as ic
import psutil

OLD = ""


async def main(pid, token, paths, count, block, warmup, rounds):
    environ = psutil.Process(pid).environ()
    os.environ.update({k: v for k, v in environ.items() if k.startswith(("SLATE_", "OTEL_"))})
    os.environ["SLATE_AUTH_WORKERS_ENABLED"] = "false"
    app = importlib.import_module("slate_auth.main").create_app()
    from slate_auth import hooks
    from slate_auth.api import auth as api_auth
    spec = importlib.util.spec_from_file_location("slate_auth.domain._old_identity", OLD)
    old = importlib.util.module_from_spec(spec)
    old.__package__ = "slate_auth.domain"
    sys.modules[spec.name] = old
    spec.loader.exec_module(old)
    from slate_common.crud.hooks import CrudHooks

    new_caller, new_sp = api_auth.caller_with_organisation, hooks.serialize_persons
    new_columns = hooks.PersonHooks.listed_columns

    async def old_sp(session, *, persons, fields=None, departments=True):
        return await new_sp(session, persons=persons, fields=fields)  # departments always read, as before

    def set_variant(name):
        api_auth.caller_with_organisation = old.caller_with_organisation if name == "before" else new_caller
        hooks.serialize_persons = old_sp if name == "before" else new_sp
        hooks.PersonHooks.listed_columns = CrudHooks.listed_columns if name == "before" else new_columns  # type: ignore[method-assign]

    headers = [(b"authorization", f"Bearer {token}".encode())]
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
        gc.collect()
        async def one(path):
            t = time.process_time()
            status, body = await ic.call(app, "GET", path, headers, b"")
            spent = time.process_time() - t
            assert status == 200, (status, body[:200])
            return spent, body
        for path in paths:
            set_variant("before")
            _, a = await one(path)
            set_variant("after")
            _, b = await one(path)
            assert a == b, (path, a[:300], b[:300])
        for name in ("before", "after"):
            set_variant(name)
            for path in paths:
                for _ in range(warmup):
                    await one(path)
        for r in range(rounds):
            for path in paths:
                times = {"before": [], "after": []}
                order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
                for _ in range(count // block):
                    for name in order:
                        set_variant(name)
                        for _ in range(block):
                            times[name].append((await one(path))[0])
                b, a = statistics.median(times["before"]) * 1000, statistics.median(times["after"]) * 1000
                print(f"round {r + 1} GET {path}: before {b:.3f} ms, after {a:.3f} ms ({100 * (a - b) / b:+.0f} %); "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--old", required=True, help="a git archive of the branch point")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    OLD = f"{args.old}/services/auth/src/slate_auth/domain/identity.py"
    ids = json.load(open(args.ids))
    asyncio.run(main(args.pid, ids["artist"], ["/auth/authenticated", "/data/persons"], args.count, 25, 50, args.rounds))
