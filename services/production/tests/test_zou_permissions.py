"""Permissions where Slate once allowed more than Zou 1.0.97 (issue 13 part 2, the
`allows-more` of tools/zoudiff): each test holds, per role, the statuses observed on the
oracle for the same calls."""

from __future__ import annotations

from typing import Any

import pytest

ROLES = ("manager", "supervisor", "user", "client", "vendor", "outsider")
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
    """A tv show (an episode, a sequence, two shots, an asset) whose first shot has a
    task assigned to the vendor."""
    prod = await production_factory(tvshow=True)
    h = signer.headers()
    tasks = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks", json=[], headers=h), 201)
    prod.ids["tasks"] = [t["id"] for t in tasks]
    await ok(await client.put(f"/actions/tasks/{tasks[0]['id']}/assign",
                              json={"person_id": str(prod.people["vendor"])}, headers=h))
    return prod


STUDIO_LISTINGS = ("/data/shots", "/data/shots/all", "/data/shots/with-tasks", "/data/sequences",
                   "/data/sequences/with-tasks", "/data/episodes", "/data/episodes/with-tasks")


async def test_studio_listings_need_a_project_of_ones_own(client, signer, prod, production_factory) -> None:  # type: ignore[no-untyped-def]
    """Zou lists every project's shots, sequences and episodes to admins only: others name
    a project of their team (or the shots' sequence, the sequences' episode)."""
    other = await production_factory()
    for path in STUDIO_LISTINGS:
        assert (await client.get(path, headers=headers(signer, prod, "admin"))).status_code == 200, path
        for who in ROLES:
            h = headers(signer, prod, who)
            assert (await client.get(path, headers=h)).status_code == 403, (path, who)
            in_team = await client.get(path, params={"project_id": prod.id}, headers=h)
            assert in_team.status_code == (403 if who == "outsider" else 200), (path, who, in_team.text)
            foreign = await client.get(path, params={"project_id": other.id}, headers=h)
            assert foreign.status_code == 403, (path, who)
            unknown = await client.get(path, params={"project_id": NOWHERE}, headers=h)
            assert unknown.status_code == 404, (path, who)
    manager = headers(signer, prod, "manager")
    shots = await ok(await client.get("/data/shots", params={"sequence_id": prod.ids["sequence"]}, headers=manager))
    assert sorted(s["id"] for s in shots) == sorted(prod.ids["shots"])
    sequences = await ok(await client.get("/data/sequences", params={"episode_id": prod.ids["episode"]},
                                          headers=manager))
    assert [s["id"] for s in sequences] == [prod.ids["sequence"]]
    # a filter on the parent is not a project for the with-tasks views
    r = await client.get("/data/shots/with-tasks", params={"sequence_id": prod.ids["sequence"]}, headers=manager)
    assert r.status_code == 403
    # a parent of the wrong kind names nothing
    r = await client.get("/data/shots", params={"sequence_id": prod.ids["shots"][0]}, headers=manager)
    assert r.status_code == 404
    vendor = await ok(await client.get("/data/shots", params={"project_id": prod.id},
                                       headers=headers(signer, prod, "vendor")))
    assert [s["id"] for s in vendor] == [prod.ids["shots"][0]]


async def test_asset_listings_refuse_a_project_not_ones_own(client, signer, prod, production_factory) -> None:  # type: ignore[no-untyped-def]
    other = await production_factory()
    for path in ("/data/assets", "/data/assets/all", "/data/assets/with-tasks"):
        for who in ROLES:
            h = headers(signer, prod, who)
            listed = await ok(await client.get(path, headers=h))
            assert [a["id"] for a in listed] == ([] if who in ("outsider", "vendor") else [prod.ids["asset"]])
            assert (await client.get(path, params={"project_id": other.id}, headers=h)).status_code == 403
            assert (await client.get(path, params={"project_id": NOWHERE}, headers=h)).status_code == 404
        admin = await ok(await client.get(path, params={"project_id": NOWHERE}, headers=headers(signer, prod, "admin")))
        assert admin == []


