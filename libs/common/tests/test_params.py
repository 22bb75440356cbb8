"""The request toolkit answers bad input as Zou does (the bodies are Zou's, observed)."""

from __future__ import annotations

import uuid
from typing import Annotated

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import Field

from slate_common.errors import BadRequest, install_error_handlers
from slate_common.params import (
    Body,
    JsonObject,
    Page,
    ProjectId,
    RequiredId,
    body_model,
    documented_body,
    flag,
    optional_id,
    page_envelope,
    page_of,
    parse_id,
    required_id,
    validate,
)


def test_flag_is_true_for_true_only() -> None:
    assert [flag(v) for v in ("true", "True", "TRUE")] == [True, True, True]
    assert [flag(v) for v in ("1", "yes", "on", "false", "0", "")] == [False] * 6
    assert flag(None) is False and flag(None, True) is True


def test_ids() -> None:
    some = uuid.uuid4()
    assert parse_id(str(some)) == some and parse_id(some) is some
    with pytest.raises(BadRequest) as bad:
        parse_id("zz")
    assert bad.value.body() == {"error": True, "message": "Malformed ID.", "data": None}
    with pytest.raises(BadRequest) as bad:
        parse_id(None, "Invalid project_id")
    assert bad.value.body()["message"] == "Invalid project_id"
    assert optional_id("") is None and optional_id(None) is None and optional_id(str(some)) == some
    with pytest.raises(BadRequest) as bad:
        required_id("", "person_id")
    assert bad.value.body() == {"error": True, "message": "Validation error.",
                                "data": {"errors": [{"field": "person_id", "message": "Field required"}]}}


def test_pages() -> None:
    assert page_of({}) is None
    page = page_of({"page": "2", "limit": "10"})
    assert page == Page(2, 10) and page.offset == 10
    assert page_of({"page": "0"}) == Page(1, 100)
    with pytest.raises(BadRequest):
        page_of({"page": "x"})
    assert page_envelope(["a"], 21, Page(3, 10), stats={}) == {
        "data": ["a"], "total": 21, "nb_pages": 3, "limit": 10, "offset": 20, "page": 3, "stats": {}}
    assert page_envelope([], 0, Page(1, 10))["nb_pages"] == 0


class CastIn(Body):
    entity_ids: Annotated[list[uuid.UUID], Field(min_length=1)]
    person_id: RequiredId
    nb: int | None = None


def test_body_model_errors_in_zous_shape() -> None:
    with pytest.raises(BadRequest) as bad:
        validate(CastIn, {"entity_ids": [], "person_id": None, "ignored": 1})
    assert bad.value.body()["message"] == "Validation error."
    assert bad.value.body()["data"]["errors"] == [
        {"field": "entity_ids", "message": "List should have at least 1 item after validation, not 0"},
        {"field": "person_id", "message": "Field required"},
    ]
    person = uuid.uuid4()
    parsed = validate(CastIn, {"entity_ids": [str(person)], "person_id": str(person), "other": "x"})
    assert parsed.person_id == person and parsed.entity_ids == [person] and parsed.nb is None


async def test_routes_answer_400_never_422() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/projects/{project_id}/cast")
    async def cast(project_id: ProjectId, body: Annotated[CastIn, body_model(CastIn)]) -> dict[str, str]:
        return {"project_id": str(project_id), "person_id": str(body.person_id)}

    @app.post("/echo")
    async def echo(body: JsonObject) -> dict[str, int]:
        return {"keys": len(body)}

    person, project = uuid.uuid4(), uuid.uuid4()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        ok = await client.post(f"/projects/{project}/cast", json={"entity_ids": [str(person)], "person_id": str(person)})
        assert ok.status_code == 200 and ok.json() == {"project_id": str(project), "person_id": str(person)}
        bad_id = await client.post("/projects/nope/cast", json={})
        assert (bad_id.status_code, bad_id.json()) == (400, {"error": True, "message": "Malformed ID.", "data": None})
        bad_body = await client.post(f"/projects/{project}/cast", json={"entity_ids": ["x"], "person_id": str(person)})
        assert bad_body.status_code == 400
        assert bad_body.json()["data"]["errors"][0]["field"] == "entity_ids.0"
        not_json = await client.post("/echo", content=b"{nope", headers={"content-type": "application/json"})
        assert not_json.status_code == 400 and not_json.json()["error"] is True
        not_object = await client.post("/echo", json=[1])
        assert (not_object.status_code, not_object.json()["message"]) == (400, "A JSON object is expected.")


class _Query(Body):
    query: str
    path: RequiredId


class _Many(Body):
    items: list[_Query]


def test_a_field_named_like_a_location_keeps_its_name() -> None:
    """FastAPI's errors start with where the value was (body, query, path); a model's own
    start with the field, which may be called ``query`` or ``path``."""
    with pytest.raises(BadRequest) as bad:
        validate(_Query, {})
    assert bad.value.body()["data"]["errors"] == [{"field": "query", "message": "Field required"},
                                                  {"field": "path", "message": "Field required"}]


async def test_documented_body_is_in_the_openapi_and_read_by_the_route() -> None:
    """A route that reads its body itself (JsonObject + validate, after a permission check)
    documents it with documented_body: nested models inlined, ids as uuids."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/many", openapi_extra=documented_body(_Many))
    async def many(body: JsonObject) -> dict[str, int]:
        return {"n": len(validate(_Many, body).items)}

    @app.post("/ids", openapi_extra=documented_body(list[uuid.UUID], required=False))
    async def ids(body: JsonObject) -> dict[str, int]:
        return {"n": 0}

    paths = app.openapi()["paths"]
    schema = paths["/many"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    item = schema["properties"]["items"]["items"]
    assert schema["required"] == ["items"] and item["required"] == ["query", "path"]
    assert item["properties"]["path"] == {"format": "uuid", "title": "Path", "type": "string"}
    assert "$ref" not in str(schema) and "$defs" not in str(schema)
    assert paths["/many"]["post"]["requestBody"]["required"] is True
    ids_body = paths["/ids"]["post"]["requestBody"]
    assert ids_body["required"] is False
    assert ids_body["content"]["application/json"]["schema"] == {"items": {"format": "uuid", "type": "string"},
                                                                 "type": "array"}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        ok = await client.post("/many", json={"items": [{"query": "q", "path": str(uuid.uuid4())}]})
        assert (ok.status_code, ok.json()) == (200, {"n": 1})
        bad = await client.post("/many", json={"items": [{"query": "q"}]})
        assert bad.status_code == 400
        assert bad.json()["data"]["errors"] == [{"field": "items.0.path", "message": "Field required"}]
