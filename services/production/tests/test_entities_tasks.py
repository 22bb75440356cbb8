"""Entities and tasks through the routes: Zou's shapes, the daily loop, events."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


@pytest.mark.slow
async def test_shot_and_asset_creation_shapes(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(tvshow=True)
    h = signer.headers()
    shot = await ok(await client.get(f"/data/shots/{prod.ids['shots'][0]}", headers=h))
    assert shot["type"] == "Shot" and shot["name"] == "SH010" and shot["nb_frames"] == 48
    assert (shot["frame_in"], shot["frame_out"], shot["fps"]) == (1, 48, 24)
    assert shot["sequence_id"] == prod.ids["sequence"] and shot["sequence_name"] == "SQ01"
    assert shot["episode_id"] == prod.ids["episode"] and shot["episode_name"] == "E01"
    assert shot["project_name"] == prod.project["name"] and shot["tasks"] == []
    # get-or-create: the same name in the same sequence gives back the same shot
    again = await ok(await client.post(f"/data/projects/{prod.id}/shots",
                                       json={"name": "SH010", "sequence_id": prod.ids["sequence"]}, headers=h), 201)
    assert again["id"] == shot["id"]
    r = await client.post(f"/data/projects/{prod.id}/shots", json={"sequence_id": prod.ids["sequence"]}, headers=h)
    assert r.status_code == 400 and r.json()["data"]["errors"][0]["field"] == "name"
    asset = await ok(await client.get(f"/data/assets/{prod.ids['asset']}", headers=h))
    assert asset["type"] == "Asset" and asset["asset_type_name"] == "Character" and asset["data"] == {"x": 1}
    assert asset["preview_file_id"] == "" and asset["ready_for"] == "None" and asset["episode_id"] == ""
    shots = await ok(await client.get("/data/shots", params={"project_id": prod.id}, headers=h))
    assert [s["name"] for s in shots] == ["SH010", "SH020"] and shots[0]["sequence_name"] == "SQ01"
    seqs = await ok(await client.get(f"/data/episodes/{prod.ids['episode']}/sequences", headers=h))
    assert [s["id"] for s in seqs] == [prod.ids["sequence"]]
    eps = await ok(await client.get(f"/data/projects/{prod.id}/episodes", headers=h))
    assert {e["name"] for e in eps} == {"E01"}  # the TV show's first episode is E01
    # update: data replaced, nb_frames kept
    updated = await ok(await client.put(f"/data/shots/{shot['id']}", json={"data": {"frame_in": 5}}, headers=h))
    assert updated["data"] == {"frame_in": 5} and updated["nb_frames"] == 48
    r = await client.put(f"/data/shots/{shot['id']}", json={"nb_frames": "many"}, headers=h)
    assert r.status_code == 400 and r.json()["error"] is True
    at = await ok(await client.get(f"/data/projects/{prod.id}/asset-types", headers=h))
    assert [a["name"] for a in at] == ["Character"] and at[0]["type"] == "AssetType"


@pytest.mark.slow
async def test_tasks_daily_loop(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory()
    h = signer.headers()
    created = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks", json=[], headers=h), 201)
    assert len(created) == 2 and created[0]["task_status_name"] == "Todo" and created[0]["assignees"] == []
    assert created[0]["task_type_name"] == "Animation" and created[0]["name"] == "main"
    # creating again skips the shots that already have one
    assert await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks", json=[], headers=h), 201) == []
    asset_tasks = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['modeling']}/assets/create-tasks",
        json=[prod.ids["asset"]], headers=h), 201)
    artist = str(prod.people["user"])
    task = await ok(await client.put(f"/actions/tasks/{created[0]['id']}/assign", json={"person_id": artist},
                                     headers=signer.headers(prod.people["supervisor"], "supervisor")))
    assert task["assignees"] == [artist] and task["assigner_id"] == str(prod.people["supervisor"])
    # assigning the same person again: the caller becomes the assigner (as Zou answers)
    again = await ok(await client.put(f"/actions/tasks/{created[0]['id']}/assign", json={"person_id": artist},
                                      headers=signer.headers(prod.people["manager"], "manager")))
    assert again["assignees"] == [artist] and again["assigner_id"] == str(prod.people["manager"])
    await ok(await client.put(f"/actions/persons/{artist}/assign", json={"task_ids": [asset_tasks[0]["id"]]},
                              headers=h))
    # the tasks of a type on the person's entities: plain rows, without assignees (as Zou lists them)
    related = await ok(await client.get(f"/data/persons/{artist}/related-tasks/{prod.ids['anim']}", headers=h))
    assert [t["id"] for t in related] == [created[0]["id"]] and "assignees" not in related[0]
    assert related[0]["type"] == "Task" and related[0]["assigner_id"] == str(prod.people["manager"])
    mine = await ok(await client.get("/data/user/tasks", headers=signer.headers(prod.people["user"], "user")))
    assert sorted(t["id"] for t in mine) == sorted([created[0]["id"], asset_tasks[0]["id"]])
    shot_row = next(t for t in mine if t["id"] == created[0]["id"])
    assert shot_row["entity_name"] == "SH010" and shot_row["sequence_name"] == "SQ01"
    assert shot_row["task_status_short_name"] == "todo" and shot_row["task_type_name"] == "Animation"
    # the row PostgreSQL writes carries the task exactly as GET /data/tasks/{id} does, then the names
    plain = await ok(await client.get(f"/data/tasks/{created[0]['id']}", headers=h))
    own = {k: v for k, v in plain.items() if k != "assignees"}
    assert {k: shot_row[k] for k in own} == own and list(shot_row)[:len(own)] == list(own)
    assert list(shot_row)[-3:] == ["task_status_short_name", "assignees", "last_comment"]
    assert shot_row["assignees"] == [artist] and shot_row["last_comment"] == {}
    assert shot_row["task_estimation"] == plain["estimation"] and isinstance(shot_row["task_duration"], float)
    # priority, estimation, full view
    prio = await ok(await client.put("/actions/tasks/set-priority", json={"task_ids": [created[0]["id"]], "priority": 3},
                                     headers=h))
    assert prio[0]["priority"] == 3
    put = await ok(await client.put(f"/data/tasks/{created[0]['id']}",
                                    json={"estimation": 2.5, "due_date": "2026-12-01"}, headers=h))
    assert put["estimation"] == 2.5 and put["due_date"] == "2026-12-01T00:00:00"
    full = await ok(await client.get(f"/data/tasks/{created[0]['id']}/full", headers=h))
    assert full["entity"]["name"] == "SH010" and full["task_type"]["name"] == "Animation"
    assert full["persons"][0]["id"] == artist and full["project"]["id"] == prod.id
    # with-tasks: plain, compact and stream agree
    rows = await ok(await client.get("/data/shots/with-tasks", params={"project_id": prod.id}, headers=h))
    assert [r["name"] for r in rows] == ["SH010", "SH020"]
    assert rows[0]["tasks"][0]["assignees"] == [artist] and rows[0]["tasks"][0]["priority"] == 3
    # floats as Python writes them: 2.5, and 0.0 (not 0) for the untouched duration
    assert rows[0]["tasks"][0]["estimation"] == 2.5 and rows[0]["tasks"][0]["due_date"] == "2026-12-01T00:00:00"
    assert '"duration" : 0.0' in (await client.get("/data/shots/with-tasks", params={"project_id": prod.id},
                                                    headers=h)).text
    compact = await ok(await client.get("/data/shots/with-tasks", params={"project_id": prod.id, "compact": "true"},
                                        headers=h))
    assert compact["compact"] is True and compact["shot_fields"][-1] == "tasks"
    first = dict(zip(compact["shot_fields"], compact["rows"][0], strict=True))
    assert first["id"] == rows[0]["id"] and dict(zip(compact["task_fields"], first["tasks"][0], strict=True))["assignees"] == [artist]
    r = await client.get("/data/shots/with-tasks", params={"project_id": prod.id, "stream": "true"}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines[0] == {"compact": False} and lines[1:] == rows
    assets = await ok(await client.get("/data/assets/with-tasks", params={"project_id": prod.id}, headers=h))
    assert assets[0]["asset_type_name"] == "Character" and assets[0]["tasks"][0]["assignees"] == [artist]
    # unassign, then delete
    cleared = await ok(await client.put("/actions/tasks/clear-assignation",
                                        json={"task_ids": [created[0]["id"]], "person_id": artist}, headers=h))
    assert cleared == [created[0]["id"]]
    r = await client.delete(f"/data/tasks/{created[1]['id']}", headers=h)
    assert r.status_code == 204
    tasks = await ok(await client.get(f"/data/shots/{prod.ids['shots'][1]}/tasks", headers=h))
    assert tasks == []


async def test_listing_filters(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(tvshow=True)
    h = signer.headers()
    other_seq = await ok(await client.post(f"/data/projects/{prod.id}/sequences",
                                           json={"name": "SQ02", "episode_id": prod.ids["episode"]}, headers=h), 201)
    lone = await ok(await client.post(f"/data/projects/{prod.id}/shots",
                                      json={"name": "SH900", "sequence_id": other_seq["id"]}, headers=h), 201)
    by_seq = await ok(await client.get("/data/shots", params={"sequence_id": other_seq["id"]}, headers=h))
    assert [s["id"] for s in by_seq] == [lone["id"]]
    by_ep = await ok(await client.get("/data/shots", params={"episode_id": prod.ids["episode"]}, headers=h))
    assert len(by_ep) == 3
    seqs = await ok(await client.get("/data/sequences", params={"episode_id": prod.ids["episode"]}, headers=h))
    assert sorted(s["name"] for s in seqs) == ["SQ01", "SQ02"]
    wt = await ok(await client.get("/data/shots/with-tasks",
                                   params={"project_id": prod.id, "sequence_id": other_seq["id"]}, headers=h))
    assert [s["id"] for s in wt] == [lone["id"]]
    named = await ok(await client.get("/data/shots", params={"project_id": prod.id, "name": "sh900"}, headers=h))
    assert [s["id"] for s in named] == [lone["id"]]
    r = await client.get("/data/shots", params={"sequence_id": "nope"}, headers=h)
    assert r.status_code == 400 and r.json()["error"] is True
    r = await client.get("/data/shots/with-tasks", params={"project_id": "nope"}, headers=h)
    assert r.status_code == 400


async def test_project_settings_links_and_order(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(shots=0)
    h = signer.headers()
    wip, wfa = prod.ids["status"]["wip"], prod.ids["status"]["wfa"]
    await ok(await client.post(f"/data/projects/{prod.id}/settings/task-status", json={"task_status_id": wip},
                               headers=h), 201)
    one = await ok(await client.get(f"/data/projects/{prod.id}", headers=h))
    assert one["task_statuses_link"][wip] == {"priority": None, "is_client_allowed": None,
                                              "roles_for_board": ["user", "admin", "supervisor", "manager", "vendor"]}
    assert one["task_types_priority"] == {prod.ids["anim"]: None, prod.ids["modeling"]: None}
    link = await ok(await client.post("/data/task-status-links", json={
        "project_id": prod.id, "task_status_id": wip, "priority": 4}, headers=h), 201)
    assert (link["type"], link["priority"], link["roles_for_board"]) == ("ProjectTaskStatusLink", 4, [])
    links = await ok(await client.post(f"/actions/projects/{prod.id}/task-type-links/reorder",
                                       json={"task_type_ids": [prod.ids["modeling"], prod.ids["anim"]]}, headers=h))
    assert [(x["task_type_id"], x["priority"]) for x in links] == [(prod.ids["modeling"], 1), (prod.ids["anim"], 2)]
    ordered = await ok(await client.get(f"/data/projects/{prod.id}/task-types", headers=h))
    assert [t["id"] for t in ordered] == [prod.ids["modeling"], prod.ids["anim"]]
    r = await client.put(f"/data/projects/{prod.id}/settings/task-status/{wip}",
                         json={"roles_for_board": ["admin"], "is_client_allowed": True}, headers=h)
    assert r.status_code == 200 and r.json()["roles_for_board"] == ["admin"]
    r = await client.put(f"/data/projects/{prod.id}/settings/task-status/{wfa}", json={"priority": 1}, headers=h)
    assert r.status_code == 400  # is_client_allowed is required, as Zou checks first
    r = await client.put(f"/data/projects/{prod.id}/settings/task-status/{wfa}",
                         json={"priority": 1, "is_client_allowed": False}, headers=h)
    assert r.status_code == 404  # not linked
    batch = await ok(await client.post(f"/data/projects/{prod.id}/settings/batch", json={
        "task_types": [{"task_type_id": prod.ids["layout"], "priority": 3}], "task_status_ids": [wfa],
        "replace_task_types": True}, headers=h))
    assert batch["id"] == prod.id
    one = await ok(await client.get(f"/data/projects/{prod.id}", headers=h))
    assert one["task_types"] == [prod.ids["layout"]] and sorted(one["task_statuses"]) == sorted([wip, wfa])
    r = await client.delete(f"/data/projects/{prod.id}/settings/task-status/{wip}", headers=h)
    assert r.status_code == 204
    statuses = await ok(await client.get(f"/data/projects/{prod.id}/settings/task-status", headers=h))
    assert [s["id"] for s in statuses] == [wfa]


async def test_create_tasks_for_one_entity_as_the_oracle(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    """POST /data/entities/<id>/tasks: ``task_type_ids`` optional (every valid type when
    absent), existing pairs skipped, every id checked before anything is made; messages
    and statuses observed on the oracle."""
    prod = await production_factory(shots=1)
    h = signer.headers()
    shot, asset = prod.ids["shots"][0], prod.ids["asset"]
    by_key = {(t["name"], t["for_entity"]): t["id"] for t in (await client.get("/data/task-types", headers=h)).json()}
    layout, fx = by_key[("Layout", "Shot")], by_key[("FX", "Shot")]
    await client.post(f"/data/projects/{prod.id}/settings/task-types", json={"task_type_id": layout}, headers=h)
    r = await client.post(f"/data/entities/{shot}/tasks", headers=h)  # no body: every enabled Shot type
    assert r.status_code == 201, r.text
    made = r.json()
    assert [(t["task_type_name"], t["name"], t["entity_id"]) for t in made] == [
        ("Layout", "main", shot), ("Animation", "main", shot)]
    assert made[0]["task_type_priority"] == 2 and made[0]["task_status_short_name"] == "todo"
    assert made[0]["assignees"] == [] and made[0]["type"] == "Task"
    assert (await client.post(f"/data/entities/{shot}/tasks", json={}, headers=h)).json() == []  # already there
    r = await client.post(f"/data/entities/{shot}/tasks", json={"task_type_ids": [prod.ids["modeling"]]}, headers=h)
    assert r.status_code == 400 and r.json()["message"] == (
        f"Task type {prod.ids['modeling']} is for Asset entities, got Shot.")
    r = await client.post(f"/data/entities/{shot}/tasks", json={"task_type_ids": [fx]}, headers=h)
    assert r.status_code == 400 and r.json()["message"] == f"Task type {fx} is not enabled in project {prod.id}."
    for bad in (["nope"], [str(uuid.uuid4())]):
        assert (await client.post(f"/data/entities/{shot}/tasks", json={"task_type_ids": bad}, headers=h)).status_code == 404
    r = await client.post(f"/data/entities/{shot}/tasks", json={"task_type_ids": "x"}, headers=h)
    assert r.status_code == 400 and r.json()["data"]["errors"] == [
        {"field": "task_type_ids", "message": "Input should be a valid list"}]
    r = await client.post(f"/data/entities/{asset}/tasks", json={"task_type_ids": [prod.ids["modeling"], prod.ids["modeling"]]},
                          headers=h)
    assert r.status_code == 201 and [t["task_type_id"] for t in r.json()] == [prod.ids["modeling"]]
    assert (await client.post(f"/data/entities/{prod.ids['sequence']}/tasks", json={}, headers=h)).json() == []
    r = await client.post(f"/data/entities/{shot}/tasks", json={}, headers=signer.headers(prod.people["user"], "user"))
    assert r.status_code == 403


async def test_crud_task_creation_takes_assignees_and_no_assigner(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    """POST /data/tasks as gazu.task.new_task sends it: ``assignees`` are assigned (ids
    production does not know are ignored) and the assigner stays unset, as on the oracle."""
    prod = await production_factory(shots=1)
    artist = str(prod.people["user"])
    r = await client.post("/data/tasks", headers=signer.headers(), json={
        "project_id": prod.id, "entity_id": prod.ids["shots"][0], "task_type_id": prod.ids["anim"],
        "task_status_id": prod.ids["status"]["todo"], "assignees": [artist, str(uuid.uuid4())], "name": "main"})
    assert r.status_code == 201, r.text
    task = r.json()
    assert (task["assignees"], task["assigner_id"], task["name"]) == ([artist], None, "main")
    got = (await client.get(f"/data/tasks/{task['id']}", headers=signer.headers())).json()
    assert got["assignees"] == [artist]


async def test_an_asset_task_row_names_the_episodes_it_is_cast_in(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    """To-do rows of an asset's task carry Zou's episode_ids and episode_names (the episodes
    of the shots it is cast in); a shot's do not. The per-caller row cache follows a casting."""
    prod = await production_factory(tvshow=True)
    h = signer.headers()
    made = await ok(await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['modeling']}/assets/create-tasks",
                                      json=[prod.ids["asset"]], headers=h), 201)
    shot_tasks = await ok(await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks",
                                            json=[], headers=h), 201)
    artist = prod.people["user"]
    await ok(await client.put(f"/actions/persons/{artist}/assign",
                              json={"task_ids": [made[0]["id"], shot_tasks[0]["id"]]}, headers=h))
    h_artist = signer.headers(artist, "user")

    def rows_by_id(rows):  # type: ignore[no-untyped-def]
        return {r["id"]: r for r in rows}

    mine = rows_by_id(await ok(await client.get("/data/user/tasks", headers=h_artist)))
    assert (mine[made[0]["id"]]["episode_ids"], mine[made[0]["id"]]["episode_names"]) == ([], [])
    assert "episode_ids" not in mine[shot_tasks[0]["id"]]
    await ok(await client.put(f"/data/projects/{prod.id}/entities/{prod.ids['shots'][0]}/casting",
                              json=[{"asset_id": prod.ids["asset"], "nb_occurences": 1}], headers=h))
    for url, who in (("/data/user/tasks", h_artist), (f"/data/persons/{artist}/tasks", h)):
        row = rows_by_id(await ok(await client.get(url, headers=who)))[made[0]["id"]]
        assert (row["episode_ids"], row["episode_names"]) == ([prod.ids["episode"]], ["E01"]), url
        assert list(row)[-4:] == ["episode_ids", "episode_names", "assignees", "last_comment"]
