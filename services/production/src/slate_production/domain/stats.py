"""Production statistics: retakes per episode and task type, and the burndown of open
tasks. Each is one aggregate query; Python only shapes the answer."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.errors import BadRequest
from slate_common.params import optional_id
from slate_common.security import Principal

from ..models import Entity, EntityType, Person, Project, ProjectStatus, Task, TaskStatus, TaskType, task_person_link
from . import access
from .task_queries import assigned_to_person

# --- retake stats ------------------------------------------------------------------------

STATES = ("done", "retake", "other")


def _counter() -> dict[str, int]:
    return {"count": 0, "frames": 0, "drawings": 0}


def _group() -> dict[str, Any]:
    return {"max_retake_count": 0, "evolution": {}, **{state: _counter() for state in STATES}}


def _add(counter: dict[str, int], frames: int, drawings: int) -> None:
    counter["count"] += 1
    counter["frames"] += frames
    counter["drawings"] += drawings


@dataclass(frozen=True)
class _ShotTask:
    episode_id: str
    task_type_id: str
    retake_count: int
    state: str
    frames: int
    drawings: int


async def episode_retake_stats(session: AsyncSession, *, principal: Principal,
                               project_id: uuid.UUID) -> dict[str, Any]:
    """Per episode and task type (and ``all`` of each), the shot tasks done, in retake
    and other now, with their frames and drawings, the highest retake count, and for
    each retake round ``n`` of an episode: tasks retaken at least ``n`` times, else
    done, else other. Vendors count only the tasks assigned to them."""
    sequence = aliased(Entity)
    stmt = (
        select(sequence.parent_id, Task.task_type_id, Task.retake_count, TaskStatus.is_done, TaskStatus.is_retake,
               func.coalesce(Entity.nb_frames, 0), Task.nb_drawings)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .join(Entity, Entity.id == Task.entity_id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .join(sequence, sequence.id == Entity.parent_id)
        .join(TaskType, TaskType.id == Task.task_type_id)
        .where(Task.project_id == project_id, EntityType.name == "Shot", sequence.parent_id.is_not(None))
        .order_by(sequence.parent_id, TaskType.priority, TaskType.name)
    )
    if principal.is_vendor:
        stmt = stmt.where(access.assigned_to(principal, task_id_col=Task.id))
    tasks = [
        _ShotTask(str(episode_id), str(tt), retake_count or 0,
                  "done" if is_done else "retake" if is_retake else "other", frames or 0, drawings or 0)
        for episode_id, tt, retake_count, is_done, is_retake, frames, drawings in await session.execute(stmt)
    ]
    out: dict[str, Any] = {"all": {"all": _group()}}
    members: dict[tuple[str, str], list[_ShotTask]] = {}
    for task in tasks:
        episode = out.setdefault(task.episode_id, {"all": _group()})
        for scope, key in ((episode, "all"), (episode, task.task_type_id), (out["all"], "all"),
                           (out["all"], task.task_type_id)):
            group = scope.setdefault(key, _group())
            _add(group[task.state], task.frames, task.drawings)
            group["max_retake_count"] = max(group["max_retake_count"], task.retake_count)
        for key in ("all", task.task_type_id):
            members.setdefault((task.episode_id, key), []).append(task)
    for (episode_id, key), group_tasks in members.items():
        group = out[episode_id][key]
        for round_ in range(1, group["max_retake_count"] + 1):
            step = {state: _counter() for state in STATES}
            for task in group_tasks:
                state = "retake" if task.retake_count >= round_ else "done" if task.state == "done" else "other"
                _add(step[state], task.frames, task.drawings)
            group["evolution"][str(round_)] = step
    return out


# --- burndown of open tasks ---------------------------------------------------------------

DATE_ERROR = "Wrong date format for before argument.Expected format: 2020-01-05T13:23:10 or 2020-01-05"


def _uuid_param(params: dict[str, str], key: str) -> uuid.UUID | None:
    return optional_id(params.get(key), "Wrong UUID format.")


def _date_param(params: dict[str, str], key: str) -> dt.datetime | None:
    value = params.get(key)
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(DATE_ERROR, data=None) from exc


def burndown_filters(principal: Principal, *, params: dict[str, str]) -> list[ColumnElement[bool]]:
    """The open tasks' filters (project, status, type, assignee, studio, department,
    start after, due before, priority), inside the caller's scope."""
    conditions: list[ColumnElement[bool]] = [ProjectStatus.name == "Open",
                                             access.project_visible(principal, project_col=Task.project_id)]
    if principal.is_vendor:
        conditions.append(assigned_to_person(principal.id))
    for key, column in (("project_id", Task.project_id), ("task_status_id", Task.task_status_id),
                        ("task_type_id", Task.task_type_id)):
        if (value := _uuid_param(params, key)) is not None:
            conditions.append(column == value)
    if (person_id := _uuid_param(params, "person_id")) is not None:
        conditions.append(assigned_to_person(person_id))
    if (studio_id := _uuid_param(params, "studio_id")) is not None:
        conditions.append(Task.id.in_(
            select(task_person_link.c.task_id).join(Person, Person.id == task_person_link.c.person_id)
            .where(Person.studio_id == studio_id)))
    if (department_id := _uuid_param(params, "department_id")) is not None:
        conditions.append(Task.task_type_id.in_(select(TaskType.id).where(TaskType.department_id == department_id)))
    if (start := _date_param(params, "start_date")) is not None:
        conditions.append(Task.start_date >= start)
    if (due := _date_param(params, "due_date")) is not None:
        conditions.append(Task.due_date <= due)
    if params.get("priority"):
        try:
            conditions.append(Task.priority == int(params["priority"]))
        except ValueError as exc:
            raise BadRequest("Wrong value for parameter priority.", data=None) from exc
    return conditions


