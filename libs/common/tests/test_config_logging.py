from __future__ import annotations

import json
import logging

import pytest

from slate_common.config import BaseServiceSettings, SharedSettings, service_config
from slate_common.logging import configure_logging, get_logger, request_id_var
from slate_common.tracing import configure_tracing, tracer

PRODUCTION = {
    "SLATE_ENV": "production",
    "SLATE_SECRET_KEY": "k" * 40,
    "SLATE_S3_ACCESS_KEY": "studio-s3",
    "SLATE_S3_SECRET_KEY": "a-real-s3-secret",
    "SLATE_ADMIN_PASSWORD": "a real admin password",
    "SLATE_POSTGRES_URL": "postgresql+asyncpg://slate:db-password@db:5432",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SLATE_SECRET_KEY": None}, "SLATE_SECRET_KEY"),
        ({"SLATE_SECRET_KEY": "slate-dev-secret-change-me"}, "SLATE_SECRET_KEY"),
        ({"SLATE_SECRET_KEY": "too-short"}, "SLATE_SECRET_KEY"),
        ({"SLATE_S3_ACCESS_KEY": None}, "SLATE_S3_ACCESS_KEY"),
        ({"SLATE_S3_SECRET_KEY": "slate-secret-key"}, "SLATE_S3_SECRET_KEY"),
        ({"SLATE_ADMIN_PASSWORD": "slate-admin-password"}, "SLATE_ADMIN_PASSWORD"),
        ({"SLATE_POSTGRES_URL": None}, "SLATE_POSTGRES_URL has no password"),
        ({"SLATE_POSTGRES_URL": "postgresql+asyncpg://postgres@db:5432"}, "SLATE_POSTGRES_URL has no password"),
        ({"SLATE_TEST_DATABASE_URL": "postgresql+asyncpg://slate@db/slate_test"}, "DATABASE_URL has no password"),
        # the values of deploy/k8s/base/secrets.example.env, copied unchanged
        ({"SLATE_SECRET_KEY": "change-me-to-64-random-characters"}, "SLATE_SECRET_KEY"),
        ({"SLATE_S3_SECRET_KEY": "change-me"}, "SLATE_S3_SECRET_KEY"),
        ({"SLATE_POSTGRES_URL": "postgresql+asyncpg://slate:change-me@slate-db-rw:5432"}, "example password"),
    ],
)
def test_production_mode_refuses_every_default_credential(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, str | None], message: str
) -> None:
    for name, value in {**PRODUCTION, **change}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        _TestSettings().shared.check_production_ready()


def test_production_mode_starts_with_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLATE_ADMIN_PASSWORD")  # not needed by services
    monkeypatch.setenv("SLATE_TEST_DATABASE_URL", "postgresql+asyncpg://slate@db/slate_test?password=pw")
    _TestSettings().shared.check_production_ready()
    monkeypatch.setenv("SLATE_ENV", "development")  # defaults are fine outside production
    monkeypatch.setenv("SLATE_SECRET_KEY", "slate-dev-secret-change-me")
    monkeypatch.setenv("SLATE_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:15432")
    SharedSettings().check_production_ready()


class _TestSettings(BaseServiceSettings):
    service_name = "test"
    model_config = service_config("test")


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


def test_secrets_are_redacted_and_the_rest_kept(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("testsvc", "INFO", "json")
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    get_logger("t").info(
        "calling https://s3.studio/b/k?X-Amz-Signature=f00dfeed&X-Amz-Credential=AKIA%2F1&part=2",
        password="pw-123456", status_code=201, path="/data/projects", count=3, otp_code="123456",
        headers={"authorization": "Basic dXNlcjpwYXNz", "accept": "application/json"},
        dsn="nats://svc:nats-pass@nats:4222", note=f"Bearer {jwt}", items=[{"access_token": jwt}],
    )
    logging.getLogger("lib").warning("reset link ?email=a@b.c&token=abcdef123456 sent")
    out = capsys.readouterr().err
    for secret in ("pw-123456", "f00dfeed", "AKIA", "123456", "dXNlcjpwYXNz", "nats-pass", jwt, "abcdef123456"):
        assert secret not in out, secret
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["status_code"] == 201 and lines[0]["path"] == "/data/projects" and lines[0]["count"] == 3
    assert lines[0]["headers"]["accept"] == "application/json" and lines[0]["dsn"] == "nats://svc:[redacted]@nats:4222"
    assert "part=2" in lines[0]["event"] and lines[1]["event"].startswith("reset link ?email=a@b.c&token=[redacted]")
