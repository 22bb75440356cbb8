"""The answers of production's calls in the shared Kitsu mix (bench/production_calls.py),
served by cheaper paths, stay what they were, for every role.

The plain entity listings (``/data/projects/<id>/shots``, ``/data/shots``...) are written
by PostgreSQL and kept whole in the listing cache: the same answer as the ORM rows
(``entity_ops.list_entities``, key order and value types included), and never a stale
one after a change. One task (GET and PUT ``/data/tasks/<id>``) reads the caller's role
and the assignees in one query; GET from a plain row, as the task's comments."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from slate_common.db import transaction
from slate_common.security import Principal

from slate_production.domain.entity_ops import list_entities


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


def exact(value: Any) -> Any:
    """A JSON value with its key order and its types (1 and 1.0 and True told apart)."""
    if isinstance(value, dict):
        return [(k, exact(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [exact(v) for v in value]
    return (type(value).__name__, value)


async def _world(client, signer, production_factory, person_factory) -> Any:  # type: ignore[no-untyped-def]
    prod = await production_factory(tvshow=True, shots=3)
    h = signer.headers()
    # values of every kind: floats, nulls, unicode, nested data, a description left empty
    await ok(await client.put(f"/data/shots/{prod.ids['shots'][1]}", json={
        "data": {"fps": 23.976, "frame_in": 1.0, "note": "é ü \"q\" \\ \n", "nested": {"a": [1, None, True]},
                 "none": None}, "description": "", "nb_frames": 0}, headers=h))
    await ok(await client.post(f"/data/projects/{prod.id}/shots", json={
        "name": "sh005 Ünïcode", "sequence_id": prod.ids["sequence"]}, headers=h), 201)
    await ok(await client.post(f"/data/projects/{prod.id}/asset-types/{prod.ids['character']}/assets/new",
                               json={"name": "Villain", "data": {"weight": 2.5}}, headers=h), 201)
    created = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks", json=[], headers=h), 201)
    vendor_task = next(t for t in created if t["entity_id"] == prod.ids["shots"][2])
    await ok(await client.put(f"/actions/tasks/{vendor_task['id']}/assign",
                              json={"person_id": str(prod.people["vendor"])}, headers=h))
    prod.people["admin"] = await person_factory("admin")
    return prod


def _urls(prod: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(url, kind, list_entities arguments) of every plain listing route."""
    pid = uuid.UUID(prod.id)
    seq, ep = uuid.UUID(prod.ids["sequence"]), uuid.UUID(prod.ids["episode"])
    return [
        (f"/data/projects/{prod.id}/shots", "Shot", {"project_id": pid}),
        (f"/data/projects/{prod.id}/assets", "Asset", {"project_id": pid}),
        (f"/data/projects/{prod.id}/sequences", "Sequence", {"project_id": pid}),
        (f"/data/projects/{prod.id}/episodes", "Episode", {"project_id": pid}),
        (f"/data/projects/{prod.id}/asset-types/{prod.ids['character']}/assets", "Asset",
         {"project_id": pid, "filters": {"entity_type_id": prod.ids["character"]}}),
        (f"/data/shots?project_id={prod.id}", "Shot", {"filters": {"project_id": prod.id}, "names": "project,sequence"}),
        (f"/data/shots/all?project_id={prod.id}", "Shot",
         {"filters": {"project_id": prod.id}, "names": "project,sequence"}),
        (f"/data/assets?project_id={prod.id}", "Asset", {"filters": {"project_id": prod.id}}),
        (f"/data/sequences?project_id={prod.id}", "Sequence", {"filters": {"project_id": prod.id}}),
        (f"/data/episodes?project_id={prod.id}", "Episode", {"filters": {"project_id": prod.id}}),
        (f"/data/sequences/{seq}/shots", "Shot", {"parent_id": seq, "names": "project,sequence"}),
        (f"/data/episodes/{ep}/sequences", "Sequence", {"parent_id": ep}),
        (f"/data/episodes/{ep}/shots", "Shot", {"grand_parent_id": ep}),
    ]


