"""Project rules: statuses, team scope, and the extra fields of project listings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, String, bindparam, exists, select, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.db import CompiledRead, detached
from slate_common.events import emit
from slate_common.security import Principal
from slate_common.serialization import loads, now

from ..models import (
    Entity,
    EntityType,
    Project,
    ProjectStatus,
    ProjectTaskStatusLink,
    ProjectTaskTypeLink,
    project_asset_type_link,
    project_person_link,
)

OPEN, CLOSED = "Open", "Closed"


async def ensure_statuses(session: AsyncSession) -> None:
    """The two statuses Zou ships with, created once."""
    for name in (OPEN, CLOSED):
        await session.execute(
            insert(ProjectStatus).values(id=uuid.uuid4(), name=name, color="#000000",
                                         created_at=now(), updated_at=now())
            .on_conflict_do_nothing(index_elements=["name"])
        )


async def status_id(session: AsyncSession, *, name: str) -> uuid.UUID | None:
    return await session.scalar(select(ProjectStatus.id).where(ProjectStatus.name == name))


def in_team(principal: Principal) -> Any:
    return exists().where(
        project_person_link.c.project_id == Project.id,
        project_person_link.c.person_id == principal.id,
    )


#: A SELECT of projects, whatever its columns.
ProjectSelect = TypeVar("ProjectSelect", bound="Select[*tuple[Any, ...]]")


def scope_projects(stmt: ProjectSelect, *, principal: Principal) -> ProjectSelect:
    """Admins see every project; everyone else the projects whose team they are in."""
    return stmt if principal.is_admin else stmt.where(in_team(principal))


async def is_in_team(session: AsyncSession, *, project_id: uuid.UUID, person_id: uuid.UUID) -> bool:
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


async def team_ids(session: AsyncSession, *, project_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    teams: dict[uuid.UUID, list[str]] = {pid: [] for pid in project_ids}
    if project_ids:
        rows = await session.execute(
            select(project_person_link.c.project_id, project_person_link.c.person_id)
            .where(project_person_link.c.project_id.in_(project_ids))
        )
        for project_id, person_id in rows:
            teams[project_id].append(str(person_id))
    return teams


async def _links(session: AsyncSession, project_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Each project's settings: asset types, task type links, task status links."""
    out: dict[uuid.UUID, dict[str, Any]] = {
        pid: {"asset_types": [], "task_types": [], "task_statuses": []} for pid in project_ids
    }
    if not project_ids:
        return out
    rows = await session.execute(
        select(project_asset_type_link.c.project_id, project_asset_type_link.c.asset_type_id)
        .where(project_asset_type_link.c.project_id.in_(project_ids))
    )
    for project_id, asset_type_id in rows:
        out[project_id]["asset_types"].append(str(asset_type_id))
    for tt_link in await session.scalars(
        select(ProjectTaskTypeLink).where(ProjectTaskTypeLink.project_id.in_(project_ids))
        .order_by(ProjectTaskTypeLink.created_at)
    ):
        out[tt_link.project_id]["task_types"].append(tt_link)
    for ts_link in await session.scalars(
        select(ProjectTaskStatusLink).where(ProjectTaskStatusLink.project_id.in_(project_ids))
        .order_by(ProjectTaskStatusLink.created_at)
    ):
        out[ts_link.project_id]["task_statuses"].append(ts_link)
    return out


