"""Token revocation shared by every service through a NATS KV bucket.

Keys: ``jti.<token id>`` (one token, e.g. logout) and ``person.<id>`` (every token of a
person issued up to that instant, e.g. password or role change, deactivation). Each
service watches the bucket and keeps the set in memory, so a revocation is visible
everywhere within milliseconds. Entries expire with the longest token lifetime.
"""

from __future__ import annotations

import asyncio
import time

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue

from .logging import get_logger
from .tokens import RevocationView

log = get_logger(__name__)

BUCKET = "slate_revocations"


async def revocation_bucket(js: JetStreamContext, ttl_seconds: float = 31 * 24 * 3600) -> KeyValue:
    try:
        return await js.key_value(BUCKET)
    except Exception:
        try:
            return await js.create_key_value(KeyValueConfig(bucket=BUCKET, ttl=ttl_seconds, history=1))
        except Exception:
            return await js.key_value(BUCKET)


async def revoke_token(kv: KeyValue, jti: str) -> None:
    await kv.put(f"jti.{jti}", str(time.time()).encode())


async def revoke_person(kv: KeyValue, person_id: str, at: float | None = None) -> None:
    await kv.put(f"person.{person_id}", str(at if at is not None else time.time()).encode())


def apply_entry(view: RevocationView, key: str, value: bytes | None) -> None:
    kind, _, ident = key.partition(".")
    target = view.jtis if kind == "jti" else view.persons if kind == "person" else None
    if target is None:
        return
    if value is None:
        target.pop(ident, None)
    else:
        target[ident] = float(value.decode() or 0)


async def watch_revocations(js: JetStreamContext, view: RevocationView, ready: asyncio.Event | None = None) -> None:
    """Keep ``view`` in step with the bucket until cancelled."""
    kv = await revocation_bucket(js)
    watcher = await kv.watchall()
    async for entry in watcher:
        if entry is None:  # end of the initial values
            if ready is not None:
                ready.set()
            continue
        deleted = entry.operation in ("DEL", "PURGE")
        apply_entry(view, entry.key, None if deleted else entry.value)
