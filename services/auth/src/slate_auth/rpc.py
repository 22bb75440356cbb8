"""What auth answers over NATS request/reply (``slate.rpc.auth.<operation>``).

Each handler runs one transaction of its own, committed before it answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slate_common.app import ServiceRuntime
from slate_common.bus import Handler
from slate_common.db import transaction
from slate_common.errors import BadRequest

from .domain import preview_accounts as preview


def rpc_handlers(runtime_of: Callable[[], ServiceRuntime]) -> dict[str, Handler]:
    """The handlers; ``runtime_of`` answers the running service's runtime."""

    def _project(payload: Any) -> Any:
        return preview.parse_uuid(payload, key="project_id")

    def _actor(payload: Any) -> Any:
        return preview.parse_uuid(payload, key="actor_id", required=False)

    async def get_account(payload: Any) -> Any:
        async with transaction(runtime_of().sessionmaker) as session:
            return await preview.get_account(session, project_id=_project(payload))

    async def create_account(payload: Any) -> Any:
        name = payload.get("project_name") if isinstance(payload, dict) else None
        if not isinstance(name, str):
            raise BadRequest("Malformed project_name.")
        runtime = runtime_of()
        async with transaction(runtime.sessionmaker) as session:
            return await preview.create_or_reset(session, runtime=runtime, project_id=_project(payload),
                                                 project_name=name,
                                                 actor_id=_actor(payload))

    async def set_open(payload: Any) -> Any:
        is_open = payload.get("is_open") if isinstance(payload, dict) else None
        if not isinstance(is_open, bool):
            raise BadRequest("Malformed is_open.")
        runtime = runtime_of()
        async with transaction(runtime.sessionmaker) as session:
            return await preview.set_open(session, runtime=runtime, project_id=_project(payload), is_open=is_open,
                                          actor_id=_actor(payload))

    async def delete_account(payload: Any) -> Any:
        runtime = runtime_of()
        async with transaction(runtime.sessionmaker) as session:
            return {"person_id": await preview.delete_account(session, runtime=runtime, project_id=_project(payload),
                                                              actor_id=_actor(payload))}

    return {
        "preview-account.get": get_account,
        "preview-account.create": create_account,
        "preview-account.set-open": set_open,
        "preview-account.delete": delete_account,
    }
