"""The media service's composition root. Its routes come with their issues; until then
it serves only health and its (empty) OpenAPI, so the gateway answers 404 for them."""

from __future__ import annotations

from fastapi import FastAPI

from slate_common.app import create_service_app

from .config import MediaSettings


def create_app(settings: MediaSettings | None = None) -> FastAPI:
    return create_service_app(settings or MediaSettings(), title="Slate media", routers=[])
