"""Each service's own docs page (``/docs``), working with no internet.

FastAPI's page loads Swagger UI from a CDN; this one serves Swagger UI's files
(the ``swagger-ui-bundle`` wheel, Apache-2.0) from the service itself at
``/docs/<file>``, the way FastAPI's documentation describes self-hosted assets. The
gateway's aggregated docs page serves the same files the same way.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

from .errors import NotFound

if TYPE_CHECKING:
    from fastapi import FastAPI

ASSETS = (".js", ".css", ".png")


def swagger_ui_dir() -> str:
    import swagger_ui_bundle  # type: ignore[import-untyped]

    return str(swagger_ui_bundle.swagger_ui_path)


def install(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """``GET /docs``, ``/docs/oauth2-redirect`` and ``/docs/<file>`` (not in the schema)."""
    base = swagger_ui_dir()
    files = frozenset(name for name in os.listdir(base) if name.endswith(ASSETS))

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} - docs",
            swagger_js_url="/docs/swagger-ui-bundle.js", swagger_css_url="/docs/swagger-ui.css",
            swagger_favicon_url="/docs/favicon-32x32.png", oauth2_redirect_url="/docs/oauth2-redirect")

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def asset(filename: str) -> FileResponse:
        if filename not in files:
            raise NotFound()
        return FileResponse(os.path.join(base, filename), headers={"Cache-Control": "public, max-age=3600"})

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/oauth2-redirect", oauth2_redirect, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/{filename}", asset, methods=["GET"], include_in_schema=False)
