"""The gateway against a real upstream (uvicorn + FastAPI) over real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from gwprocs import ANSWERED_BODY_LINGER, Proc, free_port, rss_kb, start_gateway, start_upstream, wait_http

MB = 1 << 20


# -- routing -------------------------------------------------------------------

def test_route_table_comes_from_upstream_openapi(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    # The upstream's operations, with their methods...
    assert "get" in paths["/data/projects/open"]
    assert "post" in paths["/data/projects"]
    assert "get" in paths["/data/projects/{project_id}"]
    # ...the gateway's own routes, and no service-internal ones.
    assert {"/", "/config", "/status", "/status.txt", "/status/resources"} <= set(paths)
    assert "/healthz" not in paths and "/readyz" not in paths
    assert client.get("/api/openapi.json").json()["paths"] == paths


def test_static_segment_beats_parameter(client: httpx.Client) -> None:
    assert isinstance(client.get("/data/projects/open").json(), list)
    assert client.get("/data/projects/1234").json() == {"id": "1234", "type": "Project"}


def test_api_prefix_is_stripped(client: httpx.Client) -> None:
    root = client.get("/data/projects/open")
    api = client.get("/api/data/projects/open")
    assert root.status_code == api.status_code == 200
    assert root.json() == api.json()
    seen = client.get("/api/echo/headers?a=1&b=2").json()
    assert seen["path"] == "/echo/headers"
    assert seen["query"] == "a=1&b=2"
    assert seen["headers"]["x-forwarded-prefix"] == "/api"


def test_unknown_path_is_zou_404(client: httpx.Client) -> None:
    for path in ("/nope", "/api/nope", "/data/projects/x/y/z", "/apix/data/projects/open"):
        r = client.get(path)
        assert r.status_code == 404, path
        body = r.json()
        assert body["error"] is True and "Not Found" in body["message"]


def test_wrong_method_is_zou_405(client: httpx.Client) -> None:
    r = client.delete("/api/data/projects/open")
    assert r.status_code == 405
    assert r.json() == {"error": True,
                        "message": "The method is not allowed for the requested URL."}
    assert "GET" in r.headers["allow"]


def test_post_json_body(client: httpx.Client) -> None:
    r = client.post("/api/data/projects", json={"name": "Agent 327"})
    assert r.status_code == 200
    assert r.json() == {"created": {"name": "Agent 327"}}


def test_head_on_get_route(client: httpx.Client) -> None:
    r = client.head("/config")
    assert r.status_code == 200 and r.content == b""
    r = client.head("/api/files/blob")
    assert r.status_code in (200, 405)  # the upstream decides; the gateway must not hang
    assert client.get("/api/files/blob").status_code == 200  # connection still usable


# -- headers -------------------------------------------------------------------

def test_request_id_kept_or_generated(client: httpx.Client) -> None:
    r = client.get("/echo/headers", headers={"X-Request-ID": "req-abc-123"})
    assert r.headers["x-request-id"] == "req-abc-123"
    assert r.json()["headers"]["x-request-id"] == "req-abc-123"
    r = client.get("/echo/headers")
    rid = r.headers["x-request-id"]
    assert len(rid) == 32 and r.json()["headers"]["x-request-id"] == rid


def test_traceparent_reaches_upstream(client: httpx.Client) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    incoming = f"00-{trace_id}-00f067aa0ba902b7-01"
    seen = client.get("/echo/headers", headers={"traceparent": incoming,
                                                "tracestate": "k=v"}).json()["headers"]
    version, tid, parent, flags = seen["traceparent"].split("-")
    assert (version, tid, flags) == ("00", trace_id, "01")
    assert parent != "00f067aa0ba902b7" and len(parent) == 16  # the gateway's own span
    assert seen["tracestate"] == "k=v"
    fresh = client.get("/echo/headers").json()["headers"]["traceparent"]
    assert len(fresh.split("-")[1]) == 32


def test_hop_by_hop_headers_not_forwarded(client: httpx.Client) -> None:
    seen = client.get("/echo/headers", headers={
        "Connection": "keep-alive, X-Private", "X-Private": "secret", "X-Public": "ok",
        "Proxy-Authorization": "Basic x"}).json()["headers"]
    assert seen["x-public"] == "ok"
    assert "x-private" not in seen and "proxy-authorization" not in seen


def test_set_cookie_and_cookie_passthrough(client: httpx.Client) -> None:
    r = client.post("/api/auth/login")
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 2
    assert any(c.startswith("access_token_cookie=abc") for c in cookies)
    r = httpx.get(client.base_url.join("/api/auth/cookies"),
                  headers={"Cookie": "access_token_cookie=abc; refresh_token_cookie=def"})
    assert r.json()["cookies"] == {"access_token_cookie": "abc", "refresh_token_cookie": "def"}


def test_range_passthrough(client: httpx.Client) -> None:
    full = client.get("/api/files/blob").content
    r = client.get("/api/files/blob", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["content-range"] == "bytes 100-199/4096"
    assert r.content == full[100:200]


def test_forwarded_headers_extended_from_a_trusted_proxy(client: httpx.Client) -> None:
    # The test client is on loopback, trusted by default (a local ingress).
    seen = client.get("/echo/headers", headers={"X-Forwarded-For": "198.51.100.7",
                                                "X-Forwarded-Proto": "https"}).json()["headers"]
    assert seen["x-forwarded-for"] == "198.51.100.7, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "https"
    plain = client.get("/echo/headers").json()["headers"]
    assert plain["x-forwarded-for"] == "127.0.0.1" and plain["x-forwarded-proto"] == "http"


def test_forwarded_headers_replaced_from_an_untrusted_peer(upstream: Proc) -> None:
    gw = start_gateway({"production": upstream.url}, SLATE_TRUSTED_PROXIES="10.0.0.0/8")
    try:
        seen = httpx.get(gw.url + "/echo/headers", headers={
            "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}).json()["headers"]
        assert seen["x-forwarded-for"] == "127.0.0.1"
        assert seen["x-forwarded-proto"] == "http"
    finally:
        gw.stop()


# -- CORS ----------------------------------------------------------------------

def test_cors_preflight(client: httpx.Client) -> None:
    r = client.options("/api/data/projects", headers={
        "Origin": "http://kitsu.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://kitsu.example"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-allow-headers"] == "authorization, content-type"


def test_cors_on_responses_replaces_upstream_policy(client: httpx.Client) -> None:
    r = client.get("/api/status/teapot", headers={"Origin": "http://kitsu.example"})
    assert r.status_code == 418
    assert r.headers.get_list("access-control-allow-origin") == ["http://kitsu.example"]
    assert r.headers["access-control-allow-credentials"] == "true"
    assert client.get("/api/status/teapot").headers.get("access-control-allow-origin") is None


def test_cors_origins_restricted(upstream: Proc) -> None:
    gw = start_gateway({"production": upstream.url},
                       SLATE_CORS_ORIGINS="http://good.example")
    try:
        ok = httpx.get(gw.url + "/data/projects/open", headers={"Origin": "http://good.example"})
        assert ok.headers["access-control-allow-origin"] == "http://good.example"
        bad = httpx.get(gw.url + "/data/projects/open", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in bad.headers
        pre = httpx.options(gw.url + "/data/projects", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in pre.headers
        assert "access-control-allow-methods" not in pre.headers
    finally:
        gw.stop()


def test_cors_default_allows_a_local_kitsu_only(upstream: Proc) -> None:
    gw = start_gateway({"production": upstream.url})
    try:
        local = httpx.get(gw.url + "/config", headers={"Origin": "http://localhost:8080"})
        assert local.headers["access-control-allow-origin"] == "http://localhost:8080"
        other = httpx.get(gw.url + "/config", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        assert "access-control-allow-credentials" not in other.headers
    finally:
        gw.stop()


def test_cors_wildcard_refused() -> None:
    port = free_port()
    proc = subprocess.run([sys.executable, "-m", "slate_gateway", "serve"], capture_output=True, check=False,
                          text=True, timeout=30, env={**os.environ, "SLATE_PORT": str(port),
                                                      "SLATE_CORS_ORIGINS": "*"})
    assert proc.returncode != 0 and "SLATE_CORS_ORIGINS" in proc.stderr


# -- gateway's own routes ------------------------------------------------------

def test_local_routes(client: httpx.Client) -> None:
    assert client.get("/").json() == {"api": "Slate", "version": client.get("/api/").json()["version"]}
    config = client.get("/api/config").json()
    for key in ("is_self_hosted", "crisp_token", "dark_theme_by_default", "indexer_configured",
                "saml_enabled", "saml_idp_name", "oidc_enabled", "oidc_idp_name",
                "default_locale", "default_timezone", "enforce_2fa", "movie_highdef_bitrate",
                "movie_lowdef_bitrate", "preview_accounts_enabled"):
        assert key in config
    status = client.get("/status").json()
    assert status["name"] == "Slate" and status["services"] == {"production": True}
    txt = client.get("/status.txt")
    assert txt.text.startswith("name: Slate\n") and txt.headers["content-type"] == "text"  # Zou's type
    assert "memory" in client.get("/status/resources").json()
    influx = client.get("/api/status/influx").json()
    assert influx["database-up"] == 1 and "time" in influx
    assert "openapi.json" in client.get("/apidocs/").text


def test_zou_gateway_routes(client: httpx.Client) -> None:
    assert client.get("/status/test-event").json() == {"success": True}
    assert client.post("/status/test-event").status_code == 405
    for path in ("/static/anything.css", "/api/static/x", "/docs/nope.js", "/docs/index.j2"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["message"].startswith("404 Not Found"), path
    redirect = client.get("/oauth2-redirect.html")
    assert redirect.status_code == 200 and "text/html" in redirect.headers["content-type"]
    assert "swaggerUIRedirectOauth2" in redirect.text


def test_docs_page_serves_its_own_swagger_ui(client: httpx.Client) -> None:
    """Every file the docs page loads is served by the gateway (no internet needed)."""
    import re
    from urllib.parse import urljoin

    for old, new in (("/apidocs/index.html", "/apidocs/"), ("/api/apidocs/index.html", "/api/apidocs/")):
        r = client.get(old)  # as Zou: a redirect to the page
        assert r.status_code == 302 and str(r.url.join(r.headers["location"]).path) == new
    for page in ("/apidocs/", "/api/apidocs/"):
        html = client.get(page).text
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert refs and not [r for r in refs if r.startswith(("http:", "https:", "//"))], refs
        for ref in refs:
            r = client.get(urljoin(page, ref))
            assert r.status_code == 200, (page, ref)
    js = client.get("/api/docs/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith("text/javascript") and b"SwaggerUIBundle" in js.content
    assert client.get("/docs/swagger-ui.css").headers["content-type"].startswith("text/css")


def test_stats_for_administrators_only(upstream: Proc) -> None:
    gw = start_gateway({"auth": upstream.url, "production": upstream.url, "media": upstream.url})
    try:
        assert httpx.get(gw.url + "/stats").status_code == 401
        user = httpx.get(gw.url + "/api/stats", headers={"Authorization": "Bearer manager"})
        assert user.status_code == 403 and user.json()["error"] is True
        admin = httpx.get(gw.url + "/api/stats", headers={"Authorization": "Bearer admin"})
        assert admin.status_code == 200
        assert admin.json() == {"number_of_video_previews": 3, "number_of_picture_previews": 5,
                                "number_of_model_previews": 7, "number_of_comments": 11}
    finally:
        gw.stop()


def test_every_gateway_route_of_the_reference_is_served(client: httpx.Client) -> None:
    import csv
    import re
    from pathlib import Path

    tsv = Path(__file__).parents[2] / "tests" / "e2e" / "routes.tsv"
    with tsv.open() as f:
        wanted = {(r["method"].lower(), re.sub(r"{[^}]*}", "{}", r["path"]))
                  for r in csv.DictReader(f, delimiter="\t") if r["service"] == "gateway"}
    paths = client.get("/openapi.json").json()["paths"]
    served = {(m, re.sub(r"{[^}]*}", "{}", p)) for p, ops in paths.items() for m in ops}
    assert wanted and wanted <= served, sorted(wanted - served)


# -- streaming -----------------------------------------------------------------

def _peak_tracker(pid: int) -> tuple[threading.Event, list[int]]:
    """Sample the gateway's RSS every 10 ms in a thread; returns (stop, [peak kB])."""
    stop = threading.Event()
    peak = [rss_kb(pid)]

    def run() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.01)

    threading.Thread(target=run, daemon=True).start()
    return stop, peak


