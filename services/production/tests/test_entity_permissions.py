"""Permissions per role and per route family (as observed on the oracle): team scope for
reads (others get 404 or an empty list), managers for entities, team and settings,
supervisors for assignation and task edits, vendors see only their assigned tasks,
admins for studio-wide types."""

from __future__ import annotations

from typing import Any

import pytest

ROLES = ("manager", "supervisor", "user", "client", "vendor")


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


@pytest.fixture
async def prod(client, signer, production_factory):  # type: ignore[no-untyped-def]
    prod = await production_factory()
    h = signer.headers()
    tasks = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks", json=[], headers=h), 201)
    prod.ids["tasks"] = [t["id"] for t in tasks]
    # the vendor works on the first shot only
    await ok(await client.put(f"/actions/tasks/{tasks[0]['id']}/assign",
                              json={"person_id": str(prod.people["vendor"])}, headers=h))
    return prod


def headers(signer, prod, who: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    role = "user" if who == "outsider" else who
    return signer.headers(prod.people[who], role)


async def test_reads_follow_team_scope(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    for who in (*ROLES, "outsider"):
        h = headers(signer, prod, who)
        r_shots = await client.get("/data/shots/with-tasks", params={"project_id": prod.id}, headers=h)
        tasks = await ok(await client.get("/data/tasks", params={"project_id": prod.id}, headers=h))
        r_shot = await client.get(f"/data/shots/{prod.ids['shots'][1]}", headers=h)
        r_project_shots = await client.get(f"/data/projects/{prod.id}/shots", headers=h)
        r_team = await client.get(f"/data/projects/{prod.id}/team", headers=h)
        if who == "outsider":
            assert r_shots.status_code == 403 and tasks == []  # Zou: a project not theirs
            assert r_shot.status_code == 403  # Zou: the shot exists, not for them
            assert r_project_shots.status_code == 403 and r_team.status_code == 403
            continue
        shots = await ok(r_shots)
        if who == "vendor":
            assert [s["id"] for s in shots] == [prod.ids["shots"][0]]  # only where assigned
            assert [t["id"] for t in tasks] == [prod.ids["tasks"][0]]
            assert r_shot.status_code == 403  # no task of theirs on it (Zou's answer)
        else:
            assert [s["id"] for s in shots] == prod.ids["shots"] and len(tasks) == 2
            assert r_shot.status_code == 200 and len(r_team.json()) == 5


async def test_entity_writes_need_a_manager(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    for who in (*ROLES, "outsider"):
        h = headers(signer, prod, who)
        r = await client.post(f"/data/projects/{prod.id}/shots",
                              json={"name": f"new-{who}", "sequence_id": prod.ids["sequence"]}, headers=h)
        put = await client.put(f"/data/shots/{prod.ids['shots'][1]}", json={"description": who}, headers=h)
        expected = 201 if who == "manager" else 403
        assert r.status_code == expected, (who, r.text)
        assert put.status_code == (200 if who == "manager" else 403), (who, put.text)
        asset = await client.post(f"/data/projects/{prod.id}/asset-types/{prod.ids['character']}/assets/new",
                                  json={"name": f"A-{who}"}, headers=h)
        assert asset.status_code == expected


async def test_team_and_settings_need_a_manager(client, signer, prod, person_factory) -> None:  # type: ignore[no-untyped-def]
    newcomer = str(await person_factory("user"))
    for who in (*ROLES, "outsider"):
        h = headers(signer, prod, who)
        team = await client.post(f"/data/projects/{prod.id}/team", json={"person_id": newcomer}, headers=h)
        setting = await client.post(f"/data/projects/{prod.id}/settings/task-types",
                                    json={"task_type_id": prod.ids["layout"]}, headers=h)
        expected = 201 if who == "manager" else 403
        assert (team.status_code, setting.status_code) == (expected, expected), who
    # and project-wide reference data is for admins only
    for who in ROLES:
        r = await client.post("/data/task-types", json={"name": f"TT {who}", "for_entity": "Shot"},
                              headers=headers(signer, prod, who))
        assert r.status_code == 403
    r = await client.post("/data/task-types", json={"name": "TT admin only", "for_entity": "Shot"},
                          headers=signer.headers())
    assert r.status_code == 201 and r.json()["type"] == "TaskType"


async def test_task_changes_need_a_supervisor(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    task_id = prod.ids["tasks"][1]
    artist = str(prod.people["user"])
    for who in (*ROLES, "outsider"):
        h = headers(signer, prod, who)
        assign = await client.put(f"/actions/tasks/{task_id}/assign", json={"person_id": artist}, headers=h)
        put = await client.put(f"/data/tasks/{task_id}", json={"estimation": 1}, headers=h)
        prio = await client.put("/actions/tasks/set-priority", json={"task_ids": [task_id], "priority": 2}, headers=h)
        create = await client.post(
            f"/actions/projects/{prod.id}/task-types/{prod.ids['layout']}/shots/create-tasks", json=[], headers=h)
        if who in ("manager", "supervisor"):
            assert (assign.status_code, put.status_code) == (200, 200), who
            assert [t["priority"] for t in prio.json()] == [2]
        elif who == "outsider":
            assert (assign.status_code, put.status_code) == (403, 403)
            assert prio.json() == []
        else:  # artists, clients: forbidden; vendors do not even see that task
            assert assign.status_code == 403, who
            assert put.status_code == 403, who
            assert prio.status_code == 200 and prio.json() == []  # Zou skips what you may not change
        assert create.status_code == (201 if who == "manager" else 403), who
    r = await client.delete(f"/data/tasks/{task_id}", headers=headers(signer, prod, "supervisor"))
    assert r.status_code == 403
    r = await client.delete(f"/data/tasks/{task_id}", headers=headers(signer, prod, "manager"))
    assert r.status_code == 400  # its assignation notified the artist: Zou wants force=true
    r = await client.delete(f"/data/tasks/{task_id}", params={"force": "true"}, headers=headers(signer, prod, "manager"))
    assert r.status_code == 204


async def test_user_routes_are_about_the_caller(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    h = headers(signer, prod, "vendor")
    mine = await ok(await client.get("/data/user/tasks", headers=h))
    assert [t["id"] for t in mine] == [prod.ids["tasks"][0]]
    seqs = await ok(await client.get(f"/data/user/projects/{prod.id}/sequences", headers=h))
    assert [s["id"] for s in seqs] == [prod.ids["sequence"]]
    shots = await ok(await client.get(f"/data/user/sequences/{prod.ids['sequence']}/shots", headers=h))
    assert [s["id"] for s in shots] == [prod.ids["shots"][0]]
    context = await ok(await client.get("/data/user/context", headers=h))
    assert prod.id in [p["id"] for p in context["projects"]]
    assert {s["short_name"] for s in context["task_status"]} >= {"todo", "wip", "wfa", "done", "retake"}
    assert await ok(await client.get("/data/user/tasks", headers=headers(signer, prod, "user"))) == []
    outsider = await ok(await client.get("/data/user/context", headers=headers(signer, prod, "outsider")))
    assert prod.id not in [p["id"] for p in outsider["projects"]]
    # a person's tasks, as Zou answers them: within the caller's projects (nothing for an
    # outsider), nothing for a client, refused to a vendor
    r = await client.get(f"/data/persons/{prod.people['vendor']}/tasks", headers=headers(signer, prod, "user"))
    assert [t["id"] for t in r.json()] == [prod.ids["tasks"][0]]
    for who in ("outsider", "client"):
        r = await client.get(f"/data/persons/{prod.people['vendor']}/tasks", headers=headers(signer, prod, who))
        assert (r.status_code, r.json()) == (200, []), who
    r = await client.get(f"/data/persons/{prod.people['user']}/tasks", headers=headers(signer, prod, "vendor"))
    assert r.status_code == 403
    r = await client.get(f"/data/persons/{prod.people['vendor']}/tasks", headers=headers(signer, prod, "supervisor"))
    assert [t["id"] for t in r.json()] == [prod.ids["tasks"][0]]


async def test_project_role_overrides_the_studio_role(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    artist = prod.people["user"]
    h_artist = headers(signer, prod, "user")
    task_id = prod.ids["tasks"][1]
    body = {"person_id": str(artist)}
    assert (await client.put(f"/actions/tasks/{task_id}/assign", json=body, headers=h_artist)).status_code == 403
    r = await client.put(f"/data/projects/{prod.id}/team/{artist}", json={"role": "supervisor"},
                         headers=headers(signer, prod, "supervisor"))
    assert r.status_code == 403  # managers set project roles
    r = await client.put(f"/data/projects/{prod.id}/team/{artist}", json={"role": "supervisor"},
                         headers=headers(signer, prod, "manager"))
    assert r.status_code == 200 and r.json() == {"project_id": prod.id, "person_id": str(artist), "role": "supervisor"}
    team = await ok(await client.get(f"/data/projects/{prod.id}/team", headers=signer.headers()))
    assert next(p["project_role"] for p in team if p["id"] == str(artist)) == "supervisor"
    assert (await client.put(f"/actions/tasks/{task_id}/assign", json=body, headers=h_artist)).status_code == 200
    r = await client.put(f"/data/projects/{prod.id}/team/{artist}", json={"role": "director"}, headers=signer.headers())
    assert r.status_code == 400
    r = await client.put(f"/data/projects/{prod.id}/team/{artist}", json={"role": None}, headers=signer.headers())
    assert r.status_code == 200 and r.json()["role"] is None
    assert (await client.put(f"/actions/tasks/{task_id}/assign", json=body, headers=h_artist)).status_code == 403
    r = await client.put(f"/data/projects/{prod.id}/team/{prod.people['outsider']}", json={"role": "user"},
                         headers=signer.headers())
    assert r.status_code == 404  # not in the team


async def test_user_entity_task_routes(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    h = headers(signer, prod, "vendor")
    shot_tasks = await ok(await client.get(f"/data/user/shots/{prod.ids['shots'][0]}/tasks", headers=h))
    assert [t["id"] for t in shot_tasks] == [prod.ids["tasks"][0]] and "assignees" not in shot_tasks[0]
    types = await ok(await client.get(f"/data/user/shots/{prod.ids['shots'][0]}/task-types", headers=h))
    assert [t["id"] for t in types] == [prod.ids["anim"]]
    # the sequence's own tasks (none): its shots' tasks are not the sequence's
    assert await ok(await client.get(f"/data/user/sequences/{prod.ids['sequence']}/tasks", headers=h)) == []
    assert await ok(await client.get(f"/data/user/sequences/{prod.ids['sequence']}/task-types", headers=h)) == []
    r = await client.get(f"/data/user/shots/{prod.ids['shots'][0]}/tasks", headers=headers(signer, prod, "outsider"))
    assert r.status_code == 200 and r.json() == []  # their own tasks on it: none (Zou)
    assert await ok(await client.get(f"/data/user/shots/{prod.ids['shots'][0]}/tasks",
                                     headers=headers(signer, prod, "user"))) == []