async def _check_all(client, signer, sessionmaker, prod: Any, roles: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    for role in roles:
        person = prod.people[role]
        principal = Principal(id=person, role="user" if role == "outsider" else role, jti="test")
        headers = signer.headers(person, principal.role)
        for url, kind, kwargs in _urls(prod):
            r = await client.get(url, headers=headers)
            if r.status_code != 200:  # refused (an outsider, a vendor on a parent): left to the scope tests
                assert r.status_code in (403, 404), (role, url, r.status_code, r.text)
                assert role in ("outsider", "vendor", "client"), (role, url, r.status_code)
                continue
            async with transaction(sessionmaker) as session:
                expected = await list_entities(session, principal=principal, kind=kind, **kwargs)
            assert exact(r.json()) == exact(expected), (role, url)


@pytest.mark.slow
async def test_plain_listings_equal_the_orm_rows_for_every_role(client, signer, sessionmaker, production_factory,
                                                                person_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await _world(client, signer, production_factory, person_factory)
    roles = ("admin", "manager", "supervisor", "user", "client", "vendor", "outsider")
    await _check_all(client, signer, sessionmaker, prod, roles)
    # twice: the second answers come from the cache
    await _check_all(client, signer, sessionmaker, prod, roles)
    h = signer.headers(prod.people["manager"], "manager")
    shots = await ok(await client.get(f"/data/projects/{prod.id}/shots", headers=h))
    assert [s["name"] for s in shots] == ["SH010", "SH020", "SH030", "sh005 Ünïcode"]
    assert shots[1]["data"]["fps"] == 23.976 and isinstance(shots[1]["data"]["frame_in"], float)
    assert shots[1]["description"] == "" and shots[0]["description"] is None and shots[1]["nb_frames"] == 0
    assert {s["type"] for s in shots} == {"Shot"} and shots[0]["created_at"][10] == "T" and len(shots[0]["created_at"]) == 19
    vendor = signer.headers(prod.people["vendor"], "vendor")
    assert [s["id"] for s in await ok(await client.get(f"/data/projects/{prod.id}/shots", headers=vendor))] == [
        prod.ids["shots"][2]]
    assets = await ok(await client.get(f"/data/projects/{prod.id}/assets", headers=h))
    assert [(a["name"], a["type"]) for a in assets] == [("Hero", "Asset"), ("Villain", "Asset")]
    r = await client.get(f"/data/projects/{prod.id}/shots", headers=signer.headers(prod.people["outsider"], "user"))
    assert r.status_code == 403


@pytest.mark.slow
async def test_cached_plain_listings_follow_every_change(client, signer, sessionmaker, production_factory,
                                                         person_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await _world(client, signer, production_factory, person_factory)
    h = signer.headers()
    roles = ("manager", "vendor", "admin")

    async def listed() -> None:
        await _check_all(client, signer, sessionmaker, prod, roles)

    await listed()
    # an entity's field, its parent's name, the project's name: each shows at once
    await ok(await client.put(f"/data/shots/{prod.ids['shots'][0]}", json={"nb_frames": 99}, headers=h))
    await listed()
    await ok(await client.put(f"/data/entities/{prod.ids['sequence']}", json={"name": "SQ99"}, headers=h))
    shots = await ok(await client.get(f"/data/shots?project_id={prod.id}", headers=h))
    assert {s["sequence_name"] for s in shots} == {"SQ99"}
    await listed()
    await ok(await client.put(f"/data/projects/{prod.id}", json={"name": f"Renamed {uuid.uuid4().hex[:6]}"}, headers=h))
    await listed()
    # a new entity, a deleted one
    await ok(await client.post(f"/data/projects/{prod.id}/shots", json={
        "name": "SH040", "sequence_id": prod.ids["sequence"]}, headers=h), 201)
    await listed()
    await ok(await client.delete(f"/data/shots/{prod.ids['shots'][0]}?force=true", headers=h), 204)
    await listed()
    # a vendor assigned to a task on another shot sees it at once; unassigned, no more
    task = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['layout']}/shots/create-tasks", json=[prod.ids["shots"][1]],
        headers=h), 201)
    await ok(await client.put(f"/actions/tasks/{task[0]['id']}/assign",
                              json={"person_id": str(prod.people["vendor"])}, headers=h))
    vendor = signer.headers(prod.people["vendor"], "vendor")
    seen = await ok(await client.get(f"/data/projects/{prod.id}/shots", headers=vendor))
    assert {s["id"] for s in seen} == {prod.ids["shots"][1], prod.ids["shots"][2]}
    await ok(await client.put("/actions/tasks/clear-assignation", json={
        "task_ids": [task[0]["id"]], "person_id": str(prod.people["vendor"])}, headers=h))
    seen = await ok(await client.get(f"/data/projects/{prod.id}/shots", headers=vendor))
    assert {s["id"] for s in seen} == {prod.ids["shots"][2]}
    await listed()