def _body(total: int, chunk: int = MB) -> Iterator[bytes]:
    block = b"\x5a" * chunk
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield block[:n]
        sent += n


@pytest.mark.slow
@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_large_upload_is_streamed(gateway: Proc, framing: str) -> None:
    total = 200 * MB
    pid = gateway.proc.pid
    before = rss_kb(pid)
    stop, peak = _peak_tracker(pid)
    headers = {"Content-Length": str(total)} if framing == "content-length" else {}
    with httpx.Client(timeout=120) as c:
        r = c.post(gateway.url + "/api/upload", content=_body(total), headers=headers)
    stop.set()
    assert r.status_code == 200, r.text
    assert r.json() == {"received": total}
    growth_mb = (peak[0] - before) / 1024
    print(f"RSS before {before} kB, peak {peak[0]} kB")
    assert growth_mb < 8, f"gateway RSS grew by {growth_mb:.1f} MB during a 200 MB upload"


@pytest.mark.slow
def test_large_download_is_streamed(gateway: Proc) -> None:
    total = 200 * MB
    pid = gateway.proc.pid
    before = rss_kb(pid)
    stop, peak = _peak_tracker(pid)
    got = 0
    with httpx.Client(timeout=120) as c, c.stream(
            "GET", gateway.url + f"/api/download?size={total}") as r:
        assert r.status_code == 200
        for chunk in r.iter_raw():
            got += len(chunk)
            if got < 20 * MB:
                time.sleep(0.001)  # a slow reader at first: back-pressure must hold
    stop.set()
    assert got == total
    growth_mb = (peak[0] - before) / 1024
    print(f"RSS before {before} kB, peak {peak[0]} kB")
    assert growth_mb < 8, f"gateway RSS grew by {growth_mb:.1f} MB during a 200 MB download"


