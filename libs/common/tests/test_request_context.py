"""RequestContextMiddleware: the request id, the server span continuing the caller's
trace, and one access log line per request, without an exporter (the usual case)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from opentelemetry import trace
from starlette.types import Receive, Scope, Send

from slate_common.app import RequestContextMiddleware
from slate_common.logging import configure_logging, get_logger, request_id_var
from slate_common.tracing import configure_tracing, inject_headers


async def _handler(scope: Scope, receive: Receive, send: Send) -> None:
    """Logs a line and answers the trace context it would propagate (to NATS, to a service)."""
    get_logger("handler").info("inside")
    body = json.dumps(inject_headers()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    return [line for line in lines if line["event"] in ("inside", "request")]  # not httpx's own


async def test_request_id_trace_and_one_access_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_tracing("ctx", None)
    configure_logging("ctx", "INFO", "json")
    app = RequestContextMiddleware(_handler, service="ctx")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        capsys.readouterr()
        trace_id, parent_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        r = await client.get("/x", headers={"x-request-id": "rid-1", "traceparent": f"00-{trace_id}-{parent_span}-01"})
        assert r.headers["x-request-id"] == "rid-1"
        inside, access = _lines(capsys)
        assert inside["event"] == "inside" and access["event"] == "request"
        assert access["method"] == "GET" and access["path"] == "/x" and access["status"] == 200
        assert inside["request_id"] == access["request_id"] == "rid-1"
        # The caller's trace goes on, in a span of its own, and is what the handler propagates.
        assert inside["trace_id"] == access["trace_id"] == trace_id
        assert inside["span_id"] == access["span_id"] != parent_span
        version, propagated_trace, propagated_span, flags = r.json()["traceparent"].split("-")
        assert (propagated_trace, propagated_span, flags) == (trace_id, access["span_id"], "01")

        r = await client.get("/y")  # no request id, no trace: both made here, new each time
        r2 = await client.get("/y")
        first, second = [line for line in _lines(capsys) if line["event"] == "request"]
        assert r.headers["x-request-id"] == first["request_id"] and len(first["request_id"]) == 32
        assert first["request_id"] != second["request_id"] and r2.headers["x-request-id"] == second["request_id"]
        assert first["trace_id"] != second["trace_id"] and first["trace_id"] != "0" * 32
        assert r.json()["traceparent"].split("-")[1] == first["trace_id"]
    assert not trace.get_current_span().get_span_context().is_valid  # nothing left attached


def test_the_access_line_is_the_line_structlog_writes(capsys: pytest.CaptureFixture[str]) -> None:
    """log_request writes straight to the handler's stream, bypassing structlog for speed:
    the same fields in the same order and types as the pipeline writes, secrets in the
    path redacted as the pipeline redacts them, and nothing below the configured level."""
    from slate_common.logging import log_request

    configure_logging("ctx", "INFO", "json")
    capsys.readouterr()
    path = "/shared/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-part/x"
    token = request_id_var.set("rid-7")
    try:
        get_logger("slate.access").info("request", method="GET", path=path, status=201, duration_ms=1.25)
        log_request(method="GET", path=path, status=201, duration_ms=1.25)
    finally:
        request_id_var.reset(token)
    raw = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    piped, direct = (json.loads(line) for line in raw)
    assert list(piped) == list(direct)
    for line in (piped, direct):
        line.pop("timestamp")
    assert piped == direct
    assert direct == {"method": "GET", "path": "/shared/[jwt]/x", "status": 201, "duration_ms": 1.25,
                      "event": "request", "level": "info", "service": "ctx", "request_id": "rid-7"}

    configure_logging("ctx", "WARNING", "json")
    capsys.readouterr()
    log_request(method="GET", path="/x", status=200, duration_ms=1.0)
    assert capsys.readouterr().err == ""
