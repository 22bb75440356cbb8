"""The production benchmark's seeding and load-mix code (bench/production_*.py) against the
real stack at a tiny scale: its requests are well-formed (a refusal is only ever a route
the stack does not serve yet), what it created is there, and the mix measures only
successful requests of the kinds the stack serves."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from production_load import KINDS, make_fixture, probe, run  # noqa: E402
from production_seed import Scale, seed  # noqa: E402

from .conftest import login  # noqa: E402

NOT_SERVED = re.compile(r"-> (404|405):|^'no ")  # a route not served, or nothing to build on


async def test_seed_and_mix_at_tiny_scale(stack, api) -> None:  # type: ignore[no-untyped-def]
    scale = Scale.tiny()
    tag = f"t{uuid.uuid4().hex[:6]}"
    result = await seed(stack.gateway_url + "/api", stack.admin_email, stack.admin_password, scale, tag=tag)

    assert set(result.steps) == {"reference", "persons", "project", "episodes", "sequences", "shots", "assets",
                                 "tasks", "assign", "comments", "verify"}
    for name, step in result.steps.items():
        assert "error" not in step or NOT_SERVED.search(step["error"]), (name, step)

    # the persons exist with their roles, the project exists under its id
    admin = {"Authorization": f"Bearer {(await login(api, stack.admin_email, stack.admin_password))['access_token']}"}
    people = {p["email"]: p["role"] for p in (await api.get("/data/persons", headers=admin)).json()}
    expected_roles = ["manager"] * scale.managers + ["supervisor"] * scale.supervisors + ["user"] * scale.artists
    assert sorted(people[p["email"]] for p in result.persons.values()) == sorted(expected_roles)
    project = (await api.get(f"/data/projects/{result.project_id}", headers=admin)).json()
    assert project["id"] == result.project_id and project["name"].startswith(f"{tag} production")

    # every step that went through left exactly the seeded rows, counted by the stack's own listings
    shots = scale.episodes * scale.sequences_per_episode * scale.shots_per_sequence
    expected = {"episodes": scale.episodes, "sequences": scale.episodes * scale.sequences_per_episode,
                "shots": shots, "assets": 4 * scale.assets_per_type, "comments": scale.comments}
    for name, n in expected.items():
        if "error" not in result.steps[name] and result.counts[name] >= 0:
            assert result.counts[name] == n, (name, result.counts)
    if "error" not in result.steps["tasks"]:
        assert len(result.tasks) == 4 * shots + 4 * 4 * scale.assets_per_type
        assert len({t["id"] for t in result.tasks}) == len(result.tasks)

    # the mix: probe each kind, then one short run of the served ones at 2 clients
    fx = await make_fixture(stack.gateway_url + "/api", result)
    reasons = await probe(fx)
    assert set(reasons) == {k.name for k in KINDS}
    for kind, why in reasons.items():
        assert why == "" or re.search(r"answered (404|405)$|cannot log in|no seeded data", why), (kind, why)
    served = [k for k, why in reasons.items() if not why]
    fx["skip"] = [k for k, why in reasons.items() if why]
    out = await run(fx, concurrency=2, duration=1.0, warmup=0.2, max_requests=400, seed=1)
    if not served:
        assert out == {"error": "every request kind is skipped", "skip": sorted(fx["skip"])}
        return
    assert out["concurrency"] == 2 and set(out["mix"]) == set(served)
    assert out["all"]["requests"] > 0 and out["all"]["errors"] == 0
    for kind, stats in out["kinds"].items():
        assert kind in served and stats["ok"] == stats["requests"] > 0
        assert 0 < stats["median_ms"] <= stats["p99_ms"]
    assert 0 <= out["loadgen_cpu_s"] and out["seconds"] >= 1.0
    # the listing the mix fetches is the one the stack serves to Kitsu (a JSON list of shots)
    if "shots_with_tasks" in served:
        async with httpx.AsyncClient(base_url=stack.gateway_url + "/api") as client:
            r = await client.get(f"/data/shots/with-tasks?project_id={result.project_id}",
                                 headers={"Authorization": f"Bearer {fx['manager_token']}"})
        assert r.status_code == 200 and len(r.json()) == shots
