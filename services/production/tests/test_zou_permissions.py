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
