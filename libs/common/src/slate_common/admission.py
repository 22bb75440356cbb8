"""At most N requests of a process at work at once; the others wait their turn, first come
first served.

Why: an event loop serves its requests by turns. Each ``await`` (a statement, a publish)
puts a request at the back of the ready queue, so on a saturated process a request's time
grows with the number of its awaits times the number of requests in the loop: at 32
clients a comment (about fifteen awaits) took 290 ms where a task read (four) took 55 ms,
and the comments were the mix's p99 (bench/RESULTS.md, session 12). With a bound, the
requests admitted share the loop with few others and leave it fast; the rest wait in
order, so every request waits about as long, whatever its number of awaits.

A request is admitted once its body is read (a slow client's upload does not hold a
place) and leaves at its response's start: the settle wait for other services'
consumers (``SettleMiddleware``, outside this one) and the body's sending are done
without a place. A body larger than :data:`BUFFERED_BODY_BYTES` or of unknown length
is streamed to the handler as it comes and is not counted.
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Request bodies up to this size are read before the request is admitted.
BUFFERED_BODY_BYTES = 1 << 20


class Admission:
    """A first-come-first-served bound on the requests at work (a semaphore whose waiters
    are served in arrival order, and that counts who waits)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.free = limit
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the place was handed over as the waiter was cancelled
            else:
                self.waiters.remove(future)
            raise

    def release(self) -> None:
        while self.waiters:
            future = self.waiters.popleft()
            if not future.done():
                future.set_result(None)  # the place goes to the next waiter as it is
                return
        self.free += 1

    @property
    def waiting(self) -> int:
        return len(self.waiters)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
        if name == b"transfer-encoding":
            return None
    return 0


class AdmissionMiddleware:
    """Pure ASGI: :class:`Admission` around the handlers (see the module's docstring)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.admission = Admission(limit) if limit > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission = self.admission
        if admission is None or scope["type"] != "http" or scope["path"] in ("/healthz", "/readyz", "/metrics"):
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is None or length > BUFFERED_BODY_BYTES:
            await self.app(scope, receive, send)  # streamed: not counted
            return
        if length:
            receive = await _buffered(receive)
        await admission.acquire()
        held = True

        async def send_wrapper(message: Message) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                admission.release()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if held:
                admission.release()


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now; the handler then reads it at once."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client left: let the handler see it
            first: Message | None = message
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            break

    async def replay() -> Message:
        nonlocal first
        if first is not None:
            message, first = first, None
            return message
        return await receive()

    return replay
