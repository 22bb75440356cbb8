"""Person actions and logs: department membership, department members, login logs,
desktop login logs, and the desktop app login flow."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import Forbidden
from slate_common.security import AdminUser, CurrentUser
from slate_common.serialization import json_response

from ..domain import app_login, logs
from ..domain.departments import add_to_department, department_members, remove_from_department
from ..domain.identity import MINIMAL_PERSON_FIELDS, get_person, serialize_persons
from .deps import DepartmentId, PersonId, Settings

router = APIRouter()


class DepartmentBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    department_id: uuid.UUID


class DesktopLogBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    date: str


class OptionalDesktopLogBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    date: str | None = None


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code_challenge: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str
    code_verifier: Annotated[str, Field(pattern=r"^[A-Za-z0-9._~-]{43,128}$")]


@router.post("/actions/persons/{person_id}/departments/add", tags=["Persons"])
async def add_department(person_id: PersonId, body: DepartmentBody, principal: AdminUser,
                         session: SessionDep) -> Response:
    """Add a person to a department; returns the person."""
    person = await get_person(session, person_id=person_id, lock=True)
    await add_to_department(session, person=person, department_id=body.department_id, actor_id=principal.id)
    return json_response((await serialize_persons(session, persons=[person]))[0], status_code=201)


@router.delete("/actions/persons/{person_id}/departments/{department_id}", tags=["Persons"])
async def remove_department(person_id: PersonId, department_id: DepartmentId, principal: AdminUser,
                            session: SessionDep) -> Response:
    """Remove a person from a department."""
    person = await get_person(session, person_id=person_id, lock=True)
    await remove_from_department(session, person=person, department_id=department_id, actor_id=principal.id)
    return Response(status_code=204)


@router.get("/data/departments/{department_id}/persons", tags=["Persons"])
async def department_persons(department_id: DepartmentId, principal: CurrentUser, session: SessionDep) -> Response:
    """The members of a department (the minimal payload for non-admins)."""
    members = await department_members(session, department_id=department_id)
    fields = None if principal.is_admin else MINIMAL_PERSON_FIELDS
    return json_response(await serialize_persons(session, persons=members, fields=fields))


@router.get("/data/events/login-logs/last", tags=["Events"])
async def last_login_logs(request: Request, principal: AdminUser, session: SessionDep) -> Response:
    """The latest logins, newest first (admins)."""
    return json_response(await logs.last_login_logs(session, params=dict(request.query_params)))


def _own_or_admin(principal: CurrentUser, person_id: uuid.UUID) -> None:
    if not principal.is_admin and principal.id != person_id:
        raise Forbidden()


@router.get("/data/persons/{person_id}/desktop-login-logs", tags=["Persons"])
async def person_desktop_logs(person_id: PersonId, principal: CurrentUser, session: SessionDep) -> Response:
    """A person's desktop login logs, newest first (the person, a manager or an admin, as Zou)."""
    if not principal.is_manager:
        _own_or_admin(principal, person_id)
    await get_person(session, person_id=person_id)
    return json_response(await logs.desktop_logs(session, person_id=person_id))


@router.post("/data/persons/{person_id}/desktop-login-logs", tags=["Persons"])
async def add_person_desktop_log(person_id: PersonId, body: DesktopLogBody, principal: CurrentUser,
                                 session: SessionDep) -> Response:
    """Record a desktop login of a person (the person or an admin)."""
    _own_or_admin(principal, person_id)
    await get_person(session, person_id=person_id)
    return json_response(await logs.add_desktop_log(session, person_id=person_id, date=body.date, actor_id=principal.id), status_code=201)


@router.get("/data/user/desktop-login-logs", tags=["User"])
async def my_desktop_logs(principal: CurrentUser, session: SessionDep) -> Response:
    """The caller's desktop login logs, newest first."""
    return json_response(await logs.desktop_logs(session, person_id=principal.id))


@router.post("/data/user/desktop-login-logs", tags=["User"])
async def add_my_desktop_log(principal: CurrentUser, session: SessionDep,
                             body: OptionalDesktopLogBody | None = None) -> Response:
    """Record a desktop login of the caller (now, unless a date is given)."""
    await get_person(session, person_id=principal.id)
    date = body.date if body else None
    return json_response(await logs.add_desktop_log(session, person_id=principal.id, date=date, actor_id=principal.id), status_code=201)


@router.post("/auth/app-login/code", tags=["Authentication"], status_code=201)
async def mint_app_login_code(body: CodeBody, principal: CurrentUser, session: SessionDep,
                              settings: Settings) -> Response:
    """A one-time code a desktop app trades for its own tokens (PKCE, one minute)."""
    person = await get_person(session, person_id=principal.id)
    if principal.claims.get("identity_type") == "bot":
        raise Forbidden()
    code = await app_login.mint_code(session, person=person, challenge=body.code_challenge,
                                     seconds=settings.app_login_code_seconds)
    return json_response({"code": code}, status_code=201)


@router.post("/auth/app-login/token", tags=["Authentication"])
async def app_login_token(body: TokenBody, request: Request, session: SessionDep) -> Response:
    """Trade a one-time code and its PKCE verifier for tokens (a login answer, no cookies)."""
    from .auth import login_answer

    person = await app_login.redeem_code(session, code=body.code, verifier=body.code_verifier)
    if person is None:
        return json_response(app_login.WRONG_CODE, status_code=400)
    return await login_answer(request, session, person, cookies=False)
