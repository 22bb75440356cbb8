"""Assigning a task puts the assignee in the project's team, as Zou 1.0.97 does.

Observed on the oracle (2026-12-07, throwaway projects, docs/differential.md): after
``PUT /actions/persons/<id>/assign`` or ``PUT /actions/tasks/<id>/assign`` by an admin, a
manager or a supervisor, the assignee is listed by ``GET /data/projects/<id>/team`` and in
the project's ``team`` (an inactive person too; a person assigned tasks of two projects
joins both), with a ``project:update`` event. Creating a task with ``assignees`` does not
change the team; removing an assignation takes nobody out; a refused assignment changes
nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from slate_common.db import transaction
from slate_common.events import Event, OutboxEvent


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


async def team(client, signer, project_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    listed = {p["id"] for p in await ok(await client.get(f"/data/projects/{project_id}/team", headers=signer.headers()))}
    field = set((await ok(await client.get(f"/data/projects/{project_id}", headers=signer.headers())))["team"])
    assert listed == field
    return listed


async def team_updates(sessionmaker, project_id: str) -> list[Event]:  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))).all()
    events = [Event.from_json(r.payload) for r in rows]
    return [e for e in events if str(e.project_id) == project_id and e.name == "project:update"]


async def shot_tasks(client, signer, prod) -> list[str]:  # type: ignore[no-untyped-def]
    made = await ok(await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks",
                                      json=[], headers=signer.headers()), 201)
    return [t["id"] for t in made]


async def test_assigning_a_person_puts_them_in_the_teams_of_the_tasks_projects(  # type: ignore[no-untyped-def]
        client, signer, sessionmaker, production_factory, person_factory) -> None:
    prod, other = await production_factory(shots=2), await production_factory(shots=1)
    tasks, other_tasks = await shot_tasks(client, signer, prod), await shot_tasks(client, signer, other)
    newcomer = str(await person_factory("user"))
    before = len(await team_updates(sessionmaker, prod.id))
    assigned = await ok(await client.put(f"/actions/persons/{newcomer}/assign",
                                         json={"task_ids": [tasks[0], other_tasks[0]]}, headers=signer.headers()))
    assert {t["id"] for t in assigned} == {tasks[0], other_tasks[0]}
    assert all(t["assignees"] == [newcomer] for t in assigned)
    assert newcomer in await team(client, signer, prod.id) and newcomer in await team(client, signer, other.id)
    updates = await team_updates(sessionmaker, prod.id)
    assert len(updates) == before + 1 and newcomer in updates[-1].data["snapshot"]["team"]
    assert newcomer in (await team_updates(sessionmaker, other.id))[-1].data["snapshot"]["team"]

    # already in the team: the team and its events stay as they are
    await ok(await client.put(f"/actions/tasks/{tasks[1]}/assign", json={"person_id": newcomer}, headers=signer.headers()))
    assert len(await team_updates(sessionmaker, prod.id)) == before + 1
    # removing the assignations takes nobody out of the team
    await ok(await client.put("/actions/tasks/clear-assignation", json={"task_ids": tasks}, headers=signer.headers()))
    assert newcomer in await team(client, signer, prod.id)


async def test_managers_and_supervisors_assignments_join_the_team_an_inactive_person_too(  # type: ignore[no-untyped-def]
        client, signer, production_factory, person_factory) -> None:
    prod = await production_factory(shots=3)
    tasks = await shot_tasks(client, signer, prod)
    by_manager, by_supervisor = str(await person_factory("user")), str(await person_factory("user"))
    inactive = str(await person_factory("user", active=False))
    manager = signer.headers(prod.people["manager"], "manager")
    supervisor = signer.headers(prod.people["supervisor"], "supervisor")
    task = await ok(await client.put(f"/actions/tasks/{tasks[0]}/assign", json={"person_id": by_manager}, headers=manager))
    assert task["assignees"] == [by_manager]
    await ok(await client.put(f"/actions/persons/{by_supervisor}/assign", json={"task_ids": [tasks[1]]}, headers=supervisor))
    await ok(await client.put(f"/actions/persons/{inactive}/assign", json={"task_ids": [tasks[2]]}, headers=signer.headers()))
    assert {by_manager, by_supervisor, inactive} <= await team(client, signer, prod.id)


async def test_refused_assignments_and_task_creation_leave_the_team_alone(  # type: ignore[no-untyped-def]
        client, signer, sessionmaker, production_factory, person_factory) -> None:
    prod, other = await production_factory(shots=1), await production_factory(shots=2)
    other_tasks = await shot_tasks(client, signer, other)
    newcomer, outsider = str(await person_factory("user")), prod.people["outsider"]
    before = await team(client, signer, other.id)
    # a manager of another project: 403
    r = await client.put(f"/actions/tasks/{other_tasks[0]}/assign", json={"person_id": newcomer},
                         headers=signer.headers(prod.people["manager"], "manager"))
    assert r.status_code == 403
    # an artist out of the team assigning themself: 200 and nothing assigned (Zou: [])
    skipped = await ok(await client.put(f"/actions/persons/{outsider}/assign", json={"task_ids": [other_tasks[1]]},
                                        headers=signer.headers(outsider, "user")))
    assert skipped == []
    # a task created with assignees: assigned, the team unchanged (as on the oracle)
    made = await ok(await client.post("/data/tasks", headers=signer.headers(), json={
        "project_id": other.id, "entity_id": other.ids["shots"][0], "task_type_id": other.ids["layout"],
        "task_status_id": other.ids["status"]["todo"], "assignees": [newcomer], "name": "main"}), 201)
    assert made["assignees"] == [newcomer]
    assert await team(client, signer, other.id) == before
    assert str(uuid.UUID(newcomer)) not in before and str(outsider) not in before


async def test_a_team_member_may_assign_themself_a_task_of_their_department(  # type: ignore[no-untyped-def]
        client, signer, sessionmaker, production_factory) -> None:
    """Observed on Zou 1.0.97: an artist or a client of the team assigns themself a task whose
    type is of one of their departments (200 on both routes); a type of no department, someone
    else, or out of the team: 403 (``/actions/persons/<self>/assign`` skips the task: [])."""
    from sqlalchemy import insert

    from slate_production.models import Department, TaskType, department_person_link

    prod = await production_factory(shots=3)
    tag = uuid.uuid4().hex[:6]
    artist, client_id, outsider = prod.people["user"], prod.people["client"], prod.people["outsider"]
    async with transaction(sessionmaker) as session:
        department = Department(id=uuid.uuid4(), name=f"Dep {tag}", color="#ff0000")
        theirs = TaskType(id=uuid.uuid4(), name=f"Theirs {tag}", for_entity="Shot", department_id=department.id)
        nobody = TaskType(id=uuid.uuid4(), name=f"Nobody's {tag}", for_entity="Shot")
        session.add_all([department, theirs, nobody])
        await session.flush()
        await session.execute(insert(department_person_link), [
            {"person_id": who, "department_id": department.id} for who in (artist, client_id, outsider)])

    async def task(task_type: uuid.UUID, shot: int) -> str:
        return (await ok(await client.post("/data/tasks", headers=signer.headers(), json={
            "project_id": prod.id, "entity_id": prod.ids["shots"][shot], "task_type_id": str(task_type),
            "task_status_id": prod.ids["status"]["todo"], "name": "main"}), 201))["id"]

    mine, for_client, no_department = await task(theirs.id, 0), await task(theirs.id, 1), await task(nobody.id, 0)
    h_artist = signer.headers(artist, "user")
    done = await ok(await client.put(f"/actions/tasks/{mine}/assign", json={"person_id": str(artist)}, headers=h_artist))
    assert done["assignees"] == [str(artist)] and done["assigner_id"] == str(artist)
    for task_id, person, headers in ((no_department, artist, h_artist), (for_client, client_id, h_artist),
                                     (for_client, outsider, signer.headers(outsider, "user"))):
        r = await client.put(f"/actions/tasks/{task_id}/assign", json={"person_id": str(person)}, headers=headers)
        assert r.status_code == 403, (task_id, person)
    listed = await ok(await client.put(f"/actions/persons/{client_id}/assign", json={"task_ids": [for_client, no_department]},
                                       headers=signer.headers(client_id, "client")))
    assert [t["id"] for t in listed] == [for_client] and listed[0]["assignees"] == [str(client_id)]
