"""Run a service's background side (outbox relay, event consumers, RPC) without HTTP.

With ``runtime_path`` (``"package.module:factory"``, a factory returning
``slate_common.runtime.service_runtime(...)``), the worker imports and builds only its
loops: no routes, no OpenAPI, no FastAPI app (a worker's start is its restart's
downtime). Without it, the service's app factory is built and its lifespan run.
"""

from __future__ import annotations

import asyncio
import importlib
import signal
from contextlib import AbstractAsyncContextManager
from typing import Any

from .config import BaseServiceSettings
from .logging import get_logger

log = get_logger(__name__)


def _load(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)


async def run_worker(settings: BaseServiceSettings, app_path: str, *, runtime_path: str | None = None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scope: AbstractAsyncContextManager[Any]
    if runtime_path is not None:
        scope = _load(runtime_path)()
    else:
        app = _load(app_path)()
        scope = app.router.lifespan_context(app)
    async with scope:
        if runtime_path is not None:
            from .runtime import freeze_startup_heap

            freeze_startup_heap()
        log.info("worker_running")
        await stop.wait()
    return 0
