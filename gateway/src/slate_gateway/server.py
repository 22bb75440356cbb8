"""The gateway's HTTP/1.1 server and reverse proxy.

Design (why it is not Starlette + httpx): on two cores a Python proxy's
overhead is almost all per-request CPU, so this one does as little as it can
per request:

- an ``asyncio.Protocol`` per client connection on uvloop, with the request
  parsed by ``httptools`` (llhttp, the parser uvicorn uses) through callbacks;
- a hand-written pooled HTTP/1.1 upstream client (:mod:`.upstream`), also a
  protocol + ``httptools``; an idle keep-alive connection is taken
  synchronously, so a proxied request with a pooled connection creates no
  task, no future and no coroutine: client bytes -> callbacks -> one
  ``transport.write`` upstream; upstream bytes -> callbacks -> one
  ``transport.write`` to the client;
- bodies are streamed in both directions chunk by chunk as the parsers emit
  them, never buffered; back-pressure is wired both ways (a full upstream
  socket pauses reading from the client and vice versa), so a multi-GB upload
  or download holds at most a few socket buffers in memory;
- routing is a segment trie compiled from the services' OpenAPI documents
  (:mod:`.routing`, :mod:`.discovery`).

Each client request is an :class:`Exchange`.  Exchanges of one connection are
queued (HTTP/1.1 pipelining) and answered in order; only the head one talks to
an upstream.  An exchange is the *sink* of its upstream connection: the
upstream protocol calls ``on_head`` / ``on_body`` / ``on_complete`` /
``on_error`` on it.

Per request the gateway adds ``X-Request-ID`` (the client's if given),
``traceparent`` (:mod:`.tracing`), ``X-Forwarded-For/Proto/Prefix`` and CORS
headers, removes hop-by-hop headers both ways, answers CORS preflights, Zou's
404 / 405 bodies, and a JSON 502/503/504 when an upstream fails.  Access logs
are written only at debug level or for failures.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections import deque
from email.utils import formatdate
from http import HTTPStatus
from random import getrandbits
from typing import Any

import httptools
import orjson

from slate_forwarded import forward

from .config import Settings
from .discovery import Discovery
from .errors import (
    INTERNAL_ERROR_MESSAGE,
    JSON_HEADERS,
    METHOD_NOT_ALLOWED_MESSAGE,
    NOT_FOUND_MESSAGE,
    error_body,
)
from .identity import UNTIL_HEADER, Fill, IdentityView
from .local import LOCAL_ROUTES, LocalRequest, local_openapi_paths
from .metrics import UNMATCHED, UNMEASURED, GatewayMetrics, metrics_dir
from .routing import RouteTable
from .tracing import Tracing
from .upstream import Upstream, UpstreamConnection, UpstreamError

log = logging.getLogger("slate_gateway")

REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}

# Request headers not forwarded (hop-by-hop, or re-written by the gateway).
REQ_DROP = frozenset((
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authorization", b"te",
    b"trailer", b"transfer-encoding", b"upgrade", b"expect", b"x-request-id", b"traceparent",
    b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-prefix"))
# Response headers not forwarded (hop-by-hop, or set by the gateway).
RESP_DROP = frozenset((
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate", b"te",
    b"trailer", b"transfer-encoding", b"upgrade", b"x-request-id"))

EXPOSE_HEADERS = (b"Content-Range, Content-Disposition, Content-Length, Accept-Ranges, "
                  b"X-Request-ID")
PREFLIGHT_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD"
SECURITY_HEADERS = (b"x-content-type-options: nosniff\r\nx-frame-options: SAMEORIGIN\r\n"
                    b"content-security-policy: frame-ancestors 'self'\r\n"
                    b"referrer-policy: strict-origin-when-cross-origin\r\n")

PENDING_LIMIT = 1 << 20   # request body bytes buffered before an upstream is attached
CLIENT_IDLE_TIMEOUT = 75.0  # seconds an idle (or half-sent-headers) client connection is kept

_PAUSE_PENDING = 1
_PAUSE_UPSTREAM = 2


class Gateway:
    """Shared state: settings, upstreams, route table, tracing, counters.

    It is the :class:`~.local.LocalContext` the local handlers see.
    """

    def __init__(self, settings: Settings, metrics_directory: str | None = None) -> None:
        self.settings = settings
        self.upstreams = {name: Upstream(name, url, settings.upstream_max_connections)
                          for name, url in settings.upstreams.items()}
        self.table = RouteTable()
        self.openapi_bytes = b"{}"
        self.public_config = settings.public_config
        self.tracing = Tracing(settings.tracing_mode, settings.otlp_configured)
        self.metrics = GatewayMetrics(metrics_directory)
        self.debug = settings.log_level == "debug"
        self.cors_origins = settings.cors_origins
        self.trusted_proxies = settings.trusted_proxies
        self.connections: set[ClientConnection] = set()
        self.date = b""
        self.requests = 0
        #: Set by a SIGTERM: answers say ``connection: close`` and idle connections close.
        self.draining = False
        self.discovery = Discovery(
            self.upstreams, on_change=self._routes_changed,
            local_routes=[(template, handler) for template, handler, _ in LOCAL_ROUTES],
            local_paths=local_openapi_paths(), refresh_interval=settings.refresh_interval)
        self._timer: asyncio.TimerHandle | None = None
        #: GET /auth/authenticated's kept answers (None: every call goes to auth).
        self.identity = (IdentityView(settings.nats_url, settings.events_stream)
                         if settings.identity_view and settings.nats_url and "auth" in self.upstreams else None)

    def _routes_changed(self, table: RouteTable, openapi_bytes: bytes) -> None:
        self.table = table
        self.openapi_bytes = openapi_bytes

    @property
    def route_count(self) -> int:
        return self.table.count

    def missing_upstreams(self) -> list[str]:
        return self.discovery.missing()

    def render_metrics(self) -> bytes:
        return self.metrics.render(self.upstreams, len(self.connections))

    def cors_allowed(self, origin: bytes) -> bool:
        return origin.decode("latin-1") in self.cors_origins

    def start(self) -> None:
        self.discovery.start()
        if self.identity is not None:
            self.identity.start()
        self._tick()

    def _tick(self) -> None:
        """Once a second: refresh the Date header, close idle client connections."""
        now = time.monotonic()
        self.date = formatdate(usegmt=True).encode()
        for up in self.upstreams.values():
            if up.busy:
                up.check_timeouts(now)
        linger = self.settings.answered_body_linger
        for conn in list(self.connections):
            if not conn.queue:
                if now - conn.last_activity > CLIENT_IDLE_TIMEOUT:
                    conn.close()
            elif conn.queue[0].answered_early and now - conn.last_activity > linger:
                conn.close()
        self.metrics.flush()
        self._timer = asyncio.get_running_loop().call_later(1.0, self._tick)

    async def drain(self, timeout: float) -> None:
        """Stop taking requests: close idle connections now, let the others finish
        their requests in flight (their answers say ``connection: close``) for at most
        ``timeout`` seconds, then cut what is left."""
        self.draining = True
        for conn in list(self.connections):
            if not conn.queue:
                conn.close()
        deadline = time.monotonic() + timeout
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for conn in list(self.connections):
            log.warning("closing a connection still busy after %.0f s of drain", timeout)
            conn.transport.abort()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await self.discovery.stop()
        if self.identity is not None:
            await self.identity.stop()
        for up in self.upstreams.values():
            up.close()
        self.tracing.shutdown()
        self.metrics.flush()

    def log_request(self, ex: Exchange, status: int, error: str | None = None) -> None:
        record = {
            "event": "request", "level": "error" if error or status >= 500 else "debug",
            "logger": "slate_gateway", "method": ex.method.decode(),
            "path": ex.url.decode("latin-1"), "status": status,
            "duration_ms": round((time.perf_counter() - ex.started) * 1000, 3),
            "request_id": ex.request_id.decode("latin-1"),
            "peer": ex.conn.peer.decode("latin-1"),
            "upstream": ex.upstream.name if ex.upstream else "gateway",
            "traceparent": ex.traceparent.decode() if ex.traceparent else None,
        }
        if error:
            record["error"] = error
        sys.stderr.buffer.write(orjson.dumps(record) + b"\n")
        sys.stderr.flush()


class ClientConnection(asyncio.Protocol):
    """One client connection: parses requests and runs their exchanges in order."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.transport: Any = None
        self.parser = httptools.HttpRequestParser(self)
        self.queue: deque[Exchange] = deque()
        self.cur: Exchange | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.peer = b""
        self.peer_trusted = False
        self.read_paused = 0
        self.write_paused = False
        self.closed = False
        self.last_activity = time.monotonic()

    # -- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]).encode() if peer else b""
        self.peer_trusted = str(peer[0]) in self.gw.trusted_proxies if peer else False
        self.gw.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.gw.connections.discard(self)
        for ex in self.queue:
            ex.abort()
        self.queue.clear()

    def data_received(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # Protocol upgrades (websockets) are not proxied: answer the request
            # (normally 404) and close.
            ex = self.cur
            if ex is not None:
                ex.keep_alive = False
                if not ex.req_done:
                    ex.request_done()
            self.pause_reading(_PAUSE_PENDING)
        except httptools.HttpParserError as exc:
            if not self.queue:
                self.transport.write(
                    b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
                    b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
                    % _with_len(error_body(f"Bad request: {exc}")))
            self.close()

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.queue and self.queue[0].uconn is not None:
            self.queue[0].uconn.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.queue and self.queue[0].uconn is not None:
            self.queue[0].uconn.resume_reading()

    # -- httptools callbacks -----------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        p = self.parser
        ex = Exchange(self, p.get_method(), self.url, self.headers, p.get_http_version(),
                      p.should_keep_alive())
        self.cur = ex
        self.queue.append(ex)
        if len(self.queue) == 1:
            ex.start()

    def on_body(self, body: bytes) -> None:
        self.cur.feed(body)  # type: ignore[union-attr]

    def on_message_complete(self) -> None:
        self.cur.request_done()  # type: ignore[union-attr]

    # -- helpers -----------------------------------------------------------
    def pause_reading(self, reason: int) -> None:
        if not self.read_paused and not self.closed:
            self.transport.pause_reading()
        self.read_paused |= reason

    def resume_reading(self, reason: int) -> None:
        if self.read_paused & reason:
            self.read_paused &= ~reason
            if not self.read_paused and not self.closed:
                self.transport.resume_reading()

    def exchange_done(self, ex: Exchange) -> None:
        if self.queue and self.queue[0] is ex:
            self.queue.popleft()
        if not ex.keep_alive:
            self.close()
            return
        self.last_activity = time.monotonic()
        if self.queue:
            self.queue[0].start()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()


def _with_len(body: bytes) -> tuple[int, bytes]:
    return len(body), body


def _split_target(raw: bytes) -> tuple[bytes, bytes, bool]:
    """The request target as (url to forward, path to route, had the /api prefix)."""
    url = raw
    if url[:1] != b"/":  # absolute-form target
        try:
            parsed = httptools.parse_url(url)
            url = (parsed.path or b"/") + (b"?" + parsed.query if parsed.query else b"")
        except httptools.HttpParserInvalidURLError:
            url = b"/"
    q = url.find(b"?")
    path = url if q < 0 else url[:q]
    if path[:4] == b"/api" and (len(path) == 4 or path[4] == 47):
        path = path[4:] or b"/"
        url = url[4:]
        if url[:1] != b"/":
            url = b"/" + url
        return url, path, True
    return url, path, False


class _Head:
    """What :meth:`Exchange._read_headers` picked from the request headers."""

    __slots__ = ("acr_headers", "acr_method", "conn_tokens", "fwd", "host", "xff", "xfp")

    def __init__(self) -> None:
        self.fwd: list[bytes] = []  # header lines forwarded as they came
        self.host = b""
        self.xff: list[bytes] = []
        self.xfp = b""
        self.conn_tokens = b""
        self.acr_method: bytes | None = None
        self.acr_headers = b""


class Exchange:
    """One request/response, proxied to an upstream or answered locally."""

    __slots__ = (
        "body_chunked",
        "conn",
        "fill",
        "discard",
        "expect_continue",
        "gw",
        "has_body",
        "headers",
        "keep_alive",
        "method",
        "no_body_response",
        "observed",
        "origin",
        "pending",
        "pending_size",
        "rechunk",
        "req_done",
        "request_id",
        "resp_done",
        "resp_started",
        "retried",
        "route",
        "span",
        "started",
        "status",
        "traceparent",
        "uconn",
        "up_head",
        "upstream",
        "url",
        "version",
        "waiting",
        "wbuf",
    )

    def __init__(self, conn: ClientConnection, method: bytes, url: bytes,
                 headers: list[tuple[bytes, bytes]], version: str, keep_alive: bool) -> None:
        self.conn = conn
        self.gw = conn.gw
        self.method = method
        self.url = url
        self.headers = headers
        self.version = version
        self.keep_alive = keep_alive
        self.started = time.perf_counter()
        self.request_id = b""
        self.origin: bytes | None = None
        self.traceparent = b""
        self.span: Any = None
        self.upstream: Upstream | None = None
        self.uconn: UpstreamConnection | None = None
        self.up_head = b""
        self.body_chunked = False
        self.has_body = False
        self.pending: list[bytes] | None = []
        self.pending_size = 0
        self.req_done = False
        self.resp_started = False
        self.resp_done = False
        self.rechunk = False
        self.discard = False
        self.retried = False
        self.expect_continue = False
        self.status = 0
        self.no_body_response = False
        self.wbuf: list[bytes] = []
        self.waiting = False  # queued for an upstream connection
        self.route = UNMATCHED  # the matched template, for the metrics
        self.observed = False
        self.fill: Fill | None = None  # an answer of auth's to keep (.identity)

    # -- request side ------------------------------------------------------
    def start(self) -> None:
        """Route the request (called when this exchange reaches the queue head):
        normalise the target, read the headers, then answer locally or proxy."""
        url, path, prefixed = _split_target(self.url)
        head = self._read_headers()
        target = self._route(path, head)
        if target is not None:
            self._proxy(target, url, path, prefixed, head)

    def _read_headers(self) -> _Head:
        """One pass over the headers: pick what the gateway needs, keep the rest."""
        head = _Head()
        fwd = head.fwd
        for name, value in self.headers:
            lname = name.lower()
            if lname in REQ_DROP:
                if lname == b"x-request-id":
                    self.request_id = value
                elif lname == b"traceparent":
                    self.traceparent = value
                elif lname == b"transfer-encoding":
                    self.body_chunked = b"chunked" in value.lower()
                elif lname == b"expect":
                    self.expect_continue = value.lower() == b"100-continue"
                elif lname == b"x-forwarded-for":
                    head.xff.append(value)
                elif lname == b"x-forwarded-proto":
                    head.xfp = value
                elif lname == b"connection":
                    head.conn_tokens = value.lower()
                continue
            if lname == b"origin":
                self.origin = value
            elif lname == b"host":
                head.host = value
            elif lname == b"content-length":
                self.has_body = value.strip() not in (b"0", b"")
            elif lname == b"access-control-request-method":
                head.acr_method = value
            elif lname == b"access-control-request-headers":
                head.acr_headers = value
            fwd.append(name + b": " + value + b"\r\n")
        if self.body_chunked:
            self.has_body = True
        if not self.request_id or len(self.request_id) > 200:
            self.request_id = b"%032x" % getrandbits(128)
        return head

    def _route(self, path: bytes, head: _Head) -> Upstream | None:
        """Answer preflights, 404/405 and local routes; return the upstream to proxy to."""
        methods = self.gw.table.match(path)
        if methods is not None:
            self.route = methods.template
        method = self.method
        if method == b"OPTIONS" and (head.acr_method is not None or methods is None
                                     or b"OPTIONS" not in methods):
            if head.acr_method is not None and self.origin is not None:
                self.respond_preflight(methods, head.acr_headers)
            elif methods is None:
                self.respond_not_found()
            else:
                self.respond(200, [(b"allow", _allow(methods)),
                                   (b"content-type", b"text/html; charset=utf-8")], b"")
            return None
        if methods is None:
            self.respond_not_found()
            return None
        target = methods.get(method)
        if target is None and method == b"HEAD":
            target = methods.get(b"GET")
        if target is None:
            self.respond(405, [*JSON_HEADERS, (b"allow", _allow(methods))],
                         error_body(METHOD_NOT_ALLOWED_MESSAGE))
            return None
        if not isinstance(target, Upstream):
            self._run_local(target, path)
            return None
        identity = self.gw.identity
        if identity is not None and path == b"/auth/authenticated" and method == b"GET":
            key = identity.key(self.headers)
            if key is not None:
                body = identity.lookup(key)
                if body is not None:
                    self.respond(200, JSON_HEADERS, body)
                    return None
                self.fill = identity.start_fill(key)
        return target

    def _proxy(self, target: Upstream, url: bytes, path: bytes, prefixed: bool,
               head: _Head) -> None:
        """Write the upstream request head and start (or queue for) a connection."""
        gw = self.gw
        self.upstream = target
        fwd = head.fwd
        conn_tokens = head.conn_tokens
        if conn_tokens and conn_tokens not in (b"keep-alive", b"close"):
            extra = {t.strip() for t in conn_tokens.split(b",")}
            fwd = [h for h in fwd if h.split(b":", 1)[0].lower() not in extra]
        self.span, tp = gw.tracing.start(self.method, path, self.traceparent or None)
        self.traceparent = tp
        conn = self.conn
        peer = conn.peer
        # X-Forwarded-* from a trusted proxy are extended; from anyone else, replaced.
        if conn.peer_trusted and (head.xff or head.xfp):
            fwd_for, fwd_proto = forward(
                peer.decode(), [v.decode("latin-1") for v in head.xff],
                head.xfp.decode("latin-1") or None, "http", gw.trusted_proxies)
            chain, proto = fwd_for.encode("latin-1"), fwd_proto.encode()
        else:
            chain, proto = peer, b"http"
        out = [self.method, b" ", url, b" HTTP/1.1\r\n"]
        out += fwd
        if not head.host:
            out.append(b"host: " + target.host_header + b"\r\n")
        out.append(b"x-request-id: " + self.request_id + b"\r\ntraceparent: " + tp
                   + b"\r\nx-forwarded-for: " + chain
                   + b"\r\nx-forwarded-proto: " + proto + b"\r\n")
        if prefixed:
            out.append(b"x-forwarded-prefix: /api\r\n")
        if self.body_chunked:
            out.append(b"transfer-encoding: chunked\r\n")
        out.append(b"\r\n")
        self.up_head = b"".join(out)
        uconn = target.take_idle()
        if uconn is not None:
            self._attach(uconn)
        elif target.has_capacity():
            self.connect_later()
        else:
            self.waiting = True
            target.waiters.append(self)

    @property
    def answered_early(self) -> bool:
        """Answered while the client's body was still arriving (see Settings.answered_body_linger)."""
        return self.resp_done and not self.req_done

    def connect_later(self) -> None:
        self.waiting = False
        asyncio.get_running_loop().create_task(self._connect())

    def attach(self, uconn: UpstreamConnection) -> None:
        """Take a connection handed over by the pool (we were waiting for one)."""
        self.waiting = False
        self._attach(uconn)

    def feed(self, data: bytes) -> None:
        """A chunk of the client's request body."""
        uconn = self.uconn
        if uconn is not None:
            if self.body_chunked:
                uconn.transport.writelines(  # type: ignore[union-attr]
                    (b"%x\r\n" % len(data), data, b"\r\n"))
            else:
                uconn.transport.write(data)  # type: ignore[union-attr]
        elif self.pending is not None and not self.discard:
            self.pending.append(data)
            self.pending_size += len(data)
            if self.pending_size > PENDING_LIMIT:
                self.conn.pause_reading(_PAUSE_PENDING)

    def request_done(self) -> None:
        self.req_done = True
        if self.uconn is not None and self.body_chunked:
            self.uconn.write(b"0\r\n\r\n")
        if self.resp_done:
            self._finish()

    async def _connect(self) -> None:
        upstream = self.upstream
        assert upstream is not None
        try:
            uconn = await upstream.connect()
        except UpstreamError as exc:
            self._fail(exc.status, f"Service unavailable: {exc}"
                       if exc.status == 503 else f"Bad gateway: {exc}")
            return
        if self.conn.closed or self.resp_done:
            upstream.release(uconn)
            return
        self._attach(uconn)

    def _attach(self, uconn: UpstreamConnection) -> None:
        self.uconn = uconn
        uconn.send(self.up_head, self, self.method == b"HEAD")
        if self.conn.write_paused:
            uconn.pause_reading()
        if self.has_body:
            if self.expect_continue and not self.req_done:
                self.conn.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            pending = self.pending
            if pending:
                for chunk in pending:
                    self.feed(chunk)
            self.pending = None
            self.conn.resume_reading(_PAUSE_PENDING)
            if self.req_done and self.body_chunked:
                uconn.write(b"0\r\n\r\n")

    # -- upstream sink -----------------------------------------------------
    def on_head(self, uconn: UpstreamConnection, status: int, reason: bytes,
                headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.resp_started = True
        if self.gw.draining:
            self.keep_alive = False
        out = [b"HTTP/1.1 %d %s\r\n" % (status, reason or REASONS.get(status, b""))]
        has_length = False
        conn_value = b""
        fill = self.fill
        if fill is not None and status != 200:
            fill = self.fill = None
        for name, value in headers:
            if name in RESP_DROP:
                if name == b"connection":
                    conn_value = value.lower()
                continue
            if name == UNTIL_HEADER:  # auth's word to the gateway, not the client's
                if fill is not None:
                    try:
                        fill.until = float(value)
                    except ValueError:
                        self.fill = None
                continue
            if name[:15] == b"access-control-":
                continue
            if name == b"content-length":
                has_length = True
            out.append(name + b": " + value + b"\r\n")
        if conn_value and conn_value not in (b"keep-alive", b"close"):
            extra = {t.strip() for t in conn_value.split(b",")}
            out = [out[0]] + [h for h in out[1:] if h.split(b":", 1)[0] not in extra]
        self.no_body_response = self.method == b"HEAD" or status in (204, 304)
        if not has_length and not self.no_body_response:
            if self.version == "1.1":
                self.rechunk = True
                out.append(b"transfer-encoding: chunked\r\n")
            else:
                self.keep_alive = False
        out.append(b"x-request-id: " + self.request_id + b"\r\n")
        if self.origin is not None:
            out.append(self._cors_headers())
        if not self.keep_alive:
            out.append(b"connection: close\r\n\r\n")
        elif self.version == "1.0":
            out.append(b"connection: keep-alive\r\n\r\n")
        else:
            out.append(b"\r\n")
        self.wbuf.append(b"".join(out))

    def on_body(self, data: bytes) -> None:
        if self.fill is not None:
            self.fill.chunks.append(data)
        if self.rechunk:
            self.wbuf += (b"%x\r\n" % len(data), data, b"\r\n")
        else:
            self.wbuf.append(data)

    def flush(self) -> None:
        """Write what the last upstream read produced, in one system call."""
        wbuf = self.wbuf
        if wbuf:
            self.wbuf = []
            if len(wbuf) == 1:
                self.conn.transport.write(wbuf[0])
            else:
                self.conn.transport.writelines(wbuf)

    def on_complete(self, reusable: bool) -> None:
        if self.fill is not None:
            if self.gw.identity is not None:
                self.gw.identity.complete_fill(self.fill)
            self.fill = None
        if self.rechunk:
            self.wbuf.append(b"0\r\n\r\n")
        self.flush()
        uconn = self.uconn
        self.uconn = None
        if uconn is not None:
            if reusable and self.req_done and not self.conn.closed:
                uconn.upstream.release(uconn)
            else:
                uconn.sink = None
                uconn.close()
        self.pending = None
        self.discard = True
        self.resp_done = True
        self.gw.tracing.end(self.span, self.status)
        self._observe(self.status)
        if self.gw.debug or self.status >= 500:
            self.gw.log_request(self, self.status)
        if self.req_done:
            self._finish()
        else:
            # The upstream answered before reading the whole body (e.g. 413);
            # the rest is read and dropped, then the connection is reused.
            self.conn.resume_reading(_PAUSE_PENDING | _PAUSE_UPSTREAM)

    def on_error(self, exc: BaseException, retryable: bool) -> None:
        self.uconn = None
        upstream = self.upstream
        if self.conn.closed:
            self.gw.tracing.end(self.span, 499)
            self._observe(499)
            return
        if not self.resp_started:
            if retryable and not self.has_body and not self.retried and upstream is not None:
                # A pooled connection the upstream had just closed: resend once.
                self.retried = True
                asyncio.get_running_loop().create_task(self._connect())
                return
            status = getattr(exc, "status", 502)
            self._fail(status, f"Bad gateway: {exc}" if status != 504 else f"Gateway timeout: {exc}")
        else:
            # Headers already sent: the only honest signal left is to cut the connection.
            self.gw.tracing.end(self.span, self.status)
            self._observe(self.status)
            self.gw.log_request(self, self.status, error=str(exc))
            self.keep_alive = False
            self.flush()
            self.conn.transport.abort()

    def upstream_pause_writing(self) -> None:
        self.conn.pause_reading(_PAUSE_UPSTREAM)

    def upstream_resume_writing(self) -> None:
        self.conn.resume_reading(_PAUSE_UPSTREAM)

    # -- local answers -----------------------------------------------------
    def _run_local(self, handler: Any, path: bytes) -> None:
        try:
            result = handler(self.gw, LocalRequest(self.method, path, self.headers))
        except Exception as exc:  # noqa: BLE001 -- a local handler's bug must not kill the connection
            self._local_error(exc)
            return
        if asyncio.iscoroutine(result):
            asyncio.get_running_loop().create_task(self._await_local(result))
        else:
            self.respond(*result)

    async def _await_local(self, coro: Any) -> None:
        try:
            result = await coro
        except Exception as exc:  # noqa: BLE001
            self._local_error(exc)
            return
        if not self.conn.closed:
            self.respond(*result)

    def _local_error(self, exc: Exception) -> None:
        log.exception("local handler failed", exc_info=exc)
        self.respond(500, JSON_HEADERS, error_body(INTERNAL_ERROR_MESSAGE))

    def _fail(self, status: int, message: str) -> None:
        self.gw.tracing.end(self.span, status)
        if self.conn.closed:
            self._observe(499)
            return
        self.gw.log_request(self, status, error=message)
        if self.upstream is not None and status == 503:
            self.upstream.mark_down()
        self.respond(status, JSON_HEADERS, error_body(message),
                     log=False)

    def respond_not_found(self) -> None:
        missing = self.gw.missing_upstreams()
        if missing:
            self.respond(503, JSON_HEADERS, error_body(
                "Service unavailable: the route table is incomplete, waiting for "
                + ", ".join(missing)))
        else:
            self.respond(404, JSON_HEADERS,
                         error_body(NOT_FOUND_MESSAGE))

    def respond_preflight(self, methods: dict[bytes, Any] | None, acr_headers: bytes) -> None:
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        if self.origin is not None and self.gw.cors_allowed(self.origin):
            headers += [
                (b"access-control-allow-methods",
                 _allow(methods) if methods else PREFLIGHT_METHODS),
                (b"access-control-max-age", b"600"),
                (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            ]
            if acr_headers:
                headers.append((b"access-control-allow-headers", acr_headers))
        self.respond(200, headers, b"")

    def _cors_headers(self) -> bytes:
        origin = self.origin
        if origin is None or not self.gw.cors_allowed(origin):
            return b""
        return (b"access-control-allow-origin: " + origin
                + b"\r\naccess-control-allow-credentials: true\r\n"
                b"access-control-expose-headers: " + EXPOSE_HEADERS + b"\r\nvary: Origin\r\n")

    def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                log: bool = True) -> None:
        """Answer from the gateway itself (the request body, if any, is dropped)."""
        self.status = status
        self.resp_started = True
        if self.gw.draining:
            self.keep_alive = False
        self.pending = None
        self.discard = True
        self.conn.resume_reading(_PAUSE_PENDING)
        out = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b""))]
        for name, value in headers:
            out.append(name + b": " + value + b"\r\n")
        out.append(b"date: " + self.gw.date + b"\r\nserver: slate-gateway\r\n")
        out.append(SECURITY_HEADERS)
        out.append(b"x-request-id: " + (self.request_id or b"%032x" % getrandbits(128))
                   + b"\r\n")
        if self.origin is not None:
            out.append(self._cors_headers())
        if not self.req_done and self.has_body and not self.expect_continue:
            pass  # the body still arriving is read and dropped; keep-alive stays valid
        elif not self.req_done and self.expect_continue:
            self.keep_alive = False  # the client will not send the body it announced
        out.append(b"content-length: %d\r\n" % len(body))
        if not self.keep_alive:
            out.append(b"connection: close\r\n")
        out.append(b"\r\n")
        if self.method != b"HEAD":
            out.append(body)
        self.conn.transport.write(b"".join(out))
        self.resp_done = True
        self._observe(status)
        if log and self.gw.debug:  # failures are logged where they happen (_fail)
            self.gw.log_request(self, status)
        if self.req_done or not self.keep_alive:
            self._finish()

    def _finish(self) -> None:
        self.conn.exchange_done(self)

    def _observe(self, status: int) -> None:
        if not self.observed and self.route not in UNMEASURED:
            self.observed = True
            self.gw.metrics.observe(self.method, self.route, status,
                                    time.perf_counter() - self.started)

    def abort(self) -> None:
        """The client went away: drop the upstream connection mid-exchange."""
        self.waiting = False
        uconn = self.uconn
        self.uconn = None
        if uconn is not None:
            uconn.sink = None
            uconn.close()
        if not self.resp_done:
            self.gw.tracing.end(self.span, 499)
            self._observe(499)
            if self.gw.debug:
                self.gw.log_request(self, 499, error="client disconnected")


