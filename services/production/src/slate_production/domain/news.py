"""The news feed: one entry per comment, listed per project, across the caller's open
projects, or per entity, with Zou's envelope (page, limit 50, ``stats`` per status)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import Select, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.params import Page, page_envelope
from slate_common.params import optional_id as optional_uuid
from slate_common.security import Principal
from slate_common.serialization import serialize_value

from ..models import (
    Comment,
    Entity,
    EntityType,
    News,
    Person,
    PreviewFileReplica,
    Project,
    ProjectStatus,
    Task,
    project_person_link,
)
from . import access
from .comment_queries import person_brief
from .notifications import _full_entity_name
from .projects import OPEN
from .query_params import optional_date


def _check_role(principal: Principal) -> None:
    if principal.is_client or principal.is_vendor:
        raise Forbidden()


def _int(value: str | None, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return max(int(value), 1)
    except ValueError as exc:
        raise BadRequest("page and limit must be integers") from exc


def _preview() -> Any:
    return (
        select(PreviewFileReplica.id, PreviewFileReplica.extension, PreviewFileReplica.revision)
        .where(PreviewFileReplica.comment_id == News.comment_id)
        .order_by(PreviewFileReplica.revision.desc(), PreviewFileReplica.position)
        .limit(1).correlate(News).lateral("preview")
    )


def _filtered(stmt: Select[*tuple[Any, ...]], params: dict[str, str], preview: Any) -> Select[*tuple[Any, ...]]:
    if (status := optional_uuid(params.get("task_status_id"))) is not None:
        stmt = stmt.where(Comment.task_status_id == status)
    if (person := optional_uuid(params.get("person_id"))) is not None:
        stmt = stmt.where(News.author_id == person)
    if (task_type := optional_uuid(params.get("task_type_id"))) is not None:
        stmt = stmt.where(Task.task_type_id == task_type)
    if (before := optional_date(params.get("before"))) is not None:
        stmt = stmt.where(News.created_at < before)
    if (after := optional_date(params.get("after"))) is not None:
        stmt = stmt.where(News.created_at > after)
    if str(params.get("only_preview", "")).lower() in ("true", "1"):
        stmt = stmt.where(preview.c.id.is_not(None))
    return stmt


async def list_news(session: AsyncSession, *, principal: Principal, params: dict[str, str],
                    project_id: uuid.UUID | None = None, entity_id: uuid.UUID | None = None,
                    news_id: uuid.UUID | None = None) -> Any:
    _check_role(principal)
    preview = _preview()
    entity_type, parent, grandparent = aliased(EntityType), aliased(Entity), aliased(Entity)
    stmt: Select[*tuple[Any, ...]] = (
        select(News, Comment.task_status_id, Task.task_type_id, Task.entity_id, Project.id, Project.name, Entity,
               entity_type.name, parent.name, parent.id, grandparent.name, grandparent.id, preview.c.id,
               preview.c.extension, preview.c.revision)
        .join(Task, Task.id == News.task_id)
        .outerjoin(Comment, Comment.id == News.comment_id)
        .join(Project, Project.id == Task.project_id)
        .join(Entity, Entity.id == Task.entity_id)
        .join(entity_type, entity_type.id == Entity.entity_type_id)
        .outerjoin(parent, parent.id == Entity.parent_id)
        .outerjoin(grandparent, grandparent.id == parent.parent_id)
        .outerjoin(preview, true())
    )
    if not principal.is_admin:
        stmt = stmt.where(exists().where(project_person_link.c.project_id == Project.id,
                                         project_person_link.c.person_id == principal.id))
    if project_id is not None:
        stmt = stmt.where(Project.id == project_id)
    elif entity_id is None and news_id is None:
        stmt = stmt.join(ProjectStatus, ProjectStatus.id == Project.project_status_id).where(ProjectStatus.name == OPEN)
    if entity_id is not None:
        stmt = stmt.where(Task.entity_id == entity_id)
    if news_id is not None:
        stmt = stmt.where(News.id == news_id)
    stmt = _filtered(stmt, params, preview)
    counted = (await session.execute(stmt.with_only_columns(Comment.task_status_id, News.change))).all()
    # Zou's stats count the news that changed a task's status, by the status they set
    stats = Counter(str(status) for status, change in counted if status is not None and change)
    total = len(counted)
    page, limit = _int(params.get("page"), 1), _int(params.get("limit"), 50)
    stmt = stmt.order_by(News.created_at.desc(), News.id)
    if news_id is None:
        stmt = stmt.offset((page - 1) * limit).limit(limit)
    rows = (await session.execute(stmt)).all()
    authors = {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_({r[0].author_id for r in rows})))} if rows else {}
    data = []
    for (news, status_id, task_type_id, entity_id_, pid, pname, entity, type_name, parent_name, parent_id,
         grand_name, grand_id, pf_id, pf_ext, pf_rev) in rows:
        name, episode_id = _full_entity_name(entity, type_name, parent_name, parent_id, grand_name, grand_id, None)
        data.append({
            "id": str(news.id), "type": "News", "author_id": str(news.author_id),
            "comment_id": serialize_value(news.comment_id), "task_id": str(news.task_id),
            "task_type_id": str(task_type_id), "task_status_id": serialize_value(status_id),
            "task_entity_id": str(entity_id_), "preview_file_id": serialize_value(pf_id),
            "preview_file_extension": pf_ext, "preview_file_revision": pf_rev, "project_id": str(pid),
            "project_name": pname, "created_at": serialize_value(news.created_at), "change": news.change,
            "full_entity_name": name, "episode_id": episode_id,
            "entity_preview_file_id": serialize_value(entity.preview_file_id),
            "person": person_brief(authors.get(news.author_id), person_id=news.author_id),
        })
    if news_id is not None:
        if not data:
            raise NotFound()
        return data[0]
    if entity_id is not None:  # an entity's news come without stats in Zou
        return page_envelope(data, total, Page(page, limit))
    return page_envelope(data, total, Page(page, limit), stats=dict(stats))


async def news_of_entity(session: AsyncSession, *, principal: Principal, params: dict[str, str],
                         entity_id: uuid.UUID) -> Any:
    """The news of an entity's tasks (404 for an unknown entity; its project's team only)."""
    entity = await session.get(Entity, entity_id)
    if entity is None:
        raise NotFound()
    await access.check_project_access(session, principal=principal, project_id=entity.project_id)
    return await list_news(session, principal=principal, params=params, entity_id=entity_id)
