"""Passwords: change (self and admin), reset by an emailed token, reset links and
invitations. Every new password revokes all of the person's tokens, everywhere."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, model_validator
from starlette.responses import Response

from slate_common.app import Runtime, SessionDep
from slate_common.errors import BadRequest
from slate_common.security import AdminUser, CurrentUser
from slate_common.serialization import json_response

from ..domain import accounts
from ..domain.identity import get_person
from ..domain.mail import send_mail
from ..models import Person
from .deps import PersonId, Settings

router = APIRouter()


class ChangePasswordBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    old_password: str
    password: str
    password_2: str


class AdminPasswordBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    password: str
    password_2: str

    @model_validator(mode="after")
    def _confirmed(self) -> AdminPasswordBody:
        if self.password != self.password_2:
            raise ValueError("Confirmation password doesn't match.")
        return self


class ResetRequestBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str


class ResetBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str
    token: str
    password: str
    password2: str


@router.post("/auth/change-password", tags=["Authentication"])
async def change_password(body: ChangePasswordBody, principal: CurrentUser, session: SessionDep,
                          runtime: Runtime) -> Response:
    """Change one's own password (the current one is required); ends every session."""
    person = await get_person(session, person_id=principal.id, lock=True)
    await accounts.change_own_password(runtime, person=person, old_password=body.old_password,
                                       password=body.password, password_2=body.password_2)
    return json_response({"success": True})


@router.post("/auth/reset-password", tags=["Authentication"])
async def ask_reset(body: ResetRequestBody, request: Request, session: SessionDep, settings: Settings) -> Response:
    """Mail a reset link to the address (the answer is the same for unknown addresses)."""
    from .auth import request_refused

    if refused := await request_refused(request, "reset-mail", body.email):
        return refused
    person = await accounts.find_by_email(session, email=body.email)
    if person is not None and person.active and not person.is_bot and person.email:
        token = accounts.new_reset_token(person, settings=settings)
        await session.flush()
        link = accounts.reset_link(settings, person=person, token=token)
        subject, text = accounts.reset_mail(settings, person=person, link=link)
        await send_mail(settings, to=person.email, subject=subject, body=text)
    return json_response({"success": "Reset token sent"})


@router.put("/auth/reset-password", tags=["Authentication"])
async def reset(body: ResetBody, request: Request, session: SessionDep, runtime: Runtime,
                settings: Settings) -> Response:
    """Set a new password with the mailed token (used once); ends every session."""
    from .auth import request_refused

    if refused := await request_refused(request, "reset", body.email):
        return refused
    await accounts.reset_with_token(session, runtime=runtime, settings=settings, email=body.email, token=body.token,
                                    password=body.password, password_2=body.password2)
    return json_response({"success": True})


@router.post("/actions/persons/{person_id}/change-password", tags=["Persons"])
async def admin_change_password(person_id: PersonId, body: AdminPasswordBody, principal: AdminUser,
                                session: SessionDep, runtime: Runtime) -> Response:
    """An admin sets a person's password (not another admin's existing one)."""
    person = await get_person(session, person_id=person_id, lock=True)
    await accounts.admin_change_password(runtime, admin_id=principal.id, person=person, password=body.password)
    return json_response({"success": True})


def _check_resettable(principal: AdminUser, person: Person) -> None:
    if person.role == "admin" and person.id != principal.id and person.password:
        raise BadRequest("An admin can't change another admin's password.")
    if not person.email:
        raise BadRequest("This person has no email address.")


@router.post("/actions/persons/{person_id}/reset-password-link", tags=["Persons"])
async def reset_password_link(person_id: PersonId, principal: AdminUser, session: SessionDep,
                              settings: Settings) -> Response:
    """The reset link an admin can pass on by hand (a pending one is shown again)."""
    person = await get_person(session, person_id=person_id, lock=True)
    _check_resettable(principal, person)
    token = accounts.new_reset_token(person, settings=settings, reuse=True)
    return json_response({"reset_password_link": accounts.reset_link(settings, person=person, token=token)})


@router.get("/actions/persons/{person_id}/invite", tags=["Persons"])
async def invite(person_id: PersonId, principal: AdminUser, session: SessionDep, settings: Settings) -> Response:
    """Mail an invitation with a link to choose a password."""
    person = await get_person(session, person_id=person_id, lock=True)
    if not person.email:
        raise BadRequest("This person has no email address.")
    token = accounts.new_reset_token(person, settings=settings)
    await session.flush()
    subject, text = await accounts.invite_mail(session, settings=settings, person=person,
                                               link=accounts.reset_link(settings, person=person, token=token))
    if not await send_mail(settings, to=person.email, subject=subject, body=text):
        raise BadRequest("The invitation could not be sent (mail server unavailable).")
    return json_response({"success": True, "message": "Email sent"})