async def test_vendors_read_only_the_entities_they_work_on(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """A vendor reads a shot (its tasks, task types, versions) only where a task of theirs
    is; episodes and sequences not at all, except the lists Zou leaves open to them."""
    mine, other = prod.ids["shots"]
    episode, sequence, asset = prod.ids["episode"], prod.ids["sequence"], prod.ids["asset"]
    refused = [f"/data/shots/{other}", f"/data/shots/{other}/tasks", f"/data/shots/{other}/task-types",
               f"/data/shots/{other}/versions", f"/data/entities/{other}",
               f"/data/assets/{asset}", f"/data/assets/{asset}/tasks", f"/data/assets/{asset}/task-types",
               f"/data/episodes/{episode}", f"/data/episodes/{episode}/tasks", f"/data/episodes/{episode}/task-types",
               f"/data/episodes/{episode}/shots", f"/data/episodes/{episode}/shot-tasks",
               f"/data/episodes/{episode}/asset-tasks",
               f"/data/sequences/{sequence}", f"/data/sequences/{sequence}/tasks",
               f"/data/sequences/{sequence}/task-types", f"/data/sequences/{sequence}/shot-tasks"]
    allowed = [f"/data/shots/{mine}", f"/data/shots/{mine}/tasks", f"/data/shots/{mine}/task-types",
               f"/data/shots/{mine}/versions", f"/data/entities/{mine}",
               f"/data/episodes/{episode}/sequences", f"/data/sequences/{sequence}/shots"]
    for who in ("vendor", "user", "client", "manager", "outsider"):
        h = headers(signer, prod, who)
        for path in refused + allowed:
            expected = 403 if who == "outsider" or (who == "vendor" and path in refused) else 200
            r = await client.get(path, headers=h)
            assert r.status_code == expected, (who, path, r.status_code, r.text)
    vendor = headers(signer, prod, "vendor")
    tasks = await ok(await client.get(f"/data/shots/{mine}/tasks", headers=vendor))
    assert [t["id"] for t in tasks] == [prod.ids["tasks"][0]]
    shots = await ok(await client.get(f"/data/sequences/{sequence}/shots", headers=vendor))
    assert [s["id"] for s in shots] == [mine]
    # an id that names nothing stays a 404, for everyone
    for who in ("vendor", "outsider", "admin"):
        r = await client.get(f"/data/shots/{NOWHERE}/tasks", headers=headers(signer, prod, who))
        assert r.status_code == 404, who


async def test_project_comments_notifications_and_subscriptions(client, signer, comment_world) -> None:  # type: ignore[no-untyped-def]
    """A project's comments are read by its team but clients and vendors; its
    notifications and subscriptions by admins only (Zou refuses its managers too)."""
    w = comment_world
    r = await client.post(f"/actions/tasks/{w.task_id}/comment", headers=w.h("user"),
                          json={"task_status_id": str(w.statuses["todo"]), "comment": "hello"})
    assert r.status_code == 201, r.text
    await client.post(f"/actions/user/tasks/{w.task_id}/subscribe", headers=w.h("supervisor"))
    expected = {"admin": (200, 200), "manager": (200, 403), "supervisor": (200, 403), "user": (200, 403),
                "client": (403, 403), "vendor": (403, 403), "outsider": (403, 403)}
    for who, (comments, admin_only) in expected.items():
        h = w.h(who)
        r = await client.get(f"/data/projects/{w.project_id}/comments", headers=h)
        assert r.status_code == comments, (who, r.text)
        if comments == 200:
            assert [c["text"] for c in r.json()] == ["hello"]
        for path in ("notifications", "subscriptions"):
            r = await client.get(f"/data/projects/{w.project_id}/{path}", headers=h)
            assert r.status_code == admin_only, (who, path)
    subs = await ok(await client.get(f"/data/projects/{w.project_id}/subscriptions", headers=w.h("admin")))
    assert [s["person_id"] for s in subs] == [str(w.persons["supervisor"])]


async def test_task_deletions_zou_refuses(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """Deleting a type's tasks, or a list of tasks, is for admins; a task others refer to
    (its assignation notified someone) goes only with force=true, by managers."""
    for who in ("manager", "supervisor", "user", "client", "vendor"):
        h = headers(signer, prod, who)
        r = await client.delete(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/delete-tasks", headers=h)
        assert r.status_code == 403, who
        r = await client.post(f"/actions/projects/{prod.id}/delete-tasks", json=[prod.ids["tasks"][1]], headers=h)
        assert r.status_code == 403, who
    assigned = prod.ids["tasks"][0]  # assigned to the vendor: a notification refers to it
    manager = headers(signer, prod, "manager")
    assert (await client.delete(f"/data/tasks/{assigned}", headers=headers(signer, prod, "supervisor"))).status_code == 403
    r = await client.delete(f"/data/tasks/{assigned}", headers=manager)
    assert r.status_code == 400 and set(r.json()) == {"message"}
    assert (await client.get(f"/data/tasks/{assigned}", headers=manager)).status_code == 200
    assert (await client.delete(f"/data/tasks/{assigned}", params={"force": "true"}, headers=manager)).status_code == 204
    assert (await client.get(f"/data/tasks/{assigned}", headers=manager)).status_code == 404
    free = prod.ids["tasks"][1]  # nobody refers to it
    assert (await client.delete(f"/data/tasks/{free}", headers=manager)).status_code == 204
    h = signer.headers()
    tasks = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks", json=[], headers=h), 201)
    assert len(tasks) == 2
    r = await client.delete(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/delete-tasks", headers=h)
    assert r.status_code == 204
    assert await ok(await client.get(f"/data/shots/{prod.ids['shots'][0]}/tasks", headers=h)) == []


async def test_studio_types_in_use_are_not_deleted(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """A task type a project uses goes only with force=true; a task status or an asset
    type a project uses does not go at all (Zou: 400)."""
    h = signer.headers()
    task_type = await ok(await client.post("/data/task-types", json={"name": f"TT {prod.id[:8]}", "for_entity": "Shot"},
                                           headers=h), 201)
    status = await ok(await client.post("/data/task-status", json={"name": f"TS {prod.id[:8]}", "short_name": prod.id[:6],
                                                                   "color": "#000000"}, headers=h), 201)
    asset_type = await ok(await client.post("/data/entity-types", json={"name": f"AT {prod.id[:8]}"}, headers=h), 201)
    for path, body in ((f"/data/projects/{prod.id}/settings/task-types", {"task_type_id": task_type["id"]}),
                       (f"/data/projects/{prod.id}/settings/task-status", {"task_status_id": status["id"]}),
                       (f"/data/projects/{prod.id}/settings/asset-types", {"asset_type_id": asset_type["id"]})):
        await ok(await client.post(path, json=body, headers=h), 201)
    r = await client.delete(f"/data/task-types/{task_type['id']}", headers=h)
    assert r.status_code == 400 and r.json()["error"] is True
    for path in (f"/data/task-status/{status['id']}", f"/data/entity-types/{asset_type['id']}"):
        for params in ({}, {"force": "true"}):
            r = await client.delete(path, params=params, headers=h)
            assert r.status_code == 400 and set(r.json()) == {"message"}, path
            assert (await client.get(path, headers=h)).status_code == 200
    assert (await client.delete(f"/data/task-types/{task_type['id']}", params={"force": "true"}, headers=h)).status_code == 204
    project = await ok(await client.get(f"/data/projects/{prod.id}", headers=h))
    assert task_type["id"] not in project["task_types"]
    for path in (f"/data/projects/{prod.id}/settings/task-status/{status['id']}",
                 f"/data/projects/{prod.id}/settings/asset-types/{asset_type['id']}"):
        assert (await client.delete(path, headers=h)).status_code == 204
    for path in (f"/data/task-status/{status['id']}", f"/data/entity-types/{asset_type['id']}"):
        assert (await client.delete(path, headers=h)).status_code == 204, path


async def test_replies_are_deleted_by_their_author_or_an_admin(client, comment_world) -> None:  # type: ignore[no-untyped-def]
    w = comment_world
    comment = await ok(await client.post(f"/actions/tasks/{w.task_id}/comment", headers=w.h("user"),
                                         json={"task_status_id": str(w.statuses["todo"]), "comment": "c"}), 201)
    base = f"/data/tasks/{w.task_id}/comments/{comment['id']}/reply"
    by_user = await ok(await client.post(base, headers=w.h("user"), json={"text": "mine"}))
    by_admin = await ok(await client.post(base, headers=w.h("admin"), json={"text": "admin's"}))
    for who in ("manager", "supervisor", "user"):  # the admin's reply: not theirs
        assert (await client.delete(f"{base}/{by_admin['id']}", headers=w.h(who))).status_code == 403, who
    for who in ("manager", "supervisor"):  # the artist's
        assert (await client.delete(f"{base}/{by_user['id']}", headers=w.h(who))).status_code == 403, who
    assert (await client.delete(f"{base}/{by_user['id']}", headers=w.h("user"))).status_code == 200
    left = await ok(await client.delete(f"{base}/{by_admin['id']}", headers=w.h("admin")))
    assert left["replies"] == []


async def test_sharing_assets_and_tasks_by_entity_type_name(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    """Sharing a type's assets is for the project's managers, a whole project's for admins;
    tasks for "an entity type" take its name, any case ("Asset" and "shots" name none)."""
    type_share = f"/actions/projects/{prod.id}/asset-types/{prod.ids['character']}/assets/share"
    for who in ("supervisor", "user", "client", "vendor"):
        r = await client.post(type_share, json={}, headers=headers(signer, prod, who))
        assert r.status_code == 403, who
    shared = await ok(await client.post(type_share, json={}, headers=headers(signer, prod, "manager")))
    assert [a["id"] for a in shared] == [prod.ids["asset"]] and shared[0]["is_shared"] is True
    project_share = f"/actions/projects/{prod.id}/assets/share"
    assert (await client.post(project_share, json={}, headers=headers(signer, prod, "manager"))).status_code == 403
    assert (await client.post(project_share, json={"is_shared": False}, headers=signer.headers())).status_code == 200
    manager = headers(signer, prod, "manager")
    base = f"/actions/projects/{prod.id}/task-types/{prod.ids['layout']}/create-tasks"
    for name in ("shots", "Asset", "assets"):
        assert (await client.post(f"{base}/{name}", json={}, headers=manager)).status_code == 404, name
    assert (await client.post(f"{base}/Shot", json={}, headers=headers(signer, prod, "supervisor"))).status_code == 403
    created = await ok(await client.post(f"{base}/shot", json={}, headers=manager), 201)
    assert sorted(t["entity_id"] for t in created) == sorted(prod.ids["shots"])


async def test_project_task_status_settings_need_is_client_allowed(client, signer, prod) -> None:  # type: ignore[no-untyped-def]
    status = prod.ids["status"]["wip"]
    h = signer.headers()
    await ok(await client.post(f"/data/projects/{prod.id}/settings/task-status", json={"task_status_id": status},
                               headers=h), 201)
    path = f"/data/projects/{prod.id}/settings/task-status/{status}"
    for who in ("admin", "manager", "user", "outsider"):
        r = await client.put(path, json={"priority": 2}, headers=headers(signer, prod, who))
        assert r.status_code == 400, who
        assert r.json()["data"]["errors"] == [{"field": "is_client_allowed", "message": "Field required"}]
    r = await client.put(path, json={"is_client_allowed": "maybe"}, headers=h)
    assert r.status_code == 400
    link = await ok(await client.put(path, json={"is_client_allowed": True, "priority": 2}, headers=h))
    assert (link["is_client_allowed"], link["priority"]) == (True, 2)
