"""The media service's composition root: routes, replica consumers, storage, and the
preview job loop (inside the API process by default, like the relay; slate_media.loops)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from slate_common.app import create_service_app
from slate_common.crud import crud_router
from slate_common.errors import error_response

from .adapters.processing import MediaError
from .adapters.storage import Storage
from .api import attachments, downloads, previews, thumbnails
from .config import MediaSettings
from .consumers import REPLICAS
from .crud import SPECS
from .loops import hooks
from .owned import OWNED


def create_app(settings: MediaSettings | None = None) -> FastAPI:
    settings = settings or MediaSettings()
    storage = Storage(settings)
    on_startup, on_bus_ready = hooks(settings, storage)
    app = create_service_app(
        settings,
        title="Slate media",
        # Specific routes before the generic /data/<model>/{instance_id}.
        routers=[previews.router, downloads.router, thumbnails.router, attachments.router, crud_router(SPECS)],
        replicas=REPLICAS,
        owned=OWNED,
        on_startup=on_startup,
        on_bus_ready=on_bus_ready,
    )
    app.state.storage = storage

    @app.exception_handler(MediaError)
    async def _bad_media(_: Request, exc: MediaError) -> Response:
        return error_response(400, str(exc))

    return app
