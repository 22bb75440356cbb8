"""A crash between commit and publish loses nothing and delivers once."""

from __future__ import annotations

import uuid

from slate_common.testing import eventually

from .conftest import db_fetch


async def _event_of(stack, pid: uuid.UUID):  # type: ignore[no-untyped-def]
    rows = await db_fetch(
        stack, "slate_production",
        "select id, published_at from outbox_event where subject = 'slate.events.production.project.new' "
        "and convert_from(payload, 'UTF8')::jsonb->>'project_id' = $1", str(pid),
    )
    assert len(rows) == 1
    return rows[0]


async def _published(stack, pid: uuid.UUID):  # type: ignore[no-untyped-def]
    row = await _event_of(stack, pid)
    return row if row["published_at"] is not None else None


async def _delivered_once(stack, pid: uuid.UUID, event_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    rows = await eventually(lambda: db_fetch(stack, "slate_planning", "select id from project_replica where id=$1", pid))
    assert len(rows) == 1
    inbox = await db_fetch(stack, "slate_planning", "select consumer from inbox_event where id=$1", event_id)
    assert [r["consumer"] for r in inbox] == ["planning-events"]


async def test_kill_after_commit_before_publish(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    # The relay of this production process waits a minute before publishing: the window
    # in which a crash used to lose events.
    stack.restart("production", {"SLATE_OUTBOX_RELAY_DELAY_SECONDS": "60"})
    r = await api.post("/data/projects", json={"name": f"Crash {uuid.uuid4().hex[:6]}"}, headers=admin)
    assert r.status_code == 201
    pid = uuid.UUID(r.json()["id"])
    stack.kill("production")  # kill -9 right after the commit
    stack.stop("production")
    event = await _event_of(stack, pid)
    assert event["published_at"] is None  # committed, never published
    assert await db_fetch(stack, "slate_planning", "select id from project_replica where id=$1", pid) == []
    stack.start("production")  # a normal process: its relay finds the pending row
    await _delivered_once(stack, pid, event["id"])
    await eventually(lambda: _published(stack, pid))


async def test_kill_after_publish_before_marking_sent(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    # This process dies right after publishing, before marking the row sent: the row is
    # published again after the restart, the server and the inbox drop the duplicate.
    stack.restart("production", {"SLATE_OUTBOX_FAULT": "exit-after-publish"})
    r = await api.post("/data/projects", json={"name": f"Dup {uuid.uuid4().hex[:6]}"}, headers=admin)
    assert r.status_code == 201
    pid = uuid.UUID(r.json()["id"])
    event = await _event_of(stack, pid)
    await _delivered_once(stack, pid, event["id"])
    stack.stop("production")
    assert (await _event_of(stack, pid))["published_at"] is None  # it died before marking
    stack.start("production")
    await eventually(lambda: _published(stack, pid))
    await _delivered_once(stack, pid, event["id"])  # still once
