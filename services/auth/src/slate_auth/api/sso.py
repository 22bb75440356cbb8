"""/auth/saml/* and /auth/oidc/*: single sign-on. A successful login ends as Zou's does:
a redirect to the app's home page with the access and refresh cookies set.

The OIDC state is also set as a cookie on the browser that starts the login, and the
callback must come back with it: a callback URL made by someone else (login CSRF: being
logged in as the attacker) is refused. (The SAML ACS is a cross-site POST, which a
SameSite cookie would not reach; its request id is kept one-use instead.)"""

from __future__ import annotations

import asyncio
import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from slate_common.app import SessionDep
from slate_common.serialization import json_response

from ..config import AuthSettings
from ..domain import oidc, saml
from ..domain.logs import record_login
from ..domain.sso import (
    SsoError,
    live_state_keys,
    person_for_identity,
    save_state,
    take_state,
)
from ..domain.tokens import start_session
from ..models import Person
from .auth import _secure, _set_cookies, client_ip

router = APIRouter(prefix="/auth", tags=["Authentication"])

OIDC_STATE_COOKIE = "slate_oidc_state"


def _settings(request: Request) -> AuthSettings:
    return request.app.state.auth_settings  # type: ignore[no-any-return]


def _saml(request: Request) -> saml.SamlServiceProvider:
    if not _settings(request).saml_enabled:
        raise SsoError("SAML is not enabled.")
    return request.app.state.saml_provider  # type: ignore[no-any-return]


def _oidc(request: Request) -> oidc.OidcProvider:
    if not _settings(request).oidc_enabled:
        raise SsoError("OIDC is not enabled.")
    return request.app.state.oidc_provider  # type: ignore[no-any-return]


async def _logged_in(request: Request, session: SessionDep, person: Person) -> Response:
    """Tokens as cookies and a redirect home, or Zou's inactive-user answer."""
    settings = _settings(request)
    if not person.active:
        return json_response({"error": True, "login": False, "message": "User is inactive.", "unactive": True},
                             status_code=401)
    access, refresh = await start_session(session, ring=request.app.state.keyring, settings=settings, person=person)
    record_login(session, person=person, ip=client_ip(request), origin="web", success=True)
    response = RedirectResponse(settings.public_base + "/", status_code=302)
    _set_cookies(request, response, access, refresh)
    return response


@router.get("/saml/login")
async def saml_login(request: Request, session: SessionDep) -> Response:
    """Send the browser to the SAML identity provider."""
    provider = _saml(request)
    request_id, location = saml.authn_request(await provider.client())
    await save_state(session, key=request_id, provider=saml.PROVIDER, lifetime=_settings(request).sso_state_seconds)
    return RedirectResponse(location, status_code=302)


@router.post("/saml/sso")
async def saml_sso(request: Request, session: SessionDep) -> Response:
    """The assertion consumer: check the IdP's signed response, log the person in."""
    provider = _saml(request)
    form = parse_qs((await request.body()).decode("latin-1"))
    saml_response = (form.get("SAMLResponse") or [""])[0]
    if not saml_response:
        raise SsoError("Wrong parameter: SAMLResponse is missing.")
    client = await provider.client()
    outstanding = await live_state_keys(session, provider=saml.PROVIDER)
    request_id, identity = await asyncio.to_thread(
        saml.read_response, client, saml_response=saml_response, outstanding=outstanding, settings=_settings(request)
    )
    if await take_state(session, key=request_id, provider=saml.PROVIDER) is None:
        raise SsoError("Wrong SAML response.")  # already used
    person = await person_for_identity(session, identity=identity)
    return await _logged_in(request, session, person)


@router.get("/oidc/login")
async def oidc_login(request: Request, session: SessionDep) -> Response:
    """Send the browser to the OpenID Connect provider (authorization-code flow)."""
    provider = _oidc(request)
    url, state, nonce, verifier = await oidc.authorization_url(provider)
    lifetime = _settings(request).sso_state_seconds
    await save_state(session, key=state, provider=oidc.PROVIDER, nonce=nonce, code_verifier=verifier,
                     lifetime=lifetime)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(OIDC_STATE_COOKIE, state, max_age=lifetime, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")
    return response


@router.get("/oidc/callback")
async def oidc_callback(request: Request, session: SessionDep) -> Response:
    """Exchange the code, verify the ID token, log the person in."""
    provider = _oidc(request)
    params = request.query_params
    if params.get("error"):
        raise SsoError(f"The OIDC provider refused the login: {params.get('error')}.")
    code, state = params.get("code"), params.get("state")
    if not code or not state:
        raise SsoError("Wrong parameter: code and state are required.")
    if not hmac.compare_digest(request.cookies.get(OIDC_STATE_COOKIE, "").encode(), state.encode()):
        raise SsoError("Wrong state.")  # not the browser that started this login
    begun = await take_state(session, key=state, provider=oidc.PROVIDER)
    if begun is None or not begun.nonce or not begun.code_verifier:
        raise SsoError("Wrong state.")
    identity = await oidc.identity_from_code(provider, code=code, nonce=begun.nonce, code_verifier=begun.code_verifier)
    person = await person_for_identity(session, identity=identity)
    response = await _logged_in(request, session, person)
    response.delete_cookie(OIDC_STATE_COOKIE, path="/")
    return response
