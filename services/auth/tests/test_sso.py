"""SAML and OIDC single sign-on against real peers: a pysaml2 identity provider and an
authlib OpenID Connect provider, both served over HTTP on 127.0.0.1, and real
PostgreSQL/NATS behind the auth service."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from .sso_peers import OidcProvider, SamlIdp, form_fields, new_uid

pytestmark = pytest.mark.slow  # see pytest.ini

PUBLIC_URL = "http://kitsu.test"
CLIENT_ID, CLIENT_SECRET = "slate-kitsu", "op-client-secret-for-tests"


@pytest.fixture(scope="module")
async def peers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[SamlIdp, OidcProvider]]:
    from saml2.metadata import create_metadata_string

    from slate_auth.config import AuthSettings
    from slate_auth.domain.saml import sp_config

    config = sp_config(AuthSettings(public_url=PUBLIC_URL), metadata_xml=None)
    sp_metadata = create_metadata_string(None, config=config).decode()
    idp = SamlIdp(Path(tmp_path_factory.mktemp("saml-idp")), sp_metadata)
    op = OidcProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=PUBLIC_URL + "/api/auth/oidc/callback")
    try:
        yield idp, op
    finally:
        idp.close()
        op.close()


@pytest.fixture(scope="module")
async def sso(infra, make_database, peers) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    from slate_auth.config import AuthSettings
    from slate_auth.main import create_app

    idp, op = peers
    settings = AuthSettings(
        database_url=make_database("auth", migrate=True), public_url=PUBLIC_URL,
        saml_enabled=True, saml_idp_name="Test IdP", saml_metadata_url=idp.http.base + "/metadata",
        oidc_enabled=True, oidc_idp_name="Test OP", oidc_issuer=op.issuer,
        oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def person_events(client: httpx.AsyncClient, name: str = "person:new") -> list[dict[str, Any]]:
    from slate_common.events.models import OutboxEvent

    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = await session.scalars(select(OutboxEvent.payload).where(OutboxEvent.subject.like("%" + name.replace(":", "."))))
        return [json.loads(r) for r in rows]


async def count_persons(client: httpx.AsyncClient, email: str) -> int:
    from slate_auth.models import Person

    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return int(await session.scalar(select(func.count()).select_from(Person).where(Person.email == email)) or 0)


def who(response: httpx.Response) -> str:
    """The person id in the access cookie the login set."""
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("access_token_cookie="))
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


async def authenticated(client: httpx.AsyncClient, response: httpx.Response) -> dict[str, Any]:
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("access_token_cookie="))
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    r = await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()["user"]  # type: ignore[no-any-return]


# --- disabled ---------------------------------------------------------------------


async def test_sso_routes_answer_zous_error_when_disabled(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/auth/saml/login")
    assert r.status_code == 400 and r.json() == {"error": "SAML is not enabled."}
    r = await client.post("/auth/saml/sso", data={"SAMLResponse": "abc"})
    assert r.status_code == 400 and r.json() == {"error": "SAML is not enabled."}
    for path in ("/auth/oidc/login", "/auth/oidc/callback?code=x&state=y"):
        r = await client.get(path)
        assert r.status_code == 400 and r.json() == {"error": "OIDC is not enabled."}


# --- SAML -------------------------------------------------------------------------


async def saml_round_trip(sso: httpx.AsyncClient, idp: SamlIdp) -> dict[str, str]:
    """GET /auth/saml/login, follow the redirect to the IdP as a browser would, and
    return the form the IdP answers with (SAMLResponse, RelayState)."""
    r = await sso.get("/auth/saml/login")
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(idp.http.base + "/sso/redirect?") and "SAMLRequest=" in location
    async with httpx.AsyncClient() as browser:
        page = await browser.get(location)
    assert page.status_code == 200, page.text
    fields = form_fields(page.text)
    assert "SAMLResponse" in fields
    return fields


def saml_user(**overrides: str) -> dict[str, str]:
    uid = new_uid()
    return {"uid": uid, "email": f"saml-{uid}@studio.test", "first_name": "Ada", "last_name": "Lovelace", **overrides}


async def test_saml_login_creates_the_account_emits_person_new_and_logs_in(sso, peers) -> None:  # type: ignore[no-untyped-def]
    idp, _ = peers
    idp.user = saml_user()
    fields = await saml_round_trip(sso, idp)
    r = await sso.post("/auth/saml/sso", data=fields)
    assert r.status_code == 302, r.text
    assert r.headers["location"] == PUBLIC_URL + "/"
    cookies = r.headers.get_list("set-cookie")
    assert any(c.startswith("access_token_cookie=") and "HttpOnly" in c for c in cookies)
    assert any(c.startswith("refresh_token_cookie=") for c in cookies)
    user = await authenticated(sso, r)
    assert (user["email"], user["first_name"], user["last_name"], user["role"]) == (
        idp.user["email"], "Ada", "Lovelace", "user")
    assert user["active"] is True and "password" not in user
    events = [e for e in await person_events(sso) if e["data"]["person_id"] == user["id"]]
    assert len(events) == 1
    assert events[0]["data"]["snapshot"]["email"] == idp.user["email"]
    assert events[0]["data"]["snapshot"]["departments"] == []
    # The same person again: logged in, no second account, no second event.
    fields = await saml_round_trip(sso, idp)
    r = await sso.post("/auth/saml/sso", data=fields)
    assert r.status_code == 302 and who(r) == user["id"]
    assert await count_persons(sso, idp.user["email"]) == 1
    assert len([e for e in await person_events(sso) if e["data"]["person_id"] == user["id"]]) == 1


async def test_saml_login_matches_an_existing_account_by_email(sso, peers) -> None:  # type: ignore[no-untyped-def]
    from slate_auth.models import Person

    idp, _ = peers
    idp.user = saml_user()
    async with sso.app.state.runtime.sessionmaker() as session:
        async with session.begin():
            person = Person(email=idp.user["email"].upper(), first_name="Existing", last_name="Artist", role="supervisor")
            session.add(person)
        existing_id = str(person.id)
    r = await sso.post("/auth/saml/sso", data=await saml_round_trip(sso, idp))
    assert r.status_code == 302 and who(r) == existing_id
    user = await authenticated(sso, r)
    assert user["role"] == "supervisor" and user["first_name"] == "Existing"
    assert not [e for e in await person_events(sso) if e["data"]["person_id"] == existing_id]


async def test_saml_login_of_an_inactive_person_is_refused(sso, peers) -> None:  # type: ignore[no-untyped-def]
    from slate_auth.models import Person

    idp, _ = peers
    idp.user = saml_user()
    async with sso.app.state.runtime.sessionmaker() as session, session.begin():
        session.add(Person(email=idp.user["email"], first_name="Gone", last_name="Artist", active=False))
    r = await sso.post("/auth/saml/sso", data=await saml_round_trip(sso, idp))
    assert r.status_code == 401
    assert r.json() == {"error": True, "login": False, "message": "User is inactive.", "unactive": True}
    assert not any(c.startswith("access_token_cookie=") for c in r.headers.get_list("set-cookie"))


async def test_saml_refuses_a_tampered_assertion(sso, peers) -> None:  # type: ignore[no-untyped-def]
    idp, _ = peers
    idp.user = saml_user(email="honest@studio.test")
    fields = await saml_round_trip(sso, idp)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "honest@studio.test" in xml
    fields["SAMLResponse"] = base64.b64encode(xml.replace("honest@studio.test", "admin@studio.test").encode()).decode()
    r = await sso.post("/auth/saml/sso", data=fields)
    assert r.status_code == 400 and r.json() == {"error": "Wrong SAML response."}
    assert not any(c.startswith("access_token_cookie=") for c in r.headers.get_list("set-cookie"))


async def test_saml_refuses_an_unsigned_assertion(sso, peers) -> None:  # type: ignore[no-untyped-def]
    idp, _ = peers
    idp.user = saml_user()
    idp.sign_assertion = False
    try:
        fields = await saml_round_trip(sso, idp)
    finally:
        idp.sign_assertion = True
    assert "SignatureValue" not in base64.b64decode(fields["SAMLResponse"]).decode()
    r = await sso.post("/auth/saml/sso", data=fields)
    assert r.status_code == 400 and r.json() == {"error": "Wrong SAML response."}
    assert await count_persons(sso, idp.user["email"]) == 0


async def test_saml_refuses_a_replayed_response_and_a_missing_one(sso, peers) -> None:  # type: ignore[no-untyped-def]
    idp, _ = peers
    idp.user = saml_user()
    fields = await saml_round_trip(sso, idp)
    first = await sso.post("/auth/saml/sso", data=fields)
    assert first.status_code == 302
    again = await sso.post("/auth/saml/sso", data=fields)
    assert again.status_code == 400 and again.json() == {"error": "Wrong SAML response."}
    r = await sso.post("/auth/saml/sso", data={"RelayState": "x"})
    assert r.status_code == 400 and r.json() == {"error": "Wrong parameter: SAMLResponse is missing."}
    r = await sso.post("/auth/saml/sso", data={"SAMLResponse": "not base64 xml"})
    assert r.status_code == 400 and r.json() == {"error": "Wrong SAML response."}


# --- OIDC -------------------------------------------------------------------------


def oidc_user(**overrides: Any) -> dict[str, Any]:
    uid = new_uid()
    return {"sub": f"op-{uid}", "email": f"oidc-{uid}@studio.test", "email_verified": True,
            "given_name": "Grace", "family_name": "Hopper", **overrides}


async def oidc_round_trip(sso: httpx.AsyncClient, op: OidcProvider) -> dict[str, str]:
    """GET /auth/oidc/login, follow the redirect to the provider (already signed in
    there) and return the callback's query parameters (code, state)."""
    r = await sso.get("/auth/oidc/login")
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(op.issuer + "/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and query["nonce"][0] and query["state"][0]
    assert query["redirect_uri"] == [PUBLIC_URL + "/api/auth/oidc/callback"]
    async with httpx.AsyncClient() as browser:
        back = await browser.get(location)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == PUBLIC_URL + "/api/auth/oidc/callback"
    return {k: v[0] for k, v in parse_qs(callback.query).items()}


async def test_oidc_login_creates_the_account_and_binds_it_to_the_subject(sso, peers) -> None:  # type: ignore[no-untyped-def]
    _, op = peers
    op.user = oidc_user()
    params = await oidc_round_trip(sso, op)
    r = await sso.get("/auth/oidc/callback", params=params)
    assert r.status_code == 302, r.text
    assert r.headers["location"] == PUBLIC_URL + "/"
    user = await authenticated(sso, r)
    assert (user["email"], user["first_name"], user["last_name"]) == (op.user["email"], "Grace", "Hopper")
    events = [e for e in await person_events(sso) if e["data"]["person_id"] == user["id"]]
    assert len(events) == 1 and events[0]["name"] == "person:new"
    # The provider changes the person's email: the subject still finds the same account.
    op.user = {**op.user, "email": "renamed-" + op.user["email"]}
    r = await sso.get("/auth/oidc/callback", params=await oidc_round_trip(sso, op))
    assert r.status_code == 302 and who(r) == user["id"]
    assert await count_persons(sso, op.user["email"]) == 0


async def test_oidc_matches_by_email_once_then_refuses_another_subject(sso, peers) -> None:  # type: ignore[no-untyped-def]
    _, op = peers
    op.user = oidc_user()
    first = await sso.get("/auth/oidc/callback", params=await oidc_round_trip(sso, op))
    assert first.status_code == 302
    op.user = {**op.user, "sub": "op-someone-else"}
    r = await sso.get("/auth/oidc/callback", params=await oidc_round_trip(sso, op))
    assert r.status_code == 400 and r.json() == {"error": "This account is bound to another identity."}
    assert not any(c.startswith("access_token_cookie=") for c in r.headers.get_list("set-cookie"))


async def test_oidc_refuses_a_wrong_or_replayed_state(sso, peers) -> None:  # type: ignore[no-untyped-def]
    _, op = peers
    op.user = oidc_user()
    params = await oidc_round_trip(sso, op)
    r = await sso.get("/auth/oidc/callback", params={**params, "state": "forged-state"})
    assert r.status_code == 400 and r.json() == {"error": "Wrong state."}
    ok = await sso.get("/auth/oidc/callback", params=params)
    assert ok.status_code == 302
    replay = await sso.get("/auth/oidc/callback", params=params)
    assert replay.status_code == 400 and replay.json() == {"error": "Wrong state."}
    r = await sso.get("/auth/oidc/callback", params={"state": params["state"]})
    assert r.status_code == 400 and r.json() == {"error": "Wrong parameter: code and state are required."}
    r = await sso.get("/auth/oidc/callback", params={"error": "access_denied", "state": params["state"]})
    assert r.status_code == 400 and r.json() == {"error": "The OIDC provider refused the login: access_denied."}


async def test_oidc_callback_must_come_back_to_the_browser_that_started_it(sso, peers) -> None:  # type: ignore[no-untyped-def]
    """Login CSRF: an attacker's own callback URL, opened in the victim's browser."""
    _, op = peers
    op.user = oidc_user()
    params = await oidc_round_trip(sso, op)  # the attacker's browser holds the state cookie
    assert sso.cookies.get("slate_oidc_state") == params["state"]
    victim = httpx.AsyncClient(transport=httpx.ASGITransport(app=sso.app), base_url=PUBLIC_URL)  # type: ignore[attr-defined]
    async with victim:
        r = await victim.get("/auth/oidc/callback", params=params)
    assert r.status_code == 400 and r.json() == {"error": "Wrong state."}
    assert not any(c.startswith("access_token_cookie=") for c in r.headers.get_list("set-cookie"))
    ok = await sso.get("/auth/oidc/callback", params=params)  # the browser that started it still can
    assert ok.status_code == 302
    assert any(c.startswith("slate_oidc_state=") and "Max-Age=0" in c for c in ok.headers.get_list("set-cookie"))


async def test_oidc_refuses_a_wrong_nonce(sso, peers) -> None:  # type: ignore[no-untyped-def]
    _, op = peers
    op.user = oidc_user()
    op.nonce_override = "a-nonce-slate-never-sent"
    try:
        r = await sso.get("/auth/oidc/callback", params=await oidc_round_trip(sso, op))
    finally:
        op.nonce_override = None
    assert r.status_code == 400 and r.json() == {"error": "Invalid ID token."}
    assert await count_persons(sso, op.user["email"]) == 0


async def test_oidc_refuses_an_id_token_not_signed_by_the_provider(sso, peers) -> None:  # type: ignore[no-untyped-def]
    _, op = peers
    op.user = oidc_user()
    op.sign_with_stranger_key = True
    try:
        r = await sso.get("/auth/oidc/callback", params=await oidc_round_trip(sso, op))
    finally:
        op.sign_with_stranger_key = False
    assert r.status_code == 400 and r.json() == {"error": "Invalid ID token."}
    assert await count_persons(sso, op.user["email"]) == 0


async def test_oidc_refuses_an_unverified_email_and_a_wrong_code(sso, peers) -> None:  # type: ignore[no-untyped-def]
    _, op = peers
    op.user = oidc_user(email_verified=False)
    r = await sso.get("/auth/oidc/callback", params=await oidc_round_trip(sso, op))
    assert r.status_code == 400
    assert r.json() == {"error": "The email address is not verified by the OIDC provider."}
    op.user = oidc_user()
    params = await oidc_round_trip(sso, op)
    r = await sso.get("/auth/oidc/callback", params={**params, "code": "not-a-code-the-provider-gave"})
    assert r.status_code == 400
    assert r.json() == {"error": "The authorization code was refused by the OIDC provider."}


# --- SAML with a subject attribute: the account is bound to the IdP's subject ---------------


@pytest.fixture(scope="module")
async def sso_bound(infra, make_database, peers) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    from slate_auth.config import AuthSettings
    from slate_auth.main import create_app

    idp, _ = peers
    settings = AuthSettings(
        database_url=make_database("auth", migrate=True), public_url=PUBLIC_URL,
        saml_enabled=True, saml_metadata_url=idp.http.base + "/metadata", saml_subject_attribute="uid",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def test_saml_subject_binding(sso_bound, peers) -> None:  # type: ignore[no-untyped-def]
    idp, _ = peers
    idp.user = saml_user()
    first = await sso_bound.post("/auth/saml/sso", data=await saml_round_trip(sso_bound, idp))
    assert first.status_code == 302
    person_id = who(first)
    # The IdP renames the person's email: the subject still finds the account.
    idp.user = {**idp.user, "email": "moved-" + idp.user["email"]}
    again = await sso_bound.post("/auth/saml/sso", data=await saml_round_trip(sso_bound, idp))
    assert again.status_code == 302 and who(again) == person_id
    assert await count_persons(sso_bound, idp.user["email"]) == 0
    # Another subject asserting the first account's email is refused.
    user = await authenticated(sso_bound, first)
    idp.user = saml_user(email=user["email"])
    r = await sso_bound.post("/auth/saml/sso", data=await saml_round_trip(sso_bound, idp))
    assert r.status_code == 400 and r.json() == {"error": "This account is bound to another identity."}


async def test_an_unreachable_provider_is_a_503_not_a_500() -> None:
    from slate_common.stack import free_port

    from slate_auth.config import AuthSettings
    from slate_auth.domain.oidc import OidcProvider as SlateOidc
    from slate_auth.domain.saml import SamlServiceProvider
    from slate_auth.domain.sso import SsoUnavailable

    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SsoUnavailable, match="metadata could not be loaded") as saml_error:
        await SamlServiceProvider(AuthSettings(saml_metadata_url=closed + "/metadata")).client()
    assert saml_error.value.status_code == 503
    with pytest.raises(SsoUnavailable, match="could not be reached") as oidc_error:
        await SlateOidc(AuthSettings(oidc_issuer=closed, oidc_client_id="x")).metadata()
    assert oidc_error.value.body() == {"error": "The OIDC provider could not be reached."}
