"""Prometheus metrics of a service: ``GET /metrics``.

What is measured, and where:

- ``http_server_request_duration_seconds`` (histogram; labels ``service``, ``method``,
  ``route``, ``status``): every request, by route *template* (``/data/tasks/{task_id}``,
  never the raw path, so the number of series stays bounded; ``<unmatched>`` for 404s
  outside any route). Its ``_count`` is the request count. Recorded by
  :class:`MetricsMiddleware`, a pure ASGI middleware.
- ``slate_process_http_requests_total`` (``service``, ``pid``): the same requests counted
  per process, read at scrape time from what each process recorded (nothing more on the
  request path), to see how the processes of a service share the load.
- ``slate_job_duration_seconds`` (histogram; ``service``, ``job``, ``outcome``): work-queue
  jobs (media's previews), recorded with :func:`observe_job` where the job runs.
- Read at scrape time from the database and JetStream, so they are true whichever
  process answers the scrape (and cost nothing between scrapes):
  ``slate_outbox_pending_events`` and ``slate_outbox_oldest_pending_age_seconds`` (rows
  the relay has not published yet, and how long the oldest has waited);
  ``slate_consumer_pending_messages`` / ``slate_consumer_ack_pending_messages`` (labels
  ``stream``, ``consumer``: JetStream's ``num_pending`` and ``num_ack_pending`` of each
  durable consumer of this service, named ``<service>-...``), and
  ``slate_work_queue_depth`` (``stream``: messages waiting in a work-queue stream that
  this service consumes).

Several processes on one port (``SLATE_<SVC>_HTTP_PROCESSES`` > 1, uvicorn workers):
prometheus-client's multiprocess mode. :func:`prepare_multiprocess` (called by ``serve``
before the workers start) points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory; each
process writes its samples there and whichever answers ``/metrics`` sums them all. Set
``PROMETHEUS_MULTIPROC_DIR`` yourself (an emptyDir on Kubernetes, emptied at each start)
to share it with the ``worker`` processes of the same host: each service then uses its
own subdirectory.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import glob
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logging import get_logger

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .app import ServiceRuntime
    from .config import BaseServiceSettings

log = get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Latency buckets (seconds): a light request is ~1 ms, an upload or a playlist build minutes.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
JOB_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
#: Paths not measured (probes and the scrape itself).
UNMEASURED = frozenset(("/healthz", "/readyz", "/metrics"))
UNMATCHED = "<unmatched>"
#: Seconds a scrape waits for the database or NATS before leaving a figure out.
LIVE_TIMEOUT = 2.0

HTTP_DURATION_NAME = "http_server_request_duration_seconds"
HTTP_DURATION = Histogram(
    HTTP_DURATION_NAME,
    "Duration of HTTP requests served, by route template and status.",
    ("service", "method", "route", "status"),
    buckets=HTTP_BUCKETS,
)
JOB_DURATION = Histogram(
    "slate_job_duration_seconds",
    "Duration of work-queue jobs, by job name and outcome (ok, error).",
    ("service", "job", "outcome"),
    buckets=JOB_BUCKETS,
)


def prepare_multiprocess(service: str, processes: int) -> None:
    """Before the processes of a service start: where they write their samples.

    With ``PROMETHEUS_MULTIPROC_DIR`` set (by the operator, to share one directory with
    the ``worker`` processes of the same host), the service uses its own subdirectory
    of it; otherwise, for several HTTP processes, a fresh temporary directory removed
    at exit. A single process without the variable keeps the plain in-memory mode."""
    root = os.environ.get(MULTIPROC_ENV)
    if root:
        path = root if os.path.basename(os.path.normpath(root)) == service else os.path.join(root, service)
        os.makedirs(path, exist_ok=True)
    elif processes > 1:
        path = tempfile.mkdtemp(prefix=f"slate-{service}-metrics-")
        atexit.register(shutil.rmtree, path, True)
    else:
        return
    os.environ[MULTIPROC_ENV] = path


def install(app: FastAPI, settings: BaseServiceSettings) -> None:
    """The hook ``create_service_app`` calls: the middleware and ``GET /metrics``."""
    app.add_middleware(MetricsMiddleware, service=settings.service_name)
    service = settings.service_name

    async def metrics(request: Request) -> Response:
        runtime = getattr(request.app.state, "runtime", None)
        return Response(await render(service, runtime), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)


class MetricsMiddleware:
    """Pure ASGI: one histogram sample per request, labelled with the route template."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._children: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNMEASURED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._child(scope["method"], route_template(scope), status).observe(
                time.perf_counter() - started)

    def _child(self, method: str, route: str, status: int) -> Any:
        key = (method, route, str(status))
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = HTTP_DURATION.labels(self.service, *key)
        return child


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (set by the router), or ``<unmatched>``."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


