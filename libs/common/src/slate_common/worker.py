"""Run a service's background side (outbox relay, event consumers, RPC) without HTTP."""

from __future__ import annotations

import asyncio
import importlib
import signal

from .config import BaseServiceSettings
from .logging import get_logger

log = get_logger(__name__)


async def run_worker(settings: BaseServiceSettings, app_path: str) -> int:
    module_name, _, attr = app_path.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    app = factory()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app.router.lifespan_context(app):
        log.info("worker_running")
        await stop.wait()
    return 0
