"""The request bodies of the projects/entities family (issue 14 part 1, issue 17 part 2):
each write documents its body in the OpenAPI, a body that schema allows is taken, and a
bad one is Zou's 400, never FastAPI's 422 nor a database error."""

from __future__ import annotations

from typing import Any

import pytest

from slate_common.openapi import route_key


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


#: The family's writes that take a JSON body (method, path as the OpenAPI names it).
WRITES = [
    ("post", "/data/projects/{project_id}/team"),
    ("put", "/data/projects/{project_id}/team/{person_id}"),
    ("post", "/data/projects/{project_id}/settings/asset-types"),
    ("post", "/data/projects/{project_id}/settings/task-types"),
    ("post", "/data/projects/{project_id}/settings/task-status"),
    ("put", "/data/projects/{project_id}/settings/task-status/{task_status_id}"),
    ("post", "/data/task-type-links"),
    ("post", "/data/task-status-links"),
    ("post", "/actions/projects/{project_id}/task-type-links/reorder"),
    ("post", "/actions/projects/{project_id}/task-status-links/reorder"),
    ("post", "/actions/task-types/reorder"),
    ("post", "/data/projects/{project_id}/asset-types/{asset_type_id}/assets/new"),
    ("post", "/data/projects/{project_id}/episodes"),
    ("post", "/data/projects/{project_id}/sequences"),
    ("post", "/data/projects/{project_id}/shots"),
    ("post", "/data/projects/{project_id}/settings/batch"),
    ("put", "/data/shots/{shot_id}"),
    ("post", "/actions/assets/share"),
    ("post", "/actions/projects/{project_id}/assets/share"),
    ("post", "/actions/projects/{project_id}/asset-types/{asset_type_id}/assets/share"),
    ("post", "/actions/projects/{project_id}/delete-entities"),
    ("put", "/data/projects/{project_id}/entities/{entity_id}/casting"),
    ("put", "/data/projects/{project_id}/entities/casting"),
    ("put", "/data/projects/{project_id}/entities/casting/assets/{asset_id}"),
    ("put", "/data/assets/{asset_id}/casting"),
    ("post", "/data/entities/guess-from-path"),
    ("post", "/data/entities/guess_from_path"),
]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(document, document["components"]["schemas"][ref.rsplit("/", 1)[1]])
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _resolve(document, option)
    return schema


async def test_every_write_documents_its_body(client) -> None:  # type: ignore[no-untyped-def]
    document = await ok(await client.get("/openapi.json"))
    paths = {route_key(method, path): item[method] for path, item in document["paths"].items()
             for method in item if method in ("post", "put")}
    shapes = {}
    for method, path in WRITES:
        operation = paths[route_key(method, path)]
        schema = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
        shapes[path] = schema
        assert schema.get("type") in ("object", "array") or "properties" in schema, (path, schema)
    assert shapes["/data/projects/{project_id}/team"]["required"] == ["person_id"]
    assert shapes["/data/projects/{project_id}/team"]["properties"]["person_id"]["format"] == "uuid"
    assert shapes["/actions/projects/{project_id}/delete-entities"]["items"] == {"format": "uuid", "type": "string"}
    casting = shapes["/data/projects/{project_id}/entities/{entity_id}/casting"]
    assert casting["type"] == "array" and casting["items"]["required"] == ["asset_id", "nb_occurences"]
    shot = shapes["/data/projects/{project_id}/shots"]
    assert shot["required"] == ["name"] and shot["properties"]["name"]["maxLength"] == 160
    assert shot["properties"]["nb_frames"]["anyOf"][0]["maximum"] == 2**31 - 1
    assert shapes["/data/projects/{project_id}/settings/task-status/{task_status_id}"]["required"] == [
        "is_client_allowed"]
    # sharing a project's assets takes no body at all, as Zou
    share = paths[route_key("post", "/actions/projects/{project_id}/assets/share")]
    assert share["requestBody"].get("required", False) is False


