"""A person's saved search filters and filter groups (``/data/user/filters``...)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, NotFound
from slate_common.security import Principal

from ..models import Project, SearchFilter, SearchFilterGroup, project_person_link


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields of a body the route validated (api/filters.py: text, flags and ids
    already typed, required ones present), by column: ``query`` is ``search_query``."""
    return {("search_query" if key == "query" else key): value for key, value in fields.items()}


async def _check_project(session: AsyncSession, principal: Principal, project_id: uuid.UUID | None, *,
                         shared: bool) -> None:
    """A filter is one's own row: Zou lets anyone keep one for any project. Sharing it
    shows it to the project's team, so that asks to be in the team (admins aside)."""
    if project_id is None:
        return
    if await session.get(Project, project_id) is None:
        raise BadRequest("Project not found")
    if shared and not principal.is_admin:
        from .access import check_project_access
        await check_project_access(session, principal=principal, project_id=project_id)


def _grouped(rows: list[Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        out[row.list_type][str(row.project_id) if row.project_id else "all"].append(row.serialize())
    return {k: dict(v) for k, v in out.items()}


def _visible(model: Any, principal: Principal) -> Any:
    """Own filters, and filters shared in the projects the caller is in."""
    shared = model.is_shared.is_(True) & model.project_id.in_(
        select(project_person_link.c.project_id).where(project_person_link.c.person_id == principal.id))
    return or_(model.person_id == principal.id, shared)


async def list_filters(session: AsyncSession, *, principal: Principal) -> dict[str, Any]:
    rows = await session.scalars(select(SearchFilter).where(_visible(SearchFilter, principal))
                                 .order_by(SearchFilter.name, SearchFilter.created_at))
    return _grouped(list(rows))


async def list_groups(session: AsyncSession, *, principal: Principal) -> dict[str, Any]:
    rows = await session.scalars(select(SearchFilterGroup).where(_visible(SearchFilterGroup, principal))
                                 .order_by(SearchFilterGroup.name, SearchFilterGroup.created_at))
    return _grouped(list(rows))


async def create_filter(session: AsyncSession, *, principal: Principal, body: dict[str, Any]) -> SearchFilter:
    data = _columns(body)
    await _check_project(session, principal, data.get("project_id"), shared=bool(data.get("is_shared")))
    if data.get("search_filter_group_id"):
        await get_group(session, principal=principal, group_id=data["search_filter_group_id"])
    row = SearchFilter(id=uuid.uuid4(), person_id=principal.id, **data)
    session.add(row)
    await session.flush()
    return row


async def create_group(session: AsyncSession, *, principal: Principal, body: dict[str, Any]) -> SearchFilterGroup:
    data = _columns(body)
    await _check_project(session, principal, data.get("project_id"), shared=bool(data.get("is_shared")))
    row = SearchFilterGroup(id=uuid.uuid4(), person_id=principal.id, **data)
    session.add(row)
    await session.flush()
    return row


async def get_filter(session: AsyncSession, *, principal: Principal, filter_id: uuid.UUID) -> SearchFilter:
    """One's own filter; an admin reaches anyone's (as in Zou)."""
    row = await session.get(SearchFilter, filter_id)
    if row is None or (row.person_id != principal.id and not principal.is_admin):
        raise NotFound()
    return row


async def get_group(session: AsyncSession, *, principal: Principal, group_id: uuid.UUID) -> SearchFilterGroup:
    """One's own filter group; an admin reaches anyone's (as in Zou)."""
    row = await session.get(SearchFilterGroup, group_id)
    if row is None or (row.person_id != principal.id and not principal.is_admin):
        raise NotFound()
    return row


async def update_filter(session: AsyncSession, *, principal: Principal, filter_id: uuid.UUID,
                        body: dict[str, Any]) -> SearchFilter:
    row = await get_filter(session, principal=principal, filter_id=filter_id)
    data = _columns(body)
    if data.get("search_filter_group_id"):
        await get_group(session, principal=principal, group_id=data["search_filter_group_id"])
    if "project_id" in data or data.get("is_shared"):
        await _check_project(session, principal, data.get("project_id", row.project_id),
                             shared=bool(data.get("is_shared", row.is_shared)))
    for key, value in data.items():
        if key in ("name", "list_type", "search_query") and value is None:
            raise BadRequest(f"{key} cannot be empty")
        setattr(row, key, value)
    await session.flush()
    return row


async def update_group(session: AsyncSession, *, principal: Principal, group_id: uuid.UUID,
                       body: dict[str, Any]) -> SearchFilterGroup:
    row = await get_group(session, principal=principal, group_id=group_id)
    data = _columns(body)
    if "project_id" in data or data.get("is_shared"):
        await _check_project(session, principal, data.get("project_id", row.project_id),
                             shared=bool(data.get("is_shared", row.is_shared)))
    for key, value in data.items():
        if key in ("name", "list_type", "color") and value is None:
            raise BadRequest(f"{key} cannot be empty")
        setattr(row, key, value)
    await session.flush()
    return row


async def delete_filter(session: AsyncSession, *, principal: Principal, filter_id: uuid.UUID) -> None:
    await session.delete(await get_filter(session, principal=principal, filter_id=filter_id))
    await session.flush()


async def delete_group(session: AsyncSession, *, principal: Principal, group_id: uuid.UUID) -> None:
    await session.delete(await get_group(session, principal=principal, group_id=group_id))
    await session.flush()
