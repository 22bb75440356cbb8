from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..serialization import dumps, loads, now


@dataclass(frozen=True)
class Event:
    """The envelope every event travels in."""

    name: str  # Zou's event name, e.g. "project:new"
    data: dict[str, Any]
    project_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: dt.datetime = field(default_factory=now)
    #: The owner's outbox sequence, from the ``Slate-Version`` header (not in the payload:
    #: it is known only once the row is stored). None for events published without it.
    version: int | None = field(default=None, compare=False)

    def to_json(self) -> bytes:
        return dumps(
            {
                "id": self.id,
                "name": self.name,
                "occurred_at": self.occurred_at,
                "project_id": self.project_id,
                "actor_id": self.actor_id,
                "data": self.data,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes, *, version: int | None = None) -> Event:
        doc = loads(raw)
        return cls(
            version=version,
            id=uuid.UUID(doc["id"]),
            name=doc["name"],
            occurred_at=dt.datetime.fromisoformat(doc["occurred_at"]),
            project_id=uuid.UUID(doc["project_id"]) if doc.get("project_id") else None,
            actor_id=uuid.UUID(doc["actor_id"]) if doc.get("actor_id") else None,
            data=doc.get("data") or {},
        )
