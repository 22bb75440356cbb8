"""The service runtime and app factory every Slate service is built from.

``create_service_app`` wires: settings, JSON logging, tracing, the database engine,
NATS/JetStream, the outbox relay, event consumers, RPC handlers, token verification
with the revocation watcher, Zou error bodies, health/readiness, and a pure-ASGI
middleware for request ids, server spans and access logs.
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from opentelemetry import context as otel_context
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import bus
from .admission import AdmissionMiddleware
from .api_prefix import ApiPrefixMiddleware
from .config import BaseServiceSettings
from .db import begin_at_first_write
from .docs import install as install_docs
from .errors import install_error_handlers
from .events import EventHandler
from .events.consistency import SettleTiming, settle_scope
from .forwarded import ForwardedMiddleware
from .logging import get_logger, log_request, request_id_var
from .metrics import UNMATCHED, route_template
from .metrics import install as install_metrics
from .openapi import install as install_openapi
from .replica import Owned, Replica
from .route_index import install as install_route_index
from .runtime import SHUTDOWN_STEP_SECONDS as SHUTDOWN_STEP_SECONDS  # imported from here too
from .runtime import ServiceRuntime as ServiceRuntime
from .runtime import StartupHook as StartupHook
from .runtime import configure_process, service_runtime
from .runtime import freeze_startup_heap as freeze_startup_heap
from .serialization import ZouJSONResponse, json_response
from .tracing import extract_context, propagation_fields, server_span

log = get_logger(__name__)


def create_service_app(
    settings: BaseServiceSettings,
    *,
    routers: Sequence[APIRouter],
    title: str,
    consumers: dict[str, EventHandler] | None = None,
    replicas: Sequence[Replica] = (),
    owned: dict[str, Owned] | None = None,
    rpc_handlers: dict[str, bus.Handler] | None = None,
    on_startup: Sequence[StartupHook] = (),
    on_bus_ready: Sequence[StartupHook] = (),
    key_provider: Callable[[], dict[str, Any]] | None = None,
    version: str = "0.1.0",
) -> FastAPI:
    configure_process(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def keep(runtime: ServiceRuntime) -> None:
            app.state.runtime = runtime
            app.state.verifier = runtime.verifier

        async with service_runtime(
            settings, consumers=consumers, replicas=replicas, owned=owned, rpc_handlers=rpc_handlers,
            on_startup=on_startup, on_bus_ready=on_bus_ready, key_provider=key_provider, on_created=keep,
        ):
            freeze_startup_heap()
            log.info("service_started", port=settings.effective_port)
            yield

    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        default_response_class=ZouJSONResponse,
        openapi_url="/openapi.json",
        docs_url=None,  # slate_common.docs serves /docs with its own Swagger UI files
        redoc_url=None,
        **_NO_NATIVE_TELEMETRY,
    )
    install_error_handlers(app)
    app.add_middleware(AdmissionMiddleware, limit=settings.max_active_requests)  # inside the settle wait
    app.add_middleware(SettleMiddleware, runtime_of=lambda: getattr(app.state, "runtime", None))
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    app.add_middleware(ForwardedMiddleware, trusted=settings.shared.trusted_proxies)
    install_metrics(app, settings)  # GET /metrics and the request histogram (slate_common.metrics)
    install_docs(app)
    install_openapi(app)  # the statuses and path parameters every route shares (slate_common.openapi)
    app.add_middleware(ApiPrefixMiddleware)  # outermost: /api/x is served as /x
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    install_route_index(app)  # FastAPI's route, found without scanning every route (slate_common.route_index)
    return app


#: FastAPI >= 0.160 traces, measures and logs every request itself with the global
#: OpenTelemetry providers: a second server span, per-route spans and metrics on top of
#: RequestContextMiddleware's span and log line, for a tenth of a light request's CPU.
_NO_NATIVE_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {}
)


def health_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> Any:
        return json_response({"status": "ok"})

    @router.get("/readyz")
    async def readyz(request: Request) -> Any:
        runtime: ServiceRuntime = request.app.state.runtime
        checks: dict[str, bool] = {}
        try:
            async with runtime.engine.connect() as conn:
                await conn.execute(text("select 1"))
            checks["database"] = True
        except Exception:
            checks["database"] = False
        checks["nats"] = runtime.nc is not None and runtime.nc.is_connected
        if runtime.consumer is not None or not runtime.bus_ready.is_set():
            # ready only once the events that existed at start are applied (replicas)
            checks["events"] = runtime.consumer is not None and runtime.consumer.caught_up.is_set()
        ok = all(checks.values())
        return json_response({"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503)

    return router


class SettleMiddleware:
    """Pure ASGI: the events a request's transactions committed are published and applied
    by the readable replicas before its response starts (``slate_common.consistency``)."""

    def __init__(self, app: ASGIApp, runtime_of: Callable[[], ServiceRuntime | None]) -> None:
        self.app = app
        self.runtime_of = runtime_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with settle_scope() as committed:

            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start" and committed:
                    timing = await self._settle(committed, wait=True)
                    if timing is not None:  # where the write's wait went, for whoever looks
                        headers = list(message.get("headers") or [])
                        headers.append((b"server-timing", timing.header().encode()))
                        message = {**message, "headers": headers}
                await send(message)

            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                if committed:  # committed after the response started: publish, no wait
                    await self._settle(committed, wait=False)

    async def _settle(self, committed: list[Any], *, wait: bool) -> SettleTiming | None:
        rows = committed[:]
        committed.clear()
        runtime = self.runtime_of()
        if runtime is None:
            return None
        if runtime.settler is None:
            if runtime.relay is not None:
                runtime.relay.notify(row.seq for row in rows)
            return None
        if wait:
            return await runtime.settler.settle(rows)
        await runtime.settler.publish_quietly(rows)
        return None


class RequestContextMiddleware:
    """Pure ASGI: request id (kept from X-Request-ID or made), a server span continuing
    the caller's trace, and one access log line per request."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        #: Request headers read here: the request id and what the trace propagators read.
        self.trace_fields = propagation_fields()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        carrier: dict[str, str] | None = None
        trace_fields = self.trace_fields
        for name, value in scope["headers"]:  # only the few headers this layer reads
            if name == b"x-request-id":
                rid = value.decode("latin-1")
            elif name in trace_fields:
                if carrier is None:
                    carrier = {}
                carrier[name.decode("latin-1")] = value.decode("latin-1")
        if not rid:
            rid = uuid.uuid4().hex
        rid_token = request_id_var.set(rid)
        # Without trace headers the caller's context is the current one: nothing to attach.
        ctx_token = otel_context.attach(extract_context(carrier)) if carrier else None
        started = time.perf_counter()
        status = 500
        method, path = scope["method"], scope["path"]
        rid_header = (b"x-request-id", rid.encode("latin-1"))

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        try:
            await self._traced(scope, receive, send_wrapper, method, path, started, lambda: status)
        finally:
            if ctx_token is not None:
                otel_context.detach(ctx_token)
            request_id_var.reset(rid_token)

    async def _traced(self, scope: Scope, receive: Receive, send: Send, method: str, path: str,
                      started: float, status_of: Callable[[], int]) -> None:
        with server_span(f"{method} {path}") as span:
            try:
                await self.app(scope, receive, send)
            finally:
                status = status_of()
                if span.is_recording():
                    route = route_template(scope)  # OpenTelemetry HTTP semantic conventions
                    span.update_name(f"{method} {route}" if route != UNMATCHED else method)
                    span.set_attributes({"http.request.method": method, "url.path": path, "http.route": route,
                                         "url.scheme": scope.get("scheme", "http"),
                                         "http.response.status_code": status})
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                if path not in ("/healthz", "/readyz"):
                    log_request(method=method, path=path, status=status,
                                duration_ms=round((time.perf_counter() - started) * 1000, 2))


