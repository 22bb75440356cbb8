"""GET /auth/authenticated answered by the gateway from auth's last answer to the same
credentials, while nothing auth did since could change it.

The call is Kitsu's and the pipeline scripts' most frequent one, and its whole answer is a
function of the token, the person and the organisation. Auth marks an answer that may be
kept with ``Slate-Answer-Until`` (the token's expiry, or sooner: a preview account's
window); the gateway keeps it per token (the bearer header's, else the cookie's, as the
services read them) and answers it again until then, unless:

- **any auth event** arrives (auth emits one for every transaction that changes a person
  or the organisation, ``slate_auth.domain.identity_changes``): everything kept is
  dropped. The view is a *readable consumer group* of the events stream (an ephemeral
  JetStream consumer per gateway process, marked ``slate.readable``): auth's writer is
  answered only once this process has applied the event (``slate_common.events.consistency``),
  so a request that starts after a write's answer never gets the answer from before it;
- **a revocation** (the ``slate_revocations`` bucket every service watches: a refresh
  token's family revoked, a password change) arrives: everything is dropped, as fast as
  the services see it (a logout is also an auth event: every gateway has dropped before
  it answers);
- the view is not connected to NATS: nothing is kept, every call goes to auth.

An answer fetched while an event arrived is not kept (a generation counter): it may have
been read before the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

import orjson

log = logging.getLogger("slate_gateway.identity")

#: auth's answer header: until when (Unix seconds) the answer stands, barring an event.
UNTIL_HEADER = b"slate-answer-until"
#: What the view applies: every event of auth.
AUTH_EVENTS = "slate.events.auth.>"
#: Consumer metadata marking a group writers wait for (slate_common.events.consistency).
READABLE = "slate.readable"
APPLIED_PREFIX = "slate.applied"
REVOCATIONS_BUCKET = "slate_revocations"
#: A gateway that died leaves its consumer; JetStream deletes it after this long without
#: interest (auth's writes meanwhile wait for it up to the consistency bound, 2 s, and for
#: up to 10 s more until the writers read the groups again). A reconnection makes a new
#: consumer, so nothing needs the old one to live longer.
INACTIVE_SECONDS = 5.0
#: After announcing itself, how long the view waits before keeping answers: writers
#: read the consumer groups again at the announcement (milliseconds); this is the margin.
READY_DELAY_SECONDS = 1.0
MAX_ENTRIES = 20_000


class Fill:
    """An answer being fetched from auth, kept when it completes if nothing changed."""

    __slots__ = ("chunks", "generation", "key", "until")

    def __init__(self, key: bytes, generation: int) -> None:
        self.key = key
        self.generation = generation
        self.chunks: list[bytes] = []
        self.until = 0.0


class IdentityView:
    def __init__(self, nats_url: str, stream: str) -> None:
        self.nats_url = nats_url
        self.stream = stream
        self.entries: dict[bytes, tuple[bytes, float]] = {}
        self.generation = 0
        self.ready = False
        self.nc: Any = None
        self.consumer = ""
        self._task: asyncio.Task[None] | None = None

    # -- the request side (synchronous: called from the proxy's callbacks) -----------
    @staticmethod
    def key(headers: list[tuple[bytes, bytes]]) -> bytes | None:
        """The credentials an answer is kept for, read as the services read them
        (``slate_common.security.token_from_request``): a bearer token, else the access
        token cookie. None when there is none, or when a header comes twice."""
        authorization = cookie = None
        for name, value in headers:
            lname = name.lower()
            if lname == b"authorization":
                if authorization is not None:
                    return None
                authorization = value
            elif lname == b"cookie":
                if cookie is not None:
                    return None
                cookie = value
        if authorization is not None:
            scheme, _, token = authorization.partition(b" ")
            if scheme.lower() == b"bearer" and token:
                return b"h:" + token.strip()
        if cookie is not None:
            found = [value for name, _, value in (part.strip().partition(b"=") for part in cookie.split(b";"))
                     if name == b"access_token_cookie"]
            if len(found) == 1 and found[0]:  # twice: which one auth reads is not this code's to guess
                return b"c:" + found[0]
        return None

    def lookup(self, key: bytes) -> bytes | None:
        entry = self.entries.get(key)
        if entry is None or not self.ready:
            return None
        if time.time() >= entry[1]:
            del self.entries[key]
            return None
        return entry[0]

    def start_fill(self, key: bytes) -> Fill | None:
        return Fill(key, self.generation) if self.ready else None

    def complete_fill(self, fill: Fill) -> None:
        if not self.ready or fill.generation != self.generation or fill.until <= time.time():
            return
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
        self.entries[fill.key] = (b"".join(fill.chunks), fill.until)

    def drop_all(self) -> None:
        self.generation += 1
        self.entries.clear()

    # -- the events side -------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self.ready = False
        self.drop_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.nc is not None:
            with contextlib.suppress(Exception):
                if self.consumer:
                    await self.nc.jetstream().delete_consumer(self.stream, self.consumer)
            with contextlib.suppress(Exception):
                await self.nc.close()

    async def _run(self) -> None:
        import nats  # only a gateway that keeps answers needs it

        async def disconnected() -> None:
            self.ready = False
            self.drop_all()
            log.warning("identity view: NATS disconnected, answers go to auth")

        async def reconnected() -> None:
            self._task = asyncio.get_running_loop().create_task(self._subscribe())

        while True:
            try:
                self.nc = await nats.connect(self.nats_url, name="slate-gateway-identity", max_reconnect_attempts=-1,
                                             reconnect_time_wait=0.5, disconnected_cb=disconnected,
                                             reconnected_cb=reconnected)
                break
            except Exception as exc:
                log.warning("identity view: NATS unreachable (%s), answers go to auth", exc)
                await asyncio.sleep(2.0)
        await self._subscribe()

    async def _subscribe(self) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        self.ready = False
        self.drop_all()
        js = self.nc.jetstream()
        try:
            if self.consumer:  # a reconnection: the old consumer may be gone
                with contextlib.suppress(Exception):
                    await js.delete_consumer(self.stream, self.consumer)
            self.consumer = f"gateway-identity-{uuid.uuid4().hex[:12]}"
            await js.subscribe(
                AUTH_EVENTS, stream=self.stream, cb=self._on_event, manual_ack=True,
                config=ConsumerConfig(name=self.consumer, deliver_policy=DeliverPolicy.NEW,
                                      ack_policy=AckPolicy.EXPLICIT, inactive_threshold=INACTIVE_SECONDS,
                                      metadata={READABLE: "true"},
                                      description="the gateway's kept /auth/authenticated answers"))
            kv = await js.key_value(REVOCATIONS_BUCKET)
            watcher = await kv.watchall(include_history=False)
            asyncio.get_running_loop().create_task(self._watch(watcher))
            # writers read the groups again when an unknown one announces itself
            await self.nc.publish(f"{APPLIED_PREFIX}.{self.consumer}",
                                  orjson.dumps({"consumer": self.consumer, "seqs": []}))
            await asyncio.sleep(READY_DELAY_SECONDS)
            self.drop_all()
            self.ready = self.nc.is_connected
            log.info("identity view ready: consumer %s", self.consumer)
        except Exception as exc:  # no stream or bucket yet (auth not started): try again
            log.warning("identity view: cannot subscribe (%s); retrying", exc)
            await asyncio.sleep(2.0)
            self._task = asyncio.get_running_loop().create_task(self._subscribe())

    async def _on_event(self, msg: Any) -> None:
        self.drop_all()
        await msg.ack()
        seq = msg.metadata.sequence.stream
        await self.nc.publish(f"{APPLIED_PREFIX}.{self.consumer}",
                              orjson.dumps({"consumer": self.consumer, "seqs": [seq]}))

    async def _watch(self, watcher: Any) -> None:
        initial = True
        async for entry in watcher:
            if entry is None:
                initial = False
                continue
            if not initial:
                self.drop_all()
