"""The caller's notifications and subscriptions, and their project-wide listings."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest, Forbidden
from slate_common.params import (
    Body,
    JsonObject,
    NotificationId,
    ProjectId,
    RequiredId,
    SequenceId,
    TaskId,
    TaskTypeId,
    documented_body,
    invalid_field,
    validate,
)
from slate_common.security import CurrentUser, Principal
from slate_common.serialization import json_response

from ..domain import access, subscriptions
from ..domain import notifications as rules

router = APIRouter(tags=["Notifications"])


class ReadIn(Body):
    """Read or unread (nothing given: the notification as it is)."""

    read: bool | None = None


class TaskIdsIn(Body):
    task_ids: list[RequiredId]


@router.get("/data/user/notifications", operation_id="get_user_notifications")
async def user_notifications(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """The caller's latest 100 notifications, newest first (filters: after, before, read,
    type, task_type_id, task_status_id, project_id, watching); older ones with before=."""
    return json_response(await rules.user_notifications(session, principal=principal, params=dict(request.query_params)))


@router.get("/data/user/notifications/{notification_id}", operation_id="get_user_notification")
async def user_notification(notification_id: NotificationId, principal: CurrentUser, session: SessionDep) -> Response:
    """One of the caller's notifications."""
    rows = await rules.user_notifications(session, principal=principal, params={}, notification_id=notification_id)
    if not rows:
        await rules.get_own(session, principal=principal, notification_id=notification_id)  # 404
    return json_response(rows[0])


@router.put("/data/user/notifications/{notification_id}", operation_id="update_user_notification",
            openapi_extra=documented_body(ReadIn))
async def update_user_notification(notification_id: NotificationId, body: JsonObject, principal: CurrentUser,
                                   session: SessionDep) -> Response:
    """Mark one of the caller's notifications read or unread."""
    if body.get("read") is not None and not isinstance(body["read"], bool):
        raise BadRequest("read must be a boolean")
    read = validate(ReadIn, body).read
    if read is None:
        notification = await rules.get_own(session, principal=principal, notification_id=notification_id)
        return json_response(notification.serialize())
    notification = await rules.set_read(session, principal=principal, notification_id=notification_id, read=read)
    return json_response(notification.serialize())


@router.post("/actions/user/notifications/mark-all-as-read", operation_id="mark_all_notifications_read")
async def mark_all_as_read(principal: CurrentUser, session: SessionDep) -> Response:
    """Mark every notification of the caller read."""
    await rules.mark_all_as_read(session, principal=principal)
    return json_response({"success": True})


async def _require_manager(session: SessionDep, principal: Principal, project_id: uuid.UUID) -> None:
    await access.check_project_access(session, principal=principal, project_id=project_id)
    if not await access.is_project_manager(session, principal=principal, project_id=project_id):
        raise Forbidden()


