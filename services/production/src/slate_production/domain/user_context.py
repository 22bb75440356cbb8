"""What Kitsu loads at start for the signed-in person (/data/user/context).

Other parts of the service (notifications, search filters) add their keys through
:data:`EXTRA_PROVIDERS`: each is awaited with (session, principal) and returns a dict
merged into the context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.security import Principal

from ..models import (
    TEMPORAL_TYPES,
    Department,
    EntityType,
    Person,
    ProjectStatus,
    Studio,
    TaskStatus,
    TaskType,
    project_person_link,
)
from . import search_filters
from .access import team_projects
from .asset_types import serialize_asset_types
from .people import departments_of
from .projects import open_projects

ContextProvider = Callable[[AsyncSession, Principal], Awaitable[dict[str, Any]]]

#: Providers of further context keys (registered by the modules that own them).
EXTRA_PROVIDERS: list[ContextProvider] = []

PERSON_CONTEXT_FIELDS = ("id", "type", "first_name", "last_name", "full_name", "has_avatar", "active",
                         "departments", "studio_id", "role", "desktop_login", "is_bot")


#: What clients learn about a person (Zou's client context).
CLIENT_PERSON_FIELDS = ("id", "type", "first_name", "last_name", "full_name", "has_avatar", "active", "role",
                        "is_bot")


async def person_rows(session: AsyncSession, *, principal: Principal) -> list[dict[str, Any]]:
    """Admins and managers get every person in full (as auth described them); clients
    only the teams of their productions, with names and roles; others everyone, with
    what the assignee and mention widgets need."""
    stmt = select(Person).order_by(Person.first_name, Person.last_name)
    if principal.is_client:
        stmt = stmt.where(Person.id.in_(select(project_person_link.c.person_id).where(
            project_person_link.c.project_id.in_(team_projects(principal)))))
    persons = list(await session.scalars(stmt))
    deps = await departments_of(session, person_ids=[p.id for p in persons])
    out = []
    for person in persons:
        row = person.serialize()
        row["departments"] = deps.get(person.id, [])
        if principal.role in ("admin", "manager"):
            out.append(row)
            continue
        row.setdefault("studio_id", None)
        row.setdefault("desktop_login", person.desktop_login)
        row.setdefault("is_bot", person.is_bot)
        fields = CLIENT_PERSON_FIELDS if principal.is_client else PERSON_CONTEXT_FIELDS
        out.append({k: row.get(k) for k in fields})
    return out


async def project_roles(session: AsyncSession, *, principal: Principal) -> dict[str, str]:
    """The caller's role on each production where one is set (project id -> role)."""
    rows = await session.execute(select(project_person_link.c.project_id, project_person_link.c.role).where(
        project_person_link.c.person_id == principal.id, project_person_link.c.role.is_not(None)))
    return {str(project_id): role for project_id, role in rows}


async def context(session: AsyncSession, *, principal: Principal, user_limit: int | None = None) -> dict[str, Any]:
    """``user_limit``: the studio's limit of active persons, told to admins."""
    asset_types = list(await session.scalars(
        select(EntityType).where(EntityType.name.not_in(TEMPORAL_TYPES)).order_by(EntityType.name)))
    out: dict[str, Any] = {
        "asset_types": await serialize_asset_types(session, types=asset_types),
        "custom_actions": [],
        "status_automations": [],
        "departments": [d.serialize() for d in await session.scalars(select(Department).order_by(Department.name))],
        "studios": [s.serialize() for s in await session.scalars(select(Studio).order_by(Studio.name))],
        "notification_count": 0,
        "persons": await person_rows(session, principal=principal),
        "project_status": [s.serialize() for s in await session.scalars(select(ProjectStatus).order_by(ProjectStatus.name.desc()))],
        "project_roles": await project_roles(session, principal=principal),
        "projects": await open_projects(session, principal=principal),
        "task_types": [t.serialize() for t in await session.scalars(
            select(TaskType).order_by(TaskType.priority, TaskType.name))],
        "task_status": [s.serialize() for s in await session.scalars(
            select(TaskStatus).order_by(TaskStatus.created_at, TaskStatus.name))],
        "search_filters": await search_filters.list_filters(session, principal=principal),
        "search_filter_groups": await search_filters.list_groups(session, principal=principal),
        "preview_background_files": [],
        "plugins": [],
    }
    for provider in EXTRA_PROVIDERS:
        out.update(await provider(session, principal))
    if principal.is_admin and user_limit is not None:
        out["user_limit"] = user_limit
    return out
