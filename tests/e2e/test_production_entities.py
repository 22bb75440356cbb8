"""The production core through the gateway: project -> asset types and assets ->
episodes, sequences, shots -> tasks -> assignment, with persons replicated from auth."""

from __future__ import annotations

import json
import uuid


async def test_project_entities_tasks_assign(api, admin) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    r = await api.post("/data/persons", json={"first_name": "Ann", "last_name": tag, "email": f"ann-{tag}@example.com",
                                              "role": "user"}, headers=admin)
    assert r.status_code == 201, r.text
    artist = r.json()["id"]
    project = await api.post("/data/projects", json={"name": f"E2E {tag}", "production_type": "tvshow"}, headers=admin)
    assert project.status_code == 201, project.text
    pid = project.json()["id"]
    first_episode = project.json()["first_episode_id"]

    # the person reached production's replica (person:new) before auth answered
    r = await api.post(f"/data/projects/{pid}/team", json={"person_id": artist}, headers=admin)
    assert r.status_code == 201, r.text
    team = (await api.get(f"/data/projects/{pid}/team", headers=admin)).json()
    assert [p["id"] for p in team] == [artist] and team[0]["full_name"] == f"Ann {tag}"

    types = {t["name"]: t for t in (await api.get("/data/asset-types", headers=admin)).json()}
    character = types["Character"]["id"]
    task_types = (await api.get("/data/task-types", headers=admin)).json()
    anim = next(t["id"] for t in task_types if t["name"] == "Animation" and t["for_entity"] == "Shot")
    modeling = next(t["id"] for t in task_types if t["name"] == "Modeling" and t["for_entity"] == "Asset")
    for path, body in (("asset-types", {"asset_type_id": character}), ("task-types", {"task_type_id": anim}),
                       ("task-types", {"task_type_id": modeling})):
        r = await api.post(f"/data/projects/{pid}/settings/{path}", json=body, headers=admin)
        assert r.status_code == 201, r.text
    one = (await api.get(f"/data/projects/{pid}", headers=admin)).json()
    assert one["asset_types"] == [character] and sorted(one["task_types"]) == sorted([anim, modeling])
    assert one["team"] == [artist] and one["first_episode_id"] == first_episode

    asset = await api.post(f"/data/projects/{pid}/asset-types/{character}/assets/new",
                           json={"name": "Hero", "description": "the hero"}, headers=admin)
    assert asset.status_code == 201 and asset.json()["type"] == "Asset"
    sequence = await api.post(f"/data/projects/{pid}/sequences", json={"name": "SQ01", "episode_id": first_episode},
                              headers=admin)
    assert sequence.status_code == 201 and sequence.json()["parent_id"] == first_episode
    shots = []
    for i in range(3):
        r = await api.post(f"/data/projects/{pid}/shots", json={
            "name": f"SH{i:03d}", "sequence_id": sequence.json()["id"], "nb_frames": 24 + i,
            "data": {"frame_in": 1, "frame_out": 24 + i}}, headers=admin)
        assert r.status_code == 201, r.text
        shots.append(r.json()["id"])

    created = await api.post(f"/actions/projects/{pid}/task-types/{anim}/shots/create-tasks", json=shots,
                             headers=admin)
    assert created.status_code == 201 and len(created.json()) == 3
    asset_tasks = await api.post(f"/actions/projects/{pid}/task-types/{modeling}/assets/create-tasks", json=[],
                                 headers=admin)
    assert asset_tasks.status_code == 201 and len(asset_tasks.json()) == 1
    task = created.json()[0]
    r = await api.put(f"/actions/tasks/{task['id']}/assign", json={"person_id": artist}, headers=admin)
    assert r.status_code == 200 and r.json()["assignees"] == [artist]

    listing = (await api.get("/data/shots/with-tasks", params={"project_id": pid}, headers=admin)).json()
    assert [s["name"] for s in listing] == ["SH000", "SH001", "SH002"]
    assert listing[0]["episode_id"] == first_episode and listing[0]["sequence_name"] == "SQ01"
    assert listing[0]["tasks"][0]["assignees"] == [artist] and listing[1]["tasks"][0]["assignees"] == []
    streamed = await api.get("/data/shots/with-tasks", params={"project_id": pid, "stream": "true", "compact": "true"},
                             headers=admin)
    lines = [json.loads(line) for line in streamed.text.splitlines()]
    assert lines[0]["compact"] is True and len(lines) == 4
    assert dict(zip(lines[0]["shot_fields"], lines[1], strict=True))["name"] == "SH000"
    todo = (await api.get(f"/data/persons/{artist}/tasks", headers=admin)).json()
    assert [t["id"] for t in todo] == [task["id"]] and todo[0]["entity_name"] == "SH000"
    full = (await api.get(f"/data/tasks/{task['id']}/full", headers=admin)).json()
    assert full["persons"][0]["id"] == artist and full["entity"]["id"] == shots[0]
