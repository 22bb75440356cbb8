"""A service's own /docs page loads nothing from the internet."""

from __future__ import annotations

import re

import httpx

from slate_common.app import create_service_app
from slate_common.config import BaseServiceSettings, service_config


class DocsSettings(BaseServiceSettings):
    service_name = "docsvc"
    model_config = service_config("docsvc")


async def test_docs_page_serves_its_own_swagger_ui() -> None:
    app = create_service_app(DocsSettings(port=1), routers=[], title="docs test")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as c:
        page = await c.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert not re.findall(r"https?://", page.text)
        refs = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"](/[^'"]+)['"]""", page.text)
        assert "/docs/swagger-ui-bundle.js" in refs and "/openapi.json" in refs, refs
        for ref in refs:
            assert (await c.get(ref)).status_code == 200, ref
        assert "swaggerUIRedirectOauth2" in (await c.get("/docs/oauth2-redirect")).text
        missing = await c.get("/docs/nope.js")
        assert missing.status_code == 404 and missing.json()["error"] is True
        assert not [p for p in (await c.get("/openapi.json")).json()["paths"] if p.startswith("/docs")]
