"""The with-tasks listings are cached per caller and validated by a fingerprint: every
kind of change shows in the next listing, and an unchanged project is served from the
cache."""

from __future__ import annotations

import asyncio
import json
from typing import Any


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


async def test_every_change_invalidates(client, signer, production_factory, production_app) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(shots=4)
    cache = production_app[0].state.listing_cache
    h = signer.headers()
    manager = signer.headers(prod.people["manager"], "manager")
    await ok(await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks",
                               json=[], headers=h), 201)

    async def shots(headers: dict[str, str] = h) -> list[dict[str, Any]]:
        return await ok(await client.get("/data/shots/with-tasks", params={"project_id": prod.id}, headers=headers))

    first = await shots()
    hits = cache.hits
    assert await shots() == first and cache.hits == hits + 1  # unchanged: served from the cache
    task_id = first[0]["tasks"][0]["id"]
    artist = str(prod.people["user"])

    await ok(await client.put(f"/data/tasks/{task_id}", json={"priority": 4}, headers=h))
    built = cache.rows_built
    assert (await shots())[0]["tasks"][0]["priority"] == 4
    assert cache.rows_built == built + 1  # only the changed shot's row was built again
    # requests that overlap share the cached rows: each builds the changed row, none the whole listing
    await ok(await client.put(f"/data/tasks/{task_id}", json={"priority": 3}, headers=h))
    built = cache.rows_built
    overlapping = await asyncio.gather(shots(), shots(), shots())
    assert [rows[0]["tasks"][0]["priority"] for rows in overlapping] == [3, 3, 3]
    assert cache.rows_built - built <= 3, cache.rows_built - built
    await ok(await client.put(f"/actions/tasks/{task_id}/assign", json={"person_id": artist}, headers=h))
    assert (await shots())[0]["tasks"][0]["assignees"] == [artist]
    # a client sees the task, not who works on it (as Zou)
    as_client = await shots(signer.headers(prod.people["client"], "client"))
    assert as_client[0]["tasks"][0]["id"] == task_id and as_client[0]["tasks"][0]["assignees"] == []
    await ok(await client.put("/actions/tasks/clear-assignation", json={"task_ids": [task_id]}, headers=h))
    assert (await shots())[0]["tasks"][0]["assignees"] == []
    await ok(await client.post(f"/actions/user/tasks/{task_id}/subscribe", headers=h), 201)
    assert (await shots())[0]["tasks"][0]["is_subscribed"] is True
    await ok(await client.put(f"/data/shots/{prod.ids['shots'][0]}", json={"nb_frames": 99}, headers=manager))
    assert (await shots())[0]["nb_frames"] == 99
    await ok(await client.post(f"/data/projects/{prod.id}/shots",
                               json={"name": "SH999", "sequence_id": prod.ids["sequence"]}, headers=h), 201)
    assert [s["name"] for s in await shots()][-1] == "SH999"
    await ok(await client.put(f"/data/projects/{prod.id}", json={"name": prod.project["name"] + " v2"}, headers=h))
    assert (await shots())[0]["project_name"] == prod.project["name"] + " v2"
    await ok(await client.post(f"/actions/tasks/{task_id}/comment",
                               json={"task_status_id": prod.ids["status"]["wip"], "comment": "go"}, headers=h), 201)
    row = (await shots())[0]["tasks"][0]
    assert row["task_status_id"] == prod.ids["status"]["wip"] and row["real_start_date"] is not None
    # a renamed sequence shows in its shots' rows (the row names its parents)
    await ok(await client.put(f"/data/entities/{prod.ids['sequence']}", json={"name": "SQ99"}, headers=h))
    assert {s["sequence_name"] for s in await shots()} == {"SQ99"}
    # the cached body is what the uncached stream says, compact too
    r = await client.get("/data/shots/with-tasks", params={"project_id": prod.id, "stream": "true"}, headers=h)
    assert [json.loads(line) for line in r.text.splitlines()][1:] == await shots()
    compact = await ok(await client.get("/data/shots/with-tasks", params={"project_id": prod.id, "compact": "true"},
                                        headers=h))
    assert [dict(zip(compact["shot_fields"], row, strict=True))["id"] for row in compact["rows"]] == [
        s["id"] for s in await shots()]
    r = await client.delete(f"/data/tasks/{task_id}", headers=h)
    assert r.status_code == 204
    assert (await shots())[0]["tasks"] == []
    r = await client.delete(f"/data/shots/{prod.ids['shots'][1]}", params={"force": "true"}, headers=h)
    assert r.status_code in (200, 204)
    assert prod.ids["shots"][1] not in [s["id"] for s in await shots()]
    # the cache is per caller: a vendor never gets the admin's body
    assert await shots(signer.headers(prod.people["vendor"], "vendor")) == []
    # and a person removed from the team no longer sees the project
    supervisor = signer.headers(prod.people["supervisor"], "supervisor")
    assert len(await shots(supervisor)) == 4  # four shots, SH999 added, one deleted
    await ok(await client.delete(f"/data/projects/{prod.id}/team/{prod.people['supervisor']}", headers=h), 204)
    r = await client.get("/data/shots/with-tasks", params={"project_id": prod.id}, headers=supervisor)
    assert r.status_code == 403  # not in the team any more: refused, as Zou