@pytest.mark.slow
async def test_one_task_read_and_update_per_role(client, signer, sessionmaker, production_factory,
                                                 person_factory) -> None:  # type: ignore[no-untyped-def]
    """GET /data/tasks/<id> (its role and assignees read in one query) answers the row and
    its assignees as before, for every role; PUT is for the project's supervisors, project
    roles included."""
    from slate_production.domain.tasks import assignees_of, client_view, serialize_task
    from slate_production.models import Task

    prod = await _world(client, signer, production_factory, person_factory)
    h = signer.headers()
    tasks = await ok(await client.get(f"/data/projects/{prod.id}/tasks", headers=h))
    vendor_task = next(t["id"] for t in tasks if str(prod.people["vendor"]) in t["assignees"])
    other = next(t["id"] for t in tasks if not t["assignees"])
    await ok(await client.put(f"/actions/tasks/{other}/assign", json={"person_id": str(prod.people["user"])}, headers=h))
    await ok(await client.put(f"/actions/tasks/{other}/assign", json={"person_id": str(prod.people["supervisor"])},
                              headers=h))
    expected_status = {"admin": 200, "manager": 200, "supervisor": 200, "user": 200, "client": 200, "vendor": 403,
                       "outsider": 403}
    for task_id in (other, vendor_task):
        async with transaction(sessionmaker) as session:
            task = await session.get(Task, uuid.UUID(task_id))
            assert task is not None
            full = serialize_task(task, assignees=(await assignees_of(session, task_ids=[task.id]))[task.id])
            plain = task.serialize()
        for role, status in expected_status.items():
            person = prod.people[role]
            r = await client.get(f"/data/tasks/{task_id}", headers=signer.headers(
                person, "user" if role == "outsider" else role))
            if role == "vendor" and task_id == vendor_task:
                status = 200
            assert r.status_code == status, (role, r.status_code, r.text)
            if status == 200:
                # a client gets Zou's masked row (no assigner, effort, difficulty...) and no assignees
                want = {**client_view(full), "assignees": []} if role == "client" else full
                assert exact(r.json()) == exact(want), role
                r = await client.get(f"/data/tasks/{task_id}?relations=false", headers=signer.headers(
                    person, "user" if role == "outsider" else role))
                assert exact(r.json()) == exact(client_view(plain) if role == "client" else plain), role
    # PUT: supervisors of the project; an artist made supervisor on the project may, a
    # supervisor made artist there may not
    for role, status in (("manager", 200), ("supervisor", 200), ("user", 403), ("client", 403), ("vendor", 403),
                         ("outsider", 403), ("admin", 200)):
        r = await client.put(f"/data/tasks/{other}", json={"priority": 2}, headers=signer.headers(
            prod.people[role], "user" if role == "outsider" else role))
        assert r.status_code == status, (role, r.status_code, r.text)
    await ok(await client.put(f"/data/projects/{prod.id}/team/{prod.people['user']}", json={"role": "supervisor"},
                              headers=h))
    await ok(await client.put(f"/data/projects/{prod.id}/team/{prod.people['supervisor']}", json={"role": "user"},
                              headers=h))
    user = signer.headers(prod.people["user"], "user")
    changed = await ok(await client.put(f"/data/tasks/{other}", json={"estimation": 960}, headers=user))
    assert changed["estimation"] == 960.0 and "assignees" not in changed
    r = await client.put(f"/data/tasks/{other}", json={"priority": 3},
                         headers=signer.headers(prod.people["supervisor"], "supervisor"))
    assert r.status_code == 403


