"""Notifications as Zou writes them (comment, mention, reply, reply-mention,
assignation), the person's list and its read state, subscriptions, search filters, the
to-do lists, and the admin-only /data routes of these models."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from slate_common.db import transaction
from slate_common.events import Event, OutboxEvent, emit

from slate_production.models import PreviewFileReplica


async def _comment(client, w, who="supervisor", status="wip", text="ok"):  # type: ignore[no-untyped-def]
    r = await client.post(f"/actions/tasks/{w.task_id}/comment", headers=w.headers_for(who),
                          json={"task_status_id": str(w.statuses[status]), "comment": text})
    assert r.status_code == 201, r.text
    return r.json()


async def _mine(client, w, who):  # type: ignore[no-untyped-def]
    r = await client.get("/data/user/notifications", headers=w.headers_for(who))
    assert r.status_code == 200
    return r.json()


def _kinds(rows):  # type: ignore[no-untyped-def]
    return sorted(n["notification_type"] for n in rows)


async def test_comment_notifies_assignees_subscribers_and_mentions(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    r = await client.post(f"/actions/user/tasks/{w.task_id}/subscribe", headers=w.headers_for("user2"))
    assert r.status_code == 201
    sub = r.json()
    assert sub["person_id"] == str(w.persons["user2"]) and sub["task_id"] == str(w.task_id)
    assert sub["type"] == "Subscription" and sub["entity_id"] is None
    c = await _comment(client, w, text=f"see @Dep{w.tag} and @Manager {w.tag}")
    user = await _mine(client, w, "user")
    assert _kinds(user) == ["comment", "mention"]  # assignee, and member of the mentioned department
    note = next(n for n in user if n["notification_type"] == "comment")
    assert note == {
        "id": note["id"], "type": "Notification", "notification_type": "comment",
        "author_id": str(w.persons["supervisor"]), "comment_id": c["id"], "task_id": str(w.task_id),
        "task_type_id": str(w.task_type_id), "task_status_id": str(w.statuses["wip"]),
        "mentions": [str(w.persons["manager"])], "department_mentions": [str(w.department_id)],
        "reply_mentions": [], "reply_department_mentions": [], "preview_file_id": None,
        "project_id": str(w.project_id), "project_name": f"Comments {w.tag}", "comment_text": c["text"],
        "reply_text": "", "created_at": note["created_at"], "read": False, "change": True,
        "full_entity_name": f"Character / {w.asset_name}", "episode_id": None, "entity_preview_file_id": None,
        "subscription_id": None, "playlist_id": None, "playlist_name": "", "playlist_for_entity": "",
        "playlist_is_for_all": False,
    }
    user2 = await _mine(client, w, "user2")
    assert _kinds(user2) == ["comment"] and user2[0]["subscription_id"] == sub["id"]
    assert _kinds(await _mine(client, w, "manager")) == ["mention"]
    assert await _mine(client, w, "supervisor") == []  # never the author
    assert await _mine(client, w, "client") == []
    async with transaction(sessionmaker) as session:
        rows = [Event.from_json(r.payload) for r in await session.scalars(select(OutboxEvent))]
    told = [e.data["person_id"] for e in rows if e.name == "notification:new" and e.project_id == w.project_id]
    assert sorted(told) == sorted(str(w.persons[p]) for p in ("user", "user", "user2", "manager"))
    # a comment without a status change: change is false
    await _comment(client, w, text="again")
    latest = (await _mine(client, w, "user"))[0]
    assert latest["notification_type"] == "comment" and latest["change"] is False


async def test_replies_notify_author_assignees_subscribers_and_mentions(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    await client.post(f"/actions/user/tasks/{w.task_id}/subscribe", headers=w.headers_for("user2"))
    c = await _comment(client, w)
    r = await client.post(f"/data/tasks/{w.task_id}/comments/{c['id']}/reply", headers=w.headers_for("manager"),
                          json={"text": f"cc @Admin {w.tag}"})
    assert r.status_code == 200
    reply = r.json()
    sup = await _mine(client, w, "supervisor")
    assert _kinds(sup) == ["reply"]
    assert sup[0]["reply_text"] == f"cc @Admin {w.tag}" and sup[0]["comment_text"] == "ok"
    assert sup[0]["reply_mentions"] == [str(w.persons["admin"])] and sup[0]["author_id"] == str(w.persons["manager"])
    assert _kinds(await _mine(client, w, "user")) == ["comment", "reply"]
    assert _kinds(await _mine(client, w, "user2")) == ["comment", "reply"]
    assert _kinds(await _mine(client, w, "admin")) == ["reply-mention"]
    assert await _mine(client, w, "manager") == []
    r = await client.put(f"/data/user/notifications/{sup[0]['id']}", headers=w.headers_for("supervisor"), json={"read": True})
    assert r.status_code == 200
    raw = r.json()
    assert raw["read"] is True and raw["reply_id"] == reply["id"] and raw["person_id"] == str(w.persons["supervisor"])
    assert raw["type"] == "Notification" and raw["notification_type"] == "reply"


async def test_read_state_and_mark_all(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    await _comment(client, w, text="one")
    await _comment(client, w, status="wfa", text="two")
    rows = await _mine(client, w, "user")
    assert len(rows) == 2 and [n["comment_text"] for n in rows] == ["two", "one"]
    nid = rows[0]["id"]
    r = await client.get(f"/data/user/notifications/{nid}", headers=w.headers_for("user"))
    assert r.status_code == 200 and r.json() == rows[0]
    assert (await client.get(f"/data/user/notifications/{nid}", headers=w.headers_for("user2"))).status_code == 404
    assert (await client.put(f"/data/user/notifications/{nid}", headers=w.headers_for("user2"), json={"read": True})).status_code == 404
    assert (await client.put(f"/data/user/notifications/{nid}", headers=w.headers_for("user"), json={"read": "yes"})).status_code == 400
    assert (await client.get("/data/user/notifications/nope", headers=w.headers_for("user"))).status_code == 400
    r = await client.put(f"/data/user/notifications/{nid}", headers=w.headers_for("user"), json={"read": True})
    assert r.json()["read"] is True
    unread = (await client.get("/data/user/notifications", params={"read": "false"}, headers=w.headers_for("user"))).json()
    assert [n["comment_text"] for n in unread] == ["one"]
    r = await client.post("/actions/user/notifications/mark-all-as-read", headers=w.headers_for("user"))
    assert r.status_code == 200 and r.json() == {"success": True}
    assert all(n["read"] for n in await _mine(client, w, "user"))
    r = await client.put(f"/data/user/notifications/{nid}", headers=w.headers_for("user"), json={"read": False})
    assert r.json()["read"] is False
    kinds = (await client.get("/data/user/notifications", params={"type": "mention"}, headers=w.headers_for("user"))).json()
    assert kinds == []


async def test_assignation_notification_from_task_assign_event(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    async with transaction(sessionmaker) as session:
        emit(session, name="task:assign", data={"task_id": str(w.task_id), "person_id": str(w.persons["user2"]),
                                      "snapshot": {"id": str(w.task_id), "assignees": [str(w.persons["user2"])]}},
             project_id=w.project_id, actor_id=w.persons["manager"])
    for _ in range(100):
        rows = await _mine(client, w, "user2")
        if rows:
            break
        await asyncio.sleep(0.1)
    assert len(rows) == 1
    assert rows[0]["notification_type"] == "assignation" and rows[0]["author_id"] == str(w.persons["manager"])
    assert rows[0]["comment_id"] is None and rows[0]["task_status_id"] is None and rows[0]["comment_text"] is None
    assert rows[0]["task_id"] == str(w.task_id)


async def test_preview_file_events_feed_the_replica(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    c = await _comment(client, w)
    pid = uuid.uuid4()
    snap = {"id": str(pid), "task_id": str(w.task_id), "comment_id": c["id"], "revision": 2, "position": 1,
            "extension": "mp4", "status": "processing", "width": 0, "height": 0, "duration": 0.0,
            "validation_status": "neutral", "original_name": "take", "created_at": "2026-11-23T10:00:00",
            "updated_at": "2026-11-23T10:00:00", "annotations": [], "type": "PreviewFile"}
    async with transaction(sessionmaker) as session:
        emit(session, name="preview-file:new", data={"preview_file_id": str(pid), "snapshot": snap}, project_id=w.project_id)
        emit(session, name="preview-file:add-file", data={"preview_file_id": str(pid),
                                                 "snapshot": {**snap, "status": "ready", "width": 1920}},
             project_id=w.project_id)
    for _ in range(100):
        async with transaction(sessionmaker) as session:
            row = await session.get(PreviewFileReplica, pid)
            if row is not None and row.status == "ready":
                break
        await asyncio.sleep(0.1)
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("user"))).json()
    assert rows[0]["previews"][0]["id"] == str(pid) and rows[0]["previews"][0]["status"] == "ready"
    assert rows[0]["previews"][0]["width"] == 1920 and rows[0]["previews"][0]["revision"] == 2
    note = (await _mine(client, w, "user"))[0]
    assert note["preview_file_id"] == str(pid)
    async with transaction(sessionmaker) as session:
        emit(session, name="preview-file:delete", data={"preview_file_id": str(pid), "snapshot": snap}, project_id=w.project_id)
    for _ in range(100):
        async with transaction(sessionmaker) as session:
            if await session.get(PreviewFileReplica, pid) is None:
                break
        await asyncio.sleep(0.1)
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("user"))).json()
    assert rows[0]["previews"] == []


async def test_subscriptions(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    url = f"/data/user/tasks/{w.task_id}/subscribed"
    assert (await client.get(url, headers=w.headers_for("user2"))).json() is False
    first = (await client.post(f"/actions/user/tasks/{w.task_id}/subscribe", headers=w.headers_for("user2"))).json()
    again = (await client.post(f"/actions/user/tasks/{w.task_id}/subscribe", headers=w.headers_for("user2"))).json()
    assert first["id"] == again["id"]
    assert (await client.get(url, headers=w.headers_for("user2"))).json() is True
    r = await client.delete(f"/actions/user/tasks/{w.task_id}/unsubscribe", headers=w.headers_for("user2"))
    assert r.status_code == 204
    assert (await client.get(url, headers=w.headers_for("user2"))).json() is False
    r = await client.post("/actions/user/tasks/subscribe", headers=w.headers_for("user2"), json={"task_ids": [str(w.task_id)]})
    assert r.status_code == 201 and [s["task_id"] for s in r.json()] == [str(w.task_id)]
    r = await client.post("/actions/user/tasks/unsubscribe", headers=w.headers_for("user2"), json={"task_ids": [str(w.task_id)]})
    assert r.status_code == 200 and r.json() == [str(w.task_id)]
    assert (await client.get(url, headers=w.headers_for("user2"))).json() is False
    assert (await client.post(f"/actions/user/tasks/{w.task_id}/subscribe", headers=w.headers_for("outsider"))).status_code == 403
    # asking about one's own subscription is answered for any task, as Zou does
    r = await client.get(url, headers=w.headers_for("outsider"))
    assert (r.status_code, r.json()) == (200, False)
    assert (await client.post(f"/actions/user/tasks/{uuid.uuid4()}/subscribe", headers=w.headers_for("user2"))).status_code == 404
    assert (await client.post("/actions/user/tasks/subscribe", headers=w.headers_for("user2"), json={})).status_code == 400
    # project listings and /data/subscriptions are for managers / admins
    await client.post(f"/actions/user/tasks/{w.task_id}/subscribe", headers=w.headers_for("user2"))
    r = await client.get(f"/data/projects/{w.project_id}/subscriptions", headers=w.headers_for("admin"))
    assert r.status_code == 200 and [s["person_id"] for s in r.json()] == [str(w.persons["user2"])]
    # Zou lists a project's subscriptions to admins only, not to its managers
    assert (await client.get(f"/data/projects/{w.project_id}/subscriptions", headers=w.headers_for("manager"))).status_code == 403
    assert (await client.get(f"/data/projects/{w.project_id}/subscriptions", headers=w.headers_for("user"))).status_code == 403
    assert (await client.get("/data/subscriptions", headers=w.headers_for("user"))).status_code == 403
    r = await client.get("/data/subscriptions", params={"task_id": str(w.task_id)}, headers=w.headers_for("admin"))
    assert r.status_code == 200 and len(r.json()) == 1


async def test_sequence_subscription_notifies_shot_task_comments(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    from slate_production.models import Entity, EntityType, Task

    async with transaction(sessionmaker) as session:
        types = {t.name: t.id for t in await session.scalars(select(EntityType))}
        seq = Entity(id=uuid.uuid4(), name="SQ01", project_id=w.project_id, entity_type_id=types["Sequence"])
        session.add(seq)
        await session.flush()
        shot = Entity(id=uuid.uuid4(), name="SH010", project_id=w.project_id, entity_type_id=types["Shot"],
                      parent_id=seq.id)
        session.add(shot)
        await session.flush()
        task = Task(id=uuid.uuid4(), project_id=w.project_id, entity_id=shot.id, task_type_id=w.task_type_id,
                    task_status_id=w.statuses["todo"])
        session.add(task)
    base = f"/actions/user/sequences/{seq.id}/task-types/{w.task_type_id}"
    r = await client.post(f"{base}/subscribe", headers=w.headers_for("user2"))
    assert r.status_code == 201 and r.json()["entity_id"] == str(seq.id) and r.json()["task_id"] is None
    check = f"/data/user/sequences/{seq.id}/task-types/{w.task_type_id}/subscribed"
    assert (await client.get(check, headers=w.headers_for("user2"))).json() is True
    assert (await client.get(f"/data/user/entities/{seq.id}/task-types/{w.task_type_id}/subscribed",
                             headers=w.headers_for("user2"))).json() is True
    r = await client.post(f"/actions/tasks/{task.id}/comment", headers=w.headers_for("supervisor"),
                          json={"task_status_id": str(w.statuses["wip"]), "comment": "shot"})
    assert r.status_code == 201
    rows = await _mine(client, w, "user2")
    assert _kinds(rows) == ["comment"] and rows[0]["full_entity_name"] == "SQ01 / SH010"
    assert (await client.delete(f"{base}/unsubscribe", headers=w.headers_for("user2"))).status_code == 204
    assert (await client.get(check, headers=w.headers_for("user2"))).json() is False
    assert (await client.post(f"{base}/subscribe", headers=w.headers_for("outsider"))).status_code == 403
    r = await client.get(check, headers=w.headers_for("outsider"))
    assert (r.status_code, r.json()) == (200, False)


async def test_user_filters_and_groups(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    assert (await client.get("/data/user/filters", headers=w.headers_for("user"))).json() == {}
    r = await client.post("/data/user/filters", headers=w.headers_for("user"),
                          json={"name": "f1", "query": "wip", "list_type": "todo", "project_id": str(w.project_id),
                                "entity_type": "Asset"})
    assert r.status_code == 201, r.text
    f = r.json()
    assert {k: f[k] for k in ("list_type", "entity_type", "name", "search_query", "is_shared", "department_id",
                              "search_filter_group_id", "person_id", "project_id", "type")} == {
        "list_type": "todo", "entity_type": "Asset", "name": "f1", "search_query": "wip", "is_shared": False,
        "department_id": None, "search_filter_group_id": None, "person_id": str(w.persons["user"]),
        "project_id": str(w.project_id), "type": "SearchFilter"}
    assert (await client.get("/data/user/filters", headers=w.headers_for("user"))).json() == {"todo": {str(w.project_id): [f]}}
    r = await client.post("/data/user/filter-groups", headers=w.headers_for("user"),
                          json={"name": "g1", "color": "#ff0000", "list_type": "todo", "project_id": str(w.project_id)})
    assert r.status_code == 201 and r.json()["type"] == "SearchFilterGroup"
    g = r.json()
    r = await client.put(f"/data/user/filters/{f['id']}", headers=w.headers_for("user"),
                         json={"name": "f2", "search_filter_group_id": g["id"]})
    assert r.status_code == 200 and r.json()["name"] == "f2" and r.json()["search_filter_group_id"] == g["id"]
    assert (await client.get("/data/user/filter-groups", headers=w.headers_for("user"))).json() == {"todo": {str(w.project_id): [g]}}
    assert (await client.get(f"/data/user/filter-groups/{g['id']}", headers=w.headers_for("user"))).json() == g
    r = await client.put(f"/data/user/filter-groups/{g['id']}", headers=w.headers_for("user"), json={"name": "g2"})
    assert r.json()["name"] == "g2"
    # Kitsu's start-up context carries the same two trees
    context = (await client.get("/data/user/context", headers=w.headers_for("user"))).json()
    assert context["search_filters"] == (await client.get("/data/user/filters", headers=w.headers_for("user"))).json()
    assert context["search_filter_groups"] == {"todo": {str(w.project_id): [r.json()]}}
    # others' filters do not exist for them; bad input is a 400
    assert (await client.get("/data/user/filters", headers=w.headers_for("user2"))).json() == {}
    assert (await client.delete(f"/data/user/filters/{f['id']}", headers=w.headers_for("user2"))).status_code == 404
    assert (await client.get(f"/data/user/filter-groups/{g['id']}", headers=w.headers_for("user2"))).status_code == 404
    r = await client.post("/data/user/filters", headers=w.headers_for("user"), json={"name": "x"})
    assert r.status_code == 400 and {e["field"] for e in r.json()["data"]["errors"]} == {"query", "list_type"}
    # as Zou: one's own filter may name a project one is not in; sharing it there is refused
    r = await client.post("/data/user/filters", headers=w.headers_for("outsider"),
                          json={"name": "f", "query": "q", "list_type": "todo", "project_id": str(w.project_id)})
    assert r.status_code == 201 and r.json()["person_id"] == str(w.persons["outsider"])
    r = await client.post("/data/user/filter-groups", headers=w.headers_for("outsider"),
                          json={"name": "g", "color": "#000000", "list_type": "todo", "project_id": str(w.project_id)})
    assert r.status_code == 201
    r = await client.post("/data/user/filters", headers=w.headers_for("outsider"),
                          json={"name": "f", "query": "q", "list_type": "todo", "project_id": str(w.project_id),
                                "is_shared": True})
    assert r.status_code == 403
    # an admin reaches anyone's filters and groups (Zou answers them too)
    assert (await client.get(f"/data/user/filter-groups/{g['id']}", headers=w.headers_for("admin"))).json()["id"] == g["id"]
    r = await client.put(f"/data/user/filters/{f['id']}", headers=w.headers_for("admin"), json={"name": "f3"})
    assert r.status_code == 200 and r.json()["person_id"] == str(w.persons["user"])
    r = await client.put(f"/data/user/filter-groups/{g['id']}", headers=w.headers_for("admin"), json={"name": "g3"})
    assert r.status_code == 200 and r.json()["name"] == "g3"
    # shared filters are seen by the project's team
    r = await client.post("/data/user/filters", headers=w.headers_for("manager"),
                          json={"name": "team", "query": "q", "list_type": "todo", "project_id": str(w.project_id),
                                "is_shared": True})
    assert r.status_code == 201
    assert [x["name"] for x in (await client.get("/data/user/filters", headers=w.headers_for("user2"))).json()["todo"][str(w.project_id)]] == ["team"]
    # admin-only generic routes
    assert (await client.get("/data/search-filters", headers=w.headers_for("user"))).status_code == 403
    assert (await client.get("/data/search-filter-groups", headers=w.headers_for("manager"))).status_code == 403
    r = await client.get("/data/search-filters", params={"person_id": str(w.persons["user"])}, headers=w.headers_for("admin"))
    assert [x["id"] for x in r.json()] == [f["id"]]
    assert (await client.delete(f"/data/user/filters/{f['id']}", headers=w.headers_for("user"))).status_code == 204
    assert (await client.delete(f"/data/user/filter-groups/{g['id']}", headers=w.headers_for("user"))).status_code == 204
    assert (await client.get(f"/data/user/filter-groups/{g['id']}", headers=w.headers_for("user"))).status_code == 404


async def test_tasks_to_check_and_done_tasks(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    for who in ("supervisor", "manager", "admin", "user"):
        rows = (await client.get("/data/user/tasks-to-check", headers=w.headers_for(who))).json()
        assert str(w.task_id) not in [r["id"] for r in rows]
    await _comment(client, w, who="user", status="wfa", text="check please")
    rows = [r for r in (await client.get("/data/user/tasks-to-check", headers=w.headers_for("supervisor"))).json()
            if r["id"] == str(w.task_id)]
    assert len(rows) == 1
    row = rows[0]
    assert row["type"] == "Task" and row["task_status_short_name"] == "wfa" and row["entity_name"] == w.asset_name
    assert row["entity_type_name"] == "Character" and row["project_name"] == f"Comments {w.tag}"
    assert row["assignees"] == [str(w.persons["user"])] and row["task_type_for_entity"] == "Asset"
    assert row["last_comment"]["text"] == "check please" and row["last_comment"]["person_id"] == str(w.persons["user"])
    assert row["episode_id"] == "" and row["entity_preview_file_id"] == "" and row["entity_data"] == {}
    assert (await client.get("/data/user/tasks-to-check", headers=w.headers_for("user"))).json() == []
    assert str(w.task_id) not in [r["id"] for r in (await client.get("/data/user/tasks-to-check", headers=w.headers_for("outsider"))).json()]
    values = (await client.get("/data/user/tasks-to-check/filter-values", headers=w.headers_for("supervisor"))).json()
    assert str(w.project_id) in values["project_ids"] and str(w.persons["user"]) in values["person_ids"]
    assert str(w.statuses["wfa"]) in values["task_status_ids"]
    assert (await client.get("/data/user/done-tasks", headers=w.headers_for("user"))).json() == []
    await _comment(client, w, status="done", text="approved")
    done = (await client.get("/data/user/done-tasks", headers=w.headers_for("user"))).json()
    assert [r["id"] for r in done] == [str(w.task_id)] and done[0]["task_status_short_name"] == "done"
    assert done[0]["done_date"] is not None
    r = await client.get(f"/data/persons/{w.persons['user']}/done-tasks", headers=w.headers_for("manager"))
    assert [x["id"] for x in r.json()] == [str(w.task_id)]
    # as Zou: others list them within their projects, a client gets nothing, a vendor is refused
    r = await client.get(f"/data/persons/{w.persons['user']}/done-tasks", headers=w.headers_for("user2"))
    assert [x["id"] for x in r.json()] == [str(w.task_id)]
    for who in ("outsider", "client"):
        r = await client.get(f"/data/persons/{w.persons['user']}/done-tasks", headers=w.headers_for(who))
        assert (r.status_code, r.json()) == (200, []), who
    assert (await client.get(f"/data/persons/{w.persons['user']}/done-tasks", headers=w.headers_for("vendor"))).status_code == 403


async def test_admin_only_notification_routes(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    await _comment(client, w)
    assert (await client.get("/data/notifications", headers=w.headers_for("user"))).status_code == 403
    r = await client.get("/data/notifications", params={"task_id": str(w.task_id)}, headers=w.headers_for("admin"))
    assert r.status_code == 200 and [n["person_id"] for n in r.json()] == [str(w.persons["user"])]
    assert r.json()[0]["notification_type"] == "comment" and r.json()[0]["type"] == "Notification"
    r = await client.get(f"/data/projects/{w.project_id}/notifications", headers=w.headers_for("admin"))
    assert r.status_code == 200 and len(r.json()) == 1
    # admins only, as Zou: not the project's managers
    assert (await client.get(f"/data/projects/{w.project_id}/notifications", headers=w.headers_for("manager"))).status_code == 403
    assert (await client.get(f"/data/projects/{w.project_id}/notifications", headers=w.headers_for("supervisor"))).status_code == 403
    nid = r.json()[0]["id"]
    assert (await client.get(f"/data/notifications/{nid}", headers=w.headers_for("user"))).status_code == 403
    r = await client.put(f"/data/notifications/{nid}", headers=w.headers_for("admin"), json={"read": True})
    assert r.status_code == 200 and r.json()["read"] is True
    assert (await client.delete(f"/data/notifications/{nid}", headers=w.headers_for("admin"))).status_code == 204
    assert await _mine(client, w, "user") == []


async def test_attachment_file_events_feed_comment_listings(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    c = await _comment(client, w)
    aid = uuid.uuid4()
    snap = {"id": str(aid), "name": "notes.txt", "size": 11, "extension": "txt", "mimetype": "text/plain",
            "comment_id": c["id"], "chat_message_id": None, "data": None, "created_at": "2026-11-23T10:00:00",
            "updated_at": "2026-11-23T10:00:00", "type": "AttachmentFile"}
    async with transaction(sessionmaker) as session:
        emit(session, name="attachment-file:new", data={"attachment_file_id": str(aid), "comment_id": c["id"], "snapshot": snap},
             project_id=w.project_id)

    async def listed():  # type: ignore[no-untyped-def]
        rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("user"))).json()
        return rows[0]["attachment_files"]

    for _ in range(100):
        if await listed():
            break
        await asyncio.sleep(0.1)
    assert await listed() == [{"id": str(aid), "name": "notes.txt", "extension": "txt", "reply_id": None, "size": 11}]
    one = (await client.get(f"/data/comments/{c['id']}", headers=w.headers_for("user"))).json()
    assert one["attachment_files"] == [{"id": str(aid), "name": "notes.txt", "extension": "txt", "size": 11}]
    project = (await client.get(f"/data/projects/{w.project_id}/comments", headers=w.headers_for("user"))).json()
    assert project[0]["attachment_files"] == [str(aid)]
    r = await client.get(f"/data/tasks/{w.task_id}/attachment-files", headers=w.headers_for("admin"))
    assert r.status_code == 200
    row = r.json()[0]
    assert (row["id"], row["name"], row["mimetype"], row["comment_id"], row["type"]) == (
        str(aid), "notes.txt", "text/plain", c["id"], "AttachmentFile")
    assert row["comment"]["id"] == c["id"] and row["chat_message"] is None and row["reply_id"] is None
    r = await client.get(f"/data/projects/{w.project_id}/attachment-files", headers=w.headers_for("admin"))
    assert [a["id"] for a in r.json()] == [str(aid)]
    for who in ("manager", "supervisor", "user"):
        assert (await client.get(f"/data/tasks/{w.task_id}/attachment-files", headers=w.headers_for(who))).status_code == 403
        assert (await client.get(f"/data/projects/{w.project_id}/attachment-files", headers=w.headers_for(who))).status_code == 403
    async with transaction(sessionmaker) as session:
        emit(session, name="attachment-file:delete", data={"attachment_file_id": str(aid), "comment_id": c["id"]},
             project_id=w.project_id)
    for _ in range(100):
        if not await listed():
            break
        await asyncio.sleep(0.1)
    assert await listed() == []


async def test_tasks_to_check_follow_project_roles_and_departments(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    from sqlalchemy import insert as sa_insert

    from slate_production.models import TaskType, department_person_link

    await _comment(client, w, who="user", status="wfa", text="check")

    async def ids(who):  # type: ignore[no-untyped-def]
        return [r["id"] for r in (await client.get("/data/user/tasks-to-check", headers=w.headers_for(who))).json()]

    assert str(w.task_id) not in await ids("user2")
    r = await client.put(f"/data/projects/{w.project_id}/team/{w.persons['user2']}", headers=w.headers_for("admin"),
                         json={"role": "supervisor"})
    assert r.status_code == 200
    assert str(w.task_id) in await ids("user2")  # supervisor of this production
    # a supervisor with departments checks only their departments' task types
    async with transaction(sessionmaker) as session:
        await session.execute(sa_insert(department_person_link).values(person_id=w.persons["supervisor"],
                                                                       department_id=w.department_id))
    assert str(w.task_id) not in await ids("supervisor")
    async with transaction(sessionmaker) as session:
        (await session.get(TaskType, w.task_type_id)).department_id = w.department_id
    assert str(w.task_id) in await ids("supervisor")
