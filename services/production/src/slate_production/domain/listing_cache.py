"""A validated cache for the with-tasks listings of one project.

Kitsu reloads a production's shot and asset lists often, and most reloads find nothing
changed. Each cached body is stored with a fingerprint of everything it was built
from, and a request first recomputes that fingerprint with one cheap query (counts and
sums of ``updated_at`` over the project's tasks and entities, its assignations, the
caller's subscriptions, the project row, entity types, the caller's membership); the
body is reused only when the fingerprint is unchanged. The fingerprint is read before
the listing, so a body is never newer-tagged than its data; any committed change to a
row changes a sum or a count, whatever the commit order (a sum, not a max, of
``updated_at``). Bodies are kept per caller (``is_subscribed`` and vendor scope are
personal), in an LRU bounded in bytes. Streams never go through it.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

FINGERPRINT_SQL = text("""
SELECT concat_ws(':',
  (SELECT count(*) || '/' || coalesce(sum(extract(epoch FROM updated_at)), 0) FROM task WHERE project_id = :p),
  (SELECT count(*) || '/' || coalesce(sum(extract(epoch FROM updated_at)), 0) FROM entity WHERE project_id = :p),
  (SELECT count(*) FROM task_person_link l JOIN task t ON t.id = l.task_id WHERE t.project_id = :p),
  (SELECT count(*) || '/' || coalesce(sum(extract(epoch FROM created_at)), 0) FROM subscription
     WHERE person_id = :me),
  (SELECT extract(epoch FROM updated_at) FROM project WHERE id = :p),
  (SELECT count(*) || '/' || coalesce(sum(extract(epoch FROM updated_at)), 0) FROM entity_type),
  (SELECT count(*) FROM project_person_link WHERE project_id = :p AND person_id = :me)
)
""")


async def fingerprint(session: AsyncSession, project_id: uuid.UUID, person_id: uuid.UUID) -> str:
    return str(await session.scalar(FINGERPRINT_SQL, {"p": project_id, "me": person_id}))


class ListingCache:
    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[Any, tuple[str, bytes]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Any, stamp: str) -> bytes | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] != stamp:
            self.misses += 1
            return None
        self.entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: Any, stamp: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= len(old[1])
        self.entries[key] = (stamp, body)
        self.size += len(body)
        while self.size > self.max_bytes:
            _, (_, evicted) = self.entries.popitem(last=False)
            self.size -= len(evicted)
