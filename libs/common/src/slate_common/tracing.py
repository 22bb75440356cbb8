"""OpenTelemetry tracing. Spans for HTTP handlers (see app middleware), database calls
(SQLAlchemy engine events) and NATS publish/consume (context in message headers).
Spans are exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Without an exporter the HTTP and NATS spans still exist (their trace ids tie log lines
and events across services together), but no span is made per SQL statement: nobody
could read it, and at 20 statements a request they cost about a sixth of a busy
service's CPU."""

from __future__ import annotations

import random
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

_configured = False
_exporting = False
_tracer: trace.Tracer | None = None


def configure_tracing(service: str, otlp_endpoint: str | None) -> None:
    global _configured, _exporting, _tracer
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"slate-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces"))
        )
    trace.set_tracer_provider(provider)
    _configured, _exporting, _tracer = True, bool(otlp_endpoint), None


def exporting() -> bool:
    """Whether spans leave the process (an OTLP endpoint is configured)."""
    return _exporting


def tracer() -> trace.Tracer:
    global _tracer
    if _tracer is None:  # one Tracer object, not one per span
        _tracer = trace.get_tracer("slate")
    return _tracer


def inject_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """Current trace context as W3C headers (for NATS messages and HTTP calls)."""
    carrier: dict[str, str] = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_context(headers: dict[str, str] | None) -> otel_context.Context:
    return propagate.extract(headers or {})


def propagation_fields() -> frozenset[bytes]:
    """The request headers the global propagators read (``traceparent``, ``tracestate``,
    ``baggage`` by default), lower-case, as ASGI gives header names."""
    return frozenset(name.lower().encode("latin-1") for name in propagate.get_global_textmap().fields)


def server_span(name: str) -> Any:
    """The context manager of a request's server span, current while it is open.

    When spans are read (an exporter, or any span processor added to the provider), a
    span of the SDK. Otherwise nobody can read a span's name, attributes or timing, so a
    non-recording span stands in: it has its own span id and continues the caller's trace
    (or starts one), which is all that log lines and the context propagated to NATS and
    to other services read from it, for a tenth of the SDK span's cost (ids, attributes,
    processors, on every request)."""
    if _spans_read():
        return tracer().start_as_current_span(name, kind=SpanKind.SERVER)
    parent = trace.get_current_span().get_span_context()
    if parent.is_valid:
        trace_id, flags, state = parent.trace_id, parent.trace_flags, parent.trace_state
    else:  # a new trace, sampled, as the SDK's default sampler would make it
        trace_id, flags, state = _random_trace_id(), trace.TraceFlags(trace.TraceFlags.SAMPLED), None
    context = trace.SpanContext(trace_id, _random_span_id(), is_remote=False, trace_flags=flags, trace_state=state)
    return trace.use_span(trace.NonRecordingSpan(context), end_on_exit=True)


def _spans_read() -> bool:
    """Whether finished spans go anywhere: an exporter, or a span processor on the
    provider (a test capturing spans). Unknown provider internals count as read."""
    if _exporting:
        return True
    active = getattr(trace.get_tracer_provider(), "_active_span_processor", None)
    processors = getattr(active, "_span_processors", None) if active is not None else None
    return processors is None or bool(processors)


def _random_trace_id() -> int:
    trace_id = random.getrandbits(128)
    while trace_id == trace.INVALID_TRACE_ID:
        trace_id = random.getrandbits(128)
    return trace_id


def _random_span_id() -> int:
    span_id = random.getrandbits(64)
    while span_id == trace.INVALID_SPAN_ID:
        span_id = random.getrandbits(64)
    return span_id


def statement_span(statement: str) -> Any:
    """The span ``instrument_engine`` makes per statement, for a statement run by the
    driver directly (``slate_common.db.CompiledRead``); None without an exporter."""
    if not _exporting:
        return None
    return tracer().start_span("db " + statement.split(None, 1)[0].upper(), kind=SpanKind.CLIENT,
                               attributes={"db.system": "postgresql", "db.statement": statement[:500]})


def instrument_engine(engine: Any) -> None:
    """A client span per SQL statement on a SQLAlchemy engine."""
    from sqlalchemy import event

    sync_engine = getattr(engine, "sync_engine", engine)

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if not _exporting:
            return
        span = tracer().start_span(
            "db " + statement.split(None, 1)[0].upper() if statement else "db",
            kind=SpanKind.CLIENT,
            attributes={"db.system": "postgresql", "db.statement": statement[:500]},
        )
        conn.info.setdefault("slate_spans", []).append(span)

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        spans = conn.info.get("slate_spans")
        if spans:
            spans.pop().end()

    @event.listens_for(sync_engine, "handle_error")
    def _error(exc_ctx: Any) -> None:
        spans = exc_ctx.connection.info.get("slate_spans") if exc_ctx.connection is not None else None
        if spans:
            span = spans.pop()
            span.record_exception(exc_ctx.original_exception)
            span.end()
