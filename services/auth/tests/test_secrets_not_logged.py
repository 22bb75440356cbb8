"""No token, password, one-time code or signed URL in logs or traces: real flows (login,
refresh, password reset by mail, email one-time code, a wrong login) run with every log
line (DEBUG and up, Slate's and the libraries') and every span captured, then the output
is searched for each secret the flows handled."""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from .conftest import make_person

PASSWORD = "first secret password"
NEW_PASSWORD = "second secret password"
WRONG_PASSWORD = "a wrong secret guess"


class Captured(SpanProcessor):
    """Log lines and finished spans, while ``active`` (a span processor cannot be removed
    from the global provider, so it goes quiet after the test)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.spans: list[ReadableSpan] = []
        self.active = True

    def on_end(self, span: ReadableSpan) -> None:
        if self.active:
            self.spans.append(span)

    def text(self) -> str:
        spans = [f"{s.name} {dict(s.attributes or {})} {[e.attributes for e in s.events]}" for s in self.spans]
        return self.stream.getvalue() + "\n".join(spans)


@pytest.fixture
def captured(client) -> Iterator[Captured]:  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    capture = Captured()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(root.handlers[0].formatter)  # the service's own formatter (configure_logging)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    provider: Any = trace.get_tracer_provider()
    provider.add_span_processor(capture)
    try:
        yield capture
    finally:
        capture.active = False
        root.removeHandler(handler)
        root.setLevel(level)


def _assert_absent(output: str, secrets: dict[str, str]) -> None:
    for name, secret in secrets.items():
        assert len(secret) >= 6, name
        found = re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", output)
        assert found is None, (name, output[max(0, found.start() - 300):found.end() + 100])


@pytest.mark.slow
async def test_flows_leave_no_secret_in_logs_or_traces(client, smtp_sink, infra, captured) -> None:  # type: ignore[no-untyped-def]
    email = f"secrets-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, PASSWORD)
    secrets: dict[str, str] = {"password": PASSWORD, "wrong password": WRONG_PASSWORD, "new password": NEW_PASSWORD}

    # login, a wrong login, refresh (rotation: a new refresh token)
    assert (await client.post("/auth/login", json={"email": email, "password": WRONG_PASSWORD})).status_code == 400
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    secrets |= {"access token": r.json()["access_token"], "refresh token": r.json()["refresh_token"]}
    client.cookies.clear()
    r = await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {r.json()['refresh_token']}"})
    assert r.status_code == 200, r.text
    secrets |= {"refreshed access token": r.json()["access_token"], "next refresh token": r.json()["refresh_token"]}
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}

    # email one-time codes: enabling, then logging in with one
    assert (await client.put("/auth/email-otp", headers=bearer)).status_code == 200
    code = re.search(r"code is (\d{6})\b", smtp_sink.text(smtp_sink.wait_for(email, count=1)[-1])).group(1)
    assert (await client.post("/auth/email-otp", json={"email_otp": code}, headers=bearer)).status_code == 200
    secrets["enabling code"] = code
    assert (await client.get("/auth/email-otp", params={"email": email})).status_code == 200
    code = re.search(r"code is (\d{6})\b", smtp_sink.text(smtp_sink.wait_for(email, count=2)[-1])).group(1)
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD, "email_otp": code})
    assert r.status_code == 200, r.text
    secrets |= {"login code": code, "2fa access token": r.json()["access_token"]}
    client.cookies.clear()

    # password reset by mail: the mailed token, then the new password
    assert (await client.post("/auth/reset-password", json={"email": email})).status_code == 200
    mail = smtp_sink.text(smtp_sink.wait_for(email, count=3)[-1])
    link = re.search(r"https://kitsu\.studio\.test/reset-change-password\?\S+", mail)
    assert link, mail
    token = parse_qs(urlsplit(link.group(0)).query)["token"][0]
    secrets["reset token"] = token
    r = await client.put("/auth/reset-password", json={"email": email, "token": token, "password": NEW_PASSWORD,
                                                       "password2": NEW_PASSWORD})
    assert r.status_code == 200, r.text

    output = captured.text()
    assert output.count("\n") > 50 and "/auth/refresh-token" in output  # the capture did capture the flows
    assert any(span.name == "POST /auth/login" for span in captured.spans)
    _assert_absent(output, secrets)


def test_secrets_handed_to_a_logger_by_mistake_are_redacted(infra, captured) -> None:  # type: ignore[no-untyped-def]
    """The canary: code that logs secrets outright (a signed S3 URL made with the test
    S3's real keys, a token in a message, a URL with a password) still leaks nothing."""
    from minio import Minio

    from slate_common.logging import get_logger

    s3 = Minio(infra.s3_endpoint, access_key=infra.s3_access_key, secret_key=infra.s3_secret_key, secure=False,
               region="us-east-1")
    signed = s3.presigned_get_object("previews", "some/movie.mp4")
    query = parse_qs(urlsplit(signed).query)
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLW9mLWNhbmFyeQ"
    get_logger("careless").info("fetching", url=signed, headers={"Authorization": f"Bearer {jwt_like}"},
                                password="canary password", email_otp="493817", refresh_token=jwt_like)
    logging.getLogger("careless.stdlib").warning("retrying %s for postgresql://slate:canary-db-password@db/x",
                                                 signed)
    try:
        raise RuntimeError(f"upstream refused token={jwt_like}")
    except RuntimeError:
        get_logger("careless").exception("failed")
    output = captured.stream.getvalue()
    assert "fetching" in output and "retrying" in output and "upstream refused" in output
    _assert_absent(output, {
        "signature": query["X-Amz-Signature"][0], "credential": query["X-Amz-Credential"][0],
        "jwt": jwt_like, "password": "canary password", "code": "493817", "db password": "canary-db-password",
        "s3 secret key": infra.s3_secret_key,
    })
