"""Routes the gateway answers itself: ``/``, ``/config``, ``/status*``, the
aggregated OpenAPI document, the docs page and the gateway's own health.

Handlers take a :class:`LocalContext` (the narrow view of the gateway they need)
and a :class:`LocalRequest`, and return ``(status, headers, body)`` (or an
awaitable of it); the server adds framing, request id and CORS headers.  This
module never imports the server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import orjson

from . import __version__
from .config import PublicConfig
from .errors import FORBIDDEN_MESSAGE, NOT_FOUND_MESSAGE, error_body
from .errors import JSON_HEADERS as JSON
from .upstream import Upstream, fetch

Response = tuple[int, list[tuple[bytes, bytes]], bytes]


class LocalContext(Protocol):
    """What a local handler may see of the gateway (the server's Gateway is one)."""

    upstreams: Mapping[str, Upstream]
    public_config: PublicConfig
    openapi_bytes: bytes

    @property
    def route_count(self) -> int: ...

    def missing_upstreams(self) -> list[str]: ...

    def render_metrics(self) -> bytes: ...


class LocalRequest:
    """The parts of a request a local handler reads."""

    __slots__ = ("headers", "method", "path")

    def __init__(self, method: bytes, path: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.method = method
        self.path = path
        self.headers = headers

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


Handler = Callable[[LocalContext, LocalRequest], Response | Awaitable[Response]]

API_NAME = "Slate"


def json_response(data: Any, status: int = 200) -> Response:
    return status, JSON, orjson.dumps(data)


def index(gw: LocalContext, req: LocalRequest) -> Response:
    """Identify the API, in Zou's shape."""
    return json_response({"api": API_NAME, "version": __version__})


def config(gw: LocalContext, req: LocalRequest) -> Response:
    """Public settings Kitsu reads at start (same keys as Zou)."""
    return json_response(dataclasses.asdict(gw.public_config))


async def _services_ready(gw: LocalContext) -> dict[str, bool]:
    async def ready(up: Any) -> bool:
        try:
            status, _ = await fetch(up, "/readyz", timeout=2.0)
            return status == 200
        except Exception:  # noqa: BLE001 -- any failure means "not ready"
            return False

    ups = list(gw.upstreams.values())
    results = await asyncio.gather(*(ready(u) for u in ups))
    return {u.name: r for u, r in zip(ups, results)}


async def _status_data(gw: LocalContext) -> dict[str, Any]:
    services = await _services_ready(gw)
    all_up = bool(services) and all(services.values())
    return {
        "name": API_NAME,
        "version": __version__,
        # Slate has no single database: "up" means every service reports ready
        # (each checks its own PostgreSQL database and NATS connection).
        "database-up": all_up,
        "key-value-store-up": all_up,
        "event-stream-up": all_up,
        "job-queue-up": services.get("media", False),
        "indexer-up": False,
        "services": services,
    }


async def status(gw: LocalContext, req: LocalRequest) -> Response:
    """Health of the whole suite, in Zou's shape (plus per-service readiness)."""
    return json_response(await _status_data(gw))


async def status_txt(gw: LocalContext, req: LocalRequest) -> Response:
    """The same as /status, as ``key: value`` lines."""
    data = await _status_data(gw)
    lines = [f"name: {data['name']}", f"version: {data['version']}"]
    for key in ("database-up", "event-stream-up", "key-value-store-up", "job-queue-up",
                "indexer-up"):
        lines.append(f"{key}: {'up' if data[key] else 'down'}")
    # Zou's content type for it, word for word ("text", no subtype)
    return 200, [(b"content-type", b"text")], ("\n".join(lines) + "\n").encode()


async def status_influx(gw: LocalContext, req: LocalRequest) -> Response:
    """The /status flags as 0/1 with a timestamp, for time-series collectors."""
    data = await _status_data(gw)
    body: dict[str, float] = {key: int(bool(data[key])) for key in (
        "database-up", "key-value-store-up", "event-stream-up", "job-queue-up", "indexer-up")}
    body["time"] = time.time()
    return json_response(body)


def status_resources(gw: LocalContext, req: LocalRequest) -> Response:
    """CPU, load and memory of the gateway's host, in Zou's shape."""
    import psutil  # type: ignore[import-untyped]

    load = os.getloadavg()
    mem = psutil.virtual_memory()
    return json_response({
        "date": datetime.datetime.now().isoformat(),
        "cpu": {
            "percent": psutil.cpu_percent(percpu=True),
            "loadavg": {"last 1 min": load[0], "last 5 min": load[1], "last 10 min": load[2]},
        },
        "memory": {"total": mem.total, "used": mem.used, "available": mem.available,
                   "percent": mem.percent},
        "jobs": {"running_jobs": 0},
    })


def openapi(gw: LocalContext, req: LocalRequest) -> Response:
    """The aggregated OpenAPI document of every service plus the gateway."""
    return 200, JSON, gw.openapi_bytes


#: The docs page: Swagger UI from the gateway's own copy (``/docs/<file>``), so it works
#: with no internet. Links are relative, so it works at ``/apidocs/`` and ``/api/apidocs/``.
DOCS_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Slate API</title>
<link rel="stylesheet" href="../docs/swagger-ui.css">
<link rel="icon" type="image/png" href="../docs/favicon-32x32.png" sizes="32x32"></head>
<body><noscript>The API specification is at <a href="../openapi.json">openapi.json</a>.
</noscript><div id="ui"><p>Slate API (Zou-compatible). Specification:
<a href="../openapi.json">openapi.json</a></p></div>
<script src="../docs/swagger-ui-bundle.js"></script>
<script src="../docs/swagger-ui-standalone-preset.js"></script>
<script>
if (window.SwaggerUIBundle) {
  window.ui = SwaggerUIBundle({
    url: new URL("../openapi.json", window.location.href).href,
    dom_id: "#ui", deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    oauth2RedirectUrl: new URL("../oauth2-redirect.html", window.location.href).href,
  });
}
</script></body></html>
"""

_CONTENT_TYPES = {
    ".js": b"text/javascript; charset=utf-8", ".css": b"text/css; charset=utf-8",
    ".html": b"text/html; charset=utf-8", ".png": b"image/png",
    ".map": b"application/json",
}


def _swagger_ui_dir() -> str | None:
    try:
        import swagger_ui_bundle  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover -- a dependency of the gateway
        return None
    return str(swagger_ui_bundle.swagger_ui_path)


@functools.lru_cache(maxsize=32)
def _swagger_asset(name: str) -> bytes | None:
    """A Swagger UI file by name (flat directory; any other name is None)."""
    base = _swagger_ui_dir()
    if base is None or name not in os.listdir(base) or "/" in name or name.startswith("."):
        return None
    with open(os.path.join(base, name), "rb") as f:
        return f.read()


def _not_found() -> Response:
    return 404, JSON, error_body(NOT_FOUND_MESSAGE)


def apidocs(gw: LocalContext, req: LocalRequest) -> Response:
    """A docs page rendering the aggregated specification."""
    return 200, [(b"content-type", b"text/html; charset=utf-8")], DOCS_PAGE


def apidocs_index(gw: LocalContext, req: LocalRequest) -> Response:
    """``.../apidocs/index.html`` redirects to ``.../apidocs/`` (302, as Zou); relative,
    so that it holds under the ``/api`` prefix too."""
    body = b'<a href="./">./</a>'
    return 302, [(b"location", b"./"), (b"content-type", b"text/html; charset=utf-8")], body


def docs_asset(gw: LocalContext, req: LocalRequest) -> Response:
    """A file of the docs page (Swagger UI's scripts, styles and icons)."""
    name = req.path.rsplit(b"/", 1)[-1].decode("latin-1")
    body = _swagger_asset(name) if name.endswith(tuple(_CONTENT_TYPES)) else None
    if body is None:
        return _not_found()
    ctype = _CONTENT_TYPES[os.path.splitext(name)[1]]
    return 200, [(b"content-type", ctype), (b"cache-control", b"public, max-age=3600")], body


def oauth2_redirect(gw: LocalContext, req: LocalRequest) -> Response:
    """The page Swagger UI's OAuth2 authorisation flow returns to."""
    body = _swagger_asset("oauth2-redirect.html")
    if body is None:
        return _not_found()
    return 200, [(b"content-type", b"text/html; charset=utf-8")], body


def static_file(gw: LocalContext, req: LocalRequest) -> Response:
    """Static files: none are served (the route answers 404, as Zou's does)."""
    return _not_found()


#: /stats counts (key, service, list path): the ``total`` of a one-row page of each.
STATS_COUNTS = (
    ("number_of_video_previews", "media", "/data/preview-files?extension=mp4"),
    ("number_of_picture_previews", "media", "/data/preview-files?extension=%5Bpng,jpg,jpeg%5D"),
    ("number_of_model_previews", "media", "/data/preview-files?extension=%5Bglb,gltf%5D"),
    ("number_of_comments", "production", "/data/comments"),
)


async def stats(gw: LocalContext, req: LocalRequest) -> Response:
    """Counts of video, picture and 3D previews and of comments (administrators)."""
    credentials = [(name.lower(), value) for name, value in req.headers
                   if name.lower() in (b"authorization", b"cookie")]
    auth = gw.upstreams.get("auth")
    if auth is None:
        return 503, JSON, error_body("Service unavailable: auth is not configured")
    status, body = await fetch(auth, "/auth/authenticated", headers=credentials)
    if status != 200:
        return status, JSON, body  # the token's own error (401 missing/expired, 422 ...)
    if (orjson.loads(body).get("user") or {}).get("role") != "admin":
        return 403, JSON, error_body(FORBIDDEN_MESSAGE)

    async def count(service: str, path: str) -> int:
        upstream = gw.upstreams.get(service)
        if upstream is None:
            return 0
        status, body = await fetch(upstream, path + ("&" if "?" in path else "?")
                                   + "page=1&limit=1", headers=credentials)
        if status != 200:
            raise RuntimeError(f"{service} answered {status} to {path}")
        return int(orjson.loads(body)["total"])

    totals = await asyncio.gather(*(count(svc, path) for _, svc, path in STATS_COUNTS))
    return json_response({key: n for (key, _, _), n in zip(STATS_COUNTS, totals)})


def test_event(gw: LocalContext, req: LocalRequest) -> Response:
    """Check that the API answers (Zou's event-stream self test)."""
    return json_response({"success": True})


def healthz(gw: LocalContext, req: LocalRequest) -> Response:
    """The gateway process is alive."""
    return json_response({"status": "ok"})


def metrics(gw: LocalContext, req: LocalRequest) -> Response:
    """Prometheus metrics of the gateway."""
    return 200, [(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")], gw.render_metrics()


def readyz(gw: LocalContext, req: LocalRequest) -> Response:
    """Ready once every configured service's routes are known."""
    missing = gw.missing_upstreams()
    if missing:
        return json_response({"status": "waiting", "missing": missing}, 503)
    return json_response({"status": "ready", "routes": gw.route_count})


#: (path template, handler, in the public spec?)
LOCAL_ROUTES: list[tuple[str, Handler, bool]] = [
    ("/", index, True),
    ("/config", config, True),
    ("/status", status, True),
    ("/status.txt", status_txt, True),
    ("/status/resources", status_resources, True),
    ("/status/influx", status_influx, True),
    ("/openapi.json", openapi, True),
    ("/openapi-raw.json", openapi, True),
    ("/apidocs/", apidocs, True),
    ("/apidocs/index.html", apidocs_index, True),
    ("/docs/{filename}", docs_asset, True),
    ("/oauth2-redirect.html", oauth2_redirect, True),
    ("/static/{filename}", static_file, True),
    ("/status/test-event", test_event, True),
    ("/stats", stats, True),
    ("/healthz", healthz, False),
    ("/readyz", readyz, False),
    ("/metrics", metrics, False),
]


def local_openapi_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for template, handler, public in LOCAL_ROUTES:
        if public:
            op: dict[str, Any] = {
                "summary": (handler.__doc__ or "").strip().splitlines()[0],
                "operationId": "gateway_" + handler.__name__ + "_" + str(len(paths)),
                "tags": ["Gateway"],
                "responses": {"200": {"description": "OK"}},
            }
            params = re.findall(r"{(\w+)}", template)
            if params:
                op["parameters"] = [{"name": p, "in": "path", "required": True,
                                     "schema": {"type": "string"}} for p in params]
            paths[template] = {"get": op}
    return paths
