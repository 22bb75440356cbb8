"""The production service's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from slate_common.app import ServiceRuntime, create_service_app
from slate_common.crud import crud_router
from slate_common.db import transaction

from .api import (
    casting,
    comments,
    entities,
    file_paths,
    filters,
    news,
    notifications,
    preview_account,
    projects,
    stats,
    tasks,
    todo,
    user,
)
from .config import ProductionSettings
from .consumers import HANDLERS
from .crud import SPECS
from .domain.defaults import ensure_defaults
from .domain.listing_cache import ListingCache
from .domain.projects import ensure_statuses
from .owned import OWNED
from .replicas import REPLICAS
from .rpc import rpc_handlers


async def _seed(runtime: ServiceRuntime) -> None:
    async with transaction(runtime.sessionmaker) as session:
        await ensure_statuses(session)
        await ensure_defaults(session)


def create_app(settings: ProductionSettings | None = None) -> FastAPI:
    settings = settings or ProductionSettings()
    app = create_service_app(
        settings,
        title="Slate production",
        # Specific routes before the generic /data/projects/{instance_id}.
        routers=[casting.router, preview_account.router, news.router, projects.router, entities.router, tasks.router, user.router, comments.router,
                 notifications.router, filters.router, todo.router, stats.router, file_paths.router,
                 crud_router(SPECS)],
        consumers=HANDLERS,
        replicas=REPLICAS,
        owned=OWNED,
        rpc_handlers=rpc_handlers(lambda: app.state.runtime),
        on_startup=[_seed],
    )
    app.state.listing_cache = ListingCache(settings.listing_cache_mb * 1024 * 1024) if settings.listing_cache_mb else None
    return app
