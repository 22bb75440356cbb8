"""A validated, row-level cache for the with-tasks listings of one project.

Kitsu reloads a production's shot and asset lists often, and between two reloads a
studio changes a handful of tasks, not the thousand shots. So each listing is cached per
caller as its rows, one per entity, each stored with a stamp of everything it was built
from (:func:`listings.stamps_query`: the entity, the rows it names, its tasks, which
assigning touches). A request first reads the current stamps of the listing's entities, in
the listing's order, with one cheap query; only the rows whose stamp changed (or that
are new) are built again, in one query for all of them, and the body is joined from the
rows. An unchanged listing is served as the bytes joined last time.

A few things change every row at once and are checked first, for the whole listing: the
caller's subscriptions (``is_subscribed``), the caller's membership of the project and
the entity types. Stamps are read before the rows, so a row is never tagged newer than
its data (at worst it is rebuilt once more). Bodies are kept per caller
(``is_subscribed`` and the vendor scope are personal), in an LRU bounded in bytes.
Streams never go through it.

Plain listings (``/data/projects/<id>/shots``...) are kept whole (:meth:`ListingCache.body`):
their stamp is an aggregate of the ``updated_at`` of the rows listed and of the rows
their names come from, read with one query over the listing's own statement.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.db import CompiledRead
from slate_common.security import Principal

from . import listings

GLOBAL_SQL = text("""
SELECT concat_ws(':',
  (SELECT count(*) || '/' || coalesce(sum(extract(epoch FROM created_at)), 0) FROM subscription
     WHERE person_id = :me),
  (SELECT count(*) || '/' || coalesce(sum(extract(epoch FROM updated_at)), 0) FROM entity_type),
  (SELECT count(*) FROM project_person_link WHERE project_id = :p AND person_id = :me)
)
""")

_GLOBAL = CompiledRead(GLOBAL_SQL)

#: Above this share of changed rows, one query for the whole listing beats a list of ids.
FULL_REBUILD_SHARE = 0.5


@dataclass
class Entry:
    global_stamp: str
    rows: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)  # id -> (stamp, row JSON)
    order_key: int = 0  # hash of the ids and stamps the body was joined from
    body: bytes = b""

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(row) for _, row in self.rows.values())


class ListingCache:
    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[Any, Entry] = OrderedDict()
        self.hits = 0  # served without building a row
        self.misses = 0
        self.rows_built = 0

    def _peek(self, key: Any) -> Entry | None:
        """The entry, left in place: requests for the same listing that overlap all read
        it (taking it out while one request rebuilds would send the others to rebuild
        the whole listing)."""
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def _keep(self, key: Any, entry: Entry) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= old.size
        size = entry.size
        if size > self.max_bytes:
            return
        self.entries[key] = entry
        self.size += size
        while self.size > self.max_bytes:
            _, evicted = self.entries.popitem(last=False)
            self.size -= evicted.size

    async def body(self, key: Any, stamp: str, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """A body built whole, served again while ``stamp`` is unchanged. The caller reads
        the stamp before the body's rows (so a body is never stored under a stamp newer
        than its data), from the rows it lists and every row their values come from."""
        entry = self._peek(key)
        if entry is not None and entry.global_stamp == stamp:
            self.hits += 1
            return entry.body
        self.misses += 1
        body = await build()
        self._keep(key, Entry(stamp, body=body))
        return body

    async def listing(self, session: AsyncSession, listing: listings.Listing, principal: Principal,
                      filters: listings.Filters, *, compact: bool = False) -> bytes:
        """The listing's JSON body, rebuilding only the rows that changed since the
        caller's last request (``filters.project_id`` must be set)."""
        assert filters.project_id is not None
        global_stamp = str((await _GLOBAL.first(session, p=filters.project_id, me=principal.id))[0])
        sql, params = listings.stamps_query(listing, principal=principal, filters=filters)
        stamps: list[tuple[uuid.UUID, str]] = [(r[0], r[1]) for r in await listings.compiled(sql).all(session, **params)]

        async def build(ids: list[uuid.UUID] | None) -> dict[uuid.UUID, str]:
            wanted = filters if ids is None else listings.Filters(project_id=filters.project_id, entity_ids=tuple(ids))
            sql, params = listings.build_query(listing, principal=principal, filters=wanted, compact=compact, with_ids=True)
            return {r[0]: r[1] for r in await listings.compiled(sql).all(session, **params)}

        return await self.rows(
            (listing.kind, filters, compact, principal.id, principal.role), global_stamp, stamps, build,
            lambda rows: listings.document(listing, rows=rows, compact=compact))

    async def rows(self, key: Any, global_stamp: str, stamps: list[tuple[uuid.UUID, str]],
                   build: Callable[[list[uuid.UUID] | None], Awaitable[dict[uuid.UUID, str]]],
                   join: Callable[[list[str]], bytes], *, keep_body: bool = True) -> bytes:
        """The body joined from one row per id of ``stamps`` (in that order), building
        again (``build(ids)``, or ``build(None)`` for all) only the rows whose stamp
        changed since the entry ``key`` was stored. ``keep_body=False`` stores the rows
        only, and joins them on every request (small bodies, many keys)."""
        order_key = hash(tuple(stamps))
        entry = self._peek(key)
        if entry is not None and entry.global_stamp == global_stamp and entry.order_key == order_key:
            self.hits += 1
            return entry.body or join([row for _, row in entry.rows.values()])
        self.misses += 1
        # Entries are never changed in place: a request that overlaps this one keeps
        # reading the rows it found, and the last to finish stores its own entry.
        known = entry.rows if entry is not None and entry.global_stamp == global_stamp else {}
        stale = [eid for eid, stamp in stamps if known.get(eid, ("",))[0] != stamp]
        rows = {eid: known[eid] for eid, _ in stamps if eid in known}  # drops deleted entities
        if stale:
            built = await build(None if len(stale) > FULL_REBUILD_SHARE * len(stamps) else stale)
            self.rows_built += len(built)
            current = dict(stamps)
            for eid, row in built.items():
                if eid in current:
                    rows[eid] = (current[eid], row)
        # in the stamps' order (rows built again were added at the end)
        fresh = Entry(global_stamp, {eid: rows[eid] for eid, _ in stamps if eid in rows})
        body = join([row for _, row in fresh.rows.values()])
        fresh.body = body if keep_body else b""
        # a row missing (it went away meanwhile): do not serve this entry again as is
        fresh.order_key = order_key if len(fresh.rows) == len(stamps) else 0
        self._keep(key, fresh)
        return body
