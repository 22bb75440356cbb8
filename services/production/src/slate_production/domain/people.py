"""The person and department replicas: applying auth's events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from sqlalchemy import Table, delete, exists, literal, select, union_all, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.serialization import now

from ..models import (
    Comment,
    Notification,
    Person,
    SearchFilter,
    SearchFilterGroup,
    Subscription,
    Task,
    comment_acknowledgement_link,
    comment_mention_link,
    department_person_link,
    project_person_link,
    task_person_link,
)

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


async def link_departments(session: AsyncSession, *, snapshot: dict[str, Any]) -> None:
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


async def departments_of(session: AsyncSession, *, person_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
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


async def serialize_persons(session: AsyncSession, *, persons: list[Person]) -> list[dict[str, Any]]:
    """Zou's person rows with their departments."""
    deps = await departments_of(session, person_ids=[p.id for p in persons])
    out = []
    for person in persons:
        row = person.serialize()
        row["departments"] = deps[person.id]
        out.append(row)
    return out


# --- what links to a person (auth asks before deleting one) --------------------------

#: Where production keeps a person's id, by what Zou would call the link.
_PERSON_LINKS: dict[str, tuple[Table, str]] = {
    "team": (project_person_link, "person_id"),
    "assignments": (task_person_link, "person_id"),
    "comments": (cast(Table, Comment.__table__), "person_id"),
    "notifications": (cast(Table, Notification.__table__), "person_id"),
    "subscriptions": (cast(Table, Subscription.__table__), "person_id"),
    "filters": (cast(Table, SearchFilter.__table__), "person_id"),
    "filter groups": (cast(Table, SearchFilterGroup.__table__), "person_id"),
    "mentions": (comment_mention_link, "person_id"),
    "acknowledgements": (comment_acknowledgement_link, "person_id"),
}
#: The links a forced delete removes with the person (comments stay: they are the
#: production's history, and keep their author's id).
_REMOVED_WITH_PERSON = ("team", "assignments", "notifications", "subscriptions", "filters", "filter groups",
                        "mentions", "acknowledgements")


async def person_links(session: AsyncSession, *, person_id: uuid.UUID) -> list[str]:
    """The kinds of production data that still name ``person_id`` (empty: none)."""
    checks = [
        select(literal(name)).where(exists().where(table.c[column] == person_id))
        for name, (table, column) in _PERSON_LINKS.items()
    ]
    return list((await session.scalars(union_all(*checks))).all())


async def remove_person_links(session: AsyncSession, *, person_id: uuid.UUID) -> None:
    """A person deleted on auth (with ``force``): drop what only pointed at them. The tasks
    they were assigned to get a new ``updated_at`` first: the listing caches' stamps read
    it (every writer of assignations bumps it)."""
    assigned = select(task_person_link.c.task_id).where(task_person_link.c.person_id == person_id)
    await session.execute(update(Task).where(Task.id.in_(assigned)).values(updated_at=now()))
    for name in _REMOVED_WITH_PERSON:
        table, column = _PERSON_LINKS[name]
        await session.execute(delete(table).where(table.c[column] == person_id))
