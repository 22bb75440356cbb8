"""Casting (breakdown) as observed on the oracle: entity links with occurrences and
labels, automatic episode links, every listing Kitsu reads, events, permissions per role
and bad input."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from slate_common.db import transaction
from slate_common.events import Event, OutboxEvent

ROLES = ("manager", "supervisor", "user", "client", "vendor", "outsider")


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


@dataclass
class World:
    prod: Any
    signer: Any
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> str:
        return self.prod.id

    def headers_for(self, who: str = "admin") -> dict[str, str]:
        if who == "admin":
            return self.signer.headers()
        return self.signer.headers(self.prod.people[who], "user" if who == "outsider" else who)


class Outbox:
    """The events written after a mark, for one project."""

    def __init__(self, sessionmaker, project_id: str) -> None:  # type: ignore[no-untyped-def]
        self.sessionmaker = sessionmaker
        self.project_id = project_id
        self.seq = 0

    async def mark(self) -> None:
        async with transaction(self.sessionmaker) as session:
            self.seq = int(await session.scalar(select(func.max(OutboxEvent.seq))) or 0)

    async def since(self) -> list[Event]:
        async with transaction(self.sessionmaker) as session:
            rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.seq > self.seq)
                                          .order_by(OutboxEvent.seq))).all()
        events = [Event.from_json(r.payload) for r in rows]
        return [e for e in events if str(e.project_id) == self.project_id]


@pytest.fixture
async def world(client, signer, production_factory) -> World:  # type: ignore[no-untyped-def]
    prod = await production_factory(shots=2, tvshow=True)
    w = World(prod, signer)
    h = w.headers_for()
    types = {t["name"]: t["id"] for t in await ok(await client.get("/data/entity-types", headers=h))}
    w.ids.update(character=prod.ids["character"], prop=types["Prop"], hero=prod.ids["asset"],
                 ep1=prod.ids["episode"], seq1=prod.ids["sequence"], sh1=prod.ids["shots"][0],
                 sh2=prod.ids["shots"][1])
    await ok(await client.post(f"/data/projects/{w.pid}/settings/asset-types", json={"asset_type_id": types["Prop"]},
                               headers=h), 201)
    for name, kind in (("Sword", "prop"), ("Villain", "character")):
        asset = await ok(await client.post(f"/data/projects/{w.pid}/asset-types/{w.ids[kind]}/assets/new",
                                           json={"name": name, "description": ""}, headers=h), 201)
        w.ids[name.lower()] = asset["id"]
    ep2 = await ok(await client.post(f"/data/projects/{w.pid}/episodes", json={"name": "E02"}, headers=h), 201)
    seq2 = await ok(await client.post(f"/data/projects/{w.pid}/sequences",
                                      json={"name": "SQ02", "episode_id": ep2["id"]}, headers=h), 201)
    sh3 = await ok(await client.post(f"/data/projects/{w.pid}/shots",
                                     json={"name": "SH030", "sequence_id": seq2["id"]}, headers=h), 201)
    w.ids.update(ep2=ep2["id"], seq2=seq2["id"], sh3=sh3["id"])
    return w


def cast_path(w: World, entity: str) -> str:
    return f"/data/projects/{w.pid}/entities/{w.ids[entity]}/casting"


async def test_put_casting_links_assets_and_their_episode(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w, outbox = world, Outbox(sessionmaker, world.pid)
    await outbox.mark()
    body = [{"asset_id": w.ids["hero"], "nb_occurences": 2}, {"asset_id": w.ids["sword"], "nb_occurences": 1,
                                                               "label": "animate"}]
    assert await ok(await client.put(cast_path(w, "sh1"), json=body, headers=w.headers_for("manager"))) == body

    rows = await ok(await client.get(cast_path(w, "sh1"), headers=w.headers_for("user")))
    assert rows == [
        {"asset_id": w.ids["hero"], "asset_name": "Hero", "asset_type_name": "Character", "ready_for": None,
         "episode_id": None, "preview_file_id": None, "nb_occurences": 2, "label": "", "is_shared": False,
         "project_id": w.pid},
        {"asset_id": w.ids["sword"], "asset_name": "Sword", "asset_type_name": "Prop", "ready_for": None,
         "episode_id": None, "preview_file_id": None, "nb_occurences": 1, "label": "animate", "is_shared": False,
         "project_id": w.pid},
    ]
    # the shot's episode casts them too, once, with the shot's labels
    episode = await ok(await client.get(cast_path(w, "ep1"), headers=w.headers_for("user")))
    assert [(r["asset_name"], r["nb_occurences"], r["label"]) for r in episode] == [("Hero", 1, ""),
                                                                                   ("Sword", 1, "animate")]
    links = await ok(await client.get(f"/data/projects/{w.pid}/entity-links", headers=w.headers_for("manager")))
    assert sorted((l["entity_in_id"] == w.ids["ep1"], l["data"]) for l in links) == [
        (False, None), (False, None), (True, {"auto": True}), (True, {"auto": True})]
    assert set(links[0]) == {"id", "entity_in_id", "entity_out_id", "nb_occurences", "label", "data", "created_at",
                             "type"}
    shot = await ok(await client.get(f"/data/entities/{w.ids['sh1']}", headers=w.headers_for()))
    assert shot["nb_entities_out"] == 2
    ep = await ok(await client.get(f"/data/entities/{w.ids['ep1']}", headers=w.headers_for()))
    assert ep["nb_entities_out"] == 2

    events = await outbox.since()
    assert [e.name for e in events] == ["asset:update", "entity-link:new", "asset:update", "entity-link:new",
                                        "shot:casting-update"]
    assert events[0].data["asset_id"] == w.ids["hero"] and events[2].data["asset_id"] == w.ids["sword"]
    assert {k: events[1].data[k] for k in ("entity_in_id", "entity_out_id", "nb_occurences")} == {
        "entity_in_id": w.ids["sh1"], "entity_out_id": w.ids["hero"], "nb_occurences": 2}
    assert events[4].data["shot_id"] == w.ids["sh1"] and events[4].data["nb_entities_out"] == 2
    assert events[4].data["added_asset_ids"] == sorted([w.ids["hero"], w.ids["sword"]])
    assert events[4].data["removed_asset_ids"] == []


async def test_recasting_replaces_links_and_prunes_the_episode(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w, outbox = world, Outbox(sessionmaker, world.pid)
    m = w.headers_for("manager")
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 1},
                                                         {"asset_id": w.ids["sword"], "nb_occurences": 1}], headers=m))
    await ok(await client.put(cast_path(w, "sh2"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 1}], headers=m))
    first = {l["entity_out_id"]: l["id"] for l in await ok(await client.get(
        f"/data/projects/{w.pid}/entity-links", headers=m)) if l["entity_in_id"] == w.ids["sh1"]}
    await outbox.mark()
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 5,
                                                          "label": "fixed"}], headers=m))
    events = await outbox.since()
    assert [e.name for e in events] == ["entity-link:new", "shot:casting-update", "episode:casting-update",
                                        "asset:update"]
    assert events[1].data["removed_asset_ids"] == [w.ids["sword"]] and events[1].data["added_asset_ids"] == []
    assert events[2].data == {"episode_id": w.ids["ep1"], "project_id": w.pid, "added_asset_ids": [],
                              "nb_entities_out": 1, "removed_asset_ids": [w.ids["sword"]]}
    assert events[3].data["asset_id"] == w.ids["sword"]
    links = await ok(await client.get(f"/data/projects/{w.pid}/entity-links", headers=m))
    mine = [l for l in links if l["entity_in_id"] == w.ids["sh1"]]
    assert [(l["entity_out_id"], l["nb_occurences"], l["label"]) for l in mine] == [(w.ids["hero"], 5, "fixed")]
    assert mine[0]["id"] != first[w.ids["hero"]]  # replaced, as Zou does
    # hero stays in the episode: sh2 still casts it
    assert [r["asset_name"] for r in await ok(await client.get(cast_path(w, "ep1"), headers=m))] == ["Hero"]


async def test_casting_input_is_checked(client, world, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    w = world
    m = w.headers_for("manager")
    # entries without nb_occurences are skipped, as in Zou
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["hero"]},
                                                         {"asset_id": w.ids["sword"], "nb_occurences": 0}], headers=m))
    rows = await ok(await client.get(cast_path(w, "sh1"), headers=m))
    assert [(r["asset_name"], r["nb_occurences"]) for r in rows] == [("Sword", 0)]
    other = await production_factory(shots=0)
    lamp = await ok(await client.post(f"/data/projects/{other.id}/asset-types/{other.ids['character']}/assets/new",
                                      json={"name": "Lamp"}, headers=signer.headers()), 201)
    bad_bodies = [
        ([{"asset_id": w.ids["hero"], "nb_occurences": -1}], "nb_occurences must not be negative."),
        ([{"asset_id": w.ids["hero"], "nb_occurences": "two"}], "nb_occurences must be an integer."),
        ([{"asset_id": str(uuid.uuid4()), "nb_occurences": 1}], "does not exist"),
        ([{"asset_id": w.ids["sh2"], "nb_occurences": 1}], "is not an asset"),
        ([{"asset_id": lamp["id"], "nb_occurences": 1}], "belongs to another project and is not shared"),
        ([{"asset_id": "not-an-id", "nb_occurences": 1}], "Invalid asset_id"),
        ([{"nb_occurences": 1}], "no asset_id"),
        ({"casting": []}, "Request body must be a JSON array"),
        ([{"asset_id": w.ids["hero"], "nb_occurences": 1, "label": 3}], "label must be a string."),
    ]
    for body, message in bad_bodies:
        r = await client.put(cast_path(w, "sh1"), json=body, headers=m)
        assert r.status_code == 400 and r.json()["error"] is True and message in r.json()["message"], (body, r.text)
    r = await client.put(cast_path(w, "hero"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 1}], headers=m)
    assert r.status_code == 400 and "itself" in r.json()["message"]
    # nothing was half-written
    rows = await ok(await client.get(cast_path(w, "sh1"), headers=m))
    assert [(r["asset_name"], r["nb_occurences"]) for r in rows] == [("Sword", 0)]
    # unknown, malformed or foreign entities
    assert (await client.get(f"/data/projects/{w.pid}/entities/{uuid.uuid4()}/casting", headers=m)).status_code == 404
    assert (await client.put(f"/data/projects/{w.pid}/entities/{lamp['id']}/casting", json=[],
                             headers=signer.headers())).status_code == 404
    r = await client.get(f"/data/projects/{w.pid}/entities/not-an-id/casting", headers=m)
    assert r.status_code == 400 and r.json()["message"] == "Malformed ID."
    assert (await client.get(f"/data/assets/{w.ids['sh1']}/casting", headers=m)).status_code == 404
    assert (await client.get(f"/data/shots/{w.ids['hero']}/assets", headers=m)).status_code == 404


async def test_shared_assets_of_other_projects(client, world, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    w = world
    other = await production_factory(shots=0)
    lamp = await ok(await client.post(f"/data/projects/{other.id}/asset-types/{other.ids['character']}/assets/new",
                                      json={"name": "Lamp", "is_shared": True}, headers=signer.headers()), 201)
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": lamp["id"], "nb_occurences": 1},
                                                         {"asset_id": w.ids["hero"], "nb_occurences": 1}],
                              headers=w.headers_for("manager")))
    rows = await ok(await client.get(cast_path(w, "sh1"), headers=w.headers_for("user")))
    assert [(r["asset_name"], r["is_shared"], r["project_id"]) for r in rows] == [
        ("Hero", False, w.pid), ("Lamp", True, other.id)]
    used = await ok(await client.get(f"/data/projects/{w.pid}/assets/shared-used", headers=w.headers_for("user")))
    assert [(a["id"], a["type"], a["is_shared"]) for a in used] == [(lamp["id"], "Asset", True)]
    in_ep1 = await ok(await client.get(f"/data/projects/{w.pid}/episodes/{w.ids['ep1']}/assets/shared-used",
                                       headers=w.headers_for("vendor")))
    assert [a["name"] for a in in_ep1] == ["Lamp"]
    in_ep2 = await ok(await client.get(f"/data/projects/{w.pid}/episodes/{w.ids['ep2']}/assets/shared-used",
                                       headers=w.headers_for("user")))
    assert in_ep2 == []
    assert (await client.get(f"/data/projects/{w.pid}/assets/shared-used",
                             headers=w.headers_for("outsider"))).status_code == 403


async def test_shot_castings_with_nothing_cast_are_an_empty_object(client, world) -> None:  # type: ignore[no-untyped-def]
    # found by the generated-input run (tests/fuzz): the empty answer was the JSON string "{}"
    w = world
    for path in (f"/data/projects/{w.pid}/sequences/all/casting",
                 f"/data/projects/{w.pid}/sequences/{w.ids['seq2']}/casting",
                 f"/data/projects/{w.pid}/episodes/{w.ids['ep1']}/sequences/all/casting"):
        r = await client.get(path, headers=w.headers_for("admin"))
        assert r.status_code == 200 and r.json() == {}, (path, r.text)


async def test_casting_listings(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    m = w.headers_for("manager")
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["sword"], "nb_occurences": 1},
                                                         {"asset_id": w.ids["hero"], "nb_occurences": 2}], headers=m))
    await ok(await client.put(cast_path(w, "sh3"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 3,
                                                          "label": "fixed"}], headers=m))
    cast = await ok(await client.put(f"/data/assets/{w.ids['hero']}/casting",
                                     json=[{"asset_id": w.ids["sword"], "nb_occurences": 4}], headers=m))
    assert cast == [{"asset_id": w.ids["sword"], "nb_occurences": 4, "label": ""}]
    u = w.headers_for("user")

    all_shots = await ok(await client.get(f"/data/projects/{w.pid}/sequences/all/casting", headers=u))
    assert list(all_shots) == [w.ids["sh1"], w.ids["sh3"]]
    assert all_shots[w.ids["sh1"]][0] == {
        "asset_id": w.ids["hero"], "name": "Hero", "asset_name": "Hero", "asset_type_name": "Character",
        "sequence_name": "SQ01", "preview_file_id": None, "nb_occurences": 2, "label": "", "is_shared": False,
        "project_id": w.pid}
    assert [r["asset_name"] for r in all_shots[w.ids["sh1"]]] == ["Hero", "Sword"]
    assert all_shots[w.ids["sh3"]][0]["sequence_name"] == "SQ02"
    seq = await ok(await client.get(f"/data/projects/{w.pid}/sequences/{w.ids['seq2']}/casting", headers=u))
    assert list(seq) == [w.ids["sh3"]] and seq[w.ids["sh3"]][0]["label"] == "fixed"
    ep = await ok(await client.get(f"/data/projects/{w.pid}/episodes/{w.ids['ep1']}/sequences/all/casting",
                                   headers=u))
    assert list(ep) == [w.ids["sh1"]]
    episodes = await ok(await client.get(f"/data/projects/{w.pid}/episodes/casting", headers=u))
    # as Zou (observed on the oracle): every entity of the project that casts, by its id
    # (the episodes, their shots, an asset casting another)
    names = {k: [r["asset_name"] for r in v] for k, v in episodes.items()}
    assert set(names) == {w.ids["ep1"], w.ids["ep2"], w.ids["hero"], *all_shots}
    assert (names[w.ids["ep1"]], names[w.ids["ep2"]], names[w.ids["hero"]]) == (["Hero", "Sword"], ["Hero"], ["Sword"])
    assert names[w.ids["sh1"]] == ["Hero", "Sword"]
    assert set(episodes[w.ids["ep2"]][0]) == {"asset_id", "name", "asset_name", "asset_type_name",
                                               "preview_file_id", "nb_occurences", "label", "is_shared", "project_id"}
    by_type = await ok(await client.get(f"/data/projects/{w.pid}/asset-types/{w.ids['character']}/casting",
                                        headers=u))
    assert by_type == {w.ids["hero"]: [{"asset_id": w.ids["sword"], "name": "Sword", "asset_name": "Sword",
                                        "asset_type_name": "Prop", "preview_file_id": None, "nb_occurences": 4,
                                        "label": ""}]}
    asset_cast = await ok(await client.get(f"/data/assets/{w.ids['hero']}/casting", headers=u))
    assert [(r["asset_name"], r["nb_occurences"]) for r in asset_cast] == [("Sword", 4)]

    cast_in = await ok(await client.get(f"/data/assets/{w.ids['hero']}/cast-in", headers=u))
    assert cast_in == [
        {"shot_id": w.ids["sh1"], "shot_name": "SH010", "sequence_name": "SQ01", "episode_id": w.ids["ep1"],
         "episode_name": "E01", "preview_file_id": None, "nb_occurences": 2},
        {"shot_id": w.ids["sh3"], "shot_name": "SH030", "sequence_name": "SQ02", "episode_id": w.ids["ep2"],
         "episode_name": "E02", "preview_file_id": None, "nb_occurences": 3},
    ]
    sword_in = await ok(await client.get(f"/data/assets/{w.ids['sword']}/cast-in", headers=u))
    assert [r.get("shot_name") or r.get("asset_name") for r in sword_in] == ["SH010", "Hero"]
    assert sword_in[1] == {"asset_id": w.ids["hero"], "asset_name": "Hero", "asset_type_name": "Character",
                           "preview_file_id": None, "nb_occurences": 4}

    shot_assets = await ok(await client.get(f"/data/shots/{w.ids['sh1']}/assets", headers=u))
    # in the order they were cast, as Zou
    assert [(a["name"], a["type"], a["nb_frames"]) for a in shot_assets] == [("Sword", "Asset", None),
                                                                             ("Hero", "Asset", None)]
    assert shot_assets[1]["nb_entities_out"] == 1  # hero casts the sword
    types = await ok(await client.get(f"/data/shots/{w.ids['sh1']}/asset-types", headers=u))
    assert [(t["name"], t["type"]) for t in types] == [("Character", "AssetType"), ("Prop", "AssetType")]
    assert list(types[0]) == ["name", "short_name", "description", "archived", "id", "created_at", "updated_at",
                              "type"]
    hero_assets = await ok(await client.get(f"/data/assets/{w.ids['hero']}/assets", headers=u))
    assert [a["id"] for a in hero_assets] == [w.ids["sword"]]
    # shots without casting are absent; unknown sequences and episodes are 404
    assert w.ids["sh2"] not in all_shots
    assert (await client.get(f"/data/projects/{w.pid}/sequences/{uuid.uuid4()}/casting", headers=u)).status_code == 404
    assert (await client.get(f"/data/projects/{w.pid}/episodes/{w.ids['seq1']}/sequences/all/casting",
                             headers=u)).status_code == 404


async def test_cast_one_asset_in_several_entities(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w, outbox = world, Outbox(sessionmaker, world.pid)
    m = w.headers_for("manager")
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 2,
                                                          "label": "fixed"}], headers=m))
    path = f"/data/projects/{w.pid}/entities/casting/assets/{w.ids['villain']}"
    await outbox.mark()
    out = await ok(await client.put(path, json={"entity_ids": [w.ids["sh1"], w.ids["sh3"]], "nb_occurences": 2,
                                                "label": "bg"}, headers=m))
    assert list(out) == [w.ids["sh1"], w.ids["sh3"]]
    assert [(r["asset_name"], r["nb_occurences"], r["label"]) for r in out[w.ids["sh1"]]] == [
        ("Hero", 2, "fixed"), ("Villain", 2, "bg")]  # the other assets are left alone
    names = [e.name for e in await outbox.since()]
    assert names == ["asset:update", "entity-link:new", "shot:casting-update"] * 2
    # an existing link: only what is given changes
    await outbox.mark()
    out = await ok(await client.put(path, json={"entity_ids": [w.ids["sh3"]], "nb_occurences": 3}, headers=m))
    assert [(r["nb_occurences"], r["label"]) for r in out[w.ids["sh3"]]] == [(3, "bg")]
    events = await outbox.since()
    assert [e.name for e in events] == ["entity-link:update", "shot:casting-update"]
    assert events[0].data["nb_occurences"] == 3
    # 0 removes it, and from the episode no other shot of which casts it
    await outbox.mark()
    out = await ok(await client.put(path, json={"entity_ids": [w.ids["sh3"]], "nb_occurences": 0}, headers=m))
    assert out == {w.ids["sh3"]: []}
    events = await outbox.since()
    assert [e.name for e in events] == ["shot:casting-update", "episode:casting-update", "asset:update"]
    assert events[0].data["removed_asset_ids"] == [w.ids["villain"]] and events[0].data["nb_entities_out"] == 0
    ep2 = await ok(await client.get(cast_path(w, "ep2"), headers=m))
    assert ep2 == []
    # bad input
    for body, field_name in (({"entity_ids": []}, "entity_ids"), ({}, "entity_ids"),
                             ({"entity_ids": ["bad"]}, "entity_ids.0"),
                             ({"entity_ids": [w.ids["sh1"]], "nb_occurences": -1}, "nb_occurences")):
        r = await client.put(path, json=body, headers=m)
        assert r.status_code == 400 and r.json()["data"]["errors"][0]["field"] == field_name, r.text
    assert (await client.put(f"/data/projects/{w.pid}/entities/casting/assets/{uuid.uuid4()}",
                             json={"entity_ids": [w.ids["sh1"]]}, headers=m)).status_code == 404
    assert (await client.put(path, json={"entity_ids": [str(uuid.uuid4())]}, headers=m)).status_code == 404
    assert (await client.put(path, json={"entity_ids": [w.ids["sh1"]]}, headers=w.headers_for("supervisor"))).status_code == 403


async def test_batch_casting(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w, outbox = world, Outbox(sessionmaker, world.pid)
    m = w.headers_for("manager")
    body = {w.ids["sh2"]: [{"asset_id": w.ids["sword"], "nb_occurences": 2}],
            w.ids["sh3"]: [{"asset_id": w.ids["hero"], "nb_occurences": 1},
                           {"asset_id": w.ids["villain"], "nb_occurences": 1}]}
    await outbox.mark()
    assert await ok(await client.put(f"/data/projects/{w.pid}/entities/casting", json=body, headers=m)) == body
    updates = [e.data for e in await outbox.since() if e.name == "shot:casting-update"]
    assert [(u["shot_id"], u["nb_entities_out"]) for u in updates] == [(w.ids["sh2"], 1), (w.ids["sh3"], 2)]
    all_shots = await ok(await client.get(f"/data/projects/{w.pid}/sequences/all/casting", headers=m))
    assert {k: [r["asset_name"] for r in v] for k, v in all_shots.items()} == {
        w.ids["sh2"]: ["Sword"], w.ids["sh3"]: ["Hero", "Villain"]}
    # one bad entity: nothing is written
    bad = {w.ids["sh1"]: [{"asset_id": w.ids["hero"], "nb_occurences": 1}], str(uuid.uuid4()): []}
    assert (await client.put(f"/data/projects/{w.pid}/entities/casting", json=bad, headers=m)).status_code == 404
    bad = {w.ids["sh1"]: [{"asset_id": w.ids["hero"], "nb_occurences": 1}],
           w.ids["sh2"]: [{"asset_id": w.ids["hero"], "nb_occurences": -3}]}
    assert (await client.put(f"/data/projects/{w.pid}/entities/casting", json=bad, headers=m)).status_code == 400
    assert await ok(await client.get(cast_path(w, "sh1"), headers=m)) == []
    assert (await client.put(f"/data/projects/{w.pid}/entities/casting", json=[], headers=m)).status_code == 400


async def test_casting_permissions_per_role(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 1}],
                              headers=w.headers_for()))
    reads = [cast_path(w, "sh1"), f"/data/projects/{w.pid}/sequences/all/casting",
             f"/data/projects/{w.pid}/episodes/casting", f"/data/assets/{w.ids['hero']}/casting",
             f"/data/assets/{w.ids['hero']}/cast-in", f"/data/shots/{w.ids['sh1']}/assets",
             f"/data/assets/{w.ids['hero']}/assets",
             f"/data/projects/{w.pid}/asset-types/{w.ids['character']}/casting",
             f"/data/entities/{w.ids['hero']}/entities-linked/with-tasks"]
    for who in ROLES:
        statuses = {(await client.get(path, headers=w.headers_for(who))).status_code for path in reads}
        expected = {"vendor": 403, "outsider": 403}.get(who, 200)
        assert statuses == {expected}, who
        asset_types = await client.get(f"/data/shots/{w.ids['sh1']}/asset-types", headers=w.headers_for(who))
        assert asset_types.status_code == (403 if who == "outsider" else 200), who
        links = await client.get(f"/data/projects/{w.pid}/entity-links", headers=w.headers_for(who))
        assert links.status_code == {"manager": 200}.get(who, 403), who
    for who in ROLES:
        body = [{"asset_id": w.ids["sword"], "nb_occurences": 1}]
        writes = [
            await client.put(cast_path(w, "sh2"), json=body, headers=w.headers_for(who)),
            await client.put(f"/data/assets/{w.ids['hero']}/casting", json=body, headers=w.headers_for(who)),
            await client.put(f"/data/projects/{w.pid}/entities/casting", json={w.ids["sh2"]: body}, headers=w.headers_for(who)),
            await client.put(f"/data/projects/{w.pid}/entities/casting/assets/{w.ids['sword']}",
                             json={"entity_ids": [w.ids["sh2"]]}, headers=w.headers_for(who)),
        ]
        expected = {"manager": 200}.get(who, 403)
        assert [r.status_code for r in writes] == [expected] * 4, (who, [r.text for r in writes])
    assert [r["asset_name"] for r in await ok(await client.get(cast_path(w, "sh2"), headers=w.headers_for()))] == ["Sword"]


async def test_entity_links_crud_is_for_admins(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w, outbox = world, Outbox(sessionmaker, "None")
    a = w.headers_for()
    await outbox.mark()
    link = await ok(await client.post("/data/entity-links", json={"entity_in_id": w.ids["sh2"],
                                                                  "entity_out_id": w.ids["sword"]}, headers=a), 201)
    assert {k: link[k] for k in ("entity_in_id", "entity_out_id", "data", "nb_occurences", "label", "type")} == {
        "entity_in_id": w.ids["sh2"], "entity_out_id": w.ids["sword"], "data": None, "nb_occurences": 1,
        "label": "", "type": "EntityLink"}
    assert list(link) == ["entity_in_id", "entity_out_id", "data", "nb_occurences", "label", "id", "created_at",
                          "updated_at", "type"]
    got = await ok(await client.get(f"/data/entity-links/{link['id']}", headers=a))
    assert got == link
    put = await ok(await client.put(f"/data/entity-links/{link['id']}", json={"nb_occurences": 4, "label": "x"},
                                    headers=a))
    assert (put["nb_occurences"], put["label"]) == (4, "x")
    listed = await ok(await client.get("/data/entity-links", params={"entity_in_id": w.ids["sh2"]}, headers=a))
    assert [l["id"] for l in listed] == [link["id"]]
    page = await ok(await client.get("/data/entity-links", params={"entity_in_id": w.ids["sh2"], "page": 1,
                                                                   "limit": 5}, headers=a))
    assert page["total"] == 1 and page["data"][0]["id"] == link["id"]
    for bad in ({"entity_in_id": w.ids["sh2"], "entity_out_id": w.ids["sword"]},
                {"entity_in_id": w.ids["sh2"]},
                {"entity_in_id": w.ids["sh2"], "entity_out_id": str(uuid.uuid4())},
                {"entity_in_id": w.ids["sh2"], "entity_out_id": w.ids["hero"], "nb_occurences": -1}):
        r = await client.post("/data/entity-links", json=bad, headers=a)
        assert r.status_code == 400 and r.json()["error"] is True, (bad, r.text)
    assert (await client.get(f"/data/entity-links/{uuid.uuid4()}", headers=a)).status_code == 404
    assert (await client.get("/data/entity-links/bad", headers=a)).json()["message"] == "Malformed ID."
    for who in ("manager", "supervisor", "user"):
        h = w.headers_for(who)
        assert (await client.get("/data/entity-links", headers=h)).status_code == 403
        assert (await client.get(f"/data/entity-links/{link['id']}", headers=h)).status_code == 403
        assert (await client.post("/data/entity-links", json={"entity_in_id": w.ids["sh1"],
                                                              "entity_out_id": w.ids["hero"]},
                                  headers=h)).status_code == 403
        assert (await client.delete(f"/data/entity-links/{link['id']}", headers=h)).status_code == 403
    assert (await client.delete(f"/data/entity-links/{link['id']}", headers=a)).status_code == 204
    names = [e.name for e in await outbox.since() if e.name.startswith("entity-link:")
             and e.data["entity_link_id"] == link["id"]]
    assert names == ["entity-link:new", "entity-link:update", "entity-link:delete"]


async def test_project_links_listing_and_delete(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w, outbox = world, Outbox(sessionmaker, world.pid)
    m = w.headers_for("manager")
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 1},
                                                         {"asset_id": w.ids["sword"], "nb_occurences": 2}], headers=m))
    links = await ok(await client.get(f"/data/projects/{w.pid}/entity-links", headers=m))
    assert len(links) == 4 and links == sorted(links, key=lambda l: l["created_at"])
    assert "." in links[0]["created_at"]  # microseconds, as Zou's synchronisation listing
    page = await ok(await client.get(f"/data/projects/{w.pid}/entity-links", params={"page": 2, "limit": 3},
                                     headers=m))
    assert (page["total"], page["nb_pages"], page["offset"], len(page["data"])) == (4, 2, 3, 1)
    after = await ok(await client.get(f"/data/projects/{w.pid}/entity-links",
                                      params={"cursor_created_at": links[1]["created_at"]}, headers=m))
    assert [l["id"] for l in after] == [l["id"] for l in links[2:]]
    sword_link = next(l for l in links if l["entity_in_id"] == w.ids["sh1"] and l["entity_out_id"] == w.ids["sword"])
    assert (await client.delete(f"/data/projects/{w.pid}/entity-links/{sword_link['id']}",
                                headers=w.headers_for("supervisor"))).status_code == 403
    await outbox.mark()
    gone = await ok(await client.delete(f"/data/projects/{w.pid}/entity-links/{sword_link['id']}", headers=m))
    assert gone["id"] == sword_link["id"] and gone["nb_occurences"] == 2 and gone["type"] == "EntityLink"
    assert [e.name for e in await outbox.since()] == ["entity-link:delete", "shot:casting-update",
                                                      "episode:casting-update", "asset:update"]
    assert [r["asset_name"] for r in await ok(await client.get(cast_path(w, "sh1"), headers=m))] == ["Hero"]
    assert [r["asset_name"] for r in await ok(await client.get(cast_path(w, "ep1"), headers=m))] == ["Hero"]
    assert (await client.delete(f"/data/projects/{w.pid}/entity-links/{sword_link['id']}",
                                headers=m)).status_code == 404
    r = await client.get(f"/data/projects/{w.pid}/entity-links", params={"cursor_created_at": "yesterday"}, headers=m)
    assert r.status_code == 400


async def test_deleting_cast_entities(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w, outbox = world, Outbox(sessionmaker, world.pid)
    m = w.headers_for("manager")
    tmp = await ok(await client.post(f"/data/projects/{w.pid}/asset-types/{w.ids['prop']}/assets/new",
                                     json={"name": "Tmp"}, headers=m), 201)
    await ok(await client.put(cast_path(w, "sh3"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 1},
                                                         {"asset_id": tmp["id"], "nb_occurences": 1}], headers=m))
    await outbox.mark()
    assert (await client.delete(f"/data/assets/{tmp['id']}", headers=m)).status_code == 204
    events = await outbox.since()
    assert [e.name for e in events if e.name.endswith("casting-update")] == ["shot:casting-update",
                                                                             "episode:casting-update"]
    update = next(e for e in events if e.name == "shot:casting-update")
    assert update.data["nb_entities_out"] == 1 and update.data["removed_asset_ids"] == [tmp["id"]]
    assert [r["asset_name"] for r in await ok(await client.get(cast_path(w, "sh3"), headers=m))] == ["Hero"]
    shot = await ok(await client.get(f"/data/entities/{w.ids['sh3']}", headers=w.headers_for()))
    assert shot["nb_entities_out"] == 1
    # a deleted shot takes its links, and its episode forgets what only it cast
    assert (await client.delete(f"/data/shots/{w.ids['sh3']}", headers=m)).status_code == 204
    assert await ok(await client.get(cast_path(w, "ep2"), headers=m)) == []
    assert await ok(await client.get(f"/data/assets/{w.ids['hero']}/cast-in", headers=m)) == []


async def test_entities_linked_with_tasks_lists_concepts(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from slate_production.models import Entity, EntityType, Task, TaskStatus, TaskType, entity_concept_link

    w = world
    async with transaction(sessionmaker) as session:
        concept_type = await session.scalar(select(EntityType.id).where(EntityType.name == "Concept"))
        if concept_type is None:
            concept_type = uuid.uuid4()
            session.add(EntityType(id=concept_type, name="Concept"))
            await session.flush()
        concept = Entity(id=uuid.uuid4(), name="concept1", project_id=uuid.UUID(w.pid), entity_type_id=concept_type,
                         data={})
        session.add(concept)
        await session.flush()
        await session.execute(insert(entity_concept_link).values(entity_in_id=concept.id,
                                                                 entity_out_id=uuid.UUID(w.ids["hero"])))
        task_type = await session.scalar(select(TaskType.id).limit(1))
        status = await session.scalar(select(TaskStatus.id).limit(1))
        task = Task(id=uuid.uuid4(), project_id=uuid.UUID(w.pid), entity_id=concept.id, task_type_id=task_type,
                    task_status_id=status, name="main")
        session.add(task)
    rows = await ok(await client.get(f"/data/entities/{w.ids['hero']}/entities-linked/with-tasks",
                                     headers=w.headers_for("user")))
    assert len(rows) == 1
    row = rows[0]
    assert (row["id"], row["name"], row["type"], row["entity_concept_links"]) == (
        str(concept.id), "concept1", "Concept", [w.ids["hero"]])
    assert row["project_name"] == w.prod.project["name"] and row["frame_in"] is None
    assert [(t["id"], t["entity_id"], t["assignees"]) for t in row["tasks"]] == [(str(task.id), str(concept.id), [])]
    assert await ok(await client.get(f"/data/entities/{w.ids['sh1']}/entities-linked/with-tasks",
                                     headers=w.headers_for("user"))) == []
    assert (await client.get(f"/data/entities/{uuid.uuid4()}/entities-linked/with-tasks",
                             headers=w.headers_for("user"))).status_code == 404


async def test_single_rows_carry_their_links(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    m = w.headers_for("manager")
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 1}], headers=m))
    await ok(await client.put(cast_path(w, "sh3"), json=[{"asset_id": w.ids["hero"], "nb_occurences": 1}], headers=m))
    shot = await ok(await client.get(f"/data/shots/{w.ids['sh1']}", headers=w.headers_for("user")))
    assert (shot["entities_out"], shot["entities_in"], shot["nb_entities_out"]) == ([w.ids["hero"]], [], 1)
    hero = await ok(await client.get(f"/data/assets/{w.ids['hero']}", headers=w.headers_for("user")))
    assert sorted(hero["entities_in"]) == sorted([w.ids["ep1"], w.ids["sh1"], w.ids["ep2"], w.ids["sh3"]])
    assert sorted(hero["casting_episode_ids"]) == sorted([w.ids["ep1"], w.ids["ep2"]])
    assert hero["entities_out"] == []
    generic = await ok(await client.get(f"/data/entities/{w.ids['ep2']}", headers=w.headers_for()))
    assert generic["entities_out"] == [w.ids["hero"]] and generic["nb_entities_out"] == 1
    # a canceled shot is not listed where the asset is cast
    await ok(await client.put(f"/data/shots/{w.ids['sh3']}", json={"canceled": True}, headers=m))
    cast_in = await ok(await client.get(f"/data/assets/{w.ids['hero']}/cast-in", headers=m))
    assert [r["shot_id"] for r in cast_in] == [w.ids["sh1"]]


async def test_generic_entity_delete_forgets_casting(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    w, outbox = world, Outbox(sessionmaker, world.pid)
    m = w.headers_for("manager")
    await ok(await client.put(cast_path(w, "sh1"), json=[{"asset_id": w.ids["villain"], "nb_occurences": 1},
                                                         {"asset_id": w.ids["hero"], "nb_occurences": 1}], headers=m))
    await outbox.mark()
    assert (await client.delete(f"/data/entities/{w.ids['villain']}", headers=m)).status_code == 204
    names = [e.name for e in await outbox.since()]
    assert names[:3] == ["shot:casting-update", "episode:casting-update", "entity:delete"], names
    assert [r["asset_name"] for r in await ok(await client.get(cast_path(w, "sh1"), headers=m))] == ["Hero"]
    assert [r["asset_name"] for r in await ok(await client.get(cast_path(w, "ep1"), headers=m))] == ["Hero"]
    shot = await ok(await client.get(f"/data/entities/{w.ids['sh1']}", headers=w.headers_for()))
    assert shot["nb_entities_out"] == 1


async def test_sequence_casting_is_announced_as_an_asset_casting(client, world, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    """Zou names the casting event of anything but shots and episodes ``asset:casting-update``."""
    w, outbox = world, Outbox(sessionmaker, world.pid)
    await outbox.mark()
    await ok(await client.put(cast_path(w, "seq2"), json=[{"asset_id": w.ids["villain"], "nb_occurences": 1}],
                              headers=w.headers_for("manager")))
    events = await outbox.since()
    assert [e.name for e in events] == ["entity-link:new", "asset:casting-update"]
    assert events[1].data["asset_id"] == w.ids["seq2"] and events[1].data["nb_entities_out"] == 1
    # a sequence's casting is its own: its episode does not follow
    assert await ok(await client.get(cast_path(w, "ep2"), headers=w.headers_for("manager"))) == []


async def test_asset_listing_shows_the_episodes_casting_it(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    listing = f"/data/assets/with-tasks?project_id={w.pid}"

    async def assets(query: str = "") -> dict[str, list[str]]:
        rows = await ok(await client.get(listing + query, headers=w.headers_for("manager")))
        return {r["name"]: r["casting_episode_ids"] for r in rows}

    assert (await assets())["Villain"] == []
    await ok(await client.put(cast_path(w, "sh3"), json=[{"asset_id": w.ids["villain"], "nb_occurences": 1}],
                              headers=w.headers_for("manager")))
    before = await assets()
    assert before["Villain"] == [w.ids["ep2"]] and before["Hero"] == []  # (the cached rows were rebuilt)
    # an episode's assets: those made in it and those cast in it
    assert await assets(f"&episode_id={w.ids['ep2']}") == {"Villain": [w.ids["ep2"]]}
    await ok(await client.put(cast_path(w, "sh3"), json=[], headers=w.headers_for("manager")))
    assert (await assets())["Villain"] == []
    assert await assets(f"&episode_id={w.ids['ep2']}") == {}
