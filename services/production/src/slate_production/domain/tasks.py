"""Task rules: serialization with assignees, events, and the status change with Zou's
side effects (the heart of the comment flow).

Status change, as the oracle shows it (a change to the same status does nothing):

- to a WIP status: ``real_start_date`` is set when the task has none;
- to a feedback-request status: ``end_date`` becomes now;
- to a done status: ``done_date`` becomes now (``end_date`` is kept);
- to any other status: ``end_date`` and ``done_date`` are cleared (a WIP status too);
- to a retake status from a non-retake one: ``retake_count`` grows by one;
- then ``task:status-changed`` is emitted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, NotFound
from slate_common.events import emit
from slate_common.serialization import now as utcnow

from ..models import Task, TaskStatus, task_person_link


async def assignees_of(session: AsyncSession, *, task_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Assignee person ids (strings) per task, in one query."""
    out: dict[uuid.UUID, list[str]] = {tid: [] for tid in task_ids}
    if task_ids:
        rows = await session.execute(
            select(task_person_link.c.task_id, task_person_link.c.person_id)
            .where(task_person_link.c.task_id.in_(task_ids))
            .order_by(task_person_link.c.person_id)
        )
        for task_id, person_id in rows:
            out[task_id].append(str(person_id))
    return out


#: What Zou's task lists tell clients in place of the values: not who assigned the
#: task, nor its effort, difficulty and last comment (its single entity views do not
#: hide them).
CLIENT_HIDDEN: dict[str, Any] = {"difficulty": None, "duration": 0, "estimation": 0, "last_comment_date": None,
                                 "assigner_id": None}


def client_view(row: dict[str, Any]) -> dict[str, Any]:
    """A task row as Zou's task lists give it to a client (:data:`CLIENT_HIDDEN`)."""
    return {key: CLIENT_HIDDEN[key] if key in CLIENT_HIDDEN else value for key, value in row.items()}


def serialize_task(task: Task, *, assignees: list[str]) -> dict[str, Any]:
    """Zou's task row: the columns, then ``assignees``."""
    row = task.serialize()
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "id":
            out["assignees"] = assignees
        out[key] = value
    return out


async def task_snapshot(session: AsyncSession, *, task: Task, assignees: list[str] | None = None) -> dict[str, Any]:
    """The task's row; ``assignees`` (person ids) when the caller has just read them."""
    if assignees is None:
        assignees = (await assignees_of(session, task_ids=[task.id]))[task.id]
    return serialize_task(task, assignees=assignees)


#: The snapshot fields a status change may write (:func:`change_status`,
#: ``comment_commands.reset_task_from_history``), and the comment flows' last comment date.
STATUS_FIELDS = frozenset({"task_status_id", "retake_count", "real_start_date", "end_date", "done_date", "updated_at"})
COMMENT_FIELDS = frozenset({"last_comment_date", "updated_at"})
#: What a comment flow may change on its task: the last comment date and its status's effects.
COMMENTED_FIELDS = STATUS_FIELDS | COMMENT_FIELDS


async def emit_task_event(
    session: AsyncSession, *, name: str, task: Task, actor_id: uuid.UUID | None,
    assignees: list[str] | None = None, changed: Iterable[str] | None = None, **extra: Any
) -> None:
    """``task:<verb>`` with Zou's ``task_id``, the task's snapshot, and ``extra`` keys.
    ``changed``: every snapshot field the write may have changed, when the caller knows
    them (``Slate-Changed``: a replica keeping none of them skips the event and the
    writer does not wait for it); None: unknown."""
    emit(
        session,
        name=name,
        data={"task_id": str(task.id), "snapshot": await task_snapshot(session, task=task, assignees=assignees), **extra},
        project_id=task.project_id,
        actor_id=actor_id,
        changed=changed,
    )


async def get_task(session: AsyncSession, *, task_id: uuid.UUID, for_update: bool = False) -> Task:
    stmt = select(Task).where(Task.id == task_id)
    if for_update:
        stmt = stmt.with_for_update()
    task = (await session.scalars(stmt)).first()
    if task is None:
        raise NotFound()
    return task


async def get_status(session: AsyncSession, *, task_status_id: uuid.UUID) -> TaskStatus:
    status = await session.get(TaskStatus, task_status_id)
    if status is None:
        raise BadRequest("Task status not found")
    return status


async def default_status_id(session: AsyncSession) -> uuid.UUID:
    """The status new tasks start in (Zou's ``is_default`` one, else ``todo``)."""
    found = await session.scalar(
        select(TaskStatus.id).where(TaskStatus.is_default.is_(True), TaskStatus.for_concept.is_(False))
        .order_by(TaskStatus.created_at).limit(1)
    )
    if found is None:
        found = await session.scalar(select(TaskStatus.id).where(TaskStatus.short_name == "todo"))
    if found is None:
        raise BadRequest("No default task status")
    return found


@dataclass
class StatusChange:
    task: Task
    previous: TaskStatus
    new: TaskStatus

    @property
    def changed(self) -> bool:
        return self.previous.id != self.new.id


async def change_status(
    session: AsyncSession,
    *,
    task: Task,
    task_status_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    when: dt.datetime | None = None,
    assignees: list[str] | None = None,
    changed_before: frozenset[str] | None = None,
) -> StatusChange:
    """Move ``task`` to ``task_status_id`` with Zou's side effects (module docstring) and
    emit ``task:status-changed`` (data: task_id, snapshot, previous/new status ids,
    person_id). Emits nothing else: the caller, who may change more fields (the comment
    flow sets ``last_comment_date``), emits one ``task:update`` afterwards with
    :func:`emit_task_event`. ``changed_before``: the snapshot fields the caller changed
    before (the event names them with the status's; None: unknown, none named).
    Never commits."""
    previous = await get_status(session, task_status_id=task.task_status_id)
    new = previous if task_status_id == previous.id else await get_status(session, task_status_id=task_status_id)
    change = StatusChange(task=task, previous=previous, new=new)
    if not change.changed:
        return change
    stamp = when or utcnow()
    if new.is_retake and not previous.is_retake:
        task.retake_count = (task.retake_count or 0) + 1
    if new.is_wip and task.real_start_date is None:
        task.real_start_date = stamp
    if new.is_feedback_request:
        task.end_date = stamp
        task.done_date = None
    elif new.is_done:
        task.done_date = stamp
    else:
        task.end_date = None
        task.done_date = None
    task.task_status_id = new.id
    await session.flush()
    await emit_task_event(
        session, name="task:status-changed", task=task, actor_id=actor_id, assignees=assignees,
        changed=None if changed_before is None else STATUS_FIELDS | changed_before,
        previous_task_status_id=str(previous.id), new_task_status_id=str(new.id),
        person_id=str(actor_id) if actor_id else None,
    )
    return change
