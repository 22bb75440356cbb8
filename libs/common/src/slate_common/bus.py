"""NATS connection, JetStream stream setup, and request/reply helpers.

Subjects: events ``slate.events.<service>.<name with ':' as '.'>`` on one stream;
requests ``slate.rpc.<service>.<operation>`` with JSON bodies and typed errors.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind

from .errors import NotFound, ServiceUnavailable, SlateError
from .logging import get_logger
from .serialization import dumps, loads
from .tracing import extract_context, inject_headers, tracer

log = get_logger(__name__)

EVENTS_SUBJECT_PREFIX = "slate.events"
#: How long the events stream keeps an event (a consumer rebuilt from its start meets
#: events this old at most).
EVENTS_MAX_AGE_SECONDS = 14 * 24 * 3600.0


def event_subject(service: str, name: str) -> str:
    return f"{EVENTS_SUBJECT_PREFIX}.{service}.{name.replace(':', '.')}"


async def connect(url: str, name: str) -> NATS:
    async def _disconnected() -> None:
        log.warning("nats_disconnected")

    async def _reconnected() -> None:
        log.info("nats_reconnected")

    async def _error(exc: Exception) -> None:
        log.warning("nats_error", error=str(exc))

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        disconnected_cb=_disconnected,
        reconnected_cb=_reconnected,
        error_cb=_error,
    )


async def ensure_events_stream(js: JetStreamContext, stream: str) -> None:
    """One stream holds every event; duplicates within 2 minutes are dropped by Nats-Msg-Id."""
    config = StreamConfig(
        name=stream,
        subjects=[f"{EVENTS_SUBJECT_PREFIX}.>"],
        duplicate_window=120.0,
        max_age=EVENTS_MAX_AGE_SECONDS,
    )
    try:
        await js.stream_info(stream)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except Exception as exc:  # another service created it meanwhile
            if "already in use" not in str(exc):
                raise


# --- request/reply ---------------------------------------------------------------


class RpcError(SlateError):
    """The remote service answered with an error; carries its status and message."""


class RpcTimeout(ServiceUnavailable):
    default_message = "The service did not answer in time"


def rpc_subject(service: str, operation: str) -> str:
    return f"slate.rpc.{service}.{operation}"


async def request(nc: NATS, service: str, operation: str, payload: Any, *, timeout: float = 5.0) -> Any:
    """Call ``operation`` on ``service`` and return its JSON result, or raise a typed error."""
    subject = rpc_subject(service, operation)
    with tracer().start_as_current_span(f"rpc {subject}", kind=SpanKind.CLIENT):
        try:
            msg = await nc.request(subject, dumps(payload), timeout=timeout, headers=inject_headers())
        except NatsTimeout as exc:
            raise RpcTimeout(f"{service}.{operation} timed out after {timeout}s") from exc
        except NoRespondersError as exc:
            raise ServiceUnavailable(f"No {service} service is answering {operation}") from exc
    body = loads(msg.data)
    if isinstance(body, dict) and body.get("error"):
        status = int(body.get("status", 400))
        err = NotFound(body.get("message")) if status == 404 else RpcError(body.get("message"))
        err.status_code = status
        raise err
    return body.get("result") if isinstance(body, dict) else body


Handler = Callable[[Any], Awaitable[Any]]


async def serve_rpc(nc: NATS, service: str, handlers: dict[str, Handler], *, settler: Any = None) -> list[Any]:
    """Answer ``slate.rpc.<service>.<op>`` with the handlers; a queue group spreads load.
    With a ``settler``, a handler's writes are applied by the readable replicas before
    the answer, as an HTTP write's are (``events/consistency.py``)."""
    from .events.consistency import settle_scope  # the events package imports this module

    subs = []
    for operation, handler in handlers.items():
        subject = rpc_subject(service, operation)

        async def _cb(msg: Msg, handler: Handler = handler, subject: str = subject) -> None:
            token = otel_context.attach(extract_context(dict(msg.headers or {})))
            try:
                with tracer().start_as_current_span(f"rpc {subject}", kind=SpanKind.SERVER):
                    try:
                        scope: contextlib.AbstractContextManager[list[Any]] = (
                            settle_scope() if settler is not None else contextlib.nullcontext([]))
                        with scope as committed:
                            result = await handler(loads(msg.data) if msg.data else None)
                        if committed and settler is not None:
                            await settler.settle(committed)
                        reply: dict[str, Any] = {"result": result}
                    except SlateError as exc:
                        reply = {"error": True, "status": exc.status_code, "message": exc.message}
                    except Exception:
                        log.exception("rpc_handler_failed", subject=subject)
                        reply = {"error": True, "status": 500, "message": "Internal error"}
                await msg.respond(dumps(reply))
            finally:
                otel_context.detach(token)

        subs.append(await nc.subscribe(subject, queue=f"rpc-{service}", cb=_cb))
    return subs


async def wait_closed(nc: NATS | None) -> None:
    """Drain ``nc`` (the RPC handlers finish what they received), then close it.

    A subscription without a callback is read by a task of ours (a pull consumer, a media
    job slot, a KV watcher), cancelled by now: what it still holds or receives would never
    be read, and drain would wait for it until its timeout (5 s at every service's
    shutdown). Those are dropped first."""
    if nc is not None and not nc.is_closed:
        for sub in list(nc._subs.values()):  # noqa: SLF001 - nats-py lists them nowhere else
            if sub._cb is None:  # noqa: SLF001
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        try:
            await asyncio.wait_for(nc.drain(), timeout=5)
        except Exception:
            await nc.close()
