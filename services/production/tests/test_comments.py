"""The comment flow: status-change comments with Zou's shapes and side effects, replies,
acknowledgements, mentions, checklists, edits, deletions, listings, permissions per
role, and the events they emit."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from slate_common.db import transaction
from slate_common.events import Event, OutboxEvent

from slate_production.models import Notification, PreviewFileReplica, Task


async def _comment(client, w, who="supervisor", status="wip", text="Looks good", **extra):  # type: ignore[no-untyped-def]
    r = await client.post(f"/actions/tasks/{w.task_id}/comment", headers=w.headers_for(who),
                          json={"task_status_id": str(w.statuses[status]), "comment": text, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def _events(sessionmaker, name, key, value):  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at))
        events = [Event.from_json(r.payload) for r in rows]
    return [e for e in events if e.name == name and e.data.get(key) == value]


async def test_comment_with_status_change_has_zou_shape_and_side_effects(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    text = f"Hello @User {w.tag} and @Dep{w.tag}"
    c = await _comment(client, w, text=text, checklist=[{"text": "a", "checked": False}], links=["https://x.y/z"])
    assert c["type"] == "Comment" and c["object_type"] == "Task" and c["object_id"] == str(w.task_id)
    assert c["text"] == text and c["replies"] == [] and c["checklist"] == [{"text": "a", "checked": False}]
    assert c["links"] == ["https://x.y/z"] and c["for_client"] is False and c["pinned"] is None
    assert c["person_id"] == str(w.persons["supervisor"]) and c["editor_id"] is None
    assert c["task_status_id"] == str(w.statuses["wip"])
    assert c["mentions"] == [str(w.persons["user"])] and c["department_mentions"] == [str(w.department_id)]
    assert c["acknowledgements"] == [] and c["previews"] == [] and c["attachment_files"] == []
    assert c["task_status"]["short_name"] == "wip" and c["task_status"]["type"] == "TaskStatus"
    assert c["person"]["id"] == str(w.persons["supervisor"]) and c["person"]["full_name"] == f"Supervisor {w.tag}"
    async with transaction(sessionmaker) as session:
        task = await session.get(Task, w.task_id)
        assert task.task_status_id == w.statuses["wip"]
        assert task.real_start_date is not None and task.last_comment_date is not None
    changed = await _events(sessionmaker, "task:status-changed", "task_id", str(w.task_id))
    assert len(changed) == 1 and changed[0].data["new_task_status_id"] == str(w.statuses["wip"])
    new = await _events(sessionmaker, "comment:new", "comment_id", c["id"])
    assert len(new) == 1 and new[0].data["snapshot"]["object_id"] == str(w.task_id)
    assert new[0].data["snapshot"]["person_id"] == str(w.persons["supervisor"])
    assert new[0].data["snapshot"]["task_status_id"] == str(w.statuses["wip"])
    assert new[0].project_id == w.project_id
    assert await _events(sessionmaker, "task:update", "task_id", str(w.task_id))


async def test_task_comment_listing_newest_first_with_previews(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    first = await _comment(client, w, text="first")
    second = await _comment(client, w, who="user", status="wfa", text="second")
    preview_id = uuid.uuid4()
    async with transaction(sessionmaker) as session:
        session.add(PreviewFileReplica(id=preview_id, task_id=w.task_id, comment_id=uuid.UUID(second["id"]),
                                       revision=1, position=1, extension="png", status="ready", width=4, height=4,
                                       duration=0.0, validation_status="neutral", original_name="a"))
    r = await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("user"))
    assert r.status_code == 200
    rows = r.json()
    assert [x["id"] for x in rows] == [second["id"], first["id"]]
    assert rows[0]["person"] == {"first_name": "User", "last_name": w.tag, "full_name": f"User {w.tag}",
                                 "has_avatar": False, "role": "user", "id": str(w.persons["user"])}
    assert rows[0]["task_status"] == {"name": "Waiting For Approval", "short_name": "wfa", "color": "#ab26ff",
                                      "id": str(w.statuses["wfa"])}
    assert rows[0]["previews"] == [{"id": str(preview_id), "task_id": str(w.task_id), "revision": 1,
                                    "extension": "png", "width": 4, "height": 4, "duration": 0.0, "status": "ready",
                                    "validation_status": "neutral", "original_name": "a", "position": 1,
                                    "annotations": None}]
    assert rows[1]["previews"] == []
    one = (await client.get(f"/data/comments/{second['id']}", headers=w.headers_for("user"))).json()
    assert one["previews"] == [str(preview_id)] and one["person"]["id"] == str(w.persons["user"])
    # under its task, Zou answers the row alone: no links, no author, no previews
    r = await client.get(f"/data/tasks/{w.task_id}/comments/{second['id']}", headers=w.headers_for("user"))
    assert r.status_code == 200 and list(r.json()) == [
        "shotgun_id", "object_id", "object_type", "text", "data", "replies", "checklist", "pinned", "for_client",
        "links", "task_status_id", "person_id", "editor_id", "preview_file_id", "id", "created_at", "updated_at",
        "type"]
    project = (await client.get(f"/data/projects/{w.project_id}/comments", headers=w.headers_for("user"))).json()
    assert [x["id"] for x in project] == [second["id"], first["id"]]
    assert project[0]["previews"] == [str(preview_id)]


async def test_reply_ack_and_delete_reply(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    c = await _comment(client, w)
    url = f"/data/tasks/{w.task_id}/comments/{c['id']}"
    r = await client.post(f"{url}/reply", headers=w.headers_for("user"), json={"text": f"thanks @Supervisor {w.tag}"})
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["person_id"] == str(w.persons["user"]) and reply["mentions"] == [str(w.persons["supervisor"])]
    assert reply["person"]["full_name"] == f"User {w.tag}" and reply["department_mentions"] == []
    assert await _events(sessionmaker, "comment:reply", "comment_id", c["id"])
    # acknowledgement toggles
    r = await client.post(f"{url}/ack", headers=w.headers_for("user"))
    assert r.status_code == 200 and r.json()["acknowledgements"] == [str(w.persons["user"])]
    assert r.json()["replies"][0]["id"] == reply["id"]
    r = await client.post(f"{url}/ack", headers=w.headers_for("user"))
    assert r.json()["acknowledgements"] == []
    assert len(await _events(sessionmaker, "comment:acknowledge", "comment_id", c["id"])) == 1
    assert len(await _events(sessionmaker, "comment:unacknowledge", "comment_id", c["id"])) == 1
    # only the reply's author (or a manager) deletes it
    r = await client.delete(f"{url}/reply/{reply['id']}", headers=w.headers_for("user2"))
    assert r.status_code == 403 and r.json()["error"] is True
    r = await client.delete(f"{url}/reply/{reply['id']}", headers=w.headers_for("user"))
    assert r.status_code == 200 and r.json()["replies"] == [] and r.json()["id"] == c["id"]
    async with transaction(sessionmaker) as session:
        left = await session.scalars(select(Notification).where(Notification.reply_id == uuid.UUID(reply["id"])))
        assert list(left) == []
    r = await client.delete(f"{url}/reply/{reply['id']}", headers=w.headers_for("user"))
    assert r.status_code == 404


async def test_edit_and_delete_comment_permissions(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    c = await _comment(client, w, text="sup says")
    r = await client.put(f"/data/comments/{c['id']}", headers=w.headers_for("user"), json={"text": "hacked"})
    assert r.status_code == 403
    r = await client.put(f"/data/comments/{c['id']}", headers=w.headers_for("supervisor"),
                         json={"text": f"edited @User2 {w.tag}", "checklist": [{"text": "b", "checked": True}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == f"edited @User2 {w.tag}" and body["editor_id"] == str(w.persons["supervisor"])
    assert body["checklist"] == [{"text": "b", "checked": True}]
    assert "mentions" not in body  # the comment row alone, as the oracle answers an edit
    one = (await client.get(f"/data/comments/{c['id']}", headers=w.headers_for("supervisor"))).json()
    assert one["mentions"] == [str(w.persons["user2"])]
    assert await _events(sessionmaker, "comment:update", "comment_id", c["id"])
    r = await client.put(f"/data/comments/{c['id']}", headers=w.headers_for("manager"), json={"pinned": True})
    assert r.status_code == 200 and r.json()["pinned"] is True
    # the artist's own comment: others cannot delete it, the artist can
    mine = await _comment(client, w, who="user", status="wfa", text="mine")
    r = await client.delete(f"/data/tasks/{w.task_id}/comments/{mine['id']}", headers=w.headers_for("user2"))
    assert r.status_code == 403
    r = await client.delete(f"/data/tasks/{w.task_id}/comments/{mine['id']}", headers=w.headers_for("user"))
    assert r.status_code == 204 and r.content == b""
    assert await _events(sessionmaker, "comment:delete", "comment_id", mine["id"])
    async with transaction(sessionmaker) as session:  # back to the status of the comment now latest
        assert (await session.get(Task, w.task_id)).task_status_id == w.statuses["wip"]
    r = await client.delete(f"/data/comments/{mine['id']}", headers=w.headers_for("admin"))
    assert r.status_code == 404
    r = await client.delete(f"/data/comments/{c['id']}", headers=w.headers_for("manager"))
    assert r.status_code == 204


async def test_comment_permissions_per_role(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    url = f"/actions/tasks/{w.task_id}/comment"
    body = {"task_status_id": str(w.statuses["wfa"]), "comment": "x"}
    assert (await client.post(url, headers=w.headers_for("outsider"), json=body)).status_code == 403
    assert (await client.post(url, headers=w.headers_for("vendor"), json=body)).status_code == 403
    for who in ("admin", "manager", "supervisor", "user", "user2", "client"):
        r = await client.post(url, headers=w.headers_for(who), json=body)
        assert r.status_code == 201, (who, r.text)
    r = await client.post(url, headers={}, json=body)
    assert r.status_code == 401
    # listings
    assert (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("outsider"))).status_code == 403
    assert (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("vendor"))).status_code == 403
    assert (await client.get(f"/data/projects/{w.project_id}/comments", headers=w.headers_for("outsider"))).status_code == 403
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("supervisor"))).json()
    assert len(rows) == 6
    # artists do not read clients' comments
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("user"))).json()
    assert len(rows) == 5 and str(w.persons["client"]) not in [r["person_id"] for r in rows]
    # clients read only client comments (and comments marked for them)
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("client"))).json()
    assert [r["person_id"] for r in rows] == [str(w.persons["client"])]
    staff = next(r for r in (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("admin"))).json()
                 if r["person_id"] == str(w.persons["user"]))
    assert (await client.get(f"/data/comments/{staff['id']}", headers=w.headers_for("client"))).status_code == 403
    # /data/comments listing is for admins
    assert (await client.get("/data/comments", headers=w.headers_for("manager"))).status_code == 403
    r = await client.get("/data/comments", params={"object_id": str(w.task_id)}, headers=w.headers_for("admin"))
    assert r.status_code == 200 and len(r.json()) == 6
    r = await client.get("/data/comments", params={"object_id": str(w.task_id), "page": 1, "limit": 2},
                         headers=w.headers_for("admin"))
    assert (r.json()["total"], r.json()["nb_pages"], len(r.json()["data"])) == (6, 3, 2)


async def test_artist_and_client_status_rights(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    from slate_production.models import TaskStatus

    async with transaction(sessionmaker) as session:
        locked = TaskStatus(id=uuid.uuid4(), name=f"Locked {w.tag}", short_name=f"l{w.tag}", color="#000000",
                            is_artist_allowed=False, is_client_allowed=False)
        session.add(locked)
    body = {"task_status_id": str(locked.id), "comment": "x"}
    for who, code in (("user", 403), ("client", 403), ("supervisor", 201)):
        r = await client.post(f"/actions/tasks/{w.task_id}/comment", headers=w.headers_for(who), json=body)
        assert r.status_code == code, (who, r.text)


async def test_bad_input_is_a_clear_4xx(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    url = f"/actions/tasks/{w.task_id}/comment"
    r = await client.post(url, headers=w.headers_for("admin"), json={"comment": "no status"})
    assert r.status_code == 400 and r.json()["data"]["errors"][0]["field"] == "task_status_id"
    r = await client.post(url, headers=w.headers_for("admin"), json={"task_status_id": str(uuid.uuid4())})
    assert r.status_code == 404 and r.json()["error"] is True
    r = await client.post(f"/actions/tasks/{uuid.uuid4()}/comment", headers=w.headers_for("admin"),
                          json={"task_status_id": str(w.statuses["wip"])})
    assert r.status_code == 404
    r = await client.post("/actions/tasks/not-a-uuid/comment", headers=w.headers_for("admin"),
                          json={"task_status_id": str(w.statuses["wip"])})
    assert (r.status_code, r.json()["message"]) == (400, "Malformed ID.")
    r = await client.post(url, headers={**w.headers_for("admin"), "content-type": "application/json"}, content=b"{nope")
    assert r.status_code == 400
    r = await client.post(url, headers=w.headers_for("admin"), json={"task_status_id": "zz"})
    assert r.status_code == 400
    r = await client.post(url, headers=w.headers_for("admin"), json={"task_status_id": str(w.statuses["wip"]), "links": "x"})
    assert r.status_code == 400
    r = await client.post(url, headers=w.headers_for("admin"), json={"task_status_id": str(w.statuses["wip"]),
                                                           "created_at": "yesterday"})
    assert r.status_code == 400
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("admin"))).json()
    assert rows == []  # nothing half-written


async def test_comment_many_and_batch_comment(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    r = await client.post(f"/actions/projects/{w.project_id}/tasks/comment-many", headers=w.headers_for("supervisor"),
                          json=[{"object_id": str(w.task_id), "task_status_id": str(w.statuses["retake"]),
                                 "comment": "many"}])
    assert r.status_code == 201, r.text
    assert [c["text"] for c in r.json()] == ["many"] and r.json()[0]["task_status"]["short_name"] == "retake"
    async with transaction(sessionmaker) as session:
        assert (await session.get(Task, w.task_id)).retake_count == 1
    # as Zou: each comment by the caller's rights on its task, whatever the project of the
    # path; a manager's managing rights are those on the path's project
    other_project = uuid.uuid4()
    r = await client.post(f"/actions/projects/{other_project}/tasks/comment-many", headers=w.headers_for("supervisor"),
                          json=[{"object_id": str(w.task_id), "task_status_id": str(w.statuses["wip"])}])
    assert r.status_code == 201 and [c["object_id"] for c in r.json()] == [str(w.task_id)]
    r = await client.post(f"/actions/projects/{other_project}/tasks/comment-many", headers=w.headers_for("manager"),
                          json=[{"object_id": str(w.task_id), "task_status_id": str(w.statuses["wip"])}])
    assert (r.status_code, r.json()) == (201, [])
    r = await client.post(f"/actions/projects/{w.project_id}/tasks/comment-many", headers=w.headers_for("manager"),
                          json=[{"object_id": str(w.task_id), "task_status_id": str(w.statuses["wip"])}])
    assert r.status_code == 201 and len(r.json()) == 1
    # as Zou: the comments one may not make are left out (201 and an empty list), nothing is written
    for who in ("outsider", "vendor"):
        r = await client.post(f"/actions/projects/{w.project_id}/tasks/comment-many", headers=w.headers_for(who),
                              json=[{"object_id": str(w.task_id), "task_status_id": str(w.statuses["wip"]),
                                     "comment": who}])
        assert (r.status_code, r.json()) == (201, []), who
    r = await client.post(f"/actions/projects/{w.project_id}/tasks/comment-many", headers=w.headers_for("user"),
                          json=[{"object_id": str(uuid.uuid4()), "task_status_id": str(w.statuses["wip"])},
                                {"object_id": str(w.task_id), "task_status_id": str(w.statuses["wip"]), "comment": "ok"}])
    assert r.status_code == 201 and [c["text"] for c in r.json()] == ["ok"]
    texts = [c["text"] for c in (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("admin"))).json()]
    assert "outsider" not in texts and "vendor" not in texts
    import json as _json

    r = await client.post(f"/actions/tasks/{w.task_id}/batch-comment", headers=w.headers_for("supervisor"),
                          data={"comments": _json.dumps([{"comment": "b1", "task_status_id": str(w.statuses["wip"])},
                                                         {"comment": "b2", "task_status_id": str(w.statuses["wfa"])}])})
    assert r.status_code == 201, r.text
    assert [c["text"] for c in r.json()] == ["b1", "b2"]
    r = await client.post("/actions/tasks/batch-comment", headers=w.headers_for("supervisor"),
                          data={"comments": _json.dumps([{"task_id": str(w.task_id), "comment": "b3",
                                                          "task_status_id": str(w.statuses["done"])}])})
    assert r.status_code == 201 and r.json()[0]["task_status"]["short_name"] == "done"
    r = await client.post("/actions/tasks/batch-comment", headers=w.headers_for("supervisor"), data={"comments": "nope"})
    assert r.status_code == 400
    for url in (f"/actions/tasks/{w.task_id}/batch-comment", "/actions/tasks/batch-comment"):
        r = await client.post(url, headers=w.headers_for("user"), json={})  # no list: Zou's 400 has data: null
        assert r.status_code == 400 and r.json()["data"] is None and r.json()["error"] is True


async def test_news_feed(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    first = await _comment(client, w, text="one")
    second = await _comment(client, w, who="user", status="wfa", text="two")
    await _comment(client, w, status="wfa", text="three")
    pid = uuid.uuid4()
    async with transaction(sessionmaker) as session:
        session.add(PreviewFileReplica(id=pid, task_id=w.task_id, comment_id=uuid.UUID(second["id"]), revision=3,
                                       position=1, extension="mp4", status="ready"))
    r = await client.get(f"/data/projects/{w.project_id}/news", headers=w.headers_for("user"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["nb_pages"], body["limit"], body["offset"], body["page"]) == (3, 1, 50, 0, 1)
    # as Zou: only the news that changed the task's status count (the third, wfa -> wfa, does not)
    assert body["stats"] == {str(w.statuses["wip"]): 1, str(w.statuses["wfa"]): 1}
    assert [n["comment_id"] for n in body["data"]][1:] == [second["id"], first["id"]]
    news = body["data"][1]
    assert news == {
        "id": news["id"], "type": "News", "author_id": str(w.persons["user"]), "comment_id": second["id"],
        "task_id": str(w.task_id), "task_type_id": str(w.task_type_id), "task_status_id": str(w.statuses["wfa"]),
        "task_entity_id": str(w.asset_id), "preview_file_id": str(pid), "preview_file_extension": "mp4",
        "preview_file_revision": 3, "project_id": str(w.project_id), "project_name": f"Comments {w.tag}",
        "created_at": news["created_at"], "change": True, "full_entity_name": f"Character / {w.asset_name}",
        "episode_id": None, "entity_preview_file_id": None,
        "person": {"first_name": "User", "last_name": w.tag, "full_name": f"User {w.tag}", "has_avatar": False,
                   "role": "user", "id": str(w.persons["user"])},
    }
    assert body["data"][0]["change"] is False  # wfa -> wfa
    r = await client.get(f"/data/projects/{w.project_id}/news",
                         params={"task_status_id": str(w.statuses["wfa"]), "limit": 1, "page": 2}, headers=w.headers_for("user"))
    b = r.json()
    assert (b["total"], b["nb_pages"], b["offset"], len(b["data"])) == (2, 2, 1, 1)
    assert b["data"][0]["comment_id"] == second["id"]
    r = await client.get(f"/data/projects/{w.project_id}/news", params={"only_preview": "true"}, headers=w.headers_for("user"))
    assert [n["comment_id"] for n in r.json()["data"]] == [second["id"]]
    r = await client.get(f"/data/projects/{w.project_id}/news", params={"person_id": str(w.persons["user"])},
                         headers=w.headers_for("user"))
    assert r.json()["total"] == 1
    r = await client.get(f"/data/projects/{w.project_id}/news/{news['id']}", headers=w.headers_for("supervisor"))
    assert r.status_code == 200 and r.json() == news
    assert (await client.get(f"/data/projects/{w.project_id}/news/{uuid.uuid4()}", headers=w.headers_for("user"))).status_code == 404
    r = await client.get(f"/data/entities/{w.asset_id}/news", headers=w.headers_for("user"))
    assert r.json()["total"] == 3 and "stats" not in r.json()  # Zou's entity news have no stats
    r = await client.get("/data/projects/news", headers=w.headers_for("user"))
    assert {n["project_id"] for n in r.json()["data"]} == {str(w.project_id)} and r.json()["total"] == 3
    for who in ("client", "vendor"):
        assert (await client.get(f"/data/projects/{w.project_id}/news", headers=w.headers_for(who))).status_code == 403
    assert (await client.get(f"/data/projects/{w.project_id}/news", headers=w.headers_for("outsider"))).status_code == 403
    assert (await client.get("/data/news", headers=w.headers_for("manager"))).status_code == 403
    r = await client.get("/data/news", params={"task_id": str(w.task_id)}, headers=w.headers_for("admin"))
    assert r.status_code == 200 and len(r.json()) == 3 and r.json()[0]["type"] == "News"


async def test_replies_carry_their_author_in_listings(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    c = await _comment(client, w)
    await client.post(f"/data/tasks/{w.task_id}/comments/{c['id']}/reply", headers=w.headers_for("user"), data={"text": "form reply"})
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("user"))).json()
    assert rows[0]["replies"][0]["text"] == "form reply"
    assert rows[0]["replies"][0]["person"]["id"] == str(w.persons["user"])


async def test_clients_see_preview_comments_without_their_text(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    staff = await _comment(client, w, text=f"internal note @User {w.tag}", checklist=[{"text": "a", "checked": False}])
    await _comment(client, w, text="plain staff")
    async with transaction(sessionmaker) as session:
        session.add(PreviewFileReplica(id=uuid.uuid4(), task_id=w.task_id, comment_id=uuid.UUID(staff["id"]),
                                       revision=1, position=1, extension="mp4", status="ready"))
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("client"))).json()
    assert [r["id"] for r in rows] == [staff["id"]]
    assert rows[0]["text"] == "" and rows[0]["checklist"] == [] and rows[0]["mentions"] == []
    assert len(rows[0]["previews"]) == 1
    # a project's comments are not listed to its clients (nor vendors), as Zou
    assert (await client.get(f"/data/projects/{w.project_id}/comments", headers=w.headers_for("client"))).status_code == 403
    assert (await client.get(f"/data/projects/{w.project_id}/comments", headers=w.headers_for("vendor"))).status_code == 403
    r = await client.put(f"/data/comments/{staff['id']}", headers=w.headers_for("admin"), json={"for_client": True})
    assert r.status_code == 200 and r.json()["for_client"] is True
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("client"))).json()
    assert rows[0]["text"] == f"internal note @User {w.tag}"


async def test_move_comment_to_another_task_of_the_entity(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    from slate_production.models import TaskType

    async with transaction(sessionmaker) as session:
        other_type = TaskType(id=uuid.uuid4(), name=f"Rig {w.tag}", for_entity="Asset")
        session.add(other_type)
        await session.flush()
        target = Task(id=uuid.uuid4(), project_id=w.project_id, entity_id=w.asset_id, task_type_id=other_type.id,
                      task_status_id=w.statuses["todo"])
        session.add(target)
    await _comment(client, w, status="wfa", text="before")
    moving = await _comment(client, w, status="retake", text="to move")
    async with transaction(sessionmaker) as session:
        assert (await session.get(Task, w.task_id)).retake_count == 1
    assert (await client.post(f"/actions/user/tasks/{target.id}/subscribe", headers=w.headers_for("user2"))).status_code == 201
    url = f"/actions/tasks/{w.task_id}/comments/{moving['id']}/move"
    body = {"target_task_id": str(target.id)}
    assert (await client.post(url, headers=w.headers_for("supervisor"), json=body)).status_code == 403
    for who in ("user", "supervisor", "client", "vendor", "outsider"):  # Zou: 403 before the body is read
        assert (await client.post(url, headers=w.headers_for(who), json={})).status_code == 403, who
    r = await client.post(url, headers=w.headers_for("manager"), json={})
    assert r.status_code == 400 and r.json()["data"]["errors"][0]["field"] == "target_task_id"
    r = await client.post(url, headers=w.headers_for("manager"), json={"target_task_id": str(w.task_id)})
    assert (r.status_code, r.json()["message"]) == (400, "Source and target tasks must be different.")
    r = await client.post(url, headers=w.headers_for("manager"), json=body)
    assert r.status_code == 200, r.text
    assert r.json()["object_id"] == str(target.id) and r.json()["id"] == moving["id"]
    async with transaction(sessionmaker) as session:
        source, moved_to = await session.get(Task, w.task_id), await session.get(Task, target.id)
        assert (source.task_status_id, source.retake_count) == (w.statuses["wfa"], 0)
        assert (moved_to.task_status_id, moved_to.retake_count) == (w.statuses["retake"], 1)
        notes = list(await session.scalars(select(Notification).where(Notification.comment_id == uuid.UUID(moving["id"]))))
        # the source's assignee is told no more; the target's subscriber is
        assert [(n.task_id, n.person_id, n.change) for n in notes] == [(target.id, w.persons["user2"], True)]
    assert [c["id"] for c in (await client.get(f"/data/tasks/{target.id}/comments", headers=w.headers_for("admin"))).json()] == [moving["id"]]
    r = await client.post(url, headers=w.headers_for("manager"), json=body)
    assert (r.status_code, r.json()["message"]) == (400, "Comment does not belong to the given task.")


async def test_copy_client_comments(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    await _comment(client, w, who="client", status="wfa", text="The light is too warm.")
    url = f"/actions/projects/{w.project_id}/tasks/copy-client-comments"
    assert (await client.post(url, headers=w.headers_for("supervisor"), json={"task_ids": [str(w.task_id)]})).status_code == 403
    r = await client.post(url, headers=w.headers_for("manager"),
                          json={"task_ids": [str(w.task_id), str(uuid.uuid4())], "prefix": "Client feedback:"})
    assert r.status_code == 201, r.text
    copied = r.json()
    assert len(copied) == 1 and copied[0]["text"] == "Client feedback:\n\nThe light is too warm."
    assert copied[0]["person_id"] == str(w.persons["manager"]) and copied[0]["task_status_id"] == str(w.statuses["wfa"])
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("user"))).json()
    assert [r["text"] for r in rows] == ["Client feedback:\n\nThe light is too warm."]
    assert (await client.post(url, headers=w.headers_for("manager"), json={})).status_code == 400


async def test_project_roles_govern_comment_rights(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    c = await _comment(client, w, text="sup")
    # an artist made manager of this production edits others' comments there
    r = await client.put(f"/data/projects/{w.project_id}/team/{w.persons['user2']}", headers=w.headers_for("admin"),
                         json={"role": "manager"})
    assert r.status_code == 200, r.text
    r = await client.put(f"/data/comments/{c['id']}", headers=w.headers_for("user2"), json={"pinned": True})
    assert r.status_code == 200 and r.json()["pinned"] is True
    # a studio manager who is only an artist on this production does not
    r = await client.put(f"/data/projects/{w.project_id}/team/{w.persons['manager']}", headers=w.headers_for("admin"),
                         json={"role": "user"})
    assert r.status_code == 200, r.text
    assert (await client.put(f"/data/comments/{c['id']}", headers=w.headers_for("manager"), json={"pinned": False})).status_code == 403
    assert (await client.get(f"/data/projects/{w.project_id}/notifications", headers=w.headers_for("manager"))).status_code == 403
    # a project's notifications are for admins only, whatever the project role (Zou)
    assert (await client.get(f"/data/projects/{w.project_id}/notifications", headers=w.headers_for("user2"))).status_code == 403


async def test_comment_as_form_data(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    r = await client.post(f"/actions/tasks/{w.task_id}/comment", headers=w.headers_for("supervisor"),
                          data={"task_status_id": str(w.statuses["wip"]), "comment": "form comment",
                                "checklist": '[{"text": "x", "checked": false}]'})
    assert r.status_code == 201, r.text
    assert r.json()["text"] == "form comment" and r.json()["checklist"] == [{"text": "x", "checked": False}]
    r = await client.post(f"/actions/tasks/{w.task_id}/comment", headers=w.headers_for("supervisor"),
                          data={"task_status_id": str(w.statuses["wip"]), "comment": "with a file"},
                          files={"file": ("a.txt", b"abc", "text/plain")})
    assert r.status_code == 400 and "add-attachment" in r.json()["message"]
    r = await client.post(f"/actions/tasks/{w.task_id}/comment", headers=w.headers_for("supervisor"),
                          data={"task_status_id": str(w.statuses["wip"]), "checklist": "[nope"})
    assert r.status_code == 400
    rows = (await client.get(f"/data/tasks/{w.task_id}/comments", headers=w.headers_for("admin"))).json()
    assert [c["text"] for c in rows] == ["form comment"]


async def test_task_follows_its_comment_history_on_relabel_and_delete(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    base = await _comment(client, w, status="wip", text="base")
    edited = await _comment(client, w, status="wfa", text="edit me")
    r = await client.put(f"/data/comments/{edited['id']}", headers=w.headers_for("supervisor"),
                         json={"task_status_id": str(w.statuses["retake"])})
    assert r.status_code == 200 and r.json()["task_status_id"] == str(w.statuses["retake"])
    async with transaction(sessionmaker) as session:
        task = await session.get(Task, w.task_id)
        assert (task.task_status_id, task.retake_count) == (w.statuses["retake"], 1)
        assert task.end_date is not None  # kept from the feedback request
    changed = await _events(sessionmaker, "task:status-changed", "task_id", str(w.task_id))
    assert changed[-1].data["new_task_status_id"] == str(w.statuses["retake"])
    assert (await client.delete(f"/data/comments/{edited['id']}", headers=w.headers_for("supervisor"))).status_code == 204
    async with transaction(sessionmaker) as session:
        task = await session.get(Task, w.task_id)
        assert (task.task_status_id, task.retake_count) == (w.statuses["wip"], 0)
        assert task.last_comment_date.isoformat(timespec="seconds") == base["created_at"]


async def test_generic_comment_create_is_raw(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    body = {"object_id": str(w.task_id), "task_status_id": str(w.statuses["done"]), "text": "raw",
            "person_id": str(w.persons["user2"])}
    assert (await client.post("/data/comments", headers=w.headers_for("manager"), json=body)).status_code == 403
    r = await client.post("/data/comments", headers=w.headers_for("admin"), json=body)
    assert r.status_code == 201, r.text
    c = r.json()
    assert (c["text"], c["person_id"], c["task_status_id"]) == ("raw", str(w.persons["user2"]), str(w.statuses["done"]))
    assert c["previews"] == [] and c["mentions"] == [] and c["acknowledgements"] == []
    # links: null in the create's answer when the body named none (Zou), a list when read
    assert c["links"] is None
    read = (await client.get(f"/data/comments/{c['id']}", headers=w.headers_for("admin"))).json()
    assert read["links"] == []
    async with transaction(sessionmaker) as session:
        assert (await session.get(Task, w.task_id)).task_status_id == w.statuses["todo"]  # untouched
        assert list(await session.scalars(select(Notification).where(Notification.task_id == w.task_id))) == []
    r = await client.post("/data/comments", headers=w.headers_for("admin"), json={"text": "no task"})
    assert (r.status_code, r.json()["message"]) == (400, "A required field is missing.")
    r = await client.post("/data/comments", headers=w.headers_for("admin"), json={"object_id": str(uuid.uuid4())})
    assert r.status_code == 404


async def test_a_preview_added_to_a_comment_is_its_news_preview(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    """Zou's news row names the preview of its comment (preview_file_id), as /data/news reads it."""
    from slate_production.replicas import PREVIEWS

    w = comment_world
    commented = await _comment(client, w, text="with a preview")
    plain = await _comment(client, w, status="wfa", text="without")
    preview_id = uuid.uuid4()
    snapshot = {"id": str(preview_id), "task_id": str(w.task_id), "comment_id": commented["id"], "revision": 1,
                "position": 1, "extension": "png", "status": "ready", "type": "PreviewFile"}
    async with transaction(sessionmaker) as session:
        assert await PREVIEWS.apply(session, snapshot=snapshot, version=1)
    rows = (await client.get("/data/news", params={"task_id": str(w.task_id)}, headers=w.headers_for("admin"))).json()
    by_comment = {n["comment_id"]: n for n in rows}
    assert by_comment[commented["id"]]["preview_file_id"] == str(preview_id)
    assert by_comment[plain["id"]]["preview_file_id"] is None
    one = (await client.get(f"/data/news/{by_comment[commented['id']]['id']}", headers=w.headers_for("admin"))).json()
    assert one["preview_file_id"] == str(preview_id)
    # a second file on the same comment becomes the news' preview; the first one's later
    # changes (its processing done) do not take it back
    second = {**snapshot, "id": str(uuid.uuid4()), "position": 2}
    async with transaction(sessionmaker) as session:
        assert await PREVIEWS.apply(session, snapshot=second, version=1)
        assert await PREVIEWS.apply(session, snapshot={**snapshot, "width": 10}, version=2)
    one = (await client.get(f"/data/news/{one['id']}", headers=w.headers_for("admin"))).json()
    assert one["preview_file_id"] == second["id"]
