"""Routes the gateway answers itself: ``/``, ``/config``, ``/status*``, the
aggregated OpenAPI document, the docs page and the gateway's own health.

Handlers take the gateway and return ``(status, headers, body)`` (or an
awaitable of it); the server adds framing, request id and CORS headers.
"""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from . import __version__
from .upstream import fetch

if TYPE_CHECKING:
    from .server import Gateway

Response = tuple[int, list[tuple[bytes, bytes]], bytes]
Handler = Callable[["Gateway"], Response | Awaitable[Response]]

JSON = [(b"content-type", b"application/json")]
API_NAME = "Slate"

NOT_FOUND_MESSAGE = ("404 Not Found: The requested URL was not found on the server. "
                     "If you entered the URL manually please check your spelling and try again.")
METHOD_NOT_ALLOWED_MESSAGE = "The method is not allowed for the requested URL."


def error_body(message: str) -> bytes:
    return orjson.dumps({"error": True, "message": message})


def json_response(data: Any, status: int = 200) -> Response:
    return status, JSON, orjson.dumps(data)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def index(gw: Gateway) -> Response:
    """Identify the API, in Zou's shape."""
    return json_response({"api": API_NAME, "version": __version__})


def config(gw: Gateway) -> Response:
    """Public settings Kitsu reads at start (same keys as Zou)."""
    env = os.environ
    return json_response({
        "is_self_hosted": _env_bool("SLATE_IS_SELF_HOSTED", True),
        "crisp_token": env.get("SLATE_CRISP_TOKEN", ""),
        "dark_theme_by_default": _env_bool("SLATE_DARK_THEME_BY_DEFAULT"),
        "indexer_configured": _env_bool("SLATE_INDEXER_CONFIGURED"),
        # Auth's own settings (SLATE_AUTH_*) name the SSO providers; the gateway reads the same.
        "saml_enabled": _env_bool("SLATE_AUTH_SAML_ENABLED", _env_bool("SLATE_SAML_ENABLED")),
        "saml_idp_name": env.get("SLATE_AUTH_SAML_IDP_NAME", env.get("SLATE_SAML_IDP_NAME", "")),
        "oidc_enabled": _env_bool("SLATE_AUTH_OIDC_ENABLED", _env_bool("SLATE_OIDC_ENABLED")),
        "oidc_idp_name": env.get("SLATE_AUTH_OIDC_IDP_NAME", env.get("SLATE_OIDC_IDP_NAME", "")),
        "default_locale": env.get("SLATE_DEFAULT_LOCALE", "en_US"),
        "default_timezone": env.get("SLATE_DEFAULT_TIMEZONE", "Europe/Paris"),
        "enforce_2fa": _env_bool("SLATE_ENFORCE_2FA"),
        "movie_highdef_bitrate": int(env.get("SLATE_MOVIE_HIGHDEF_BITRATE", "28")),
        "movie_lowdef_bitrate": int(env.get("SLATE_MOVIE_LOWDEF_BITRATE", "6")),
        "preview_accounts_enabled": _env_bool("SLATE_PREVIEW_ACCOUNTS_ENABLED", True),
    })


async def _services_ready(gw: Gateway) -> dict[str, bool]:
    async def ready(up: Any) -> bool:
        try:
            status, _ = await fetch(up, "/readyz", timeout=2.0)
            return status == 200
        except Exception:  # noqa: BLE001 -- any failure means "not ready"
            return False

    ups = list(gw.upstreams.values())
    results = await asyncio.gather(*(ready(u) for u in ups))
    return {u.name: r for u, r in zip(ups, results)}


async def _status_data(gw: Gateway) -> dict[str, Any]:
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


async def status(gw: Gateway) -> Response:
    """Health of the whole suite, in Zou's shape (plus per-service readiness)."""
    return json_response(await _status_data(gw))


async def status_txt(gw: Gateway) -> Response:
    """The same as /status, as ``key: value`` lines."""
    data = await _status_data(gw)
    lines = [f"name: {data['name']}", f"version: {data['version']}"]
    for key in ("database-up", "event-stream-up", "key-value-store-up", "job-queue-up",
                "indexer-up"):
        lines.append(f"{key}: {'up' if data[key] else 'down'}")
    return 200, [(b"content-type", b"text/plain; charset=utf-8")], ("\n".join(lines) + "\n").encode()


async def status_influx(gw: Gateway) -> Response:
    """The /status flags as 0/1 with a timestamp, for time-series collectors."""
    import time

    data = await _status_data(gw)
    body: dict[str, float] = {key: int(bool(data[key])) for key in (
        "database-up", "key-value-store-up", "event-stream-up", "job-queue-up", "indexer-up")}
    body["time"] = time.time()
    return json_response(body)


def status_resources(gw: Gateway) -> Response:
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


def openapi(gw: Gateway) -> Response:
    """The aggregated OpenAPI document of every service plus the gateway."""
    return 200, JSON, gw.openapi_bytes


DOCS_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Slate API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><noscript>The API specification is at <a href="/api/openapi.json">/api/openapi.json</a>.
</noscript><div id="ui"><p>Slate API (Zou-compatible). Specification:
<a href="/api/openapi.json">/api/openapi.json</a></p></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>if (window.SwaggerUIBundle) { SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"}); }
</script></body></html>
"""


def apidocs(gw: Gateway) -> Response:
    """A docs page rendering the aggregated specification."""
    return 200, [(b"content-type", b"text/html; charset=utf-8")], DOCS_PAGE


def healthz(gw: Gateway) -> Response:
    """The gateway process is alive."""
    return json_response({"status": "ok"})


def readyz(gw: Gateway) -> Response:
    """Ready once every configured service's routes are known."""
    missing = gw.missing_upstreams()
    if missing:
        return json_response({"status": "waiting", "missing": missing}, 503)
    return json_response({"status": "ready", "routes": gw.table.count})


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
    ("/apidocs/index.html", apidocs, True),
    ("/healthz", healthz, False),
    ("/readyz", readyz, False),
]


def local_openapi_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for template, handler, public in LOCAL_ROUTES:
        if public:
            paths[template] = {"get": {
                "summary": (handler.__doc__ or "").strip().splitlines()[0],
                "operationId": "gateway_" + handler.__name__ + "_" + str(len(paths)),
                "tags": ["Gateway"],
                "responses": {"200": {"description": "OK"}},
            }}
    return paths
