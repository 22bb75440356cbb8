"""A production's preview account: the routes are production's, the account (a person,
its password and its access window) is auth's, reached over NATS request/reply
(``slate.rpc.auth.preview-account.*``). Production only keeps the account in the team:
added when it is created (or reset), removed when it is deleted, with project:update.

Auth commits first; if production's part then fails, the account exists without being
in the team, and the next creation (a reset) adds it again.
"""

from __future__ import annotations

import uuid
from typing import Any

from nats.aio.client import Client as NATS
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common import bus
from slate_common.errors import NotFound, ServiceUnavailable
from slate_common.security import Principal
from slate_common.serialization import now

from ..models import Project, project_person_link
from . import access
from .projects import emit_project_event

#: The fields answered, in Zou's order (the password only at creation).
FIELDS = ("id", "email", "full_name", "preview_open_until")


def _shape(account: dict[str, Any], *, with_password: bool = False) -> dict[str, Any]:
    out = {key: account.get(key) for key in FIELDS}
    if with_password:
        out["password"] = account["password"]
    return out


async def _call(nc: NATS | None, operation: str, payload: dict[str, Any]) -> Any:
    if nc is None or not nc.is_connected:
        raise ServiceUnavailable("The auth service cannot be reached")
    return await bus.request(nc, "auth", f"preview-account.{operation}", payload)


async def get_account(session: AsyncSession, *, nc: NATS | None, principal: Principal,
                      project_id: uuid.UUID) -> dict[str, Any] | None:
    await access.check_manager(session, principal=principal, project_id=project_id)
    account = await _call(nc, "get", {"project_id": str(project_id)})
    return _shape(account) if account is not None else None


async def create_account(session: AsyncSession, *, nc: NATS | None, principal: Principal,
                         project_id: uuid.UUID) -> dict[str, Any]:
    """Create the account (or give it a new password and close its window) and keep it
    in the team; answers the clear password."""
    await access.check_manager(session, principal=principal, project_id=project_id)
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound()
    account = await _call(nc, "create", {"project_id": str(project_id), "project_name": project.name,
                                         "actor_id": str(principal.id)})
    added = await session.execute(
        insert(project_person_link).values(project_id=project_id, person_id=uuid.UUID(account["id"]))
        .on_conflict_do_nothing()
    )
    if added.rowcount:  # type: ignore[attr-defined]
        await _team_changed(session, principal, project)
    return _shape(account, with_password=True)


async def set_open(session: AsyncSession, *, nc: NATS | None, principal: Principal, project_id: uuid.UUID, is_open: bool) -> dict[str, Any]:
    await access.check_manager(session, principal=principal, project_id=project_id)
    account = await _call(nc, "set-open", {"project_id": str(project_id), "is_open": is_open,
                                           "actor_id": str(principal.id)})
    return _shape(account)


async def delete_account(session: AsyncSession, *, nc: NATS | None, principal: Principal,
                         project_id: uuid.UUID) -> None:
    """Delete the account (its sessions end) and take it out of the team."""
    await access.check_manager(session, principal=principal, project_id=project_id)
    answer = await _call(nc, "delete", {"project_id": str(project_id), "actor_id": str(principal.id)})
    person_id = answer.get("person_id") if isinstance(answer, dict) else None
    if person_id is None:
        return
    removed = await session.execute(delete(project_person_link).where(
        project_person_link.c.project_id == project_id, project_person_link.c.person_id == uuid.UUID(person_id)))
    project = await session.get(Project, project_id)
    if removed.rowcount and project is not None:  # type: ignore[attr-defined]
        await _team_changed(session, principal, project)


async def _team_changed(session: AsyncSession, principal: Principal, project: Project) -> None:
    project.updated_at = now()
    await session.flush()
    await emit_project_event(session, verb="update", project=project, actor_id=principal.id)