@contextlib.contextmanager
def observe_job(service: str, job: str) -> Iterator[None]:
    """Time a work-queue job: ``with observe_job("media", event.name): ...``."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        JOB_DURATION.labels(service, job, outcome).observe(time.perf_counter() - started)


# --- scrape ---------------------------------------------------------------------


async def render(service: str, runtime: ServiceRuntime | None) -> bytes:
    """The exposition text: this process's (or every process's) samples + live figures."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Delegate(REGISTRY))
    families: list[Any] = [requests_per_process(service)]
    if runtime is not None:
        families += await live_metrics(service, runtime)
    registry.register(_Static(families))
    return generate_latest(registry)


def requests_per_process(service: str) -> CounterMetricFamily:
    """``slate_process_http_requests_total``: the request count of each process, from the
    histogram file each one writes in multiprocess mode (``histogram_<pid>.db``), else
    from this process's own histogram. A process that exited keeps its last count until
    the service restarts (its file stays)."""
    family = CounterMetricFamily(
        "slate_process_http_requests",
        "HTTP requests served, per process of the service (how its processes share the load).",
        labels=["service", "pid"])
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        family.add_metric([service, str(os.getpid())], _request_count(HTTP_DURATION.collect(), service))
        return family
    from prometheus_client.multiprocess import MultiProcessCollector

    for path in sorted(glob.glob(os.path.join(directory, "histogram_*.db"))):
        pid = os.path.basename(path)[len("histogram_"):-len(".db")]
        with contextlib.suppress(OSError, ValueError):
            metrics = MultiProcessCollector.merge([path])  # type: ignore[no-untyped-call]
            if any(m.name == HTTP_DURATION_NAME for m in metrics):
                family.add_metric([service, pid], _request_count(metrics, service))
    return family


def _request_count(metrics: Any, service: str) -> float:
    return float(sum(sample.value for metric in metrics if metric.name == HTTP_DURATION_NAME
               for sample in metric.samples
               if sample.name == HTTP_DURATION_NAME + "_count" and sample.labels.get("service") == service))


async def live_metrics(service: str, runtime: ServiceRuntime) -> list[GaugeMetricFamily]:
    """Outbox and JetStream figures, read now (each left out if its source does not answer)."""
    families: list[GaugeMetricFamily] = []
    with contextlib.suppress(Exception):
        families += await asyncio.wait_for(_outbox(service, runtime), LIVE_TIMEOUT)
    if runtime.js is not None:
        try:
            families += await asyncio.wait_for(_jetstream(service, runtime.js), LIVE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 -- NATS away: the HTTP figures still matter
            log.debug("metrics_jetstream_failed", error=str(exc))
    return families


async def _outbox(service: str, runtime: ServiceRuntime) -> list[GaugeMetricFamily]:
    from sqlalchemy import func, select

    from .events.models import OutboxEvent
    from .serialization import now

    async with runtime.sessionmaker() as session:
        count, oldest = (await session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.published_at.is_(None))
        )).one()
    pending = GaugeMetricFamily("slate_outbox_pending_events", "Outbox rows not yet published to JetStream.",
                                labels=["service"])
    pending.add_metric([service], float(count))
    age = GaugeMetricFamily("slate_outbox_oldest_pending_age_seconds",
                            "Age of the oldest unpublished outbox row (0 when none).", labels=["service"])
    age.add_metric([service], max(0.0, (now() - oldest).total_seconds()) if oldest is not None else 0.0)
    return [pending, age]


async def _jetstream(service: str, js: Any) -> list[GaugeMetricFamily]:
    pending = GaugeMetricFamily("slate_consumer_pending_messages",
                                "Messages of the stream not yet delivered to the consumer (num_pending).",
                                labels=["service", "stream", "consumer"])
    ack_pending = GaugeMetricFamily("slate_consumer_ack_pending_messages",
                                    "Messages delivered to the consumer and not yet acknowledged.",
                                    labels=["service", "stream", "consumer"])
    depth = GaugeMetricFamily("slate_work_queue_depth", "Jobs waiting in a work-queue stream.",
                              labels=["service", "stream"])
    for stream in await js.streams_info():
        name = stream.config.name
        mine = [c for c in await js.consumers_info(name) if (c.name or "").startswith(service + "-")]
        for consumer in mine:
            pending.add_metric([service, name, consumer.name], float(consumer.num_pending or 0))
            ack_pending.add_metric([service, name, consumer.name], float(consumer.num_ack_pending or 0))
        retention = getattr(stream.config.retention, "value", stream.config.retention)
        if mine and retention == "workqueue":
            depth.add_metric([service, name], float(stream.state.messages))
    return [pending, ack_pending, depth]


class _Static:
    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families


class _Delegate:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Any:
        return self.registry.collect()
