"""Time in tests: one polling helper, and a clock the test moves instead of sleeping.

``eventually`` waits for what *another process* does on its own schedule: a media
worker finishing a transcode, a consumer applying an event the test published straight
to the stream, an outbox row the relay publishes after a crash. It is never the way to
read back an HTTP write: a client's next call sees its write (docs/consistency.md), and a
test that polls for it would hide exactly the lag that guarantee forbids.

``Clock`` replaces ``time.time`` in code that takes a clock (the login guard, the token
verifier's cache): the test moves it past an expiry instead of sleeping through it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def _truthy(value: object) -> bool:
    return bool(value)


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    until: Callable[[T], bool] = _truthy,
    timeout: float = 15.0,
    interval: float = 0.1,
) -> T:
    """Await ``check()`` every ``interval`` seconds until ``until(value)`` holds (by default:
    the value is truthy) and return that value; after ``timeout`` seconds fail with the last
    value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        await asyncio.sleep(interval)


class Clock:
    """Seconds since the epoch, like ``time.time``, that move only when the test says so."""

    def __init__(self, now: float = 1_900_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
