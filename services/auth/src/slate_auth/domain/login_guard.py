"""Brute-force protection: account lockout after repeated failures, and a per-IP rate
limit on login attempts."""

from __future__ import annotations

import datetime as dt
import time
from collections import deque

from slate_common.serialization import now

from ..models import Person


def is_locked(person: Person) -> bool:
    return person.locked_until is not None and person.locked_until > now()


def record_failure(person: Person, *, max_failures: int, lock_seconds: int) -> None:
    person.failed_login_count = (person.failed_login_count or 0) + 1
    person.last_failed_login_at = now()
    if person.failed_login_count >= max_failures:
        person.locked_until = now() + dt.timedelta(seconds=lock_seconds)
        person.failed_login_count = 0


def record_success(person: Person) -> None:
    person.failed_login_count = 0
    person.locked_until = None


class RateLimiter:
    """A sliding one-minute window of attempts per key (in this process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        stamp = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and stamp - hits[0] > 60.0:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return False
        hits.append(stamp)
        if len(self._hits) > 100_000:  # bound memory under a spray of addresses
            self._hits = {k: v for k, v in self._hits.items() if v and stamp - v[-1] <= 60.0}
        return True
