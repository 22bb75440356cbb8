"""/auth/totp, /auth/email-otp, /auth/recovery-codes and the admin's
DELETE /actions/persons/{id}/disable-two-factor-authentication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from slate_common.app import SessionDep
from slate_common.errors import BadRequest
from slate_common.security import AdminUser, CurrentUser
from slate_common.serialization import json_response

from ..domain import two_factor
from ..domain.identity import emit_person_update, find_login_person, get_organisation, get_person
from ..domain.mail import send_mail
from ..domain.tokens import start_session
from .deps import Keys, PersonId, Settings

router = APIRouter(tags=["Authentication"])


class TotpBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    totp: str


class EmailOtpBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email_otp: str


class ProofBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    totp: str | None = None
    email_otp: str | None = None
    recovery_code: str | None = None
    fido_authentication_response: dict[str, Any] | None = None


def _wrong(message: str) -> BadRequest:
    return BadRequest(message, wrong_OTP=True)


async def _verify_proof(request: Request, session: SessionDep, person: Any, body: ProofBody | None) -> None:
    proof = two_factor.SecondFactorProof.of(body) if body else two_factor.SecondFactorProof()
    outcome = await two_factor.check_second_factor(
        session, person=person, proof=proof, secret_key=request.app.state.auth_settings.shared.secret_key
    )
    if outcome is not two_factor.Outcome.OK:
        raise _wrong("OTP verification failed.")


async def _enabled_answer(session: SessionDep, keys: Keys, settings: Settings, person: Any,
                          codes: list[str] | None) -> Response:
    await emit_person_update(session, person=person, actor_id=person.id)
    access, refresh = await start_session(session, ring=keys, settings=settings, person=person)
    return json_response({"otp_recovery_codes": codes, "access_token": access, "refresh_token": refresh})


# --- TOTP ------------------------------------------------------------------------------


@router.put("/auth/totp")
async def pre_enable_totp(principal: CurrentUser, session: SessionDep, settings: Settings) -> Response:
    """A new TOTP secret and its provisioning URI, to scan in an authenticator app."""
    person = await get_person(session, person_id=principal.id, lock=True)
    if person.totp_enabled:
        raise BadRequest("TOTP already enabled.")
    secret = two_factor.new_totp_secret(person)
    organisation = await get_organisation(session)
    uri = two_factor.provisioning_uri(person, issuer=f"{settings.app_name} {organisation.name}")
    return json_response({"totp_provisionning_uri": uri, "otp_secret": secret})


@router.post("/auth/totp")
async def enable_totp(body: TotpBody, principal: CurrentUser, session: SessionDep, keys: Keys,
                      settings: Settings) -> Response:
    """Enable TOTP with a code of the authenticator app (recovery codes on the first 2FA)."""
    person = await get_person(session, person_id=principal.id, lock=True)
    if person.totp_enabled:
        raise BadRequest("TOTP already enabled.")
    if not two_factor.verify_totp(person, code=body.totp):
        raise _wrong("TOTP verification failed.")
    return await _enabled_answer(session, keys, settings, person, two_factor.enable(person, method="totp"))


@router.delete("/auth/totp")
async def disable_totp(request: Request, principal: CurrentUser, session: SessionDep,
                       body: ProofBody | None = None) -> Response:
    """Disable TOTP; needs a second factor."""
    person = await get_person(session, person_id=principal.id, lock=True)
    if not person.totp_enabled:
        raise BadRequest("TOTP not enabled.")
    await _verify_proof(request, session, person, body)
    two_factor.disable(person, method="totp")
    await emit_person_update(session, person=person, actor_id=person.id)
    return json_response({"success": True})


# --- email OTP -------------------------------------------------------------------------------


async def _mail_code(settings: Settings, person: Any, code: str) -> None:
    await send_mail(
        settings, to=person.email, subject=f"{settings.app_name}: your one-time code",
        body=(f"Hello {person.first_name},\n\nYour one-time code is {code}\n\n"
              f"It is valid for {settings.email_otp_minutes} minutes and can be used once.\n"),
    )


@router.get("/auth/email-otp")
async def send_email_otp(request: Request, session: SessionDep, settings: Settings,
                         email: str | None = None) -> Response:
    """Mail a one-time code to a person who has email OTP enabled (same answer otherwise)."""
    if not email:
        raise BadRequest("Missing required parameter: email", data=None)
    from .auth import request_refused  # the login guard counts this unauthenticated route too

    if refused := await request_refused(request, "email-otp", email):
        return refused
    person = await find_login_person(session, login=email)
    if person is not None and person.active and person.email_otp_enabled and person.email:
        code = two_factor.new_email_otp(person, secret_key=settings.shared.secret_key,
                                        minutes=settings.email_otp_minutes)
        await session.flush()
        await _mail_code(settings, person, code)
    return json_response({"success": True})


@router.put("/auth/email-otp")
async def pre_enable_email_otp(principal: CurrentUser, session: SessionDep, settings: Settings) -> Response:
    """Mail a code that confirms the address before email OTP is enabled."""
    person = await get_person(session, person_id=principal.id, lock=True)
    if person.email_otp_enabled:
        raise BadRequest("OTP by email already enabled.")
    if not person.email:
        raise BadRequest("No email address to send the code to.")
    code = two_factor.new_email_otp(person, secret_key=settings.shared.secret_key, minutes=settings.email_otp_minutes)
    await session.flush()
    await _mail_code(settings, person, code)
    return json_response({"success": True})


@router.post("/auth/email-otp")
async def enable_email_otp(body: EmailOtpBody, principal: CurrentUser, session: SessionDep, keys: Keys,
                           settings: Settings) -> Response:
    """Enable email OTP with the mailed code (recovery codes on the first 2FA)."""
    person = await get_person(session, person_id=principal.id, lock=True)
    if person.email_otp_enabled:
        raise BadRequest("OTP by email already enabled.")
    if not two_factor.verify_email_otp(person, code=body.email_otp, secret_key=settings.shared.secret_key):
        raise _wrong("OTP by email verification failed.")
    return await _enabled_answer(session, keys, settings, person, two_factor.enable(person, method="email_otp"))


@router.delete("/auth/email-otp")
async def disable_email_otp(request: Request, principal: CurrentUser, session: SessionDep,
                            body: ProofBody | None = None) -> Response:
    """Disable email OTP; needs a second factor."""
    person = await get_person(session, person_id=principal.id, lock=True)
    if not person.email_otp_enabled:
        raise BadRequest("OTP by email not enabled.")
    await _verify_proof(request, session, person, body)
    two_factor.disable(person, method="email_otp")
    await emit_person_update(session, person=person, actor_id=person.id)
    return json_response({"success": True})


# --- recovery codes and the admin's switch -------------------------------------------------------


@router.put("/auth/recovery-codes")
async def new_recovery_codes(request: Request, principal: CurrentUser, session: SessionDep,
                             body: ProofBody | None = None) -> Response:
    """Replace the recovery codes (the old ones stop working); needs a second factor."""
    person = await get_person(session, person_id=principal.id, lock=True)
    if not two_factor.has_two_factor(person):
        raise BadRequest("No two factor authentication enabled.")
    await _verify_proof(request, session, person, body)
    return json_response({"otp_recovery_codes": two_factor.new_recovery_codes(person)})


@router.delete("/actions/persons/{person_id}/disable-two-factor-authentication", tags=["Persons"])
async def admin_disable_two_factor(person_id: PersonId, principal: AdminUser, session: SessionDep) -> Response:
    """An admin turns every second factor of a person off (not another admin's)."""
    person = await get_person(session, person_id=person_id, lock=True)
    if person.role == "admin" and person.id != principal.id:
        raise BadRequest("An admin can't disable 2FA for other admins.")
    if not two_factor.has_two_factor(person):
        raise BadRequest("Two factor authentication not enabled for this user.")
    two_factor.disable_all(person)
    await emit_person_update(session, person=person, actor_id=principal.id)
    return json_response({"success": True})


__all__ = ["router"]
