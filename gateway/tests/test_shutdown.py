"""SIGTERM on a real gateway process: stop accepting, finish what is in flight, close."""

from __future__ import annotations

import signal
import socket
import threading
import time

import httpx
import pytest
from gwprocs import Proc, start_gateway

pytestmark = pytest.mark.slow  # see pytest.ini


def _idle_keepalive_connection(gw: Proc) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b'"ok"}' not in data:
        data += s.recv(4096)
    return s


def test_sigterm_drains_in_flight_requests_and_closes(upstream: Proc) -> None:
    gw = start_gateway({"production": upstream.url})
    results: dict[str, object] = {}

    def slow_request() -> None:
        try:
            with httpx.Client(timeout=30) as c:
                r = c.get(gw.url + "/slow?seconds=1.5")
                results["slow"] = (r.status_code, r.json(), r.headers.get("connection"))
        except Exception as exc:  # noqa: BLE001
            results["slow"] = exc

    def download() -> None:
        try:
            got = 0
            with httpx.Client(timeout=30) as c, c.stream(
                    "GET", gw.url + f"/download?size={64 << 20}&chunk=65536") as r:
                for chunk in r.iter_raw():
                    got += len(chunk)
                    time.sleep(0.002)  # a slow reader: still streaming when SIGTERM comes
            results["download"] = got
        except Exception as exc:  # noqa: BLE001
            results["download"] = exc

    try:
        idle = _idle_keepalive_connection(gw)
        threads = [threading.Thread(target=slow_request), threading.Thread(target=download)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # both requests are in flight
        gw.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # The listener is closed: a new connection is refused.
        try:
            socket.create_connection(("127.0.0.1", gw.port), timeout=2).close()
            refused = False
        except OSError:
            refused = True
        assert refused
        # The idle keep-alive connection was closed cleanly (EOF, not a reset).
        idle.settimeout(5)
        assert idle.recv(4096) == b""
        idle.close()
        for t in threads:
            t.join(30)
        # Requests in flight were answered in full, told that the connection closes.
        assert results["slow"] == (200, {"slept": 1.5}, "close"), results["slow"]
        assert results["download"] == 64 << 20, results["download"]
        assert gw.proc.wait(15) == 0
    finally:
        gw.stop()


def test_sigterm_cuts_what_outlives_the_drain_timeout(upstream: Proc) -> None:
    gw = start_gateway({"production": upstream.url}, SLATE_GATEWAY_SHUTDOWN_SECONDS="1")
    try:
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        s.sendall(b"GET /slow?seconds=10 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        started = time.monotonic()
        gw.proc.send_signal(signal.SIGTERM)
        assert gw.proc.wait(10) == 0
        assert time.monotonic() - started < 5
        try:
            assert s.recv(4096) == b""
        except ConnectionResetError:
            pass  # cut: a reset is the honest answer to a request that could not finish
        s.close()
    finally:
        gw.stop()
