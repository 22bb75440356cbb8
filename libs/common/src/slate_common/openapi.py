"""What every service's OpenAPI document promises beyond what its routes declare one by one.

FastAPI builds each service's document from its routes; this module finishes it, once,
when the document is first asked for (``install``), so that a generated client or a
schema-driven test (``tests/fuzz``) can take it as a contract:

- **The statuses every route can answer**, with Zou's error body: 400 (a malformed id, a
  bad body: Slate renders validation errors as Zou's 400, never FastAPI's 422), 401 (no or
  a revoked token), 403 (the role may not), 404 (nothing there, or nothing the caller may
  see), 422 (a token that cannot be decoded, as Zou answers) and 503 (the database or a
  service the request needs is unavailable). FastAPI's own 422 ``HTTPValidationError``,
  which Slate never answers, is replaced by Zou's.
- **Success statuses and response schemas observed on Zou** (``openapi_responses.json``,
  written by ``tools/gen_response_schemas.py`` from the differential tool's recorded shapes,
  less the places where Slate is known to differ): each route documents the 2xx/3xx
  statuses Zou answers it with, and, where the route does not declare a response model of
  its own, the shape of its JSON body (keys, types). See docs/decisions.md.
- **Path parameters**: every ``{name}`` of a path template is declared (a route that reads
  ``request.path_params`` itself declares nothing), and every ``*_id`` one is a UUID
  (``format: uuid``): a malformed id is refused with a 400, so a generated non-UUID id is
  expected to be refused.

Nothing here changes what a route answers.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from fastapi import FastAPI

#: Zou's error bodies: ``{"error": true, "message": ...}`` (most), ``{"message": ...}``
#: (a value the database could not take), ``{"msg": ...}`` (token problems).
ZOU_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ZouError",
    "type": "object",
    "properties": {
        "error": {"type": ["boolean", "string"]},  # a string on the SSO routes: {"error": "OIDC is not enabled."}
        "message": {"type": "string"},
        "msg": {"type": "string"},
        "data": {},
    },
    "anyOf": [{"required": ["message"]}, {"required": ["msg"]}, {"required": ["error"]}],
}
ZOU_ERROR_REF = "#/components/schemas/ZouError"

#: Status -> description, documented on every operation that does not document it itself.
COMMON_ERRORS: dict[str, str] = {
    "400": "Bad request: a malformed id, parameter or body (Zou's error body)",
    "401": "No token, or a token expired or revoked",
    "403": "The caller's role may not do this",
    "404": "Nothing there, or nothing the caller may see",
    "422": "A token that cannot be decoded (Zou's answer for it)",
    "503": "The database or a service this request needs is unavailable; try again",
}

_TEMPLATE_PARAM = re.compile(r"{([^}/]+)}")
_METHODS = frozenset(("get", "put", "post", "delete", "patch", "head", "options", "trace"))


@functools.cache
def observed_responses() -> dict[str, dict[str, Any]]:
    """``{"GET /data/projects/{}": {"200": schema or None}}`` (see the module docstring)."""
    text = resources.files("slate_common").joinpath("openapi_responses.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def route_key(method: str, template: str) -> str:
    """``GET /data/projects/{}``: a route whatever its parameters are named."""
    return f"{method.upper()} {_TEMPLATE_PARAM.sub('{}', template)}"


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Add the common error statuses, the observed success statuses and schemas, and the
    path parameters' declarations to ``document`` (in place; returned for convenience)."""
    observed = observed_responses()
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ZouError"] = ZOU_ERROR_SCHEMA
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    error_content = {"application/json": {"schema": {"$ref": ZOU_ERROR_REF}}}
    for template, item in (document.get("paths") or {}).items():
        names = _TEMPLATE_PARAM.findall(template)
        for method, operation in item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            _declare_path_parameters(operation, names)
            responses = operation.setdefault("responses", {})
            _document_observed(responses, observed.get(route_key(method, template)) or {}, error_content)
            for status, description in COMMON_ERRORS.items():
                current = responses.get(status)
                if current is None or _is_fastapi_validation(current):
                    responses[status] = {"description": description, "content": error_content}
            for status, response in responses.items():  # a route's own refusals (429 on a login...)
                if status.startswith("4") and isinstance(response, dict) and "content" not in response:
                    response["content"] = error_content
    return document


#: What FastAPI documents for the body of a route whose response class is not a
#: ``JSONResponse`` (Slate's ``ZouJSONResponse``): a string, which no JSON route answers.
_NOT_DECLARED = {"type": "string"}


def _document_observed(responses: dict[str, Any], observed: dict[str, Any], error_content: dict[str, Any]) -> None:
    for content in (r.get("content") or {} for r in responses.values() if isinstance(r, dict)):
        body = content.get("application/json")
        if isinstance(body, dict) and body.get("schema") == _NOT_DECLARED:
            body["schema"] = {}  # a JSON body the route declares no model for
    for status, schema in observed.items():
        if schema == "error":  # a refusal of this route's own (405 on a picture's .png...)
            responses.setdefault(status, {"description": "As Zou answers it", "content": error_content})
            continue
        current = responses.get(status)
        if current is None:
            current = responses[status] = {"description": "As Zou answers it"}
        if schema is None:
            continue
        content = current.setdefault("content", {}).setdefault("application/json", {})
        if not set(content.get("schema") or {}) - {"title", "description"}:  # free-form: no model declared
            content["schema"] = schema


def _declare_path_parameters(operation: dict[str, Any], names: list[str]) -> None:
    parameters = operation.setdefault("parameters", [])
    declared = {p.get("name") for p in parameters if isinstance(p, dict) and p.get("in") == "path"}
    for name in names:
        if name not in declared:
            parameters.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    for parameter in parameters:
        if isinstance(parameter, dict) and parameter.get("in") == "path" and str(parameter.get("name")).endswith("_id"):
            schema = parameter.setdefault("schema", {})
            if schema.get("type", "string") == "string":
                schema["type"] = "string"
                schema["format"] = "uuid"
    if not parameters:
        del operation["parameters"]


def _is_fastapi_validation(response: Any) -> bool:
    schema = (((response or {}).get("content") or {}).get("application/json") or {}).get("schema") or {}
    return str(schema.get("$ref", "")).endswith("/HTTPValidationError")


def install(app: FastAPI) -> None:
    """Build ``app``'s document as FastAPI does, then :func:`finish` it, once."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
