"""OpenTelemetry tracing. Spans for HTTP handlers (see app middleware), database calls
(SQLAlchemy engine events) and NATS publish/consume (context in message headers).
Spans are exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set."""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None) -> None:
    global _configured
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
    _configured = True


def tracer() -> trace.Tracer:
    return trace.get_tracer("slate")


def inject_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """Current trace context as W3C headers (for NATS messages and HTTP calls)."""
    carrier: dict[str, str] = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_context(headers: dict[str, str] | None) -> otel_context.Context:
    return propagate.extract(headers or {})


def instrument_engine(engine: Any) -> None:
    """A client span per SQL statement on a SQLAlchemy engine."""
    from sqlalchemy import event

    sync_engine = getattr(engine, "sync_engine", engine)

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
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
