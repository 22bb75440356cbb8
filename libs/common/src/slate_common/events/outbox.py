from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..bus import event_subject
from ..tracing import inject_headers
from .envelope import Event
from .models import OutboxEvent
from .versions import changed_header

#: Set by the service at start (``slate_common.events.outbox.SERVICE``) so emit() knows
#: which subject namespace its events live in; a session made by a service's runtime
#: names its service itself (``db.make_sessionmaker(service=...)``), which wins.
SERVICE: str = "service"


def emit(
    session: AsyncSession,
    *,
    name: str,
    data: dict[str, Any],
    project_id: uuid.UUID | str | None = None,
    actor_id: uuid.UUID | str | None = None,
    changed: Iterable[str] | None = None,
) -> Event:
    """Record an event in the outbox, in the caller's transaction. Never publishes: after
    the commit the request's settle scope (``slate_common.consistency``) or the relay does.
    ``changed``: the snapshot fields an update changed, when the caller knows them all
    (the ``Slate-Changed`` header, ``events/versions.py``): replicas that keep none of
    them skip the event, and writers do not wait for them. None: unknown."""
    event = Event(
        name=name,
        data=data,
        project_id=uuid.UUID(str(project_id)) if project_id else None,
        actor_id=uuid.UUID(str(actor_id)) if actor_id else None,
    )
    row = OutboxEvent(
        id=event.id,
        subject=event_subject(session.info.get("slate_service") or SERVICE, name),
        payload=event.to_json(),
        headers=inject_headers(None if changed is None else changed_header(changed)),
    )
    add_row(session, row=row)
    return event


def add_row(session: AsyncSession, *, row: OutboxEvent) -> None:
    """Add an outbox row to the caller's transaction, known to the commit: the request's
    settle scope publishes it then, or (outside one) the relay is handed its ``seq`` at
    once (``events.consistency.settling_session_class``)."""
    session.add(row)
    session.info.setdefault("slate_outbox", []).append(row)
