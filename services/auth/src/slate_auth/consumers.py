"""Events auth reacts to: {event name: handler}."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.events import EventHandler, emit
from slate_common.events.envelope import Event
from slate_common.logging import get_logger

from .domain.identity import emit_person_update
from .models import Organisation, Person

log = get_logger(__name__)


async def on_avatar_update(session: AsyncSession, event: Event) -> None:
    """media stored or cleared a person's or the organisation's picture: flip has_avatar
    and tell everyone (person:update / organisation:update)."""
    kind, raw_id = event.data.get("kind"), event.data.get("id")
    if kind not in ("person", "organisation") or not raw_id:
        return  # projects are production's
    try:
        target_id = uuid.UUID(str(raw_id))
    except ValueError:
        log.warning("avatar_event_bad_id", event_id=str(event.id))
        return
    has_avatar = bool(event.data.get("has_avatar"))
    if kind == "person":
        person = await session.get(Person, target_id, with_for_update=True)
        if person is None or person.has_avatar == has_avatar:
            return
        person.has_avatar = has_avatar
        await emit_person_update(session, person=person, actor_id=event.actor_id)
        return
    organisation = await session.get(Organisation, target_id, with_for_update=True)
    if organisation is None or organisation.has_avatar == has_avatar:
        return
    organisation.has_avatar = has_avatar
    await session.flush()
    emit(session, name="organisation:update",
         data={"organisation_id": str(organisation.id), "snapshot": organisation.serialize()}, actor_id=event.actor_id)


HANDLERS: dict[str, EventHandler] = {"avatar:update": on_avatar_update}
