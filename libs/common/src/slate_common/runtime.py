"""What a running service holds, and its start and stop without HTTP.

``service_runtime`` opens the database engine, connects NATS and starts the outbox relay,
the event consumers, the RPC responders and the service's own loops; leaving it stops
them, each step bounded. ``create_service_app``'s lifespan runs it under the API
(``slate_common.app``); a ``worker`` process runs it alone (``slate_common.worker``), so
a worker that only needs the loops never imports nor builds the routes: its start is
the downtime of a worker's restart (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from . import bus
from .config import BaseServiceSettings
from .db import make_engine, make_sessionmaker
from .events import Consumer, EventHandler, OutboxRelay
from .events import outbox as outbox_module
from .events.consistency import Settler, settling_session_class
from .logging import configure_logging, get_logger
from .replica import Owned, Replica, handlers_of, keeps_of, snapshot_rpc_handlers
from .revocation import watch_revocations
from .tokens import RevocationView, TokenVerifier
from .tracing import configure_tracing

log = get_logger("slate_common.app")

StartupHook = Callable[["ServiceRuntime"], Awaitable[None]]


@dataclass
class ServiceRuntime:
    """Everything a running service holds; one per process, at ``app.state.runtime``."""

    settings: BaseServiceSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    verifier: TokenVerifier
    nc: NATS | None = None
    js: JetStreamContext | None = None
    relay: OutboxRelay | None = None
    #: Publishes a request's events and waits for the replicas (None until NATS is up).
    settler: Settler | None = None
    consumer: Consumer | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    revocations_ready: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set once NATS is connected, the stream exists and relay/consumers/RPC are started.
    bus_ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def service(self) -> str:
        return self.settings.service_name


def _runtime_session_class(runtime: ServiceRuntime) -> type[Session]:
    """Sessions of this runtime: commits hand their events to the request's settle scope,
    or wake this runtime's relay (listeners never leak across apps)."""

    def wake_relay(seqs: list[int]) -> None:
        if runtime.relay is not None:
            runtime.relay.notify(seqs)

    return settling_session_class(wake_relay)


