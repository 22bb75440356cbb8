"""The media service's composition root: routes, replica consumers, storage, and the
preview job loop (inside the API process by default, like the relay)."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import FastAPI, Request
from starlette.responses import Response

from slate_common.app import ServiceRuntime, create_service_app
from slate_common.crud import crud_router
from slate_common.errors import error_response
from slate_common.events import Event

from .adapters.jobs import JobWorker, ensure_jobs_stream
from .adapters.processing import MediaError
from .adapters.storage import Storage
from .api import attachments, downloads, previews, thumbnails
from .config import MediaSettings
from .consumers import REPLICAS
from .crud import SPECS
from .domain.pipeline import job_source, process_preview
from .owned import OWNED


def create_app(settings: MediaSettings | None = None) -> FastAPI:
    settings = settings or MediaSettings()
    storage = Storage(settings)

    async def _storage_ready(runtime: ServiceRuntime) -> None:
        try:
            await asyncio.wait_for(storage.ensure_buckets(), timeout=10)
        except Exception:  # storage not up yet: buckets are made on first write
            pass

    async def _jobs(runtime: ServiceRuntime) -> None:
        assert runtime.js is not None
        await ensure_jobs_stream(runtime.js, settings.jobs_stream, settings.jobs_subject)
        if not (settings.workers_enabled and settings.jobs_enabled):
            return

        async def handle(event: Event) -> None:
            token = event.data.get("upload_token")
            await process_preview(runtime.sessionmaker, storage=storage, settings=settings,
                                  preview_id=uuid.UUID(event.data["preview_file_id"]),
                                  upload_token=uuid.UUID(token) if token else None,
                                  source_extension=job_source(event.data))

        worker = JobWorker(js=runtime.js, stream=settings.jobs_stream, handler=handle,
                           ack_wait=settings.job_ack_wait, concurrency=settings.job_concurrency,
                           subject_prefix=settings.jobs_subject)
        runtime.tasks.append(asyncio.create_task(worker.run()))

    app = create_service_app(
        settings,
        title="Slate media",
        # Specific routes before the generic /data/<model>/{instance_id}.
        routers=[previews.router, downloads.router, thumbnails.router, attachments.router, crud_router(SPECS)],
        replicas=REPLICAS,
        owned=OWNED,
        on_startup=[_storage_ready],
        on_bus_ready=[_jobs],
    )
    app.state.storage = storage

    @app.exception_handler(MediaError)
    async def _bad_media(_: Request, exc: MediaError) -> Response:
        return error_response(400, str(exc))

    return app