async def test_bodies_the_schema_allows_are_taken(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory()
    h = signer.headers()
    seq = prod.ids["sequence"]
    shot = await ok(await client.post(f"/data/projects/{prod.id}/shots",
                                      json={"name": "SH900", "sequence_id": seq, "nb_frames": "48",
                                            "data": {"fps": 24}, "unknown": [1]}, headers=h), 201)
    assert (shot["name"], shot["parent_id"], shot["nb_frames"], shot["data"]) == ("SH900", seq, 48, {"fps": 24})
    changed = await ok(await client.put(f"/data/shots/{shot['id']}", json={"nb_frames": 12, "description": "d"},
                                        headers=h))
    assert (changed["nb_frames"], changed["description"], changed["name"]) == (12, "d", "SH900")
    project = await ok(await client.post(f"/data/projects/{prod.id}/settings/batch", json={
        "task_types": [{"task_type_id": prod.ids["layout"], "priority": 7}], "task_status_ids": [],
    }, headers=h))
    assert project["id"] == prod.id
    links = await ok(await client.get(f"/data/projects/{prod.id}/task-types", headers=h))
    assert prod.ids["layout"] in [t["id"] for t in links]
    # no body: every asset of the project (admins), as Zou
    shared = await ok(await client.post(f"/actions/projects/{prod.id}/assets/share", headers=h))
    assert [a["id"] for a in shared] == [prod.ids["asset"]] and shared[0]["is_shared"] is True
    unshared = await ok(await client.post(f"/actions/projects/{prod.id}/assets/share", json={"is_shared": "false"},
                                          headers=h))
    assert unshared[0]["is_shared"] is False
    ids = await ok(await client.post(f"/actions/projects/{prod.id}/delete-entities", json=[shot["id"]], headers=h))
    assert ids == [shot["id"]]


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/data/projects/{pid}/shots", {"name": "SH901", "nb_frames": 2**31}, "nb_frames"),
    ("/data/projects/{pid}/shots", {"name": "x" * 161}, "name"),
    ("/data/projects/{pid}/shots", {"name": "   "}, "name"),
    ("/data/projects/{pid}/shots", {"name": "SH902", "data": [1]}, "data"),
    ("/data/projects/{pid}/settings/task-types", {"task_type_id": "{layout}", "priority": "first"}, "priority"),
    ("/data/projects/{pid}/settings/task-types", {"priority": 2}, "task_type_id"),
    ("/data/task-status-links", {"project_id": "{pid}", "task_status_id": "{wip}", "roles_for_board": ["boss"]},
     "roles_for_board.0"),
])
async def test_bad_bodies_are_zous_400_and_change_nothing(client, signer, production_factory, path, body,
                                                          field) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory()
    h = signer.headers()
    names = {"pid": prod.id, "layout": prod.ids["layout"], "wip": prod.ids["status"]["wip"]}
    body = {k: v.format(**names) if isinstance(v, str) else v for k, v in body.items()}
    before = await ok(await client.get(f"/data/projects/{prod.id}/shots", headers=h))
    r = await client.post(path.format(**names), json=body, headers=h)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["error"] is True and answer["message"] == "Validation error.", answer
    assert [e["field"] for e in answer["data"]["errors"]] == [field], answer
    assert await ok(await client.get(f"/data/projects/{prod.id}/shots", headers=h)) == before


async def test_bodies_that_are_not_objects(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory()
    h = signer.headers()
    team = f"/data/projects/{prod.id}/team"
    for content, kind in ((b"not json", "application/json"), (b"[1, 2]", "application/json"), (b"", "")):
        r = await client.post(team, content=content, headers={**h, "content-type": kind} if kind else h)
        assert r.status_code == 400 and r.json()["error"] is True, (content, r.text)
    r = await client.post(team, json={"person_id": "nope"}, headers=h)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "Malformed ID.", "data": None}
    r = await client.post(team, json={"person_id": None}, headers=h)
    assert r.json()["data"]["errors"] == [{"field": "person_id", "message": "Field required"}]


async def test_null_and_empty_required_fields_are_field_required(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory()
    h = signer.headers()
    r = await client.post("/data/entities/guess-from-path", json={"project_id": prod.id, "file_path": ""}, headers=h)
    assert r.status_code == 400 and r.json()["data"]["errors"] == [{"field": "file_path", "message": "Field required"}]
    status = prod.ids["status"]["wip"]
    await ok(await client.post(f"/data/projects/{prod.id}/settings/task-status", json={"task_status_id": status},
                               headers=h), 201)
    r = await client.put(f"/data/projects/{prod.id}/settings/task-status/{status}",
                         json={"is_client_allowed": None}, headers=h)
    assert r.status_code == 400
    assert r.json()["data"]["errors"] == [{"field": "is_client_allowed", "message": "Field required"}]
