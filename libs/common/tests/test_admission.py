"""slate_common.admission: at most N requests at work, the others served in arrival order."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from slate_common.admission import BUFFERED_BODY_BYTES, Admission, AdmissionMiddleware


async def test_waiters_are_served_in_arrival_order_and_a_cancelled_one_leaves_its_turn():
    admission = Admission(1)
    await admission.acquire()
    order: list[str] = []

    async def take(name: str) -> None:
        await admission.acquire()
        order.append(name)

    tasks = {name: asyncio.create_task(take(name)) for name in "abcd"}
    await asyncio.sleep(0)
    assert admission.waiting == 4 and admission.free == 0
    tasks["b"].cancel()
    for _ in range(3):
        admission.release()
        await asyncio.sleep(0)
    assert order == ["a", "c", "d"]
    assert admission.waiting == 0 and admission.free == 0
    assert tasks["b"].cancelled()
    admission.release()  # d, the last holder, leaves
    assert admission.free == 1


async def test_a_place_handed_to_a_waiter_cancelled_at_once_goes_to_the_next():
    admission = Admission(1)
    await admission.acquire()
    first = asyncio.create_task(admission.acquire())
    second = asyncio.create_task(admission.acquire())
    await asyncio.sleep(0)
    admission.release()  # handed to `first` ...
    first.cancel()  # ... which is cancelled before it runs: the place goes on
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert first.cancelled() and second.done()
    assert admission.free == 0 and admission.waiting == 0


def _app(log: list[str], gates: dict[str, asyncio.Event]):
    """Answers after its path's gate opens; records when a handler starts and its body."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].strip("/")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        log.append(f"start {name} {len(body)}")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        log.append(f"answered {name}")
        await gates[name].wait()  # after its response started: no longer counted
        await send({"type": "http.response.body", "body": body})

    return app


async def test_one_place_the_second_request_starts_when_the_first_answers():
    log: list[str] = []
    gates = {name: asyncio.Event() for name in ("a", "b", "c")}
    # /a's handler waits for `blocked` before it reads its body and answers
    blocked = asyncio.Event()

    async def slow_first(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/a":
            await blocked.wait()
        await _app(log, gates)(scope, receive, send)

    app = AdmissionMiddleware(slow_first, limit=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        a = asyncio.create_task(client.post("/a", content=b"x" * 10))
        await asyncio.sleep(0.05)
        b = asyncio.create_task(client.post("/b", content=b"y" * 20))
        await asyncio.sleep(0.05)
        assert log == []  # /a holds the only place, /b waits (its body read already)
        assert app.admission is not None and app.admission.waiting == 1
        blocked.set()
        await asyncio.sleep(0.05)
        assert log == ["start a 10", "answered a", "start b 20", "answered b"]
        for gate in gates.values():
            gate.set()
        ra, rb = await a, await b
    assert (ra.status_code, ra.content, rb.content) == (200, b"x" * 10, b"y" * 20)
    assert app.admission.free == 1


async def test_a_handler_that_fails_gives_its_place_back():
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app = AdmissionMiddleware(failing, limit=1)
    with pytest.raises(RuntimeError):
        await app({"type": "http", "path": "/x", "headers": []}, _no_body, _discard)
    assert app.admission is not None and app.admission.free == 1


async def test_large_or_unsized_bodies_and_health_checks_are_not_counted():
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = AdmissionMiddleware(app, limit=1)
    assert middleware.admission is not None
    await middleware.admission.acquire()  # the only place is taken: a counted request would wait
    big = [(b"content-length", str(BUFFERED_BODY_BYTES + 1).encode())]
    chunked = [(b"transfer-encoding", b"chunked")]
    for path, headers in (("/upload", big), ("/stream", chunked), ("/healthz", []), ("/readyz", [])):
        await asyncio.wait_for(middleware({"type": "http", "path": path, "headers": headers}, _no_body, _discard), 1)
    assert seen == ["/upload", "/stream", "/healthz", "/readyz"]
    counted = asyncio.create_task(middleware({"type": "http", "path": "/data", "headers": []}, _no_body, _discard))
    await asyncio.sleep(0.02)
    assert not counted.done() and middleware.admission.waiting == 1
    middleware.admission.release()
    await asyncio.wait_for(counted, 1)
    assert seen[-1] == "/data"


def test_no_limit_means_no_admission():
    async def app(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover - never called
        pass

    assert AdmissionMiddleware(app, limit=0).admission is None


async def _no_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: dict) -> None:
    return None
