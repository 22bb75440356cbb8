"""Notifications as Zou writes them, and the person's notification list.

- ``comment``: to the task's assignees and subscribers (task, or task type of the shot's
  sequence), not the author; ``change`` says whether the status changed;
- ``mention``: to persons mentioned, and to team members of mentioned departments;
- ``reply``: to the comment's author, the assignees and subscribers, not the replier;
  ``reply-mention`` to persons mentioned in the reply;
- ``assignation``: to a person a task is assigned to (from ``task:assign``).

Each notification emits ``notification:new`` with ``{"notification_id", "person_id"}``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.errors import NotFound
from slate_common.events import emit
from slate_common.params import flag
from slate_common.params import optional_id as optional_uuid
from slate_common.security import Principal
from slate_common.serialization import now, serialize_value

from ..models import (
    Comment,
    Entity,
    EntityType,
    Notification,
    PreviewFileReplica,
    Project,
    Subscription,
    Task,
    comment_department_mention_link,
    comment_mention_link,
    department_person_link,
    project_person_link,
    task_person_link,
)
from .query_params import optional_date

# --- recipients ------------------------------------------------------------------------


async def assignee_ids(session: AsyncSession, *, task_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await session.scalars(select(task_person_link.c.person_id).where(task_person_link.c.task_id == task_id)))


async def subscriber_ids(session: AsyncSession, *, task: Task) -> dict[uuid.UUID, uuid.UUID]:
    """person id -> subscription id, for subscriptions to the task or to its task type
    in the sequence of its entity."""
    entity_parent = select(Entity.parent_id).where(Entity.id == task.entity_id).scalar_subquery()
    rows = await session.execute(
        select(Subscription.person_id, Subscription.id).where(
            (Subscription.task_id == task.id)
            | and_(Subscription.entity_id == entity_parent, Subscription.task_type_id == task.task_type_id)
        ).order_by(Subscription.created_at)
    )
    out: dict[uuid.UUID, uuid.UUID] = {}
    for person_id, sub_id in rows:
        out.setdefault(person_id, sub_id)
    return out


async def team_members_of(session: AsyncSession, *, project_id: uuid.UUID, department_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if not department_ids:
        return []
    rows = await session.scalars(
        select(department_person_link.c.person_id)
        .join(project_person_link, project_person_link.c.person_id == department_person_link.c.person_id)
        .where(department_person_link.c.department_id.in_(department_ids),
               project_person_link.c.project_id == project_id)
    )
    return list(dict.fromkeys(rows))


def _notify(session: AsyncSession, *, person_id: uuid.UUID, author_id: uuid.UUID, kind: str, task: Task,
            comment: Comment | None = None, change: bool = False, reply_id: Any = None) -> Notification:
    stamp = now()
    notification = Notification(
        id=uuid.uuid4(), person_id=person_id, author_id=author_id, notification_type=kind, task_id=task.id,
        comment_id=comment.id if comment else None, change=change, read=False,
        reply_id=uuid.UUID(str(reply_id)) if reply_id else None, created_at=stamp, updated_at=stamp,
    )
    session.add(notification)
    emit(session, name="notification:new", data={"notification_id": str(notification.id), "person_id": str(person_id)},
         project_id=task.project_id, actor_id=author_id)
    return notification


async def notify_comment(session: AsyncSession, *, comment: Comment, task: Task, change: bool,
                         mentions: list[uuid.UUID], department_mentions: list[uuid.UUID],
                         assignees: list[uuid.UUID] | None = None) -> None:
    """Notify the task's assignees (``assignees`` when the caller has just read them) and
    subscribers, then the mentioned persons and departments."""
    author = comment.person_id
    subscribers = await subscriber_ids(session, task=task)
    if assignees is None:
        assignees = await assignee_ids(session, task_id=task.id)
    recipients = list(dict.fromkeys([*assignees, *subscribers]))
    for person_id in recipients:
        if person_id != author:
            _notify(session, person_id=person_id, author_id=author, kind="comment", task=task, comment=comment,
                    change=change)
    await notify_mentions(session, comment=comment, task=task, persons=mentions,
                          department_mentions=department_mentions)
    await session.flush()


async def notify_mentions(session: AsyncSession, *, comment: Comment, task: Task, persons: list[uuid.UUID],
                          department_mentions: list[uuid.UUID]) -> None:
    members = await team_members_of(session, project_id=task.project_id, department_ids=department_mentions)
    for person_id in dict.fromkeys([*persons, *members]):
        if person_id != comment.person_id:
            _notify(session, person_id=person_id, author_id=comment.person_id, kind="mention", task=task,
                    comment=comment)
    await session.flush()


async def notify_reply(session: AsyncSession, *, comment: Comment, task: Task, reply: dict[str, Any],
                       author_id: uuid.UUID, mentions: list[uuid.UUID], department_mentions: list[uuid.UUID]) -> None:
    subscribers = await subscriber_ids(session, task=task)
    recipients = dict.fromkeys([comment.person_id, *await assignee_ids(session, task_id=task.id), *subscribers])
    for person_id in recipients:
        if person_id != author_id:
            _notify(session, person_id=person_id, author_id=author_id, kind="reply", task=task, comment=comment,
                    reply_id=reply["id"])
    members = await team_members_of(session, project_id=task.project_id, department_ids=department_mentions)
    for person_id in dict.fromkeys([*mentions, *members]):
        if person_id != author_id:
            _notify(session, person_id=person_id, author_id=author_id, kind="reply-mention", task=task,
                    comment=comment, reply_id=reply["id"])
    await session.flush()


async def notify_assignation(session: AsyncSession, *, task: Task, person_id: uuid.UUID,
                             author_id: uuid.UUID | None) -> Notification:
    notification = _notify(session, person_id=person_id, author_id=author_id or person_id, kind="assignation",
                           task=task)
    await session.flush()
    return notification


# --- the person's list --------------------------------------------------------------------


def _bool(value: str | None) -> bool | None:
    """A filter flag: None (no filter) when absent or empty, else Zou's reading of it."""
    return None if not value else flag(value)


