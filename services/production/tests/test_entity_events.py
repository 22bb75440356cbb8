"""Every change others must learn about is an event in the outbox, with Zou's names and
{"<kind>_id", "snapshot"} data."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from slate_common.db import transaction
from slate_common.events import Event, OutboxEvent
from slate_common.events.versions import CHANGED_HEADER


async def _events(sessionmaker, project_id: str) -> list[Event]:  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))).all()
    events = [Event.from_json(r.payload) for r in rows]
    return [e for e in events if str(e.project_id) == project_id]


async def test_loop_emits_zou_events(client, signer, sessionmaker, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(shots=1)
    h = signer.headers()
    events = await _events(sessionmaker, prod.id)
    names = [e.name for e in events]
    assert names[0] == "project:new" and "asset:new" in names and "sequence:new" in names and "shot:new" in names
    team_updates = [e for e in events if e.name == "project:update"]
    # the last team/settings change carries the whole team
    assert sorted(team_updates[-1].data["snapshot"]["team"]) == sorted(
        str(prod.people[r]) for r in ("manager", "supervisor", "user", "client", "vendor"))
    shot_event = next(e for e in events if e.name == "shot:new")
    assert shot_event.data["shot_id"] == prod.ids["shots"][0]
    assert shot_event.data["snapshot"]["type"] == "Shot" and shot_event.data["snapshot"]["nb_frames"] == 48

    created = (await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks",
                                 json=[], headers=h)).json()
    task_id = created[0]["id"]
    artist = str(prod.people["user"])
    await client.put(f"/actions/tasks/{task_id}/assign", json={"person_id": artist}, headers=h)
    await client.put("/actions/tasks/clear-assignation", json={"task_ids": [task_id]}, headers=h)
    await client.put(f"/data/tasks/{task_id}", json={"priority": 2}, headers=h)
    await client.put(f"/data/shots/{prod.ids['shots'][0]}", json={"nb_frames": 12}, headers=h)
    await client.delete(f"/data/tasks/{task_id}", params={"force": "true"}, headers=h)  # gazu sends force
    later = [e for e in await _events(sessionmaker, prod.id)
             if e.id not in {x.id for x in events} and not e.name.startswith("notification:")]
    assert [e.name for e in later] == ["task:new", "task:assign", "task:unassign", "task:update", "shot:update",
                                       "task:delete"]
    by_name: dict[str, Any] = {e.name: e for e in later}
    assert by_name["task:new"].data["task_id"] == task_id
    assert by_name["task:assign"].data["snapshot"]["assignees"] == [artist]
    assert by_name["task:assign"].data["person_id"] == artist
    assert by_name["task:unassign"].data["snapshot"]["assignees"] == []
    assert by_name["task:update"].data["snapshot"]["priority"] == 2
    assert by_name["shot:update"].data["snapshot"]["nb_frames"] == 12
    assert all(e.actor_id is not None and uuid.UUID(str(e.actor_id)) for e in later)


async def test_team_removal_emits_project_update(client, signer, sessionmaker, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(shots=0)
    before = {e.id for e in await _events(sessionmaker, prod.id)}
    r = await client.delete(f"/data/projects/{prod.id}/team/{prod.people['vendor']}", headers=signer.headers())
    assert r.status_code == 204
    later = [e for e in await _events(sessionmaker, prod.id) if e.id not in before]
    assert [e.name for e in later] == ["project:update"]
    assert str(prod.people["vendor"]) not in later[0].data["snapshot"]["team"]
    assert len(later[0].data["snapshot"]["team"]) == 4


async def test_task_update_names_the_fields_it_changed(client, signer, sessionmaker, production_factory) -> None:  # type: ignore[no-untyped-def]
    """PUT /data/tasks/<id>: the event's ``Slate-Changed`` header names what the update
    changed (replicas keeping none of it skip the event): the columns whose value moved,
    ``updated_at``, and ``assignees`` whenever the body names them."""
    prod = await production_factory(shots=1)
    h = signer.headers()
    created = (await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks",
                                 json=[], headers=h)).json()
    task = created[0]

    async def changed_by(body: dict[str, Any]) -> str | None:
        async with transaction(sessionmaker) as session:
            last = int(await session.scalar(select(func.max(OutboxEvent.seq))) or 0)
        assert (await client.put(f"/data/tasks/{task['id']}", json=body, headers=h)).status_code == 200
        async with transaction(sessionmaker) as session:
            rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.seq > last))).all()
        updates = [r for r in rows if r.subject.endswith(".task.update")]
        assert len(updates) == 1
        return updates[0].headers.get(CHANGED_HEADER)

    assert await changed_by({"estimation": 960, "priority": 3}) == "estimation,priority,updated_at"
    # values sent as they are change nothing; the ones that move are named
    assert await changed_by({"estimation": 960, "priority": 1, "entity_id": task["entity_id"]}) == \
        "priority,updated_at"
    assert await changed_by({"data": {"a": 1}}) == "data,updated_at"  # merged in place: always named
    assert await changed_by({"priority": 1, "assignees": []}) == "assignees,updated_at"


async def test_comment_events_name_every_field_they_change(client, signer, sessionmaker, production_factory) -> None:  # type: ignore[no-untyped-def]
    """A comment's task:status-changed and task:update name the fields a comment may
    change (``Slate-Changed``: media's task replica keeps none of them and skips both),
    and every snapshot field that did change is among them: a status change (retake,
    then WIP, then done) and a comment that keeps the status."""
    prod = await production_factory(shots=1)
    h = signer.headers()
    created = (await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks",
                                 json=[], headers=h)).json()
    task_id = created[0]["id"]
    snapshot = (await client.get(f"/data/tasks/{task_id}", headers=h)).json()
    for short_name in ("retake", "wip", "done", "done"):
        async with transaction(sessionmaker) as session:
            last = int(await session.scalar(select(func.max(OutboxEvent.seq))) or 0)
        r = await client.post(f"/actions/tasks/{task_id}/comment", headers=h,
                              json={"task_status_id": prod.ids["status"][short_name], "comment": short_name})
        assert r.status_code == 201, r.text
        async with transaction(sessionmaker) as session:
            rows = [row for row in (await session.scalars(select(OutboxEvent).where(OutboxEvent.seq > last))).all()
                    if ".task." in row.subject]
        names = [row.subject.rsplit(".", 2)[-2] + ":" + row.subject.rsplit(".", 1)[-1] for row in rows]
        assert names[-1] == "task:update" and names.count("task:update") == 1, names
        for row in rows:
            assert CHANGED_HEADER in row.headers, (short_name, names, row.subject, row.headers)
            named = set(row.headers[CHANGED_HEADER].split(","))
            after = Event.from_json(row.payload).data["snapshot"]
            moved = {k for k in after if after[k] != snapshot.get(k)}
            assert moved <= named, (short_name, row.subject, moved - named)
            assert {"last_comment_date", "task_status_id", "updated_at"} <= named
        assert ("task:status-changed" in names) == (short_name != "done" or snapshot["task_status_id"] != prod.ids["status"]["done"])
        snapshot = Event.from_json(rows[-1].payload).data["snapshot"]
    assert snapshot["retake_count"] == 1 and snapshot["done_date"] and snapshot["real_start_date"]
