"""What production answers over NATS request/reply (``slate.rpc.production.<operation>``),
besides the snapshots of what it owns (``owned.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from slate_common.app import ServiceRuntime
from slate_common.bus import Handler
from slate_common.db import transaction
from slate_common.errors import BadRequest

from .domain.people import person_links


def rpc_handlers(runtime_of: Callable[[], ServiceRuntime]) -> dict[str, Handler]:
    """The handlers; ``runtime_of`` answers the running service's runtime."""

    async def links_of_person(payload: Any) -> Any:
        """``{"person_id"}`` -> ``{"links": [...]}``: what production still holds of a
        person (auth refuses to delete one that something links to, as Zou does)."""
        try:
            person_id = uuid.UUID(str((payload or {}).get("person_id")))
        except ValueError as exc:
            raise BadRequest("Malformed person_id.") from exc
        async with transaction(runtime_of().sessionmaker) as session:
            return {"links": await person_links(session, person_id=person_id)}

    return {"person-links": links_of_person}
