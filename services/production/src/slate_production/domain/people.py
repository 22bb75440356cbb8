"""The person and department replicas: applying auth's events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.serialization import now

from ..models import Person, department_person_link

_COLUMNS = ("first_name", "last_name", "email", "desktop_login", "role", "active", "archived",
            "is_bot", "has_avatar", "notifications_enabled")
_DEFAULTS: dict[str, Any] = {"first_name": "", "last_name": "", "role": "user", "active": True,
                             "archived": False, "is_bot": False, "has_avatar": False,
                             "notifications_enabled": False}


def _ts(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


def person_columns(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The columns production keeps of a person snapshot (Zou's fields, no secrets); the
    snapshot itself is kept without ``departments``, which are links."""
    values: dict[str, Any] = {}
    for key in _COLUMNS:
        value = snapshot.get(key, _DEFAULTS.get(key))
        values[key] = _DEFAULTS.get(key) if value is None and key in _DEFAULTS else value
    values["studio_id"] = uuid.UUID(str(snapshot["studio_id"])) if snapshot.get("studio_id") else None
    values["snapshot"] = {k: v for k, v in snapshot.items() if k != "departments"}
    values["created_at"] = _ts(snapshot.get("created_at")) or now()
    values["updated_at"] = _ts(snapshot.get("updated_at")) or values["created_at"]
    return values


async def link_departments(session: AsyncSession, snapshot: dict[str, Any]) -> None:
    """The person's department links, as the snapshot lists them."""
    departments = snapshot.get("departments")
    if not isinstance(departments, list):
        return
    person_id = uuid.UUID(str(snapshot["id"]))
    await session.execute(delete(department_person_link).where(department_person_link.c.person_id == person_id))
    ids = {uuid.UUID(str(d["id"] if isinstance(d, dict) else d)) for d in departments}
    if ids:
        await session.execute(
            insert(department_person_link),
            [{"person_id": person_id, "department_id": d} for d in ids],
        )


async def departments_of(session: AsyncSession, person_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Department ids (strings) per person, from the replica's links."""
    from sqlalchemy import select

    out: dict[uuid.UUID, list[str]] = {pid: [] for pid in person_ids}
    if person_ids:
        rows = await session.execute(
            select(department_person_link.c.person_id, department_person_link.c.department_id)
            .where(department_person_link.c.person_id.in_(person_ids))
            .order_by(department_person_link.c.department_id)
        )
        for person_id, department_id in rows:
            out[person_id].append(str(department_id))
    return out


async def serialize_persons(session: AsyncSession, persons: list[Person]) -> list[dict[str, Any]]:
    """Zou's person rows with their departments."""
    deps = await departments_of(session, [p.id for p in persons])
    out = []
    for person in persons:
        row = person.serialize()
        row["departments"] = deps[person.id]
        out.append(row)
    return out