async def test_todo_rows_follow_every_change(client, signer, production_factory, production_app) -> None:  # type: ignore[no-untyped-def]
    """The artist's to-do list is cached by rows too: each change shows at once, and only
    the changed task's row is built again."""
    prod = await production_factory(shots=3)
    cache = production_app[0].state.listing_cache
    h = signer.headers()
    artist = signer.headers(prod.people["user"], "user")
    tasks = await ok(await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks",
                                       json=[], headers=h), 201)
    ids = sorted(t["id"] for t in tasks)
    await ok(await client.put(f"/actions/persons/{prod.people['user']}/assign", json={"task_ids": ids[:2]},
                              headers=h))

    async def todo() -> list[dict[str, Any]]:
        return await ok(await client.get("/data/user/tasks", headers=artist))

    first = await todo()
    assert sorted(t["id"] for t in first) == ids[:2]
    hits, built = cache.hits, cache.rows_built
    assert await todo() == first and cache.hits == hits + 1 and cache.rows_built == built
    # a comment with a status change: the row's status and last comment, and only that row
    await ok(await client.post(f"/actions/tasks/{ids[0]}/comment",
                               json={"task_status_id": prod.ids["status"]["wip"], "comment": "on it"}, headers=artist),
             201)
    row = next(t for t in await todo() if t["id"] == ids[0])
    assert row["task_status_id"] == prod.ids["status"]["wip"] and row["last_comment"]["text"] == "on it"
    assert cache.rows_built == built + 1
    # a new assignment adds a row; a renamed shot shows; a done task leaves the list
    await ok(await client.put(f"/actions/persons/{prod.people['user']}/assign", json={"task_ids": [ids[2]]},
                              headers=h))
    assert sorted(t["id"] for t in await todo()) == ids
    shot_id = next(t["entity_id"] for t in tasks if t["id"] == ids[1])
    await ok(await client.put(f"/data/shots/{shot_id}", json={"name": "SH777"}, headers=h))
    assert next(t for t in await todo() if t["id"] == ids[1])["entity_name"] == "SH777"
    await ok(await client.post(f"/actions/tasks/{ids[1]}/comment",
                               json={"task_status_id": prod.ids["status"]["done"], "comment": "final"}, headers=h), 201)
    cached = await todo()
    assert sorted(t["id"] for t in cached) == [ids[0], ids[2]]
    production_app[0].state.listing_cache = None  # the same route with the cache switched off
    try:
        assert await todo() == cached  # byte for byte what the query builds
    finally:
        production_app[0].state.listing_cache = cache
