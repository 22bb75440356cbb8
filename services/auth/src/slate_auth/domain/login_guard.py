"""Brute-force protection aimed at guessing, not at people.

Only *failures* count: successful logins are never limited, so a studio of 300 artists
behind one NAT address logging in at 9 a.m. is never refused. Three records, all in a
NATS KV bucket shared by every auth process and replica (an in-process store stands in
until NATS is connected, or while it is unreachable):

- **account and address** (the pair): ``pair_free_failures`` failures in a row, then
  the pair is locked for ``pair_lock_seconds``, doubled at each further failure up to
  ``pair_lock_max_seconds``. A success clears it. This is what stops one guesser, and it
  cannot lock the account out for anybody at another address.
- **account** (any address): after ``account_free_failures`` failures, each attempt from
  an address that has not logged into the account successfully lately (``known``) waits
  a delay since the account's last failure, ``account_delay_seconds`` doubled at each
  failure up to ``account_delay_max_seconds``. This bounds guessing from many addresses;
  the worst a guesser can do to a colleague is make them wait that long, and only at a
  new address.
- **address** (any account): more than ``address_max_failures`` failures in
  ``address_window_seconds`` (password spraying) refuses that address's attempts on
  accounts it has not logged into lately, until the window ends.

Failures are forgotten ``failure_memory_seconds`` after the last one. An attempt refused
here never checks the password (no oracle) and is not counted. Failures on unknown
accounts count like any other, so the answers reveal nothing about which exist. Keys are
HMACs of the account and address with the secret key: the bucket holds no emails or IPs.

The check and the record are two steps, so concurrent guesses racing between them can
each get through before the count moves: at most one extra guess per concurrent request.

The same store counts requests that send mail or open a login ceremony (reset-password,
email one-time codes, FIDO challenges) per (address, account): ``requests_per_window``
in ``request_window_seconds``.

Every rule reads the time from ``clock`` (injectable: tests move it, nothing sleeps).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from slate_common.logging import get_logger

log = get_logger(__name__)

Record = dict[str, Any]


@dataclass(frozen=True)
class GuardPolicy:
    pair_free_failures: int = 5
    pair_lock_seconds: float = 60.0
    pair_lock_max_seconds: float = 3600.0
    account_free_failures: int = 10
    account_delay_seconds: float = 1.0
    account_delay_max_seconds: float = 900.0
    address_max_failures: int = 100
    address_window_seconds: float = 600.0
    failure_memory_seconds: float = 86400.0
    known_address_seconds: float = 30 * 86400.0
    requests_per_window: int = 10
    request_window_seconds: float = 600.0


@dataclass(frozen=True)
class Verdict:
    """``retry_after`` seconds to wait (0: go ahead) and which rule refused."""

    retry_after: float = 0.0
    rule: str | None = None

    @property
    def refused(self) -> bool:
        return self.retry_after > 0

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


ALLOWED = Verdict()


class Store(Protocol):
    async def get(self, key: str) -> tuple[Record | None, int]:
        """The record and its revision (0 when absent)."""

    async def swap(self, key: str, value: Record, revision: int) -> bool:
        """Write ``value`` if the key is still at ``revision``; False when it moved."""

    async def delete(self, key: str) -> None: ...


class MemoryStore:
    """One process's store: before NATS is connected, or while it is unreachable."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._data: dict[str, tuple[Record, int]] = {}
        self._revision = 0

    async def get(self, key: str) -> tuple[Record | None, int]:
        value, revision = self._data.get(key, (None, 0))
        return value, revision

    async def swap(self, key: str, value: Record, revision: int) -> bool:
        if self._data.get(key, (None, 0))[1] != revision:
            return False
        if len(self._data) >= self.max_keys and key not in self._data:  # bound memory under a spray
            self._data.pop(next(iter(self._data)))
        self._revision += 1
        self._data[key] = (value, self._revision)
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


