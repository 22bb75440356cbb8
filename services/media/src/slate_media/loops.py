"""Media's loops without its routes: the replicas fed by events, the snapshots it owns,
storage and the preview job loop. ``create_app`` serves them under the API;
``python -m slate_media worker`` runs them alone (``runtime``), importing none of the
routes: a worker restarted after a crash serves again sooner (docs/reliability.md)."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager

from slate_common.events import Event
from slate_common.runtime import ServiceRuntime, StartupHook, configure_process, service_runtime

from .adapters.jobs import JobWorker, ensure_jobs_stream
from .adapters.storage import Storage
from .config import MediaSettings
from .consumers import REPLICAS
from .domain.pipeline import job_source, process_preview
from .owned import OWNED


def hooks(settings: MediaSettings, storage: Storage) -> tuple[list[StartupHook], list[StartupHook]]:
    """(on_startup, on_bus_ready): the buckets, then the jobs stream and its loop."""

    async def storage_ready(runtime: ServiceRuntime) -> None:
        try:
            await asyncio.wait_for(storage.ensure_buckets(), timeout=10)
        except Exception:  # storage not up yet: buckets are made on first write
            pass

    async def jobs(runtime: ServiceRuntime) -> None:
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

    return [storage_ready], [jobs]


def runtime(settings: MediaSettings | None = None) -> AbstractAsyncContextManager[ServiceRuntime]:
    """The worker process's loops, as ``create_app``'s lifespan runs them, without HTTP."""
    settings = settings or MediaSettings()
    configure_process(settings)
    on_startup, on_bus_ready = hooks(settings, Storage(settings))
    return service_runtime(settings, replicas=REPLICAS, owned=OWNED, on_startup=on_startup,
                           on_bus_ready=on_bus_ready)