# -- raw HTTP/1.1 behaviour ----------------------------------------------------

def _raw(gateway: Proc, payload: bytes, expect_responses: int, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        deadline = time.monotonic() + timeout
        while data.count(b"HTTP/1.1 ") < expect_responses or not data.endswith((b"}", b"]")):
            if time.monotonic() > deadline:
                break
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_pipelined_requests_answered_in_order(gateway: Proc) -> None:
    req = (b"GET /api/data/projects/one HTTP/1.1\r\nHost: x\r\n\r\n"
           b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
           b"GET /api/data/projects/two HTTP/1.1\r\nHost: x\r\n\r\n")
    data = _raw(gateway, req, 3)
    i1, i2, i3 = data.find(b'"id":"one"'), data.find(b"Not Found"), data.find(b'"id":"two"')
    assert -1 < i1 < i2 < i3, data


def test_expect_100_continue(gateway: Proc) -> None:
    body = b'{"name": "x"}'
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as s:
        s.sendall(b"POST /api/data/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert s.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(body)
        data = b""
        while not data.endswith(b"}}"):
            data += s.recv(4096)
    assert data.startswith(b"HTTP/1.1 200") and b'"created":{"name":"x"}' in data


@pytest.mark.slow
def test_many_requests_on_one_connection(client: httpx.Client) -> None:
    for i in range(300):
        assert client.get(f"/data/projects/{i}").json()["id"] == str(i)


# -- upstream failures ---------------------------------------------------------

@pytest.mark.slow
def test_upstream_down_then_back() -> None:
    up = start_upstream(name="planning")
    gw = start_gateway({"planning": up.url})
    try:
        assert httpx.get(gw.url + "/api/data/projects/open").status_code == 200
        up.stop()
        r = httpx.get(gw.url + "/api/data/projects/open")
        assert r.status_code in (502, 503)
        assert r.json()["error"] is True
        # The routes stay known while the service is down: not a 404.
        assert httpx.get(gw.url + "/api/data/projects/xyz").status_code in (502, 503)
        assert httpx.get(gw.url + "/api/nope").status_code == 404
        up = start_upstream(port=up.port, name="planning")
        deadline = time.monotonic() + 10
        while httpx.get(gw.url + "/api/data/projects/open").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        up.stop()
        gw.stop()


def test_unknown_while_service_never_seen_is_503() -> None:
    port = free_port()
    env = {"SLATE_PORT": str(port), "SLATE_PRODUCTION_URL": "http://127.0.0.1:1",
           "SLATE_AUTH_URL": "off", "SLATE_MEDIA_URL": "off", "SLATE_IMPORT_EXPORT_URL": "off",
           "SLATE_PLANNING_URL": "off"}  # production: nothing listens there
    proc = subprocess.Popen([sys.executable, "-m", "slate_gateway", "serve"],
                            env={**os.environ, **env})
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz", status=503)
        r = httpx.get(f"http://127.0.0.1:{port}/api/data/projects/open")
        assert r.status_code == 503 and "production" in r.json()["message"]
        assert httpx.get(f"http://127.0.0.1:{port}/config").status_code == 200
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.mark.slow
def test_requests_wait_for_a_connection_when_the_pool_is_full() -> None:
    upstream = start_upstream()
    gw = start_gateway({"production": upstream.url}, SLATE_GATEWAY_UPSTREAM_MAX_CONNECTIONS="2")
    try:
        results: list[int] = []

        def worker(i: int) -> None:
            with httpx.Client(timeout=30) as c:
                for j in range(5):
                    results.append(c.get(f"{gw.url}/api/data/projects/{i}-{j}").status_code)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [200] * 80
        peers = subprocess.run(["ss", "-tnH", "state", "established", f"( dport = :{upstream.port} )"],
                               capture_output=True, text=True, check=False).stdout
        assert len([line for line in peers.splitlines() if line.strip()]) <= 2
    finally:
        gw.stop()
        upstream.stop()


def test_sdk_tracing_mode(upstream: Proc) -> None:
    gw = start_gateway({"production": upstream.url}, SLATE_GATEWAY_TRACING="sdk")
    try:
        trace_id = "0af7651916cd43dd8448eb211c80319c"
        seen = httpx.get(gw.url + "/echo/headers", headers={
            "traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}).json()["headers"]
        _, tid, parent, flags = seen["traceparent"].split("-")
        assert tid == trace_id and parent != "b7ad6b7169203331" and flags == "01"
    finally:
        gw.stop()


def test_a_client_silent_after_an_early_answer_is_closed(gateway: Proc) -> None:
    """An upload answered before its body was all sent (media's 408 for a body that
    stopped arriving) holds no connection for ever: once the client stays silent past
    the linger (SLATE_GATEWAY_ANSWERED_BODY_LINGER_SECONDS, 1 s here), the gateway closes it."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as s:
        s.sendall(b"POST /api/data/early HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Length: 1000000\r\n\r\n" + b"x" * 2048)
        data = b""
        while b"refused before the body" not in data:
            data += s.recv(4096)
        assert data.startswith(b"HTTP/1.1 408"), data
        started = time.monotonic()
        s.settimeout(ANSWERED_BODY_LINGER + 5)
        assert s.recv(4096) == b""  # closed by the gateway, not by this client's timeout
        assert time.monotonic() - started < ANSWERED_BODY_LINGER + 3
