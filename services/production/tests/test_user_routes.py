"""The signed-in person's routes where Slate was behind Zou: notification filters
(watching, paging with before=) and the user context's studios and project roles."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import nats
from sqlalchemy import insert, select

from slate_common.bus import event_subject
from slate_common.db import transaction
from slate_common.events import Event

from slate_production.models import Notification, Studio, Task


async def _comment(client, w, task_id, text: str, who: str = "supervisor") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.post(f"/actions/tasks/{task_id}/comment", headers=w.headers_for(who),
                          json={"task_status_id": str(w.statuses["wip"]), "comment": text})
    assert r.status_code == 201, r.text
    return r.json()


async def _notes(client, w, who: str = "user", **params: str) -> Any:  # type: ignore[no-untyped-def]
    r = await client.get("/data/user/notifications", params=params, headers=w.headers_for(who))
    assert r.status_code == 200, r.text
    return r.json()


async def test_notification_filters(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    async with transaction(sessionmaker) as session:  # a second task of the project, not assigned
        other = Task(id=uuid.uuid4(), project_id=w.project_id, entity_id=w.asset_id, task_type_id=w.task_type_id,
                     task_status_id=w.statuses["todo"], name="other")
        session.add(other)
    r = await client.post(f"/actions/user/tasks/{other.id}/subscribe", headers=w.headers_for("user"))
    assert r.status_code == 201
    await _comment(client, w, w.task_id, "on the assigned task")
    await _comment(client, w, other.id, "on the followed task")
    await _comment(client, w, other.id, f"hey @User {w.tag}")

    everything = await _notes(client, w)
    assert sorted((n["notification_type"], n["comment_text"]) for n in everything[:2]) == [
        ("comment", f"hey @User {w.tag}"), ("mention", f"hey @User {w.tag}")]
    assert [n["comment_text"] for n in everything[2:]] == ["on the followed task", "on the assigned task"]
    watching = await _notes(client, w, watching="true")
    assert [n["comment_text"] for n in watching] == [f"hey @User {w.tag}", f"hey @User {w.tag}",
                                                     "on the followed task"]
    assert {n["task_id"] for n in watching} == {str(other.id)}
    not_watching = await _notes(client, w, watching="false")
    assert [n["comment_text"] for n in not_watching] == ["on the assigned task"]
    assert [n["notification_type"] for n in await _notes(client, w, type="mention")] == ["mention"]
    assert len(await _notes(client, w, task_type_id=str(w.task_type_id))) == 4
    assert await _notes(client, w, task_type_id=str(uuid.uuid4())) == []
    assert len(await _notes(client, w, task_status_id=str(w.statuses["wip"]))) == 4

    r = await client.put(f"/data/user/notifications/{everything[-1]['id']}", json={"read": True}, headers=w.headers_for("user"))
    assert r.status_code == 200
    assert [n["comment_text"] for n in await _notes(client, w, read="true")] == ["on the assigned task"]
    assert len(await _notes(client, w, read="false")) == 3

    # at most 100 at a time, newest first; before= pages through the older ones
    base = dt.datetime(2026, 1, 1)
    async with transaction(sessionmaker) as session:
        await session.execute(insert(Notification), [
            {"id": uuid.uuid4(), "person_id": w.persons["user"], "author_id": w.persons["supervisor"],
             "notification_type": "assignation", "task_id": w.task_id, "read": False, "change": False,
             "created_at": base + dt.timedelta(minutes=i), "updated_at": base + dt.timedelta(minutes=i)}
            for i in range(110)])
    first = await _notes(client, w)
    assert len(first) == 100 and [n["comment_text"] for n in first[:4]] == [n["comment_text"] for n in everything]
    created = [n["created_at"] for n in first]
    assert created == sorted(created, reverse=True)
    older = await _notes(client, w, before=first[-1]["created_at"])
    assert len(older) == 14 and older[0]["created_at"] < first[-1]["created_at"]
    assert older[-1]["created_at"] == "2026-01-01T00:00:00"
    after = await _notes(client, w, after="2026-01-01T01:40:00")
    assert len(after) == 4 + 9  # 01:41 .. 01:49 and the four comments of today
    assert len(await _notes(client, w, before="2026-01-01T00:05:00")) == 5

    for bad in ({"task_type_id": "nope"}, {"after": "yesterday"}):
        r = await client.get("/data/user/notifications", params=bad, headers=w.headers_for("user"))
        assert r.status_code == 400 and r.json()["error"] is True
    assert await _notes(client, w, "user2") == []  # only the caller's


async def _publish(infra, service: str, name: str, data: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    nc = await nats.connect(infra.nats_url)
    event = Event(name=name, data=data)
    await nc.jetstream().publish(event_subject(service, name), event.to_json(), headers={"Nats-Msg-Id": str(event.id)})
    await nc.close()


async def test_context_studios_and_project_roles(client, comment_world, sessionmaker, infra) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    studio_id = str(uuid.uuid4())
    snapshot = {"name": f"Studio {w.tag}", "color": "#123456", "archived": False, "id": studio_id,
                "created_at": "2026-11-23T12:00:00", "updated_at": "2026-11-23T12:00:00", "type": "Studio"}
    await _publish(infra, "auth", "studio:new", {"studio_id": studio_id, "snapshot": snapshot})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        async with transaction(sessionmaker) as session:
            if await session.get(Studio, uuid.UUID(studio_id)) is not None:
                break
        await asyncio.sleep(0.1)

    r = await client.put(f"/data/projects/{w.project_id}/team/{w.persons['user']}", json={"role": "supervisor"},
                         headers=w.headers_for("admin"))
    assert r.status_code == 200, r.text
    context = (await client.get("/data/user/context", headers=w.headers_for("user"))).json()
    assert snapshot in context["studios"]
    assert context["project_roles"] == {str(w.project_id): "supervisor"}
    for who in ("manager", "client", "vendor"):
        other = (await client.get("/data/user/context", headers=w.headers_for(who))).json()
        assert other["project_roles"] == {} and snapshot in other["studios"], who

    await _publish(infra, "auth", "studio:update", {"studio_id": studio_id, "snapshot": {**snapshot, "archived": True}})
    deadline = loop.time() + 10
    while loop.time() < deadline:
        async with transaction(sessionmaker) as session:
            if (await session.scalar(select(Studio.archived).where(Studio.id == uuid.UUID(studio_id)))) is True:
                break
        await asyncio.sleep(0.1)
    context = (await client.get("/data/user/context", headers=w.headers_for("user"))).json()
    assert {**snapshot, "archived": True} in context["studios"]


async def test_isolated_clients_read_only_their_own_client_comments(client, comment_world,
                                                                    sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from slate_production.models import Person, project_person_link

    w = comment_world
    async with transaction(sessionmaker) as session:
        other_client = Person(id=uuid.uuid4(), first_name="Client2", last_name=w.tag, role="client",
                              email=f"client2-{w.tag}@example.com", snapshot={})
        session.add(other_client)
        await session.flush()
        await session.execute(insert(project_person_link).values(project_id=w.project_id, person_id=other_client.id))
    h_other = w.signer.headers(other_client.id, "client")
    mine = await _comment(client, w, w.task_id, "from the first client", who="client")
    r = await client.post(f"/actions/tasks/{w.task_id}/comment", headers=h_other,
                          json={"task_status_id": str(w.statuses["wip"]), "comment": "from the second client"})
    assert r.status_code == 201, r.text
    theirs = r.json()
    staff = await _comment(client, w, w.task_id, "staff only")
    r = await client.put(f"/data/comments/{staff['id']}", json={"for_client": True}, headers=w.headers_for("admin"))
    assert r.status_code == 200, r.text

    async def texts(headers: dict[str, str]) -> list[str]:
        r = await client.get(f"/data/tasks/{w.task_id}/comments", headers=headers)
        assert r.status_code == 200, r.text
        return [c["text"] for c in r.json()]

    assert await texts(w.headers_for("client")) == ["staff only", "from the second client", "from the first client"]
    assert await texts(h_other) == ["staff only", "from the second client", "from the first client"]
    r = await client.put(f"/data/projects/{w.project_id}", json={"is_clients_isolated": True}, headers=w.headers_for("admin"))
    assert r.status_code == 200 and r.json()["is_clients_isolated"] is True
    assert await texts(w.headers_for("client")) == ["staff only", "from the first client"]
    assert await texts(h_other) == ["staff only", "from the second client"]
    # the staff still read every client's comments; artists none, as before
    assert await texts(w.headers_for("supervisor")) == ["staff only", "from the second client", "from the first client"]
    assert await texts(w.headers_for("user")) == ["staff only"]
    assert mine["id"] != theirs["id"]


async def test_context_persons_per_role(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    reduced = ["id", "type", "first_name", "last_name", "full_name", "has_avatar", "active", "departments",
               "studio_id", "role", "desktop_login", "is_bot"]
    for who in ("admin", "manager", "supervisor", "user", "vendor", "client"):
        context = (await client.get("/data/user/context", headers=w.headers_for(who))).json()
        persons = {p["id"]: p for p in context["persons"]}
        user = persons[str(w.persons["user"])]
        if who in ("admin", "manager"):  # every person, in full
            assert str(w.persons["outsider"]) in persons and user["email"] == f"user-{w.tag}@example.com"
            assert user["departments"] == [str(w.department_id)]
        elif who == "client":  # only the teams of their productions, names and roles
            assert str(w.persons["outsider"]) not in persons
            assert set(persons) >= {str(p) for k, p in w.persons.items() if k != "outsider"}
            assert list(user) == ["id", "type", "first_name", "last_name", "full_name", "has_avatar", "active",
                                  "role", "is_bot"]
            assert user["full_name"] == f"User {w.tag}" and user["role"] == "user"
        else:
            assert str(w.persons["outsider"]) in persons
            assert list(user) == reduced and user["departments"] == [str(w.department_id)]
        assert ("user_limit" in context) is (who == "admin"), who
        if who == "admin":
            assert context["user_limit"] == 100


async def test_clients_are_not_told_who_works_on_a_task(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    assignee = str(w.persons["user"])
    for who in ("supervisor", "user", "client"):
        task = (await client.get(f"/data/tasks/{w.task_id}", headers=w.headers_for(who))).json()
        full = (await client.get(f"/data/tasks/{w.task_id}/full", headers=w.headers_for(who))).json()
        asset = (await client.get(f"/data/assets/{w.asset_id}", headers=w.headers_for(who))).json()
        listed = (await client.get("/data/tasks", params={"project_id": str(w.project_id), "relations": "true"},
                                   headers=w.headers_for(who))).json()
        if who == "client":
            assert task["assignees"] == [] and full["assignees"] == [] and full["persons"] == []
            assert "assigner" not in full and full["task_status"]["short_name"] == "todo"
            # the asset's own view keeps its tasks' assignees and planning, as Zou shows a client
            assert [t["assignees"] for t in asset["tasks"]] == [[assignee]] and asset["tasks"][0]["difficulty"] == 3
            assert [t["assignees"] for t in listed] == [[]]
            # nor its planning, as Zou answers clients: no assigner, difficulty, times, last comment date
            entity_tasks = (await client.get(f"/data/assets/{w.asset_id}/tasks", headers=w.headers_for(who))).json()
            for row in (task, full, listed[0], entity_tasks[0]):
                assert {k: row[k] for k in ("assigner_id", "difficulty", "duration", "estimation", "last_comment_date")} \
                    == {"assigner_id": None, "difficulty": None, "duration": 0, "estimation": 0, "last_comment_date": None}
                assert type(row["duration"]) is int and type(row["estimation"]) is int
        else:
            assert task["assignees"] == [assignee] and full["assignees"] == [assignee]
            # the assignees come without their departments; a task nobody assigned has no assigner key (Zou)
            assert [p["id"] for p in full["persons"]] == [assignee] and "departments" not in full["persons"][0]
            assert "assigner" not in full and task["difficulty"] == 3 and task["duration"] == 0.0
            assert [t["assignees"] for t in asset["tasks"]] == [[assignee]]
            assert [t["assignees"] for t in listed] == [[assignee]]


async def test_a_supervisor_with_departments_assigns_within_them(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    """As observed on Zou 1.0.97: a supervisor without departments assigns any task of their
    project; one with departments, only tasks whose type is in one of them, and only to a
    person who shares one of them. Managers are not limited."""
    from slate_production.models import Department, TaskType, department_person_link

    w = comment_world
    sup = w.headers_for("supervisor")
    user, user2 = str(w.persons["user"]), str(w.persons["user2"])  # user is in w's department, user2 in none

    async def assign(task_id: Any, person: str, headers: dict[str, str]) -> int:
        r = await client.put(f"/actions/tasks/{task_id}/assign", json={"person_id": person}, headers=headers)
        return r.status_code

    assert await assign(w.task_id, user2, sup) == 200  # no departments: any task
    async with transaction(sessionmaker) as session:
        other = Department(id=uuid.uuid4(), name=f"Other{w.tag}", color="#00ff00")
        session.add(other)
        await session.flush()
        await session.execute(insert(department_person_link).values(person_id=w.persons["supervisor"],
                                                                    department_id=w.department_id))
        (await session.get(TaskType, w.task_type_id)).department_id = w.department_id
        elsewhere = TaskType(id=uuid.uuid4(), name=f"Light {w.tag}", for_entity="Asset", department_id=other.id)
        session.add(elsewhere)
        await session.flush()
        statuses = w.statuses
        foreign = Task(id=uuid.uuid4(), project_id=w.project_id, entity_id=w.asset_id, task_type_id=elsewhere.id,
                       task_status_id=statuses["todo"])
        session.add(foreign)
    assert await assign(w.task_id, user, sup) == 200  # its department, a person of it
    assert await assign(w.task_id, user2, sup) == 403  # a person outside the supervisor's departments
    assert await assign(foreign.id, user, sup) == 403  # a task type of another department
    r = await client.put(f"/actions/persons/{user}/assign", json={"task_ids": [str(w.task_id), str(foreign.id)]},
                         headers=sup)
    assert r.status_code == 200 and [t["id"] for t in r.json()] == [str(w.task_id)]  # the other one skipped
    assert await assign(foreign.id, user2, w.headers_for("manager")) == 200
