"""Login logs (every login attempt of a known person) and desktop login logs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest
from slate_common.params import parse_id
from slate_common.serialization import now

from ..models import DesktopLoginLog, LoginLog, Person
from .identity import emit_person_update


def record_login(session: AsyncSession, *, person: Person, ip: str, origin: str, success: bool) -> None:
    # a login leaves last_presence alone (Zou's is the date of the last desktop login log)
    session.add(LoginLog(person_id=person.id, ip_address=ip[:50], origin=origin, success=success))


def serialize_login_log(log: LoginLog) -> dict[str, Any]:
    """Zou's login log row: id, created_at, ip_address, person_id, origin."""
    out = log.serialize()
    out.pop("type", None)
    return {k: out[k] for k in ("id", "created_at", "ip_address", "person_id", "origin")}


def _parse_datetime(raw: str, name: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise BadRequest(f"Invalid {name} format.") from exc
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


async def last_login_logs(session: AsyncSession, *, params: dict[str, str]) -> list[dict[str, Any]]:
    """The latest successful logins, newest first; ``before``/``after`` dates,
    ``person_ids`` (comma separated), ``cursor_login_log_id`` (rows older than it),
    ``limit`` (default 100)."""
    stmt = select(LoginLog).where(LoginLog.success.is_(True))
    if params.get("before"):
        stmt = stmt.where(LoginLog.created_at < _parse_datetime(params["before"], "before"))
    if params.get("after"):
        stmt = stmt.where(LoginLog.created_at > _parse_datetime(params["after"], "after"))
    if params.get("person_ids"):
        ids = [parse_id(p.strip()) for p in params["person_ids"].split(",") if p.strip()]
        stmt = stmt.where(LoginLog.person_id.in_(ids))
    if params.get("cursor_login_log_id"):
        cursor = await session.get(LoginLog, parse_id(params["cursor_login_log_id"]))
        if cursor is not None:
            stmt = stmt.where(LoginLog.created_at <= cursor.created_at, LoginLog.id != cursor.id)
    try:
        limit = min(max(int(params.get("limit", 100)), 1), 5000)
    except ValueError as exc:
        raise BadRequest("limit must be an integer") from exc
    rows = await session.scalars(stmt.order_by(LoginLog.created_at.desc(), LoginLog.id.desc()).limit(limit))
    return [serialize_login_log(r) for r in rows]


async def desktop_logs(session: AsyncSession, *, person_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(DesktopLoginLog).where(DesktopLoginLog.person_id == person_id).order_by(DesktopLoginLog.date.desc())
    )
    return [_desktop(r) for r in rows]


def _desktop(log: DesktopLoginLog) -> dict[str, Any]:
    out = log.serialize()
    return {"person_id": out["person_id"], "date": out["date"], "id": out["id"],
            "created_at": out["created_at"], "updated_at": out["updated_at"], "type": "DesktopLoginLog"}


async def add_desktop_log(session: AsyncSession, *, person_id: uuid.UUID, date: str | None,
                          actor_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A desktop login log; its date becomes the person's ``last_presence`` (as Zou)."""
    when = _parse_datetime(date, "date") if date else now().replace(microsecond=0)
    log = DesktopLoginLog(person_id=person_id, date=when)
    session.add(log)
    person = await session.get(Person, person_id, with_for_update=True)
    if person is not None and person.last_presence != when.date():
        person.last_presence = when.date()
        await emit_person_update(session, person=person, actor_id=actor_id)
    await session.flush()
    return _desktop(log)