def _allow(methods: dict[bytes, Any]) -> bytes:
    names = set(methods)
    if b"GET" in names:
        names.add(b"HEAD")
    names.add(b"OPTIONS")
    return b", ".join(sorted(names))


# -- running -----------------------------------------------------------------

async def serve(settings: Settings, ready: asyncio.Event | None = None,
                children: list[int] | None = None, metrics_directory: str | None = None) -> None:
    """Run the gateway until SIGINT/SIGTERM, then shut down gracefully.

    On the signal the listening socket is closed first (new connections are refused,
    or go to another replica), idle keep-alive connections are closed, requests in
    flight are finished (their answers carry ``connection: close``) for at most
    ``settings.shutdown_timeout`` seconds, and whatever is still open is then cut.
    Worker processes (``children``) get the signal at once and drain in parallel.
    """
    gw = Gateway(settings, metrics_directory)
    loop = asyncio.get_running_loop()
    gw.start()
    server = await loop.create_server(
        lambda: ClientConnection(gw), settings.host, settings.port, backlog=2048,
        reuse_port=settings.workers > 1)
    log.info("slate gateway listening on http://%s:%d", settings.host, settings.port)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        server.close()
        for pid in children or ():
            _signal(pid, signal.SIGTERM)
        log.info("slate gateway draining (%d connections)", len(gw.connections))
        await gw.drain(settings.shutdown_timeout)
        await gw.stop()
        for pid in children or ():
            await _reap(pid, settings.shutdown_timeout + 5)
        log.info("slate gateway stopped")


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


async def _reap(pid: int, timeout: float) -> None:
    """Wait for a worker process to exit (kill it after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 -- WNOHANG never blocks
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() > deadline:
            _signal(pid, signal.SIGKILL)
            deadline = float("inf")
        await asyncio.sleep(0.05)


def run(settings: Settings) -> None:
    """Start the event loop (uvloop when available) and serve; fork workers if asked."""
    logging.basicConfig(
        level=logging.DEBUG if settings.log_level == "debug" else logging.INFO,
        format='{"level": "%(levelname)s", "logger": "%(name)s", "event": "%(message)s"}',
        stream=sys.stderr)
    directory = metrics_dir(settings.workers, settings.metrics_root)  # workers' shared metrics
    children: list[int] = []
    if settings.workers > 1:
        for _ in range(settings.workers - 1):
            pid = os.fork()
            if pid == 0:
                children = []
                break
            children.append(pid)
    try:
        import uvloop

        uvloop.run(serve(settings, children=children, metrics_directory=directory))
    except ImportError:  # pragma: no cover
        asyncio.run(serve(settings, children=children, metrics_directory=directory))
    finally:
        for pid in children:  # serve() did not get to stop them (an error)
            _signal(pid, signal.SIGTERM)