async def _connect_nats_with_retry(runtime: ServiceRuntime) -> None:
    shared = runtime.settings.shared
    delay = 0.2
    while True:
        try:
            runtime.nc = await bus.connect(shared.nats_url, name=f"slate-{runtime.service}")
            runtime.js = runtime.nc.jetstream()
            await bus.ensure_events_stream(runtime.js, shared.events_stream)
            return
        except Exception as exc:  # NATS not up yet: keep serving, retry
            log.warning("nats_connect_failed", error=str(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


#: How long each step of a service's shutdown may take before it is left behind (a pod's
#: grace period is finite; a step that ignores cancellation must not hold the process).
SHUTDOWN_STEP_SECONDS = 10.0


async def _bounded(step: str, awaitable: Awaitable[Any]) -> None:
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_STEP_SECONDS)
    if not done:
        log.warning("shutdown_step_timed_out", step=step, seconds=SHUTDOWN_STEP_SECONDS)
        task.cancel()
    elif not task.cancelled() and task.exception() is not None:
        log.warning("shutdown_step_failed", step=step, error=repr(task.exception()))


def _rebuilder(replicas: Sequence[Replica], runtime: ServiceRuntime) -> Callable[[], Awaitable[None]]:
    async def rebuild() -> None:
        for replica in replicas:
            await replica.rebuild(runtime.sessionmaker)

    return rebuild


def freeze_startup_heap() -> None:
    """Leave the objects alive after start-up (modules, routes, models, SQLAlchemy's
    mappers and caches: ~180,000 in production) out of the garbage collector's full
    collections. Each full collection walked all of them with the event loop stopped,
    ~100 ms on this hardware, so every request in flight in the process waited that
    long: a visible share of the p99 under load. Objects made later are collected as
    before."""
    gc.collect()
    gc.freeze()


def configure_process(settings: BaseServiceSettings) -> None:
    """What every process of a service sets up first: the production checks, logging,
    tracing and the outbox's service name."""
    shared = settings.shared
    shared.check_production_ready()
    configure_logging(settings.service_name, shared.log_level, shared.log_format)
    configure_tracing(settings.service_name, shared.otlp_endpoint)
    outbox_module.SERVICE = settings.service_name


@asynccontextmanager
async def service_runtime(
    settings: BaseServiceSettings,
    *,
    consumers: dict[str, EventHandler] | None = None,
    replicas: Sequence[Replica] = (),
    owned: dict[str, Owned] | None = None,
    rpc_handlers: dict[str, bus.Handler] | None = None,
    on_startup: Sequence[StartupHook] = (),
    on_bus_ready: Sequence[StartupHook] = (),
    key_provider: Callable[[], dict[str, Any]] | None = None,
    on_created: Callable[[ServiceRuntime], None] | None = None,
) -> AsyncIterator[ServiceRuntime]:
    """The service's engine, bus, relay, consumers, RPC responders and hooks for the
    duration of the block (``configure_process`` first). ``on_startup`` hooks run before
    the block starts; NATS is connected in the background (the process serves without
    it) and ``on_bus_ready`` hooks run once it is. ``on_created`` sees the runtime as
    soon as it exists (the API stores it on ``app.state``)."""
    shared = settings.shared
    # What the service replicates comes with its handlers; what it owns, with the
    # snapshot requests replicas send for an id they do not have yet.
    keeps = keeps_of(list(replicas), overridden=set(consumers or {}))
    consumers = {**handlers_of(list(replicas)), **(consumers or {})}
    engine = make_engine(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        plan_cache_mode=settings.db_plan_cache_mode,
    )
    verifier = TokenVerifier(
        audience=shared.jwt_audience,
        issuer=shared.jwt_issuer,
        jwks_url=shared.auth_url.rstrip("/") + "/auth/jwks.json",
        key_provider=key_provider,
        revocations=RevocationView(),
    )
    runtime = ServiceRuntime(settings, engine, make_sessionmaker(engine), verifier)
    runtime.sessionmaker = make_sessionmaker(engine, _runtime_session_class(runtime), service=settings.service_name)
    if owned:
        rpc_handlers = {**snapshot_rpc_handlers(lambda: runtime.sessionmaker, owned), **(rpc_handlers or {})}
    if on_created is not None:
        on_created(runtime)

    async def start_bus() -> None:
        await _connect_nats_with_retry(runtime)
        assert runtime.js is not None and runtime.nc is not None
        for replica in replicas:
            replica.bind(runtime.nc)
        runtime.tasks.append(
            asyncio.create_task(watch_revocations(runtime.js, verifier.revocations, runtime.revocations_ready))
        )
        runtime.tasks.append(asyncio.create_task(verifier.warm_up()))
        # The crash tests' hooks widen the commit-to-publish window of the relay: then
        # the relay alone publishes (SLATE_OUTBOX_RELAY_DELAY_SECONDS, never in operation).
        if shared.consistency_enabled and not shared.outbox_relay_delay_seconds:
            runtime.settler = Settler(
                nc=runtime.nc, js=runtime.js, stream=shared.events_stream,
                sessionmaker=runtime.sessionmaker, wait_seconds=shared.consistency_wait_seconds,
                fault=shared.outbox_fault,
            )
            await runtime.settler.start()
        if settings.workers_enabled:
            runtime.relay = OutboxRelay(
                runtime.sessionmaker,
                runtime.js,
                poll_seconds=shared.outbox_poll_seconds,
                delay_seconds=shared.outbox_relay_delay_seconds,
                fault=shared.outbox_fault,
                # beside a settler, the requests publish their own rows: the relay takes
                # the ones they left (a crash, NATS down) once they are this old
                settled_grace_seconds=shared.outbox_settled_grace_seconds if runtime.settler else 0.0,
                outbox_retention=(dt.timedelta(hours=shared.outbox_retention_hours)
                                  if shared.outbox_retention_hours else None),
            )
            runtime.tasks.append(asyncio.create_task(runtime.relay.run()))
            if consumers:
                consumer = Consumer(
                    name=f"{settings.service_name}-events",
                    js=runtime.js,
                    sessionmaker=runtime.sessionmaker,
                    handlers=consumers,
                    stream=shared.events_stream,
                    settler=runtime.settler,
                    on_gap=_rebuilder(replicas, runtime) if replicas else None,
                    keeps=keeps,
                )
                runtime.consumer = consumer
                runtime.tasks.append(asyncio.create_task(consumer.run()))
        if rpc_handlers:
            await bus.serve_rpc(runtime.nc, settings.service_name, rpc_handlers, settler=runtime.settler)
        for hook in on_bus_ready:
            await hook(runtime)
        runtime.bus_ready.set()

    for hook in on_startup:  # before the first request is served
        await hook(runtime)
    runtime.tasks.append(asyncio.create_task(start_bus()))
    try:
        yield runtime
    finally:
        for task in runtime.tasks:
            task.cancel()
        await _bounded("background tasks", asyncio.gather(*runtime.tasks, return_exceptions=True))
        if runtime.settler is not None:
            await _bounded("settler", runtime.settler.stop())
        await _bounded("nats", bus.wait_closed(runtime.nc))
        await _bounded("database", engine.dispose())
        log.info("service_stopped")
