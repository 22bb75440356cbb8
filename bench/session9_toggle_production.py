#!/usr/bin/env python3
"""Session 9 (issue 16), paired in one process: production's app built here with the
environment of a running production process (as bench/inprocess_calls.py), then blocks of
25 calls alternating the session-9 paths and the ones before them, the functions before
loaded from a `git archive` of the branch point (``--old``): GET /data/tasks/<id> (the
CRUD engine's ORM path: read_one off), /data/tasks/<id>/comments (comment_queries before)
and /data/projects/<id>/assets (access.readable_project and entity_ops' listing statement
before). The answers of both are checked byte for byte first. CPU per call:
``time.process_time()``, medians per round.

    git archive <branch point> services/production/src | tar -x -C /tmp/old
    .venv/bin/python bench/session9_toggle_production.py --pid <production pid> --ids ids.json --old /tmp/old

``ids.json``: {"artist": <token>, "task": <task id>, "project": <project id>}.
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


def load_old(name):
    spec = importlib.util.spec_from_file_location(f"slate_production.domain._old_{name}", OLD + name + ".py",
                                                  submodule_search_locations=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "slate_production.domain"
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


async def main(pid, token, paths, count, block, warmup, rounds):
    environ = psutil.Process(pid).environ()
    os.environ.update({k: v for k, v in environ.items() if k.startswith(("SLATE_", "OTEL_"))})
    os.environ["SLATE_PRODUCTION_WORKERS_ENABLED"] = "false"
    main_module = importlib.import_module("slate_production.main")
    app = main_module.create_app()
    from slate_common.crud.hooks import CrudHooks

    from slate_production import hooks
    from slate_production.api import comments as api_comments
    from slate_production.domain import access, comment_queries, entity_ops, project_reads
    old_cq = load_old("comment_queries")
    old_eo = load_old("entity_ops")
    new_read_one = hooks.TaskHooks.read_one
    new_readable = project_reads.readable_project_id
    new_listing = entity_ops._listing_statement

    async def old_readable(session, *, principal, project_id):
        return (await access.readable_project(session, principal=principal, project_id=project_id)).id

    def set_variant(name):
        old = name == "before"
        hooks.TaskHooks.read_one = CrudHooks.read_one if old else new_read_one
        api_comments.queries = old_cq if old else comment_queries
        project_reads.readable_project_id = old_readable if old else new_readable
        entity_ops._listing_statement = old_eo._listing_statement if old else new_listing

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
        # the same bytes both ways
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
                print(f"round {r + 1} GET {path.split('/')[-1] if path.endswith(('comments', 'assets')) else 'task'}: "
                      f"before {b:.3f} ms, after {a:.3f} ms ({100 * (a - b) / b:+.0f} %); load {os.getloadavg()[0]:.1f}",
                      flush=True)

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--old", required=True, help="a git archive of the branch point")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    OLD = f"{args.old}/services/production/src/slate_production/domain/"
    ids = json.load(open(args.ids))
    paths = [f"/data/tasks/{ids['task']}", f"/data/tasks/{ids['task']}/comments", f"/data/projects/{ids['project']}/assets"]
    asyncio.run(main(args.pid, ids["artist"], paths, args.count, 25, 50, args.rounds))
