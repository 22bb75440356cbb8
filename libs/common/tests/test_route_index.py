"""The route index (slate_common.route_index) picks the route FastAPI's own scan picks,
and a request answers the same with it as without it.

- Every service app: for real paths made from every route's template (parameters filled
  with ids, words, and the literal segments other routes have at that place, so that
  first-match order between a literal and a parameter route is exercised), with and
  without a trailing slash or an extra segment, for every method: the index's choice is
  FastAPI's first full match (found with FastAPI's own ``matches`` and
  ``_IncludedRouter._match``), and every route FastAPI would match fully or partly is
  among the index's candidates. 404 and 405 answers through the real app are the same
  with and without the index.
- A small app with what the services do not have (nested included routers, a router
  included twice, path/int/uuid converters, a parameter inside a segment, mounts at the
  top and inside a router, top-level routes after included ones, form limits, routes
  added after the first request): whole answers compared with and without the index,
  including what the endpoint sees of the scope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute, _IncludedRouter, iter_route_contexts
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

from slate_common import route_index
from slate_common.route_index import RouteIndex

SAMPLE_ID = "0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def http_scope(method: str, path: str, root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": root_path,
            "query_string": b"", "headers": [], "scheme": "http", "server": ("svc", 80), "client": ("c", 1),
            "http_version": "1.1", "asgi": {"version": "3.0"}}


def fastapi_full_match(app: FastAPI, scope: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]] | None:
    """The route FastAPI's router runs for a full match, by its own matching: the top
    router's loop, then each included router's ``_match``; None without a full match."""
    for route in app.router.routes:
        match, child_scope = route.matches(scope)
        if match != Match.FULL:
            continue
        context = None
        while isinstance(route, _IncludedRouter):
            match, child_scope, route, context = route._match(scope)
            assert match == Match.FULL
        return route, context, child_scope
    return None


def index_of(app: FastAPI) -> RouteIndex:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex), "create_service_app installs the route index"
    return index


# --- every service app ----------------------------------------------------------------


def service_apps() -> Iterator[tuple[str, FastAPI]]:
    from slate_auth.main import create_app as auth_app
    from slate_import_export.main import create_app as import_export_app
    from slate_media.main import create_app as media_app
    from slate_planning.main import create_app as planning_app
    from slate_production.main import create_app as production_app

    for name, factory in (("production", production_app), ("auth", auth_app), ("media", media_app),
                          ("planning", planning_app), ("import-export", import_export_app)):
        yield name, factory()


SERVICE_APPS = dict(service_apps())


def templates(app: FastAPI) -> list[str]:
    out = []
    for context in iter_route_contexts(app.routes):
        path = context.path_format
        if isinstance(path, str):
            out.append(path)
    return out


def concrete_paths(app: FastAPI) -> list[str]:
    """Real paths for every route: its parameters filled with an id, then each parameter
    in turn with a word, a number, a path, and every literal segment a route has at the
    same place after the same segment (a literal route next to a parameter route)."""
    formats = templates(app)
    siblings: dict[tuple[int, str], set[str]] = {}
    for path in formats:
        segments = path.split("/")
        for depth, segment in enumerate(segments):
            if "{" not in segment and depth:
                siblings.setdefault((depth, segments[depth - 1]), set()).add(segment)
    paths: set[str] = set()
    for path in formats:
        segments = path.split("/")
        base = [re.sub(r"\{[^}]*\}", SAMPLE_ID, segment) for segment in segments]
        variants = [base]
        for depth, segment in enumerate(segments):
            if "{" not in segment:
                continue
            for filler in ("word", "7", "a/b.txt", *sorted(siblings.get((depth, segments[depth - 1]), ()))):
                variant = list(base)
                variant[depth] = re.sub(r"\{[^}]*\}", filler, segment)
                variants.append(variant)
        for variant in variants:
            concrete = "/".join(variant)
            paths.update({concrete, concrete + "/", concrete + "/extra", concrete.rstrip("/") or "/"})
    paths.update({"/", "/nope", "/data", "/data/", "//data/tasks", "/data/tasks\n", "/healthz\n", ""})
    return sorted(paths)


#: Production's sweep is millions of FastAPI route matches (its ~260 routes, every path
#: variant, every method): 15-20 s of CPU by nature, so `make test` runs it, not `make
#: test-fast` (pytest.ini: slow); the other services' sweeps and everything else here run in both.
SWEEPS = [pytest.param(name, marks=pytest.mark.slow) if name == "production" else name for name in sorted(SERVICE_APPS)]


@pytest.mark.parametrize("service", SWEEPS)
def test_index_picks_fastapis_route_for_every_route_of_every_service(service: str) -> None:
    app = SERVICE_APPS[service]
    index = index_of(app)
    index.build()
    paths = concrete_paths(app)
    assert len(paths) > 20
    checked = full = 0
    for path in paths:
        for method in METHODS:
            scope = http_scope(method, path)
            expected = fastapi_full_match(app, dict(scope))
            found = index.resolve(dict(scope))
            if expected is None or "\n" in path:  # FastAPI's scan answers these (a "$" accepts a final newline)
                assert found is None, (method, path, found)
            else:
                full += 1
                assert found is not None, (method, path)
                leaf, child_scope = found
                route, context, expected_child = expected
                assert leaf.route is route and leaf.context is context, (method, path, leaf.route, route)
                assert child_scope == expected_child, (method, path)
            checked += 1
        if path.startswith("/") and "\n" not in path:  # every route that matches at all is a candidate
            candidates = set(index.candidates(path))
            scope = http_scope("GET", path)  # a method changes a full match into a partial one, not a miss
            for leaf in index.leaves:
                if leaf.matches(dict(scope))[0] != Match.NONE:
                    assert leaf.order in candidates, (path, leaf.route)
    assert full > len(templates(app)) // 2  # the paths reach real routes, not only 404s
    assert checked == len(paths) * len(METHODS)


async def answers(app: FastAPI, requests: list[tuple[str, str]], *, indexed: bool) -> list[Any]:
    index = index_of(app)
    app.router.middleware_stack = index if indexed else app.router.app
    try:
        out = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            for method, path in requests:
                response = await client.request(method, path)
                headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "date")}
                out.append((method, path, response.status_code, headers, response.content))
        return out
    finally:
        app.router.middleware_stack = index


@pytest.mark.parametrize("service", sorted(SERVICE_APPS))
async def test_not_found_and_method_not_allowed_answer_as_without_the_index(service: str) -> None:
    app = SERVICE_APPS[service]
    requests = [("GET", "/nope"), ("GET", "/data/nope/x/y/z"), ("PATCH", "/healthz"), ("POST", "/healthz"),
                ("GET", "/healthz/"), ("DELETE", "/openapi.json"), ("GET", "/api/nope"), ("TRACE", "/data/tasks")]
    for path in templates(app):  # a method no route of that path has: 405 (or 404 when shadowed)
        concrete = re.sub(r"\{[^}]*\}", SAMPLE_ID, path)
        requests += [("PATCH", concrete), ("TRACE", concrete), ("GET", concrete + "/x/y/z/w")]
    requests = requests[:400]
    with_index = await answers(app, requests, indexed=True)
    without = await answers(app, requests, indexed=False)
    assert with_index == without
    statuses = {status for _, _, status, _, _ in with_index}
    assert 404 in statuses and 405 in statuses


# --- a small app with every kind of route ---------------------------------------------


def echo(name: str) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        scope = request.scope
        fastapi_scope = scope.get("fastapi", {})
        route = scope.get("route")
        return JSONResponse({
            "name": name,
            "params": {k: str(v) for k, v in request.path_params.items()},
            "route": [id(route), getattr(route, "path", None)],
            "router": scope.get("router") is request.app.router,
            "keys": sorted(scope),
            "fastapi": {k: (v if k == "form_limits" else id(v)) for k, v in fastapi_scope.items()},
            "endpoint": getattr(scope.get("endpoint"), "__name__", None),
            "root_path": scope.get("root_path"),
        })

    endpoint.__name__ = name
    return endpoint


async def mounted_app(scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps({"path": scope["path"], "root_path": scope.get("root_path"),
                       "params": {k: str(v) for k, v in scope.get("path_params", {}).items()},
                       "keys": sorted(scope)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def small_app() -> FastAPI:
    app = FastAPI()
    app.add_api_route("/top/{x}", echo("top"), methods=["GET"])
    app.add_route("/plain", lambda request: PlainTextResponse("plain"), methods=["GET"])

    inner = APIRouter()
    inner.add_api_route("/deep/{x}", echo("deep"), methods=["GET", "POST"])
    inner.routes.append(Mount("/static", app=mounted_app))
    inner.add_api_route("/deep/{x}/{rest:path}", echo("deep_rest"), methods=["GET"])

    items = APIRouter()
    items.add_api_route("/items/{item_id}", echo("item"), methods=["GET"])
    items.add_api_route("/items/special", echo("special_get"), methods=["GET"])  # shadowed for GET
    items.add_api_route("/items/special", echo("special_put"), methods=["PUT"])
    items.add_api_route("/items/", echo("items_slash"), methods=["POST"])
    items.add_api_route("/files/{p:path}", echo("files"), methods=["GET"])
    items.add_api_route("/files/{p:path}/meta", echo("files_meta"), methods=["GET"])  # never reached
    items.add_api_route("/n/{n:int}", echo("int"), methods=["GET"])
    items.add_api_route("/n/{name}", echo("name"), methods=["GET"])
    items.add_api_route("/f/{v:float}", echo("float"), methods=["GET"])
    items.add_api_route("/u/{u:uuid}", echo("uuid"), methods=["GET"])
    items.add_api_route("/doc/{name}.json", echo("doc_json"), methods=["GET"])
    items.add_api_route("/doc/{name}", echo("doc"), methods=["GET"])
    items.include_router(inner, prefix="/b")
    app.include_router(items, prefix="/a")
    app.include_router(items, prefix="/a2")

    other = APIRouter()
    other.add_api_route("/a/items/{item_id}", echo("other_delete"), methods=["DELETE"])
    other.add_api_route("/a/items/{item_id}", echo("other_get"), methods=["GET"])  # shadowed by /a's
    other.add_api_route("/", echo("root"), methods=["GET"])
    app.include_router(other)
    app.add_api_route("/after/{x}", echo("after_included"), methods=["GET"])
    app.mount("/mounted", mounted_app)
    app.add_api_route("/mounted/shadowed", echo("shadowed_by_mount"), methods=["GET"])
    return app


SMALL_PATHS = [
    "/top/1", "/top/", "/top", "/plain", "/plain/", "/a/items/1", "/a/items/special", "/a/items/", "/a/items",
    "/a/files/x", "/a/files/x/y/meta", "/a/files/", "/a/files", "/a/n/12", "/a/n/x12", "/a/f/1.5", "/a/f/x",
    f"/a/u/{SAMPLE_ID}", "/a/u/nope", "/a/doc/x.json", "/a/doc/x.yaml", "/a/b/deep/1", "/a/b/deep/1/r/s",
    "/a/b/static/x/y", "/a/b/static", "/a/b/static/", "/a2/items/special", "/a2/b/deep/2", "/a2/b/static/z",
    "/", "/after/3", "/mounted/x", "/mounted", "/mounted/", "/mounted/shadowed", "/nope", "/a/nope", "/a/items/1/x",
    "//a/items/1", "/late/1", "/a/late",
]


async def small_answers(app: FastAPI, *, indexed: bool) -> list[Any]:
    return await answers(app, [(m, p) for p in SMALL_PATHS for m in ("GET", "PUT", "POST", "DELETE", "HEAD")],
                         indexed=indexed)


async def test_small_app_answers_as_without_the_index() -> None:
    app = small_app()
    index = route_index.install(app)
    assert index is not None and route_index.install(app) is index  # once
    with_index = await small_answers(app, indexed=True)
    assert with_index == await small_answers(app, indexed=False)
    by_request = {(m, p): (status, body) for m, p, status, _, body in with_index}
    # first match wins, across routers and against later literal routes
    assert json.loads(by_request["GET", "/a/items/special"][1])["name"] == "item"
    assert json.loads(by_request["PUT", "/a/items/special"][1])["name"] == "special_put"
    assert json.loads(by_request["DELETE", "/a/items/1"][1])["name"] == "other_delete"
    assert json.loads(by_request["GET", "/a/files/x/y/meta"][1])["params"] == {"p": "x/y/meta"}
    assert json.loads(by_request["GET", "/a/n/12"][1])["name"] == "int"
    assert json.loads(by_request["GET", "/a/doc/x.json"][1])["name"] == "doc_json"
    assert json.loads(by_request["GET", "/a2/b/static/z"][1])["path"] == "/a2/b/static/z"
    assert json.loads(by_request["GET", "/mounted/shadowed"][1])["path"] == "/mounted/shadowed"
    assert by_request["POST", "/a/files/x"][0] == 405 and by_request["GET", "/nope"][0] == 404
    assert by_request["GET", "/a/items/"][0] == 405 and by_request["GET", "/a/items"][0] == 307  # redirect: the scan
    for method, path in by_request:  # the index served what it could
        scope = http_scope(method, path)
        assert (index.resolve(dict(scope)) is None) == (fastapi_full_match(app, dict(scope)) is None), (method, path)

    # routes added after the first request: the index is rebuilt
    late = APIRouter()
    late.add_api_route("/late/{x}", echo("late"), methods=["GET"])
    app.include_router(late)
    items_router = next(r for r in app.router.routes if isinstance(r, _IncludedRouter)).original_router
    items_router.add_api_route("/late", echo("items_late"), methods=["GET"])
    with_index = await small_answers(app, indexed=True)
    assert with_index == await small_answers(app, indexed=False)
    by_request = {(m, p): body for m, p, _, _, body in with_index}
    assert json.loads(by_request["GET", "/late/1"])["name"] == "late"
    assert json.loads(by_request["GET", "/a/late"])["name"] == "items_late"


async def test_root_path_and_form_limits_are_kept() -> None:
    app = FastAPI(root_path="/prefix")
    router = APIRouter()
    router.add_api_route("/x/{y}", echo("x"), methods=["GET"])
    app.include_router(router, prefix="/r", form_limits={"max_files": 3})
    route_index.install(app)
    requests = [("GET", "/prefix/r/x/1"), ("GET", "/r/x/1"), ("GET", "/prefix/nope")]
    with_index = await answers(app, requests, indexed=True)
    assert with_index == await answers(app, requests, indexed=False)
    body = json.loads(with_index[0][4])
    assert body["name"] == "x" and body["fastapi"]["form_limits"] == {"max_files": 3}


def test_every_route_kind_of_the_services_is_indexed_by_its_path() -> None:
    """Only host routes would be tried on every path; the services have none, and their
    routes are FastAPI's or Starlette's (the index's dispatch repeats FastAPI's steps)."""
    for name, app in SERVICE_APPS.items():
        index = index_of(app)
        index.build()
        assert not index._everywhere, name
        assert all(isinstance(leaf.route, (APIRoute, Mount)) or type(leaf.route).__name__ == "Route"
                   for leaf in index.leaves), name