# --- per-request unit of work ----------------------------------------------------


def runtime_of(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the handler returns and before the
    response is sent (``scope="function"``), rolled back on error. A GET's or HEAD's
    plain reads go without BEGIN and COMMIT; the transaction starts at its first write,
    if it makes one (``slate_common.db.begin_at_first_write``)."""
    async with runtime_of(request).sessionmaker() as session:
        async with session.begin():
            if request.method in _READ_METHODS:
                await begin_at_first_write(session)
            yield session


_READ_METHODS = frozenset(("GET", "HEAD"))


async def _runtime(request: Request) -> ServiceRuntime:
    """``runtime_of`` as a dependency: a coroutine, so FastAPI calls it in the event loop
    (a plain ``def`` dependency costs a hop to its thread pool and back per request)."""
    return runtime_of(request)


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
Runtime = Annotated[ServiceRuntime, Depends(_runtime)]


def threadpool_dependencies(app: FastAPI) -> list[str]:
    """The plain ``def`` dependencies of the app's routes, as ``"path: name"``: FastAPI
    runs each in its thread pool, a hop there and back per request (tests keep this empty
    for the services that got rid of them)."""
    from fastapi.routing import APIRoute

    found: list[str] = []

    def walk(path: str, dependant: Any) -> None:
        for sub in dependant.dependencies:
            call = sub.call
            if call is not None and not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
                                         or inspect.iscoroutinefunction(type(call).__call__)):  # an async __call__
                found.append(f"{path}: {getattr(call, '__name__', repr(call))}")
            walk(path, sub)

    def routes(items: Sequence[Any]) -> None:
        for route in items:
            if isinstance(route, APIRoute):
                walk(route.path, route.dependant)
            elif hasattr(route, "original_router"):  # an included router (FastAPI >= 0.160)
                routes(route.original_router.routes)

    routes(app.routes)
    return sorted(set(found))