class KvStore:
    """A NATS KV bucket: compare-and-set on the key's revision across every process."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def get(self, key: str) -> tuple[Record | None, int]:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:  # also a deleted key
            return None, 0
        return (orjson.loads(entry.value) if entry.value else None), entry.revision or 0

    async def swap(self, key: str, value: Record, revision: int) -> bool:
        try:
            if revision:
                await self.kv.update(key, orjson.dumps(value), last=revision)
            else:
                await self.kv.create(key, orjson.dumps(value))
        except KeyWrongLastSequenceError:
            return False
        return True

    async def delete(self, key: str) -> None:
        await self.kv.delete(key)


async def _bucket(js: JetStreamContext, name: str, ttl: float) -> KeyValue:
    try:
        return await js.key_value(name)
    except Exception:  # noqa: BLE001 - missing: create it (another process may win the race)
        try:
            return await js.create_key_value(KeyValueConfig(bucket=name, ttl=ttl, history=1))
        except Exception:  # noqa: BLE001
            return await js.key_value(name)


class LoginGuard:
    def __init__(self, policy: GuardPolicy, secret: str, clock: Callable[[], float] = time.time) -> None:
        self.policy = policy
        self.clock = clock
        self._secret = secret.encode()
        self._memory: tuple[Store, Store] = (MemoryStore(), MemoryStore())
        self._shared: tuple[Store, Store] | None = None

    async def connect(self, js: JetStreamContext, bucket: str) -> None:
        """Count in the NATS KV buckets ``bucket`` (failures) and ``<bucket>_known``
        (successful logins by account and address)."""
        p = self.policy
        failures = await _bucket(js, bucket, max(p.failure_memory_seconds, p.request_window_seconds))
        known = await _bucket(js, bucket + "_known", p.known_address_seconds)
        self._shared = (KvStore(failures), KvStore(known))

    # -- the rules ------------------------------------------------------------------------
    async def check(self, account: str, address: str) -> Verdict:
        """May ``address`` try a password (or second factor) for ``account`` now?"""
        return await self._run(lambda failures, known: self._check(failures, known, account, address))

    async def failed(self, account: str, address: str) -> None:
        await self._run(lambda failures, known: self._failed(failures, account, address))

    async def succeeded(self, account: str, address: str) -> None:
        await self._run(lambda failures, known: self._succeeded(failures, known, account, address))

    async def allow_request(self, scope: str, account: str, address: str) -> Verdict:
        """Count one request of ``scope`` (mail sent, challenge opened) by address and
        account; refused beyond ``requests_per_window`` per window."""
        return await self._run(lambda failures, known: self._count_request(failures, scope, account, address))

    async def _check(self, failures: Store, known: Store, account: str, address: str) -> Verdict:
        p, now = self.policy, self.clock()
        pair, _ = await failures.get(self._key("pair", account, address))
        if pair and pair.get("until", 0) > now:
            return Verdict(pair["until"] - now, "account-address")
        if await self._is_known(known, account, address, now):
            return ALLOWED
        acct, _ = await failures.get(self._key("acct", account))
        count = self._fresh_count(acct, now)
        if count >= p.account_free_failures:
            delay = min(p.account_delay_seconds * 2.0 ** min(count - p.account_free_failures, 40),
                        p.account_delay_max_seconds)
            if acct and acct["last"] + delay > now:
                return Verdict(acct["last"] + delay - now, "account")
        addr, _ = await failures.get(self._key("addr", address))
        if addr and now - addr["first"] < p.address_window_seconds and addr["n"] >= p.address_max_failures:
            return Verdict(addr["first"] + p.address_window_seconds - now, "address")
        return ALLOWED

    async def _failed(self, failures: Store, account: str, address: str) -> None:
        p, now = self.policy, self.clock()

        def pair(record: Record | None) -> Record:
            count = self._fresh_count(record, now) + 1
            until = 0.0
            if count >= p.pair_free_failures:
                until = now + min(p.pair_lock_seconds * 2.0 ** min(count - p.pair_free_failures, 40),
                                  p.pair_lock_max_seconds)
            return {"n": count, "last": now, "until": until}

        def acct(record: Record | None) -> Record:
            return {"n": self._fresh_count(record, now) + 1, "last": now}

        await self._bump(failures, self._key("pair", account, address), pair)
        await self._bump(failures, self._key("acct", account), acct)
        await self._bump(failures, self._key("addr", address),
                         lambda record: self._window(record, now, p.address_window_seconds))
        log.info("login_failure_counted")

    async def _succeeded(self, failures: Store, known: Store, account: str, address: str) -> None:
        now = self.clock()
        key = self._key("pair", account, address)
        if (await failures.get(key))[0] is not None:
            await failures.delete(key)
        known_key = self._key("known", account, address)
        record, revision = await known.get(known_key)
        if record is None or now - record.get("at", 0) > 3600:  # refreshed at most hourly
            await known.swap(known_key, {"at": now}, revision)

    async def _count_request(self, failures: Store, scope: str, account: str, address: str) -> Verdict:
        p, now = self.policy, self.clock()
        key = self._key("req", scope, account, address)
        for _ in range(20):
            record, revision = await failures.get(key)
            if (record and now - record["first"] < p.request_window_seconds
                    and record["n"] >= p.requests_per_window):
                return Verdict(record["first"] + p.request_window_seconds - now, scope)
            if await failures.swap(key, self._window(record, now, p.request_window_seconds), revision):
                return ALLOWED
        return ALLOWED

    # -- helpers --------------------------------------------------------------------------
    async def _run(self, action: Callable[[Store, Store], Any]) -> Any:
        if self._shared is not None:
            try:
                return await action(*self._shared)
            except Exception as exc:  # noqa: BLE001 - NATS unreachable: count in this process
                log.warning("login_guard_degraded", error=type(exc).__name__)
        return await action(*self._memory)

    async def _is_known(self, known: Store, account: str, address: str, now: float) -> bool:
        record, _ = await known.get(self._key("known", account, address))
        return record is not None and now - record.get("at", 0) < self.policy.known_address_seconds

    def _fresh_count(self, record: Record | None, now: float) -> int:
        if not record or now - record.get("last", 0) > self.policy.failure_memory_seconds:
            return 0
        return int(record.get("n", 0))

    @staticmethod
    def _window(record: Record | None, now: float, window: float) -> Record:
        if record and now - record["first"] < window:
            return {"n": record["n"] + 1, "first": record["first"]}
        return {"n": 1, "first": now}

    @staticmethod
    async def _bump(store: Store, key: str, change: Callable[[Record | None], Record]) -> None:
        for _ in range(20):  # compare-and-set: another process may have moved the record
            record, revision = await store.get(key)
            if await store.swap(key, change(record), revision):
                return
        log.warning("login_guard_contention", kind=key.split(".", 1)[0])

    def _key(self, kind: str, *parts: str) -> str:
        """``kind.<hmac>``: the record of normalised ``parts``, without revealing them."""
        material = "\x1f".join([kind, *(part.strip().lower() for part in parts)]).encode()
        return f"{kind}.{hmac.new(self._secret, material, hashlib.sha256).hexdigest()[:40]}"