def _amount(value: Any) -> float | int:
    """Zou answers 0 when nothing is estimated, else a float."""
    return float(value) if value else 0


def _day(value: dt.datetime | dt.date | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value is not None else None


async def open_tasks_burndown(session: AsyncSession, *, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    """Total and estimation of the matching tasks, their schedule bounds (first start and
    last due date, widened by the days tasks were done; the projects' dates when the
    tasks have none), and the tasks done per day."""
    conditions = burndown_filters(principal, params=params)
    base = (
        select(Task.id).join(Project, Project.id == Task.project_id)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .where(*conditions)
    ).subquery()
    done_day = func.date(Task.done_date)
    totals = (await session.execute(
        select(func.count(Task.id), func.sum(Task.estimation), func.min(Task.start_date), func.max(Task.due_date),
               func.min(Project.start_date), func.max(Project.end_date))
        .join(Project, Project.id == Task.project_id)
        .where(Task.id.in_(select(base.c.id)))
    )).one()
    days = (await session.execute(
        select(done_day, func.count(Task.id), func.sum(Task.estimation))
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .where(Task.id.in_(select(base.c.id)), TaskStatus.is_done.is_(True), Task.done_date.is_not(None))
        .group_by(done_day).order_by(done_day)
    )).all()
    total, estimation, first_start, last_due, project_start, project_end = totals
    starts = [d for d in (first_start.date() if first_start else None, days[0][0] if days else None) if d]
    ends = [d for d in (last_due.date() if last_due else None, days[-1][0] if days else None) if d]
    start = min(starts) if starts else (project_start if total else None)
    end = max(ends) if ends else (project_end if total else None)
    return {
        "total": total,
        "total_estimation": _amount(estimation),
        "start_date": _day(start),
        "end_date": _day(end),
        "done_by_day": [{"date": _day(day), "done": count, "done_estimation": _amount(est)}
                        for day, count, est in days],
    }


__all__ = ["episode_retake_stats", "open_tasks_burndown"]
