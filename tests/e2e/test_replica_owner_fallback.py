"""Media asked about a comment its replica has not received yet asks production first.

Found by the chaos run (tests/chaos): a comment answered 201 while NATS restarted (its
events still in production's outbox), then at once a preview on it: media answered 404
because it looked the comment up in its replica only. Here production's relay holds its
events back for a minute (SLATE_OUTBOX_RELAY_DELAY_SECONDS, as in test_crash.py), so
media can learn of the comment only by asking production."""

from __future__ import annotations

import uuid

from .conftest import asset_task, db_fetch


async def test_a_preview_on_a_comment_media_has_not_heard_of_yet(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    task, status = await asset_task(api, admin, "Owner")

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
