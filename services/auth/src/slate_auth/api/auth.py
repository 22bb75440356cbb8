"""/auth/*: login, logout, refresh, authenticated, and the public keys (JWKS)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from slate_common.app import Runtime, SessionDep
from slate_common.errors import Unauthorized
from slate_common.revocation import revocation_bucket, revoke_token
from slate_common.security import ACCESS_COOKIE, REFRESH_COOKIE, CurrentUser, RefreshUser
from slate_common.serialization import json_response

from ..domain import fido, identity_changes, preview_accounts, two_factor
from ..domain.identity import (
    caller_with_organisation,
    find_login_person,
    find_person,
    get_organisation,
    serialize_person,
)
from ..domain.login_guard import LoginGuard, Verdict
from ..domain.logs import record_login
from ..domain.passwords import verify_password
from ..domain.tokens import refresh_session, start_session
from ..hooks import ORGANISATION_SECRETS
from ..models import Person

router = APIRouter(prefix="/auth", tags=["Authentication"])

WRONG_CREDENTIALS = {"login": False, "message": "Wrong email or password."}


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str
    password: str
    totp: str | None = None
    email_otp: str | None = None
    recovery_code: str | None = None
    fido_authentication_response: dict[str, Any] | None = None


def _secure(request: Request) -> bool:
    configured = request.app.state.auth_settings.cookie_secure
    if configured is not None:
        return bool(configured)
    return request.url.scheme == "https"  # X-Forwarded-Proto of a trusted proxy applied


def _set_cookies(request: Request, response: Response, access: str | None, refresh: str | None) -> None:
    settings = request.app.state.auth_settings
    secure = _secure(request)
    if access:
        response.set_cookie(ACCESS_COOKIE, access, max_age=settings.access_token_minutes * 60,
                            httponly=True, samesite="lax", secure=secure, path="/")
    if refresh:
        response.set_cookie(REFRESH_COOKIE, refresh, max_age=settings.refresh_token_days * 86400,
                            httponly=True, samesite="lax", secure=secure, path="/")


@router.get("/jwks.json", include_in_schema=False)
async def jwks(request: Request) -> Response:
    """Public keys that verify Slate tokens."""
    return json_response(request.app.state.keyring.jwks(), headers={"Cache-Control": "max-age=60"})


def client_ip(request: Request) -> str:
    """The first untrusted hop (slate_common.forwarded resolves SLATE_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"


def login_origin(request: Request) -> str:
    """"web" for a browser (it sends Origin or Referer), "script" otherwise."""
    return "web" if request.headers.get("origin") or request.headers.get("referer") else "script"


def too_many(verdict: Verdict, **extra: Any) -> Response:
    """429 with Retry-After: the login guard refused (domain/login_guard.py)."""
    return json_response({"error": True, **extra, "message": "Too many attempts, try again later."},
                         status_code=429, headers={"Retry-After": verdict.retry_after_header})


async def request_refused(request: Request, scope: str, account: str) -> Response | None:
    """The 429 answer when this address asked ``scope`` for ``account`` too often."""
    verdict = await request.app.state.login_guard.allow_request(scope, account, client_ip(request))
    return too_many(verdict) if verdict.refused else None


@router.post("/login", responses={429: {"description": "Too many failed logins for this account or address: try later"}})
async def login(body: LoginBody, request: Request, session: SessionDep) -> Response:
    """Log in with email (or desktop login id) and password, and the second factor when
    one is enabled; returns tokens and sets cookies.

    Repeated failures are slowed and locked per account and address (429 with
    Retry-After, the same for unknown accounts); successful logins are never limited."""
    settings = request.app.state.auth_settings
    guard: LoginGuard = request.app.state.login_guard
    ip = client_ip(request)
    person = await find_login_person(session, login=body.email)
    account = str(person.id) if person is not None else "unknown:" + body.email
    verdict = await guard.check(account, ip)
    if verdict.refused:
        return too_many(verdict, login=False)
    ok = await asyncio.to_thread(verify_password, person.password if person else None, password=body.password)
    if person is None or not ok:
        await guard.failed(account, ip)
        if person is not None:
            record_login(session, person=person, ip=ip, origin=login_origin(request), success=False)
        return json_response(WRONG_CREDENTIALS, status_code=400)
    origin = login_origin(request)
    if not person.active or not preview_accounts.window_open(person):  # a preview account outside its window
        return json_response({"error": True, "login": False, "message": "User is inactive.", "unactive": True},
                             status_code=401)
    outcome = await two_factor.check_second_factor(
        session, person=person, proof=two_factor.SecondFactorProof.of(body), secret_key=settings.shared.secret_key
    )
    if outcome is two_factor.Outcome.MISSING:
        return json_response(await two_factor.missing_answer(session, person=person), status_code=400)
    if outcome is two_factor.Outcome.WRONG:
        await guard.failed(account, ip)
        record_login(session, person=person, ip=ip, origin=origin, success=False)
        return json_response(two_factor.WRONG_ANSWER, status_code=400)
    await guard.succeeded(account, ip)
    record_login(session, person=person, ip=ip, origin=origin, success=True)
    return await login_answer(request, session, person)


async def login_answer(request: Request, session: SessionDep, person: Person, *, cookies: bool = True) -> Response:
    """Zou's successful login body (user, organisation, tokens), cookies set."""
    access, refresh = await start_session(session, ring=request.app.state.keyring,
                                          settings=request.app.state.auth_settings,
                                          person=person)
    organisation = await get_organisation(session)
    response = json_response({
        "user": await serialize_person(session, person=person),
        "organisation": organisation.serialize(exclude=frozenset() if person.role == "admin" else ORGANISATION_SECRETS),
        "login": True,
        "access_token": access,
        "refresh_token": refresh,
    })
    if cookies:
        _set_cookies(request, response, access, refresh)
    return response


@router.get("/authenticated")
async def authenticated(principal: CurrentUser, session: SessionDep) -> Response:
    """Whether the caller's token is valid, with the person and the organisation."""
    person, departments, organisation = await caller_with_organisation(session, person_id=principal.id)
    if person is None or not person.active or not preview_accounts.window_open(person):
        raise Unauthorized("Person not found")
    user = person.serialize()
    user["departments"] = departments
    user["fido_devices"] = fido.device_names(person)
    if organisation is None:
        organisation = await get_organisation(session)
    secrets = frozenset() if principal.is_admin else ORGANISATION_SECRETS  # chat tokens: admins only
    response = json_response({"authenticated": True, "user": user,
                              "organisation": organisation.serialize(exclude=secrets)})
    # Until when this answer stands unless auth changes something (it then emits an event):
    # the gateway answers it again until then (slate_gateway.identity).
    until = float(principal.claims.get("exp") or 0)
    if preview_accounts.is_preview_account(person) and person.preview_open_until is not None:
        until = min(until, person.preview_open_until.replace(tzinfo=dt.UTC).timestamp())
    if until:
        response.headers["slate-answer-until"] = str(int(until))  # rounded down
    return response


@router.get("/logout")
async def logout(principal: CurrentUser, runtime: Runtime, session: SessionDep) -> Response:
    """Revoke the caller's token (and its refresh token) in every service, clear cookies."""
    assert runtime.js is not None, "NATS is not connected"
    kv = await revocation_bucket(runtime.js)
    await revoke_token(kv, principal.jti)
    refresh_jti = principal.claims.get("refresh_jti")
    if refresh_jti:
        await revoke_token(kv, str(refresh_jti))
    runtime.verifier.revocations.jtis[principal.jti] = 0.0  # visible here at once
    identity_changes.revoked(session)  # and in every gateway before this answers
    response = json_response({"logout": True})
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/")
    return response


@router.get("/refresh-token")
async def refresh_token(principal: RefreshUser, request: Request, session: SessionDep, runtime: Runtime) -> Response:
    """A new access token (and, with rotation, the next refresh token) for a valid
    refresh token; a refresh token used twice revokes its whole family."""
    person = await find_person(session, person_id=principal.id)
    if person is None or not person.active or not preview_accounts.window_open(person):
        raise Unauthorized("Person not found")
    access, refresh = await refresh_session(session, runtime=runtime, ring=request.app.state.keyring,
                                            settings=request.app.state.auth_settings, principal=principal,
                                            person=person)
    body = {"access_token": access}
    if refresh:
        body["refresh_token"] = refresh
    response = json_response(body)
    _set_cookies(request, response, access, refresh)
    return response
