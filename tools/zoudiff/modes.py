"""The modes as functions, for the command line and for the CI test."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .plan import Route, load_routes, plan, served_routes
from .runner import Runner
from .seed import Seeder
from .shape import load_fixture
from .side import OTHER, Side
from .verdict import CallResult, judge, load_intentional, load_known_gaps, summarize


def slate_served(side: Side) -> list[Route]:
    spec = side.client.get("/api/openapi.json")
    if spec.status_code != 200:
        spec = side.client.get("/openapi.json")
    return served_routes(load_routes(), spec.json())


def run_side(side: Side, routes: list[Route], role_list: tuple[str, ...], tag: str,
             expected: dict[str, dict[str, Any]] | None = None) -> Runner:
    """Seed ``side`` and make the planned calls (only those ``expected`` holds, if given:
    a replay has nothing to compare the others with)."""
    # a fixture recorded before the @other column has no other project's things in its lists
    other = expected is None or any(key.endswith(OTHER) for key in expected)
    seeder = Seeder(side, tag, other_project=other)
    seeder.seed()
    runner = Runner(side, seeder, expected=expected)
    started = time.monotonic()
    calls = plan(routes, role_list)
    if expected is not None:
        calls = [c for c in calls if c.key in expected]
    try:
        runner.run(calls)
    finally:
        seeder.cleanup()
    print(f"{side.name}: {len(calls)} calls in {time.monotonic() - started:.1f}s", flush=True)
    print(f"{side.name}: {len(side.lagged)} calls answered 404 and then not, when asked again "
          "(a replica behind a write: a consistency breach)" + "".join(f"\n  {x}" for x in side.lagged), flush=True)
    if runner.steady_404s:
        print(f"{side.name}: {len(runner.steady_404s)} calls on a fresh target answered 404 where Zou succeeded, "
              f"the same a second later (Slate's answer, compared as is): {runner.steady_404s[:5]}", flush=True)
    if runner.fresh_failed:
        print(f"{side.name}: {len(runner.fresh_failed)} fresh targets could not be made "
              f"(first: {runner.fresh_failed[:3]})", flush=True)
    return runner


def new_tag() -> str:
    return "z" + format(int(time.time() * 1000) % 36**6, "x")


def compare_all(routes: list[Route], role_list: tuple[str, ...], zou: dict[str, Any],
                slate: dict[str, Any]) -> list[CallResult]:
    intentional = load_intentional()
    known = load_known_gaps()
    results = []
    for route in routes:
        for role in role_list:
            key = f"{route.method} {route.path} | {role}"
            # a call the oracle never answered (timed out while recording) is not compared
            if key in zou and key in slate and zou[key]["status"] not in (0, 598, 599):
                results.append(judge(f"{route.method} {route.path}", route.service, role, zou[key], slate[key],
                                     intentional, known))
    return results


def replay(slate: Side, fixture_path: Path, role_list: tuple[str, ...],
           select: Any = None) -> list[CallResult]:
    """Seed ``slate``, call every route it serves that the fixture holds, judge each call."""
    fixture = load_fixture(fixture_path)
    routes = [r for r in slate_served(slate)
              if any(f"{r.method} {r.path} | {role}" in fixture for role in role_list)]
    if select is not None:
        routes = select(routes)
    print(f"replay: {len(routes)} served routes x {len(role_list)} roles against {fixture_path}", flush=True)
    runner = run_side(slate, routes, role_list, new_tag(), expected=fixture)
    return compare_all(routes, role_list, fixture, runner.records)


def write_results(path: Path, results: list[CallResult], mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {
        "mode": mode,
        "summary": summarize(results),
        "calls": {r.key: {"service": r.service, "zou": r.zou, "slate": r.slate,
                          "diffs": [str(d) for d in r.diffs], "new": [str(d) for d in r.new]} for r in results},
    }
    path.write_text(json.dumps(out, indent=1, sort_keys=True))
