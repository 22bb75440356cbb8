"""Project rules: statuses, team scope, and the extra fields of project listings."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.security import Principal
from slate_common.serialization import now

from ..models import Project, ProjectStatus, project_person_link

OPEN, CLOSED = "Open", "Closed"


async def ensure_statuses(session: AsyncSession) -> None:
    """The two statuses Zou ships with, created once."""
    for name in (OPEN, CLOSED):
        await session.execute(
            insert(ProjectStatus).values(id=uuid.uuid4(), name=name, color="#000000",
                                         created_at=now(), updated_at=now())
            .on_conflict_do_nothing(index_elements=["name"])
        )


async def status_id(session: AsyncSession, name: str) -> uuid.UUID | None:
    return await session.scalar(select(ProjectStatus.id).where(ProjectStatus.name == name))


def in_team(principal: Principal) -> Any:
    return exists().where(
        project_person_link.c.project_id == Project.id,
        project_person_link.c.person_id == principal.id,
    )


def scope_projects(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Admins see every project; everyone else the projects whose team they are in."""
    return stmt if principal.is_admin else stmt.where(in_team(principal))


async def is_in_team(session: AsyncSession, project_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    project_person_link.c.project_id == project_id,
                    project_person_link.c.person_id == person_id,
                )
            )
        )
    )


async def team_ids(session: AsyncSession, project_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    teams: dict[uuid.UUID, list[str]] = {pid: [] for pid in project_ids}
    if project_ids:
        rows = await session.execute(
            select(project_person_link.c.project_id, project_person_link.c.person_id)
            .where(project_person_link.c.project_id.in_(project_ids))
        )
        for project_id, person_id in rows:
            teams[project_id].append(str(person_id))
    return teams


async def serialize_with_relations(session: AsyncSession, projects: list[Project]) -> list[dict[str, Any]]:
    """Projects with their team and settings lists, as Zou's relations=true returns them."""
    teams = await team_ids(session, [p.id for p in projects])
    out = []
    for project in projects:
        row = project.serialize()
        row.update(
            team=teams[project.id], asset_types=[], task_statuses=[], task_types=[],
            status_automations=[], preview_background_files=[],
        )
        out.append(row)
    return out


async def open_projects(session: AsyncSession, principal: Principal, name: str | None = None) -> list[dict[str, Any]]:
    """Running projects the caller can see, with the extra data Kitsu's project list reads."""
    stmt = (
        select(Project)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .where(ProjectStatus.name == OPEN)
        .order_by(Project.name)
    )
    if name:
        stmt = stmt.where(Project.name.ilike(name))
    projects = list((await session.scalars(scope_projects(stmt, principal))).all())
    return await serialize_for_listing(session, projects)


async def serialize_for_listing(session: AsyncSession, projects: list[Project]) -> list[dict[str, Any]]:
    """Projects with relations and the settings Kitsu's project pages read (metadata
    descriptors, task type links and priorities, task status links)."""
    rows = await serialize_with_relations(session, projects)
    for row in rows:
        row.update(descriptors=[], task_type_links={}, task_types_priority={}, task_statuses_link={})
    return rows