async def user_notifications(session: AsyncSession, *, principal: Principal, params: dict[str, str], notification_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The caller's notifications, newest first, with what Kitsu's notification page
    shows (comment and reply texts, mentions, entity name, project), in one query plus
    one per kind of link."""
    entity_type = aliased(EntityType)
    parent = aliased(Entity)
    grandparent = aliased(Entity)
    parent_type = aliased(EntityType)
    stmt = (
        select(Notification, Comment, Task.task_type_id, Project.id, Project.name, Entity, entity_type.name,
               parent.name, parent.id, grandparent.name, grandparent.id, parent_type.name)
        .outerjoin(Comment, Comment.id == Notification.comment_id)
        .outerjoin(Task, Task.id == Notification.task_id)
        .outerjoin(Project, Project.id == Task.project_id)
        .outerjoin(Entity, Entity.id == Task.entity_id)
        .outerjoin(entity_type, entity_type.id == Entity.entity_type_id)
        .outerjoin(parent, parent.id == Entity.parent_id)
        .outerjoin(parent_type, parent_type.id == parent.entity_type_id)
        .outerjoin(grandparent, grandparent.id == parent.parent_id)
        .where(Notification.person_id == principal.id)
        .order_by(Notification.created_at.desc(), Notification.id)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    else:
        if (after := optional_date(params.get("after"))) is not None:
            stmt = stmt.where(Notification.created_at > after)
        if (before := optional_date(params.get("before"))) is not None:
            stmt = stmt.where(Notification.created_at < before)
        if (read := _bool(params.get("read"))) is not None:
            stmt = stmt.where(Notification.read.is_(read))
        if (kind := params.get("type")):
            stmt = stmt.where(Notification.notification_type == kind)
        if (tt := optional_uuid(params.get("task_type_id"))) is not None:
            stmt = stmt.where(Task.task_type_id == tt)
        if (ts := optional_uuid(params.get("task_status_id"))) is not None:
            stmt = stmt.where(Comment.task_status_id == ts)
        if (pid := optional_uuid(params.get("project_id"))) is not None:
            stmt = stmt.where(Task.project_id == pid)
        if (watching := _bool(params.get("watching"))) is not None:
            # notifications about the tasks the caller follows (or, false, the others)
            followed = exists().where(Subscription.person_id == principal.id,
                                      Subscription.task_id == Notification.task_id)
            stmt = stmt.where(followed if watching else ~followed)
        stmt = stmt.limit(100)
    rows = (await session.execute(stmt)).all()
    comment_ids = list({r[1].id for r in rows if r[1] is not None})
    mentions: dict[uuid.UUID, list[str]] = defaultdict(list)
    dept_mentions: dict[uuid.UUID, list[str]] = defaultdict(list)
    previews: dict[uuid.UUID, str] = {}
    if comment_ids:
        for cid, pid in await session.execute(select(comment_mention_link.c.comment_id, comment_mention_link.c.person_id)
                                              .where(comment_mention_link.c.comment_id.in_(comment_ids))):
            mentions[cid].append(str(pid))
        link = comment_department_mention_link
        for cid, did in await session.execute(select(link.c.comment_id, link.c.department_id)
                                              .where(link.c.comment_id.in_(comment_ids))):
            dept_mentions[cid].append(str(did))
        for cid, pfid in await session.execute(
            select(PreviewFileReplica.comment_id, PreviewFileReplica.id)
            .where(PreviewFileReplica.comment_id.in_(comment_ids))
            .order_by(PreviewFileReplica.revision.desc(), PreviewFileReplica.position)
        ):
            if cid is not None:
                previews.setdefault(cid, str(pfid))
    subscriptions = await _subscriptions_by_task(session, principal.id, [r[0].task_id for r in rows if r[0].task_id])
    out = []
    for (n, comment, task_type_id, project_id, project_name, entity, type_name, parent_name, parent_id,
         grand_name, grand_id, parent_type_name) in rows:
        reply = None
        if comment is not None and n.reply_id is not None:
            reply = next((r for r in comment.replies or [] if str(r.get("id")) == str(n.reply_id)), None)
        name, episode_id = _full_entity_name(entity, type_name, parent_name, parent_id, grand_name, grand_id,
                                              parent_type_name)
        out.append({
            "id": str(n.id), "type": "Notification", "notification_type": n.notification_type,
            "author_id": str(n.author_id), "comment_id": serialize_value(n.comment_id),
            "task_id": serialize_value(n.task_id), "task_type_id": serialize_value(task_type_id),
            "task_status_id": serialize_value(comment.task_status_id) if comment else None,
            "mentions": mentions.get(comment.id, []) if comment else [],
            "department_mentions": dept_mentions.get(comment.id, []) if comment else [],
            "reply_mentions": list(reply.get("mentions", [])) if reply else [],
            "reply_department_mentions": list(reply.get("department_mentions", [])) if reply else [],
            "preview_file_id": previews.get(comment.id) if comment else None,
            "project_id": serialize_value(project_id), "project_name": project_name,
            "comment_text": comment.text if comment else None,
            "reply_text": reply.get("text", "") if reply else "",
            "created_at": serialize_value(n.created_at), "read": n.read, "change": n.change,
            "full_entity_name": name, "episode_id": episode_id,
            "entity_preview_file_id": serialize_value(entity.preview_file_id) if entity else None,
            "subscription_id": (serialize_value(subscriptions.get(n.task_id))
                                if n.notification_type in ("comment", "reply") and n.task_id else None),
            "playlist_id": serialize_value(n.playlist_id), "playlist_name": "", "playlist_for_entity": "",
            "playlist_is_for_all": False,
        })
    return out


async def _subscriptions_by_task(session: AsyncSession, person_id: uuid.UUID,
                                 task_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    if not task_ids:
        return {}
    rows = await session.execute(select(Subscription.task_id, Subscription.id).where(
        Subscription.person_id == person_id, Subscription.task_id.in_(set(task_ids))))
    return {tid: sid for tid, sid in rows if tid is not None}


def _full_entity_name(entity: Entity | None, type_name: str | None, parent_name: str | None,
                      parent_id: Any, grand_name: str | None, grand_id: Any,
                      parent_type_name: str | None) -> tuple[str, str | None]:
    """Kitsu's label of a task's entity: ``Type / Asset``, ``[Episode /] Sequence /
    Shot``; and the episode id when there is one."""
    if entity is None:
        return "", None
    if type_name in ("Shot", "Scene"):
        parts = [p for p in (grand_name, parent_name, entity.name) if p]
        return " / ".join(parts), serialize_value(grand_id)
    if type_name == "Sequence":
        parts = [p for p in (parent_name, entity.name) if p]
        return " / ".join(parts), serialize_value(parent_id)
    if type_name in ("Episode", "Edit", "Concept"):
        return entity.name, None
    return f"{type_name} / {entity.name}", None


async def get_own(session: AsyncSession, *, principal: Principal, notification_id: uuid.UUID) -> Notification:
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.person_id != principal.id:
        raise NotFound()
    return notification


async def set_read(session: AsyncSession, *, principal: Principal, notification_id: uuid.UUID,
                   read: bool) -> Notification:
    notification = await get_own(session, principal=principal, notification_id=notification_id)
    notification.read = read
    notification.updated_at = now()
    await session.flush()
    return notification


async def mark_all_as_read(session: AsyncSession, *, principal: Principal) -> int:
    result = await session.execute(
        update(Notification).where(Notification.person_id == principal.id, Notification.read.is_(False))
        .values(read=True, updated_at=now())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def project_notifications(session: AsyncSession, *, project_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every notification about a project's tasks, newest first."""
    rows = await session.scalars(select(Notification).join(Task, Task.id == Notification.task_id)
                                 .where(Task.project_id == project_id).order_by(Notification.created_at.desc()))
    return [n.serialize() for n in rows]
