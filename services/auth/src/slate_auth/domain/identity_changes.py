"""Every auth transaction that changes a person or the organisation emits an event.

The gateway keeps GET /auth/authenticated's answers until any auth event arrives
(``slate_gateway.identity``), and auth's writers wait for it to have applied theirs. Auth's
writes of a person or the organisation emit ``person:update`` or ``organisation:update``;
so that this does not rest on every future write remembering to, a flush that modifies
or deletes a person or the organisation row in a transaction that has emitted nothing yet
emits ``identity:change`` (only the gateway's view reads it). A logout emits it too: a
revoked token must not be answered from a gateway's memory.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from slate_common.events import emit

from ..models import Organisation, Person

EVENT = "identity:change"


def watch(session_class: type[Session]) -> None:
    """Install the hook on the sessions of ``session_class`` (auth's sessionmaker's)."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)


def revoked(session: Any) -> None:
    """A token was revoked (a logout): the gateways drop what they keep before it answers
    (the revocation bucket alone reaches them a few milliseconds later)."""
    emit(session, name=EVENT, data={"person_ids": [], "revoked": True})


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if session.info.get("slate_outbox"):  # the transaction emits already: any auth event will do
        return
    changed = [obj for obj in (*session.dirty, *session.deleted)
               if isinstance(obj, (Person, Organisation)) and (obj in session.deleted or session.is_modified(obj))]
    if changed:
        emit(session, name=EVENT,  # type: ignore[arg-type]
             data={"person_ids": sorted(str(o.id) for o in changed if isinstance(o, Person)), "revoked": False})
