"""A minimal pooled HTTP/1.1 client for the gateway's upstreams.

One :class:`Upstream` per service holds a LIFO list of idle keep-alive
connections.  An :class:`UpstreamConnection` is an ``asyncio.Protocol`` that
writes a request head (the caller writes the body) and parses the response
with ``httptools``; it hands what it parses to a *sink*:

- ``on_head(conn, status, reason, headers)`` once, ``headers`` being a list of
  ``(lowercased name, value)`` byte pairs,
- ``on_body(data)`` per chunk (already de-chunked),
- ``on_complete(reusable)`` at the end of the response,
- ``flush()`` after each read from the socket (lets the sink batch its writes),
- ``on_error(exc, retryable)`` if the connection fails first; ``retryable``
  is true when a *reused* connection died before a single response byte (the
  usual keep-alive race), so the caller may resend an idempotent request,
- ``upstream_pause_writing()`` / ``upstream_resume_writing()`` for back-pressure
  on the request body.

The proxy (``server.Exchange``) is one sink; :class:`BufferSink` (used to fetch
the services' OpenAPI documents) is another.  Nothing here buffers a body.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import httptools

# Idle connections older than this are not reused: uvicorn closes idle
# keep-alive connections after 5 s by default and we must not race it.
KEEPALIVE_EXPIRY = 4.0
MAX_IDLE = 128
CONNECT_TIMEOUT = 5.0
HEADERS_TIMEOUT = 300.0
#: Connections per upstream by default (Settings.upstream_max_connections).
MAX_CONNECTIONS = 256


class Sink(Protocol):
    def on_head(self, conn: UpstreamConnection, status: int, reason: bytes,
                headers: list[tuple[bytes, bytes]]) -> None: ...
    def on_body(self, data: bytes) -> None: ...
    def on_complete(self, reusable: bool) -> None: ...
    def on_error(self, exc: BaseException, retryable: bool) -> None: ...
    def upstream_pause_writing(self) -> None: ...
    def upstream_resume_writing(self) -> None: ...


class UpstreamError(Exception):
    """The upstream failed before answering (refused, reset, timeout, garbage)."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


class Upstream:
    """One service: its address, its pool of idle connections, its health."""

    def __init__(self, name: str, url: str, max_connections: int = MAX_CONNECTIONS) -> None:
        parts = urlsplit(url)
        self.name = name
        self.url = url.rstrip("/")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host_header = parts.netloc.encode()
        self.idle: list[UpstreamConnection] = []
        self.busy: set[UpstreamConnection] = set()  # waiting for response headers
        self.open = 0  # connections open or being opened
        self.max_connections = max_connections
        # Exchanges waiting for a connection (all max_connections in use); each has
        # ``attach(conn)``, ``connect_later()`` and ``waiting`` (False once gone).
        self.waiters: deque[Any] = deque()
        self.up = False  # last known reachability (updated by discovery and proxying)
        self.on_down: Any = None  # callback set by discovery: kicks a re-check

    def __repr__(self) -> str:
        return f"Upstream({self.name!r}, {self.url!r})"

    def take_idle(self) -> UpstreamConnection | None:
        idle = self.idle
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < KEEPALIVE_EXPIRY:
                conn.reused = True
                return conn
            conn.close()
        return None

    def has_capacity(self) -> bool:
        return self.open < self.max_connections

    def _next_waiter(self) -> Any:
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if waiter.waiting:
                return waiter
        return None

    def release(self, conn: UpstreamConnection) -> None:
        if conn.closed or len(self.idle) >= MAX_IDLE:
            conn.close()
            return
        conn.sink = None
        if self.waiters:
            waiter = self._next_waiter()
            if waiter is not None:  # hand the connection over instead of idling it
                if conn.read_paused:
                    conn.read_paused = False
                    conn.transport.resume_reading()  # type: ignore[union-attr]
                conn.reused = True
                waiter.attach(conn)
                return
        conn.idle_since = time.monotonic()
        if conn.read_paused:
            conn.read_paused = False
            conn.transport.resume_reading()  # type: ignore[union-attr]
        self.idle.append(conn)

    def check_timeouts(self, now: float) -> None:
        for conn in [c for c in self.busy if c.deadline < now]:
            self.busy.discard(conn)
            conn.timeout()

    def prune(self) -> None:
        """Close idle connections past their expiry (called periodically)."""
        now = time.monotonic()
        keep = []
        for conn in self.idle:
            if conn.closed or now - conn.idle_since >= KEEPALIVE_EXPIRY:
                conn.close()
            else:
                keep.append(conn)
        self.idle[:] = keep

    async def connect(self) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        self.open += 1
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: UpstreamConnection(self), self.host, self.port),
                CONNECT_TIMEOUT)
        except TimeoutError:
            self.connection_gone()
            self.mark_down()
            raise UpstreamError(f"{self.name}: connection timed out", 504) from None
        except OSError as exc:
            self.connection_gone()
            self.mark_down()
            raise UpstreamError(f"{self.name}: {exc.strerror or exc}", 503) from None
        self.up = True
        return conn

    def connection_gone(self) -> None:
        """A connection closed (or failed to open): let a waiting request open one."""
        self.open -= 1
        if self.waiters and self.open < self.max_connections:
            waiter = self._next_waiter()
            if waiter is not None:
                waiter.connect_later()

    def mark_down(self) -> None:
        was_up = self.up
        self.up = False
        if was_up and self.on_down is not None:
            self.on_down()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


class UpstreamConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection to an upstream."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.sink: Any = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self.read_paused = False
        self.head_request = False
        self.got_bytes = False
        self.skip_message = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.reason = b""
        self.close_delimited = False
        self.deadline = 0.0  # monotonic time by which response headers are due (0: none)

    # -- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.upstream.busy.discard(self)
        self.upstream.connection_gone()
        sink = self.sink
        if sink is None:
            return
        self.sink = None
        if self.close_delimited:  # body delimited by EOF: EOF completes it
            sink.on_complete(False)
        elif not self.got_bytes:
            sink.on_error(UpstreamError(f"{self.upstream.name}: connection closed"),
                          self.reused)
        else:
            sink.on_error(UpstreamError(f"{self.upstream.name}: response truncated"), False)

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        sink = self.sink
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            sink = self.sink
            self.sink = None
            self.close()
            if sink is not None:
                sink.on_error(UpstreamError(f"{self.upstream.name}: bad response ({exc})"), False)
            return
        if sink is not None:
            # The sink may coalesce what one read produced (head + body) into one write.
            sink.flush()

    def pause_writing(self) -> None:
        if self.sink is not None:
            self.sink.upstream_pause_writing()

    def resume_writing(self) -> None:
        if self.sink is not None:
            self.sink.upstream_resume_writing()

    # -- request side ------------------------------------------------------
    def send(self, head: bytes, sink: Any, head_request: bool = False) -> None:
        """Write a request head; the caller then writes the body with ``write``."""
        self.sink = sink
        self.head_request = head_request
        self.got_bytes = False
        self.close_delimited = False
        self.deadline = time.monotonic() + HEADERS_TIMEOUT
        self.upstream.busy.add(self)
        self.transport.write(head)  # type: ignore[union-attr]

    def write(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]

    def pause_reading(self) -> None:
        if not self.read_paused and not self.closed:
            self.read_paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]

    def resume_reading(self) -> None:
        if self.read_paused and not self.closed:
            self.read_paused = False
            self.transport.resume_reading()  # type: ignore[union-attr]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.upstream.busy.discard(self)
            if self.transport is not None:
                self.transport.close()

    def timeout(self) -> None:
        """Response headers did not arrive in time (checked by the gateway's tick)."""
        sink = self.sink
        self.sink = None
        self.close()
        if sink is not None:
            sink.on_error(UpstreamError(f"{self.upstream.name}: timed out", 504), False)

    # -- httptools callbacks -----------------------------------------------
    def on_message_begin(self) -> None:
        self.headers = []
        self.reason = b""

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200 and status != 101:
            self.skip_message = True  # interim 1xx: the real answer follows
            return
        self.upstream.busy.discard(self)
        sink = self.sink
        if sink is None:
            return
        headers = self.headers
        if self.head_request or status == 204 or status == 304:
            sink.on_head(self, status, self.reason, headers)
            if self.head_request:
                # No body follows a HEAD answer whatever its Content-Length says;
                # a fresh parser forgets the length the old one waits for.
                self.sink = None
                self.parser = httptools.HttpResponseParser(self)
                keep = b"close" not in _header(headers, b"connection").lower()
                sink.on_complete(keep)
            return
        chunked = False
        has_length = False
        for name, value in headers:
            if name == b"content-length":
                has_length = True
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        self.close_delimited = not chunked and not has_length
        sink.on_head(self, status, self.reason, headers)

    def on_body(self, body: bytes) -> None:
        sink = self.sink
        if sink is not None:
            sink.on_body(body)

    def on_message_complete(self) -> None:
        if self.skip_message:
            self.skip_message = False
            return
        sink = self.sink
        if sink is None:
            return
        self.sink = None
        self.close_delimited = False
        sink.on_complete(self.parser.should_keep_alive())


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes:
    for n, v in headers:
        if n == name:
            return v
    return b""


class BufferSink:
    """Collects a whole (small) response; used for control-plane requests."""

    def __init__(self, upstream: Upstream, limit: int = 64 * 1024 * 1024) -> None:
        self.upstream = upstream
        self.future: asyncio.Future[tuple[int, bytes]] = (
            asyncio.get_running_loop().create_future())
        self.status = 0
        self.parts: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.conn: UpstreamConnection | None = None

    def on_head(self, conn: UpstreamConnection, status: int, reason: bytes,
                headers: list[tuple[bytes, bytes]]) -> None:
        self.conn = conn
        self.status = status

    def on_body(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            if self.conn is not None:
                self.conn.sink = None
                self.conn.close()
            self.on_error(UpstreamError(f"{self.upstream.name}: response too large"), False)
            return
        self.parts.append(data)

    def on_complete(self, reusable: bool) -> None:
        if self.conn is not None:
            if reusable:
                self.upstream.release(self.conn)
            else:
                self.conn.close()
        if not self.future.done():
            self.future.set_result((self.status, b"".join(self.parts)))

    def on_error(self, exc: BaseException, retryable: bool) -> None:
        if not self.future.done():
            self.future.set_exception(exc)

    def upstream_pause_writing(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def upstream_resume_writing(self) -> None:
        pass


async def fetch(upstream: Upstream, path: str, timeout: float = 10.0,
                headers: Sequence[tuple[bytes, bytes]] = ()) -> tuple[int, bytes]:
    """GET ``path`` from ``upstream`` on a fresh connection; returns (status, body).

    ``headers`` are added to the request (a caller's credentials, for instance)."""
    conn = await upstream.connect()
    sink = BufferSink(upstream)
    extra = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    head = (f"GET {path} HTTP/1.1\r\nhost: ".encode() + upstream.host_header
            + b"\r\naccept: application/json\r\nuser-agent: slate-gateway\r\n" + extra
            + b"\r\n")
    conn.send(head, sink)
    try:
        return await asyncio.wait_for(asyncio.shield(sink.future), timeout)
    except TimeoutError:
        conn.sink = None
        conn.close()
        raise UpstreamError(f"{upstream.name}: timed out fetching {path}", 504) from None
