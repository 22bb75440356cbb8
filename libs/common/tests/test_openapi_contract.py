"""What every service's OpenAPI document promises (slate_common.openapi): the statuses every
route can answer with Zou's error body, path ids as UUIDs, every template parameter
declared, the success statuses and body shapes observed on Zou; and the observed schemas
are what the differential tool's fixture gives (tools/gen_response_schemas.py --check)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Request
from starlette.responses import Response

from slate_common.errors import install_error_handlers
from slate_common.openapi import COMMON_ERRORS, ZOU_ERROR_REF, install, observed_responses, route_key
from slate_common.params import ProjectId, path_id
from slate_common.serialization import json_response

ROOT = Path(__file__).resolve().parents[3]


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install(app)

    @app.get("/data/projects/{project_id}/preview-files")
    async def listing(project_id: ProjectId) -> Response:
        return json_response([])

    @app.get("/data/entities/{entity_id}/preview-files")
    async def by_hand(request: Request) -> Response:  # reads its parameter itself
        return json_response({"id": request.path_params["entity_id"]})

    @app.get("/data/things/{thing_id}/{name}")
    async def typed(thing_id: Annotated[uuid.UUID, path_id("thing_id")], name: str, limit: int = 0) -> Any:
        return {"name": name}

    return app


def test_every_operation_documents_the_common_errors_in_zous_shape() -> None:
    document = _app().openapi()
    assert document["components"]["schemas"]["ZouError"]["anyOf"] == [
        {"required": ["message"]}, {"required": ["msg"]}, {"required": ["error"]}]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for item in document["paths"].values():
        responses = item["get"]["responses"]
        for status in COMMON_ERRORS:
            assert responses[status]["content"]["application/json"]["schema"] == {"$ref": ZOU_ERROR_REF}, status
        assert set(COMMON_ERRORS) == {"400", "401", "403", "404", "422", "503"}


def test_path_parameters_are_declared_and_ids_are_uuids() -> None:
    paths = _app().openapi()["paths"]
    by_hand = paths["/data/entities/{entity_id}/preview-files"]["get"]["parameters"]
    assert by_hand == [{"name": "entity_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]
    typed = {p["name"]: p for p in paths["/data/things/{thing_id}/{name}"]["get"]["parameters"]}
    assert typed["thing_id"]["schema"]["format"] == "uuid"
    assert "format" not in typed["name"]["schema"]  # not an id
    assert typed["limit"]["in"] == "query"
    project = paths["/data/projects/{project_id}/preview-files"]["get"]["parameters"]
    assert [(p["name"], p["schema"]["format"]) for p in project] == [("project_id", "uuid")]


def test_the_observed_shape_replaces_a_free_form_body() -> None:
    document = _app().openapi()
    observed = observed_responses()[route_key("GET", "/data/projects/{project_id}/preview-files")]
    assert set(observed) == {"200"}  # Zou answers this listing 200 with a list
    schema = document["paths"]["/data/projects/{project_id}/preview-files"]["get"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"] == observed["200"]
    # a list for every role (one shape, or the union of the roles' shapes)
    shapes = observed["200"].get("anyOf", [observed["200"]])
    assert shapes and all(shape["type"] == ["array", "null"] for shape in shapes)
    # a route Zou does not have keeps FastAPI's free-form body
    free = document["paths"]["/data/things/{thing_id}/{name}"]["get"]["responses"]["200"]
    assert set(free["content"]["application/json"]["schema"]) <= {"title"}  # free-form


async def test_a_malformed_id_is_still_the_400_the_document_promises() -> None:
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/data/things/not-an-id/x")
        assert r.status_code == 400
        assert r.json() == {"error": True, "message": "Malformed ID.", "data": None}
        r = await client.get(f"/data/entities/{uuid.UUID(int=1)}/preview-files")
        assert r.status_code == 200  # the document changed, not the route
        r = await client.get("/openapi.json")
        assert r.status_code == 200 and "ZouError" in r.json()["components"]["schemas"]


def test_observed_schemas_are_what_the_fixture_gives() -> None:
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_response_schemas.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
