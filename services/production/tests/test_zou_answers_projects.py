"""Project, settings and entity routes answering as Zou 1.0.97 does, per role (issue 13
part 2, tools/zoudiff): each test holds what the oracle's recorded answers show for the
same calls (tools/zoudiff/fixtures/zou-1.0.97.json)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

NOWHERE = "00000000-0000-4000-8000-000000000000"


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


def headers(signer, prod, who: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if who == "admin":
        return signer.headers()
    return signer.headers(prod.people[who], "user" if who == "outsider" else who)


@pytest.fixture
async def prod(client, signer, production_factory):  # type: ignore[no-untyped-def]
    """A tv show (an episode, a sequence, two shots, an asset) with an animation task on
    each shot, the first assigned to the artist (``user``) and the second to the vendor."""
    prod = await production_factory(tvshow=True)
    h = signer.headers()
    tasks = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks", json=[], headers=h), 201)
    prod.ids["tasks"] = [t["id"] for t in sorted(tasks, key=lambda t: prod.ids["shots"].index(t["entity_id"]))]
    for task_id, who in zip(prod.ids["tasks"], ("user", "vendor"), strict=True):
        await ok(await client.put(f"/actions/tasks/{task_id}/assign", json={"person_id": str(prod.people[who])},
                                  headers=h))
    return prod


async def test_all_projects_extras_are_the_admins(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """/data/projects/all: the status name and descriptors on admins' rows only."""
    admin = next(p for p in await ok(await client.get("/data/projects/all", headers=signer.headers()))
                 if p["id"] == prod.id)
    assert admin["project_status_name"] == "Open" and admin["descriptors"] == []
    for who in ("manager", "user", "client", "vendor"):
        rows = await ok(await client.get("/data/projects/all", headers=headers(signer, prod, who)))
        assert [p["id"] for p in rows] == [prod.id], who
        assert "project_status_name" not in rows[0] and "descriptors" not in rows[0], who
        assert rows[0]["project_status_id"] == admin["project_status_id"]