@router.get("/data/projects/{project_id}/notifications", operation_id="get_project_notifications")
async def project_notifications(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Every notification about a project's tasks (admins only, as Zou)."""
    await access.check_project_access(session, principal=principal, project_id=project_id)
    access.check_admin(principal)
    return json_response(await rules.project_notifications(session, project_id=project_id))


@router.get("/data/projects/{project_id}/subscriptions", operation_id="get_project_subscriptions")
async def project_subscriptions(project_id: ProjectId, principal: CurrentUser, session: SessionDep) -> Response:
    """Every subscription to a project's tasks (admins only, as Zou)."""
    await access.check_project_access(session, principal=principal, project_id=project_id)
    access.check_admin(principal)
    return json_response(await subscriptions.project_subscriptions(session, project_id=project_id))


# --- subscriptions -------------------------------------------------------------------------


@router.post("/actions/user/tasks/{task_id}/subscribe", operation_id="subscribe_task", status_code=201)
async def subscribe_task(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """Follow a task: its comments notify the caller."""
    sub = await subscriptions.subscribe_task(session, principal=principal, task_id=task_id)
    return json_response(sub.serialize(), status_code=201)


@router.delete("/actions/user/tasks/{task_id}/unsubscribe", operation_id="unsubscribe_task", status_code=204)
async def unsubscribe_task(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """Stop following a task."""
    await subscriptions.unsubscribe_task(session, principal=principal, task_id=task_id)
    return Response(status_code=204)


def _task_ids(body: dict[str, object]) -> list[uuid.UUID]:
    if not isinstance(body.get("task_ids"), list):  # Zou: "Field required" for a task_ids that is no list
        raise invalid_field("task_ids")
    return validate(TaskIdsIn, body).task_ids


@router.post("/actions/user/tasks/subscribe", operation_id="subscribe_tasks", status_code=201,
             openapi_extra=documented_body(TaskIdsIn))
async def subscribe_tasks(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Follow several tasks."""
    subs = [await subscriptions.subscribe_task(session, principal=principal, task_id=t) for t in _task_ids(body)]
    return json_response([s.serialize() for s in subs], status_code=201)


@router.post("/actions/user/tasks/unsubscribe", operation_id="unsubscribe_tasks", openapi_extra=documented_body(TaskIdsIn))
async def unsubscribe_tasks(body: JsonObject, principal: CurrentUser, session: SessionDep) -> Response:
    """Stop following several tasks; answers their ids."""
    ids = _task_ids(body)
    for task_id in ids:
        await subscriptions.unsubscribe_task(session, principal=principal, task_id=task_id)
    return json_response([str(i) for i in ids])


@router.get("/data/user/tasks/{task_id}/subscribed", operation_id="is_subscribed_task")
async def is_subscribed_task(task_id: TaskId, principal: CurrentUser, session: SessionDep) -> Response:
    """Whether the caller follows a task."""
    return json_response(await subscriptions.is_subscribed_task(session, principal=principal, task_id=task_id))


@router.post("/actions/user/sequences/{sequence_id}/task-types/{task_type_id}/subscribe",
             operation_id="subscribe_sequence", status_code=201)
async def subscribe_sequence(sequence_id: SequenceId, task_type_id: TaskTypeId, principal: CurrentUser,
                             session: SessionDep) -> Response:
    """Follow a task type within a sequence (every shot task of that type)."""
    sub = await subscriptions.subscribe_sequence(session, principal=principal, sequence_id=sequence_id,
                                                 task_type_id=task_type_id)
    return json_response(sub.serialize(), status_code=201)


@router.delete("/actions/user/sequences/{sequence_id}/task-types/{task_type_id}/unsubscribe",
               operation_id="unsubscribe_sequence", status_code=204)
async def unsubscribe_sequence(sequence_id: SequenceId, task_type_id: TaskTypeId, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Stop following a task type within a sequence."""
    await subscriptions.unsubscribe_sequence(session, principal=principal, sequence_id=sequence_id,
                                             task_type_id=task_type_id)
    return Response(status_code=204)


@router.get("/data/user/sequences/{sequence_id}/task-types/{task_type_id}/subscribed",
            operation_id="is_subscribed_sequence")
async def is_subscribed_sequence(sequence_id: SequenceId, task_type_id: TaskTypeId, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """Whether the caller follows a task type within a sequence."""
    return json_response(await subscriptions.is_subscribed_sequence(
        session, principal=principal, sequence_id=sequence_id, task_type_id=task_type_id))


@router.get("/data/user/entities/{sequence_id}/task-types/{task_type_id}/subscribed",
            operation_id="is_subscribed_entity")
async def is_subscribed_entity(sequence_id: SequenceId, task_type_id: TaskTypeId, principal: CurrentUser,
                               session: SessionDep) -> Response:
    """Whether the caller follows a task type within an entity (a sequence)."""
    return json_response(await subscriptions.is_subscribed_sequence(
        session, principal=principal, sequence_id=sequence_id, task_type_id=task_type_id))