async def serialize_with_relations(
    session: AsyncSession, *, projects: list[Project], links: dict[uuid.UUID, dict[str, Any]] | None = None,
    teams: dict[uuid.UUID, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Projects with their team and settings lists, as Zou's relations=true returns them."""
    ids = [p.id for p in projects]
    if teams is None:
        teams = await team_ids(session, project_ids=ids)
    if links is None:
        links = await _links(session, ids)
    out = []
    for project in projects:
        row = project.serialize()
        row.pop("type")
        link = links[project.id]
        row.update(
            team=teams[project.id],
            asset_types=link["asset_types"],
            task_statuses=[str(x.task_status_id) for x in link["task_statuses"]],
            task_types=[str(x.task_type_id) for x in link["task_types"]],
            status_automations=[], preview_background_files=[], type="Project",
        )
        out.append(row)
    return out


@dataclass(frozen=True)
class TaskTypeLink:
    task_type_id: uuid.UUID
    priority: int | None
    hd_bitrate_compression: int | None
    ld_bitrate_compression: int | None
    is_client_visible: bool


@dataclass(frozen=True)
class TaskStatusLink:
    task_status_id: uuid.UUID
    priority: int | None
    roles_for_board: list[str] | None
    is_client_allowed: bool | None


#: What a project listing adds to each project, in one round trip: the lookups of
#: :func:`_links`, :func:`team_ids` and :func:`first_episode_ids`, each as it is written
#: there (same rows, same order), one after the other.
LISTING_RELATIONS = text("""
SELECT 'a', project_id, asset_type_id, NULL FROM project_asset_type_link WHERE project_id = ANY(:ids)
UNION ALL
(SELECT 'tt', project_id, task_type_id,
        json_build_array(priority, hd_bitrate_compression, ld_bitrate_compression, is_client_visible)::text
   FROM project_task_type_link WHERE project_id = ANY(:ids) ORDER BY created_at)
UNION ALL
(SELECT 'ts', project_id, task_status_id, json_build_array(priority, roles_for_board, is_client_allowed)::text
   FROM project_task_status_link WHERE project_id = ANY(:ids) ORDER BY created_at)
UNION ALL
SELECT 'p', project_id, person_id, NULL FROM project_person_link WHERE project_id = ANY(:ids)
UNION ALL
(SELECT DISTINCT ON (e.project_id) 'e', e.project_id, e.id, NULL
   FROM entity e JOIN entity_type et ON et.id = e.entity_type_id
  WHERE et.name = 'Episode' AND e.project_id = ANY(:tvshows) ORDER BY e.project_id, e.created_at, e.name)
""")


_LISTING_RELATIONS = CompiledRead(LISTING_RELATIONS)


async def listing_relations(
    session: AsyncSession, *, projects: list[Project],
) -> tuple[dict[uuid.UUID, dict[str, Any]], dict[uuid.UUID, list[str]], dict[uuid.UUID, str]]:
    """Each project's settings links, team and first episode (TV shows), in one query."""
    ids = [p.id for p in projects]
    links: dict[uuid.UUID, dict[str, Any]] = {pid: {"asset_types": [], "task_types": [], "task_statuses": []}
                                              for pid in ids}
    teams: dict[uuid.UUID, list[str]] = {pid: [] for pid in ids}
    episodes: dict[uuid.UUID, str] = {}
    if not ids:
        return links, teams, episodes
    tvshows = [p.id for p in projects if p.production_type == "tvshow"]
    for kind, project_id, other, extra in await _LISTING_RELATIONS.all(session, ids=ids, tvshows=tvshows):
        if kind == "a":
            links[project_id]["asset_types"].append(str(other))
        elif kind == "tt":
            links[project_id]["task_types"].append(TaskTypeLink(other, *loads(extra)))
        elif kind == "ts":
            links[project_id]["task_statuses"].append(TaskStatusLink(other, *loads(extra)))
        elif kind == "p":
            teams[project_id].append(str(other))
        else:
            episodes[project_id] = str(other)
    return links, teams, episodes


async def first_episode_ids(session: AsyncSession, *, project_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The first episode (by creation) of each TV show."""
    if not project_ids:
        return {}
    rows = await session.execute(
        select(Entity.project_id, Entity.id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(EntityType.name == "Episode", Entity.project_id.in_(project_ids))
        .order_by(Entity.project_id, Entity.created_at, Entity.name)
        .distinct(Entity.project_id)
    )
    return {pid: str(eid) for pid, eid in rows}


_PROJECT_COLUMNS = tuple(Project.__table__.columns)
#: The running projects, per (admin?, filtered by a ``name`` pattern?): an admin sees them
#: all, anyone else those whose team has their ``principal_id``. Built and compiled once.
_OPEN_READS: dict[tuple[bool, bool], CompiledRead] = {}


def _open_read(principal: Principal, *, named: bool) -> CompiledRead:
    key = (principal.is_admin, named)
    read = _OPEN_READS.get(key)
    if read is None:
        stmt = (select(*_PROJECT_COLUMNS).join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
                .where(ProjectStatus.name == OPEN).order_by(Project.name))
        if named:
            stmt = stmt.where(Project.name.ilike(bindparam("name", type_=String)))
        if not principal.is_admin:
            stmt = stmt.where(exists().where(
                project_person_link.c.project_id == Project.id,
                project_person_link.c.person_id == bindparam("principal_id", type_=PG_UUID(as_uuid=True))))
        read = _OPEN_READS[key] = CompiledRead(stmt)
    return read


async def open_projects(session: AsyncSession, *, principal: Principal, name: str | None = None) -> list[dict[str, Any]]:
    """Running projects the caller can see (``name``: those whose name matches it, case
    ignored, as ILIKE), with the extra data Kitsu's project list reads."""
    rows = await _open_read(principal, named=bool(name)).all(session, principal_id=principal.id, name=name)
    projects = [detached(Project, _PROJECT_COLUMNS, row) for row in rows]
    return await serialize_for_listing(session, projects=projects)


async def all_projects(session: AsyncSession, *, principal: Principal) -> list[dict[str, Any]]:
    """Every project the caller can see (Zou's /data/projects/all); admins' rows carry
    the status name and the metadata descriptors too, others' the row alone, as Zou."""
    stmt = (
        select(Project, ProjectStatus.name)
        .outerjoin(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .order_by(Project.name)
    )
    rows = (await session.execute(scope_projects(stmt, principal=principal))).all()
    out = []
    for project, status_name in rows:
        row = project.serialize()
        if principal.is_admin:
            row.update(project_status_name=status_name, descriptors=[])
        out.append(row)
    return out


async def serialize_for_listing(
    session: AsyncSession, *, projects: list[Project], with_status_name: bool = False
) -> list[dict[str, Any]]:
    """Projects with relations and the settings Kitsu's project pages read (metadata
    descriptors, task type links and priorities, task status links)."""
    ids = [p.id for p in projects]
    links, teams, episodes = await listing_relations(session, projects=projects)
    rows = await serialize_with_relations(session, projects=projects, links=links, teams=teams)
    statuses: dict[uuid.UUID, str] = {}
    if with_status_name and ids:
        statuses = {
            pid: name for pid, name in await session.execute(
                select(Project.id, ProjectStatus.name).join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
                .where(Project.id.in_(ids))
            )
        }
    for project, row in zip(projects, rows, strict=True):
        link = links[project.id]
        row.update(
            descriptors=[],
            task_type_links={
                str(x.task_type_id): {
                    "priority": x.priority, "hd_bitrate_compression": x.hd_bitrate_compression,
                    "ld_bitrate_compression": x.ld_bitrate_compression, "is_client_visible": x.is_client_visible,
                } for x in link["task_types"]
            },
            task_types_priority={str(x.task_type_id): x.priority for x in link["task_types"]},
            task_statuses_link={
                str(x.task_status_id): {
                    "priority": x.priority, "roles_for_board": x.roles_for_board,
                    "is_client_allowed": x.is_client_allowed,
                } for x in link["task_statuses"]
            },
        )
        if project.id in episodes:
            row["first_episode_id"] = episodes[project.id]
        if with_status_name:
            row["project_status_name"] = statuses.get(project.id)
    return rows


async def project_snapshot(session: AsyncSession, *, project: Project) -> dict[str, Any]:
    """A project as replicas see it in events: the row plus its ``team``."""
    row = project.serialize()
    row["team"] = (await team_ids(session, project_ids=[project.id]))[project.id]
    return row


async def emit_project_event(
    session: AsyncSession, *, verb: str, project: Project, actor_id: uuid.UUID | None
) -> None:
    emit(
        session,
        name=f"project:{verb}",
        data={"project_id": str(project.id), "snapshot": await project_snapshot(session, project=project)},
        project_id=project.id,
        actor_id=actor_id,
    )
