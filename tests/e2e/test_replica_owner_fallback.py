"""Media asked about a comment its replica has not received yet asks production first.

Found by the chaos run (tests/chaos): a comment answered 201 while NATS restarted (its
events still in production's outbox), then at once a preview on it: media answered 404
because it looked the comment up in its replica only. Here production's relay holds its
events back for a minute (SLATE_OUTBOX_RELAY_DELAY_SECONDS, as in test_crash.py), so
media can learn of the comment only by asking production."""

from __future__ import annotations

import uuid

from .conftest import db_fetch


async def test_a_preview_on_a_comment_media_has_not_heard_of_yet(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    project = (await api.post("/data/projects", json={"name": f"Owner {uuid.uuid4().hex[:6]}"}, headers=admin)).json()
    types = (await api.get("/data/entity-types", headers=admin)).json()
    asset_type = next(t for t in types if t["name"] == "Character")
    r = await api.post("/data/entities", json={"name": "hero", "project_id": project["id"],
                                                "entity_type_id": asset_type["id"]}, headers=admin)
    assert r.status_code == 201, r.text
    asset = r.json()
    task_type = next(t for t in (await api.get("/data/task-types", headers=admin)).json() if t["for_entity"] == "Asset")
    r = await api.post(f"/data/projects/{project['id']}/settings/task-types", json={"task_type_id": task_type["id"]},
                       headers=admin)
    assert r.status_code == 201, r.text
    r = await api.post(f"/data/entities/{asset['id']}/tasks", json={"task_type_ids": [task_type["id"]]}, headers=admin)
    assert r.status_code == 201, r.text
    [task] = r.json()
    status = (await api.get("/data/task-status", headers=admin)).json()[0]

    stack.restart("production", {"SLATE_OUTBOX_RELAY_DELAY_SECONDS": "60"})
    try:
        r = await api.post(f"/actions/tasks/{task['id']}/comment", json={"task_status_id": status["id"], "comment": "v1"},
                           headers=admin)
        assert r.status_code == 201, r.text
        comment = r.json()
        # media's replica does not have it: its event waits in production's outbox
        assert await db_fetch(stack, "slate_media", "select id from comment_replica where id = $1",
                              uuid.UUID(comment["id"])) == []
        r = await api.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview", json={}, headers=admin)
        assert r.status_code == 201, r.text
        preview = r.json()
        assert (preview["task_id"], preview["revision"]) == (task["id"], 1)
        r = await api.post(f"/actions/tasks/{task['id']}/comments/{uuid.uuid4()}/add-preview", json={}, headers=admin)
        assert r.status_code == 404  # production has no such comment either
    finally:
        stack.restart("production")
