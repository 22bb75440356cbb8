from __future__ import annotations

import json
import logging

import pytest

from slate_common.config import SharedSettings
from slate_common.logging import configure_logging, get_logger, request_id_var
from slate_common.tracing import configure_tracing, tracer


def test_production_mode_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLATE_ENV", "production")
    with pytest.raises(RuntimeError, match="SLATE_SECRET_KEY"):
        SharedSettings().check_production_ready()
    monkeypatch.setenv("SLATE_SECRET_KEY", "a-real-secret")
    SharedSettings().check_production_ready()


def test_log_lines_carry_service_request_and_trace_ids(capsys: pytest.CaptureFixture[str]) -> None:
    configure_tracing("testsvc", None)
    configure_logging("testsvc", "INFO", "json")
    token = request_id_var.set("req-123")
    try:
        with tracer().start_as_current_span("work") as span:
            get_logger("t").info("hello", answer=42)
            logging.getLogger("stdlib").warning("from the standard library")
            trace_id = format(span.get_span_context().trace_id, "032x")
    finally:
        request_id_var.reset(token)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert len(lines) == 2
    for line in lines:
        assert line["service"] == "testsvc" and line["request_id"] == "req-123"
        assert line["trace_id"] == trace_id
    assert lines[0]["event"] == "hello" and lines[0]["answer"] == 42
    assert lines[1]["event"] == "from the standard library" and lines[1]["level"] == "warning"
