"""The gateway behind an ingress, with the real services: forwarded client address and
scheme, /stats, and /metrics on every process."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx


async def test_login_log_records_the_first_untrusted_hop(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    """The test client is on loopback, a trusted proxy by default (a local ingress): what
    it reports is believed as far as the first untrusted address, never further left."""
    client_ip = f"198.51.100.{uuid.uuid4().int % 200 + 1}"
    r = await api.post("/auth/login", json={"email": stack.admin_email, "password": stack.admin_password},
                       headers={"X-Forwarded-For": f"6.6.6.6, {client_ip}"})
    assert r.status_code == 200
    r = await api.get("/data/events/login-logs/last", params={"limit": 20}, headers=admin)
    assert r.status_code == 200
    ips = [row["ip_address"] for row in r.json()]
    assert client_ip in ips and "6.6.6.6" not in ips


async def test_cookies_are_secure_behind_a_tls_proxy(api, stack) -> None:  # type: ignore[no-untyped-def]
    creds = {"email": stack.admin_email, "password": stack.admin_password}
    tls = await api.post("/auth/login", json=creds, headers={"X-Forwarded-Proto": "https"})
    assert tls.status_code == 200
    assert all("Secure" in c for c in tls.headers.get_list("set-cookie"))
    plain = await api.post("/auth/login", json=creds)
    assert plain.headers.get_list("set-cookie") and not any(
        "Secure" in c for c in plain.headers.get_list("set-cookie"))


async def test_stats_counts_for_administrators(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient() as anonymous:  # (api keeps the admin's cookies)
        missing = await anonymous.get(stack.gateway_url + "/api/stats")
    assert missing.status_code == 401 and "msg" in missing.json()
    r = await api.get("/stats", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"number_of_video_previews", "number_of_picture_previews",
                         "number_of_model_previews", "number_of_comments"}
    assert all(isinstance(v, int) and v >= 0 for v in body.values())
    email = f"e2e-{uuid.uuid4().hex[:8]}@studio.test"
    person = (await api.post("/data/persons", json={"first_name": "E2e", "last_name": "Stats", "email": email,
                                                    "role": "manager"}, headers=admin)).json()
    await api.post(f"/actions/persons/{person['id']}/change-password",
                   json={"password": "stats password", "password_2": "stats password"}, headers=admin)
    async with httpx.AsyncClient() as manager:
        token = (await manager.post(stack.gateway_url + "/api/auth/login",
                                    json={"email": email, "password": "stats password"})).json()
        r = await manager.get(stack.gateway_url + "/api/stats",
                              headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 403 and r.json()["error"] is True


async def test_metrics_on_every_service_and_the_gateway(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    for _ in stack.gateway_urls:  # api sends each request to the next gateway replica
        assert (await api.get("/data/projects", headers=admin)).status_code == 200
    gateways = {f"gateway {i + 1}": url for i, url in enumerate(stack.gateway_urls)}
    async with httpx.AsyncClient(timeout=10) as client:
        for name, url in {**stack.service_urls, **gateways}.items():
            r = await client.get(url + "/metrics")
            assert r.status_code == 200, name
            assert r.headers["content-type"].startswith("text/plain"), name
            assert "http_server_request_duration_seconds" in r.text, name
            if name in stack.service_urls:
                assert f'slate_outbox_pending_events{{service="{name}"}}' in r.text, name
            else:
                assert 'route="/data/projects"' in r.text, name
        production = (await client.get(stack.service_urls["production"] + "/metrics")).text
    assert 'route="/data/projects"' in production
    assert 'consumer="production-events"' in production
    assert re.search(r'^slate_process_http_requests_total\{pid="\d+",service="production"\} [1-9]', production, re.M)


async def _auth_answered(stack, status: str) -> float:  # type: ignore[no-untyped-def]
    """How many GET /auth/authenticated auth itself has answered with ``status``."""
    async with httpx.AsyncClient() as direct:
        text = (await direct.get(stack.url("auth") + "/metrics")).text
    pattern = (r'http_server_request_duration_seconds_count\{method="GET",route="/auth/authenticated",'
               rf'service="auth",status="{status}"\}} (\S+)')
    return sum(float(m) for m in re.findall(pattern, text))


async def test_the_gateway_answers_authenticated_itself_until_auth_changes_something(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    """GET /auth/authenticated: auth answers once per token, the gateway answers again the same
    body (slate_gateway.identity), by a bearer header or by the cookie; a write in auth makes it
    ask auth again; the internal header never reaches the client."""
    async with httpx.AsyncClient(base_url=stack.gateway_url + "/api") as client:
        body = (await client.post("/auth/login", json={"email": stack.admin_email,
                                                        "password": stack.admin_password})).json()
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        cookie_only = {"Cookie": f"access_token_cookie={body['access_token']}"}
        client.cookies.clear()
        for headers in (bearer, cookie_only):
            before = await _auth_answered(stack, "200")
            answers = [await client.get("/auth/authenticated", headers=headers) for _ in range(10)]
            assert [r.status_code for r in answers] == [200] * 10
            assert len({r.content for r in answers}) == 1 and answers[0].json()["user"]["email"] == stack.admin_email
            assert all("slate-answer-until" not in r.headers for r in answers)
            assert await _auth_answered(stack, "200") - before <= len(stack.gateway_urls)  # once per gateway
        me = answers[0].json()["user"]
        renamed = uuid.uuid4().hex[:8]
        assert (await client.put(f"/data/persons/{me['id']}", headers=bearer, json={"phone": renamed})).status_code == 200
        before = await _auth_answered(stack, "200")
        assert (await client.get("/auth/authenticated", headers=bearer)).json()["user"]["phone"] == renamed
        assert await _auth_answered(stack, "200") - before == 1
        # a token auth refuses is never kept: every call goes to auth
        before = await _auth_answered(stack, "422")  # Zou's answer to a malformed token
        for _ in range(3):
            assert (await client.get("/auth/authenticated", headers={"Authorization": "Bearer nope"})).status_code == 422
        assert await _auth_answered(stack, "422") - before == 3


def test_the_gateway_view_speaks_the_services_words() -> None:
    """slate_gateway.identity stays free of libs/common, so it writes these names again:
    they must be the ones the writers, the bus and auth use."""
    from slate_common.bus import EVENTS_SUBJECT_PREFIX
    from slate_common.events import consistency
    from slate_common.revocation import BUCKET

    from slate_gateway import identity

    assert identity.READABLE == consistency.READABLE
    assert identity.APPLIED_PREFIX == consistency.APPLIED_PREFIX
    assert identity.REVOCATIONS_BUCKET == BUCKET
    assert identity.AUTH_EVENTS == f"{EVENTS_SUBJECT_PREFIX}.auth.>"
    auth_source = (Path(__file__).resolve().parents[2] / "services/auth/src/slate_auth/api/auth.py").read_text()
    assert f'"{identity.UNTIL_HEADER.decode()}"' in auth_source
