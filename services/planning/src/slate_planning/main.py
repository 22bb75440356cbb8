"""The planning service's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from slate_common.app import create_service_app

from .config import PlanningSettings
from .consumers import REPLICAS


def create_app(settings: PlanningSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or PlanningSettings(),
        title="Slate planning",
        routers=[],
        replicas=REPLICAS,
    )