async def test_reorders_are_admins_and_checked_before_the_body(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """Zou answers 403 to every other role (a manager of the project too) before reading
    the body; an admin's missing list is a 400 with ``"data": null``."""
    routes = (f"/actions/projects/{prod.id}/task-type-links/reorder",
              f"/actions/projects/{prod.id}/task-status-links/reorder", "/actions/task-types/reorder")
    for path in routes:
        for who in ("manager", "supervisor", "user", "client", "vendor", "outsider"):
            r = await client.post(path, json={}, headers=headers(signer, prod, who))
            assert r.status_code == 403, (path, who, r.text)
            r = await client.post(path, json={"task_type_ids": [prod.ids["anim"]],
                                              "task_status_ids": [prod.ids["status"]["wip"]]},
                                  headers=headers(signer, prod, who))
            assert r.status_code == 403, (path, who, r.text)
        r = await client.post(path, json={}, headers=signer.headers())
        assert r.status_code == 400 and r.json()["error"] is True and r.json()["data"] is None, (path, r.text)
    wip, done = prod.ids["status"]["wip"], prod.ids["status"]["done"]
    links = await ok(await client.post(routes[1], json={"task_status_ids": [done, wip]}, headers=signer.headers()))
    assert [(x["task_status_id"], x["priority"]) for x in links] == [(done, 1), (wip, 2)]


async def test_team_role_without_a_role_restores_the_studio_role(client, signer, prod, production_factory) -> None:  # type: ignore[no-untyped-def]
    artist = str(prod.people["user"])
    path = f"/data/projects/{prod.id}/team/{artist}"
    await ok(await client.put(path, json={"role": "supervisor"}, headers=signer.headers()))
    answer = await ok(await client.put(path, json={}, headers=headers(signer, prod, "manager")))
    assert answer == {"project_id": prod.id, "person_id": artist, "role": None}
    for who in ("supervisor", "user", "client", "vendor", "outsider"):  # refused before the body is read
        assert (await client.put(path, json={}, headers=headers(signer, prod, who))).status_code == 403, who
    other = await production_factory(shots=0)
    r = await client.put(f"/data/projects/{other.id}/team/{other.people['user']}", json={},
                         headers=headers(signer, prod, "manager"))
    assert r.status_code == 403  # a manager of another project
    r = await client.put(f"/data/projects/{other.id}/team/{other.people['user']}", json={}, headers=signer.headers())
    assert r.status_code == 200 and r.json()["role"] is None


async def test_team_fields_per_role(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """Admins and managers read the team whole; the others the user context's fields
    with empty departments; clients names and roles."""
    full = await ok(await client.get(f"/data/projects/{prod.id}/team", headers=headers(signer, prod, "manager")))
    assert {"email", "created_at", "departments", "project_role"} <= set(full[0])
    context_keys = {"id", "type", "first_name", "last_name", "full_name", "has_avatar", "active", "departments",
                    "studio_id", "role", "desktop_login", "is_bot", "project_role"}
    for who in ("supervisor", "user", "vendor"):
        rows = await ok(await client.get(f"/data/projects/{prod.id}/team", headers=headers(signer, prod, who)))
        assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in full), who
        assert all(set(r) == context_keys and r["departments"] == [] for r in rows), (who, rows[0])
    rows = await ok(await client.get(f"/data/projects/{prod.id}/team", headers=headers(signer, prod, "client")))
    assert {frozenset(r) for r in rows} == {frozenset({"id", "type", "first_name", "last_name", "full_name",
                                                      "has_avatar", "active", "role", "is_bot", "project_role"})}


async def test_a_project_not_ones_own(client, signer, prod, production_factory) -> None:  # type: ignore[no-untyped-def]
    """Named, a project out of the caller's teams is 403 (read, change); deleting an open
    one is Zou's 400 for everyone, a closed one an admin's."""
    other = await production_factory(shots=0)
    for who in ("manager", "user", "client", "vendor"):
        h = headers(signer, prod, who)
        assert (await client.get(f"/data/projects/{other.id}", headers=h)).status_code == 403, who
        assert (await client.get(f"/data/projects/{NOWHERE}", headers=h)).status_code == 404, who
        assert (await client.put(f"/data/projects/{other.id}", json={"description": "x"}, headers=h)).status_code == 403
        r = await client.delete(f"/data/projects/{other.id}", headers=h)
        assert r.status_code == 400 and r.json()["message"] == "Only closed projects can be deleted", who
    one = await ok(await client.get(f"/data/projects/{prod.id}", headers=headers(signer, prod, "user")))
    assert one["id"] == prod.id
    assert (await client.put(f"/data/projects/{prod.id}", json={"description": "x"},
                             headers=headers(signer, prod, "user"))).status_code == 403


async def test_task_types_short_name_is_null_unless_given(client, signer) -> None:  # type: ignore[no-untyped-def]
    h = signer.headers()
    made = await ok(await client.post("/data/task-types", json={"name": f"TT {uuid.uuid4().hex[:6]}",
                                                               "for_entity": "Shot"}, headers=h), 201)
    assert made["short_name"] is None
    one = await ok(await client.get(f"/data/task-types/{made['id']}", headers=signer.headers(role="user")))
    assert one["short_name"] is None
    changed = await ok(await client.put(f"/data/task-types/{made['id']}", json={"color": "#123456"}, headers=h))
    assert changed["short_name"] is None
    named = await ok(await client.post("/data/task-types", json={"name": f"TT {uuid.uuid4().hex[:6]}",
                                                                "short_name": "tt", "for_entity": "Shot"}, headers=h), 201)
    assert named["short_name"] == "tt"
    # the reference data a fresh install has keeps Zou's init-data value, ""
    seeded = await ok(await client.get("/data/task-types", params={"name": "Animation"}, headers=h))
    assert {t["short_name"] for t in seeded} == {""}


async def test_episode_stats_sum_every_task_type(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    stats = await ok(await client.get(f"/data/projects/{prod.id}/episodes/stats", headers=signer.headers()))
    todo = prod.ids["status"]["todo"]
    episode = prod.ids["episode"]
    assert set(stats) == {episode, "all"}
    for key in (episode, "all"):
        assert set(stats[key]) == {prod.ids["anim"], "all"}
        cell = stats[key]["all"][todo]
        assert (cell["count"], cell["frames"]) == (2, 96)
        assert stats[key]["all"] == stats[key][prod.ids["anim"]]


async def test_sequence_and_episode_task_types_are_their_shots(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    for path in (f"/data/sequences/{prod.ids['sequence']}/task-types", f"/data/episodes/{prod.ids['episode']}/task-types"):
        rows = await ok(await client.get(path, headers=headers(signer, prod, "user")))
        assert [t["id"] for t in rows] == [prod.ids["anim"]], path
        assert (await client.get(path, headers=headers(signer, prod, "vendor"))).status_code == 403


async def test_entity_task_type_tasks_as_zou_lists_them(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """The rows alone, to whoever sees the shot (the vendor too, whose task it is not);
    clients without assigner, effort, difficulty and last comment date."""
    shot, task = prod.ids["shots"][0], prod.ids["tasks"][0]
    path = f"/data/entities/{shot}/task-types/{prod.ids['anim']}/tasks"
    admin = await ok(await client.get(path, headers=signer.headers()))
    assert [t["id"] for t in admin] == [task] and "assignees" not in admin[0]
    assert admin[0]["assigner_id"] is not None and admin[0]["duration"] == 0.0
    vendor = await ok(await client.get(path, headers=headers(signer, prod, "vendor")))
    assert [t["id"] for t in vendor] == [task]
    client_rows = await ok(await client.get(path, headers=headers(signer, prod, "client")))
    row = client_rows[0]
    assert (row["assigner_id"], row["difficulty"], row["duration"], row["estimation"], row["last_comment_date"]) == (
        None, None, 0, 0, None)
    assert isinstance(row["duration"], int) and row["priority"] == admin[0]["priority"]
    shot_tasks = await ok(await client.get(f"/data/sequences/{prod.ids['sequence']}/shot-tasks",
                                           headers=headers(signer, prod, "client")))
    assert {t["id"] for t in shot_tasks} == set(prod.ids["tasks"])
    assert {(t["assigner_id"], t["difficulty"], t["duration"]) for t in shot_tasks} == {(None, None, 0)}


async def test_clients_views_of_assets_and_shots(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """Zou's single shot tells a client who works on its tasks; its asset listing with
    tasks hides that and the effort."""
    h = signer.headers()
    asset_task = (await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['modeling']}/assets/create-tasks", json=[], headers=h),
        201))[0]
    await ok(await client.put(f"/actions/tasks/{asset_task['id']}/assign",
                              json={"person_id": str(prod.people["user"])}, headers=h))
    client_h = headers(signer, prod, "client")
    shot = await ok(await client.get(f"/data/shots/{prod.ids['shots'][0]}", headers=client_h))
    assert shot["tasks"][0]["assignees"] == [str(prod.people["user"])]
    assert isinstance(shot["tasks"][0]["duration"], float)
    listed = await ok(await client.get("/data/assets/with-tasks", params={"project_id": prod.id}, headers=client_h))
    task = next(a for a in listed if a["id"] == prod.ids["asset"])["tasks"][0]
    assert (task["assignees"], task["difficulty"], task["duration"], task["estimation"]) == ([], None, 0, 0)
    admin_listed = await ok(await client.get("/data/assets/with-tasks", params={"project_id": prod.id}, headers=h))
    task = next(a for a in admin_listed if a["id"] == prod.ids["asset"])["tasks"][0]
    assert task["assignees"] == [str(prod.people["user"])] and task["duration"] == 0.0


async def test_empty_batches_answer_an_empty_list(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """Zou answers ``[]`` to an asset share and a frame setting that name nothing, to
    the roles it lets in."""
    for who in ("admin", "manager", "user", "client", "vendor", "outsider"):
        assert await ok(await client.post("/actions/assets/share", json={}, headers=headers(signer, prod, who))) == []
    path = f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/set-shot-nb-frames"
    for who in ("admin", "manager"):
        assert await ok(await client.post(path, json={}, headers=headers(signer, prod, who))) == []
    for who in ("supervisor", "user", "client", "vendor", "outsider"):
        assert (await client.post(path, json={}, headers=headers(signer, prod, who))).status_code == 403
    r = await client.post("/actions/assets/share", json={"asset_ids": "x"}, headers=signer.headers())
    assert r.status_code == 400


async def test_a_parent_of_another_project_is_not_found(client, signer, prod, production_factory) -> None:  # type: ignore[no-untyped-def]
    other = await production_factory(shots=0)
    h = signer.headers()
    r = await client.post(f"/data/projects/{other.id}/shots", json={"name": "SH999", "sequence_id": prod.ids["sequence"]},
                          headers=h)
    assert r.status_code == 404 and r.json()["error"] is True
    r = await client.post(f"/data/projects/{other.id}/sequences", json={"name": "SQ99", "episode_id": prod.ids["episode"]},
                          headers=h)
    assert r.status_code == 404


async def test_batch_entity_deletion_skips_what_is_not_the_projects(client, signer, prod, production_factory) -> None:  # type: ignore[no-untyped-def]
    """Zou skips the ids of another project, of nothing, of an episode or a sequence, and
    answers the ids it deleted (or canceled: a shot with tasks)."""
    other = await production_factory(shots=1)
    h = signer.headers()
    r = await client.post(f"/actions/projects/{other.id}/delete-entities",
                          json=[prod.ids["shots"][0], NOWHERE, other.ids["sequence"]], headers=h)
    assert await ok(r) == []
    assert (await ok(await client.get(f"/data/shots/{prod.ids['shots'][0]}", headers=h)))["canceled"] is False
    assert (await client.get(f"/data/sequences/{other.ids['sequence']}", headers=h)).status_code == 200
    done = await ok(await client.post(f"/actions/projects/{other.id}/delete-entities", json=[other.ids["shots"][0]],
                                      headers=h))
    assert done == [other.ids["shots"][0]]
    assert (await client.get(f"/data/shots/{other.ids['shots'][0]}", headers=h)).status_code == 404
    r = await client.post(f"/actions/projects/{prod.id}/delete-entities", json=[prod.ids["shots"][0]],
                          headers=headers(signer, prod, "supervisor"))
    assert r.status_code == 403


async def test_link_routes_default_priority_and_batch_task_deletion(client, signer, prod, production_factory) -> None:  # type: ignore[no-untyped-def]
    """POST /data/task-type-links and /data/task-status-links without a priority give 1
    (observed on the oracle); delete-tasks answers the ids given and deletes only the
    project's."""
    h = signer.headers()
    link = await ok(await client.post("/data/task-type-links", json={"project_id": prod.id,
                                                                    "task_type_id": prod.ids["layout"]}, headers=h), 201)
    assert link["priority"] == 1
    link = await ok(await client.post("/data/task-status-links", json={
        "project_id": prod.id, "task_status_id": prod.ids["status"]["retake"]}, headers=h), 201)
    assert (link["priority"], link["roles_for_board"]) == (1, [])
    other = await production_factory(shots=0)
    task = prod.ids["tasks"][1]
    answer = await ok(await client.post(f"/actions/projects/{other.id}/delete-tasks", json=[task], headers=h))
    assert answer == [task]
    assert (await client.get(f"/data/tasks/{task}", headers=h)).status_code == 200  # another project's: kept
    r = await client.delete(f"/data/tasks/{task}", params={"force": "true"}, headers=h)
    assert r.status_code == 204


async def test_studio_wide_asset_listing_names_no_casting_episode(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """Zou fills casting_episode_ids in a project's asset listing only."""
    h = signer.headers()
    await ok(await client.put(f"/data/projects/{prod.id}/entities/{prod.ids['shots'][0]}/casting",
                              json=[{"asset_id": prod.ids["asset"], "nb_occurences": 1}], headers=h))
    in_project = await ok(await client.get("/data/assets/with-tasks", params={"project_id": prod.id}, headers=h))
    assert next(a for a in in_project if a["id"] == prod.ids["asset"])["casting_episode_ids"] == [prod.ids["episode"]]
    studio = await ok(await client.get("/data/assets/with-tasks", headers=h))
    assert next(a for a in studio if a["id"] == prod.ids["asset"])["casting_episode_ids"] == []