async def _orm_task_comments(session, principal: Principal, task_id: uuid.UUID) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A task's comments as the listing wrote them from ORM objects before it read plain
    rows (session 9): ``Comment.serialize``, then the replies' authors, the author and
    status in brief, the links, previews and attachments."""
    from sqlalchemy import select

    from slate_production.domain import access
    from slate_production.domain.comment_queries import (
        LISTED_ATTACHMENTS,
        LISTED_PREVIEWS,
        comment_relations,
        person_brief,
    )
    from slate_production.models import Comment, Person, TaskStatus

    stmt = select(Comment, LISTED_PREVIEWS, LISTED_ATTACHMENTS).where(Comment.object_id == task_id).order_by(
        Comment.created_at.desc(), Comment.id)
    visible = access.comment_visibility(principal)
    if visible is not None:
        stmt = stmt.where(visible)
    rows = (await session.execute(stmt)).all()
    comments = [row[0] for row in rows]
    rel = await comment_relations(session, comments=comments)
    persons = {p.id: p for p in await session.scalars(select(Person))}
    statuses = {s.id: s for s in await session.scalars(select(TaskStatus))}
    out = []
    for c, previews, files in rows:
        row = c.serialize()
        row["replies"] = [{**r, "person": person_brief(persons.get(uuid.UUID(r["person_id"])), person_id=r["person_id"])}
                          if r.get("person_id") else r for r in c.replies or []]
        author = persons.get(c.person_id)
        blind = access.client_blind(principal, comment=c, author_role=author.role if author else None)
        if blind:
            row.update(text="", replies=[], checklist=[])
        status = statuses.get(c.task_status_id) if c.task_status_id else None
        row.update(
            person={**person_brief(author, person_id=c.person_id),
                    "full_name": f"{author.first_name or ''} {author.last_name or ''}".strip() if author else ""},
            task_status={"name": status.name, "short_name": status.short_name, "color": status.color,
                         "id": str(status.id)} if status else None,
            acknowledgements=rel["acknowledgements"].get(c.id, []),
            previews=previews,
            mentions=[] if blind else rel["mentions"].get(c.id, []),
            department_mentions=[] if blind else rel["department_mentions"].get(c.id, []),
            attachment_files=[] if blind else files,
        )
        out.append(row)
    return out


async def test_task_comments_from_plain_rows_equal_the_orm_answer(client, comment_world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    """GET /data/tasks/<id>/comments reads plain rows: the answer is the ORM's, key order
    and value types included, for every role (clients: their view), with replies,
    mentions, acknowledgements, a preview, an attachment, a client's comment and one
    marked for clients; refusals unchanged."""
    from slate_production.models import AttachmentFileReplica, PreviewFileReplica

    w = comment_world
    h = w.headers_for

    async def comment(who: str, **body: Any) -> dict[str, Any]:
        return await ok(await client.post(f"/actions/tasks/{w.task_id}/comment", headers=h(who), json={
            "task_status_id": str(w.statuses["wip"]), "comment": "note", **body}), 201)

    first = await comment("supervisor", comment=f"Hello @User {w.tag} and @Dep{w.tag}",
                          checklist=[{"text": "a", "checked": False}], links=["https://x.y/z"])
    await ok(await client.post(f"/data/tasks/{w.task_id}/comments/{first['id']}/reply", headers=h("user"),
                               json={"text": f"thanks @Supervisor {w.tag}"}))
    await ok(await client.post(f"/data/tasks/{w.task_id}/comments/{first['id']}/ack", headers=h("user")))
    await comment("client", comment="from the client é \"q\"")
    marked = await comment("manager", comment="for the client")
    await ok(await client.put(f"/data/comments/{marked['id']}", headers=h("admin"), json={"for_client": True}))
    staff = await comment("manager", comment="internal")
    async with transaction(sessionmaker) as session:
        session.add(PreviewFileReplica(id=uuid.uuid4(), task_id=w.task_id, comment_id=uuid.UUID(staff["id"]),
                                       revision=1, position=1, extension="mp4", status="ready", width=1920,
                                       duration=2.5))
        session.add(AttachmentFileReplica(id=uuid.uuid4(), comment_id=uuid.UUID(first["id"]), name="notes",
                                          extension="txt", size=12))
    for who in CommentWorldRoles:
        role = {"user2": "user", "outsider": "user"}.get(who, who)
        r = await client.get(f"/data/tasks/{w.task_id}/comments", headers=h(who))
        if who in ("outsider", "vendor"):  # out of the team; a vendor not assigned
            assert r.status_code == 403, (who, r.status_code, r.text)
            continue
        assert r.status_code == 200, (who, r.text)
        async with transaction(sessionmaker) as session:
            expected = await _orm_task_comments(session, Principal(id=w.persons[who], role=role, jti="t"), w.task_id)
        assert exact(r.json()) == exact(expected), who
        assert len(expected) == (4 if role in ("admin", "manager", "supervisor") else 3), who
    rows = await ok(await client.get(f"/data/tasks/{w.task_id}/comments", headers=h("admin")))
    assert rows[-1]["replies"][0]["person"]["id"] == str(w.persons["user"])
    assert rows[-1]["acknowledgements"] == [str(w.persons["user"])] and len(rows[-1]["attachment_files"]) == 1
    assert rows[0]["previews"][0]["duration"] == 2.5
    missing = await client.get(f"/data/tasks/{uuid.uuid4()}/comments", headers=h("admin"))
    assert missing.status_code == 404


CommentWorldRoles = ("admin", "manager", "supervisor", "user", "user2", "client", "vendor", "outsider")
