"""Login, authenticated, refresh and logout against real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio

import jwt

from .conftest import ADMIN


async def test_login_returns_user_organisation_tokens_and_cookies(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/auth/login", json={"email": ADMIN[0].upper(), "password": ADMIN[1]})
    assert r.status_code == 200
    body = r.json()
    assert body["login"] is True
    assert body["user"]["email"] == ADMIN[0] and body["user"]["role"] == "admin"
    assert body["user"]["type"] == "Person" and body["user"]["full_name"] == "Super Admin"
    assert body["organisation"]["type"] == "Organisation" and body["organisation"]["name"] == "Kitsu"
    for secret in ("password", "totp_secret", "recovery_codes", "fido_credentials"):
        assert secret not in body["user"]
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == body["user"]["id"] and claims["type"] == "access" and claims["aud"] == "slate"
    cookies = r.headers.get_list("set-cookie")
    access = next(c for c in cookies if c.startswith("access_token_cookie="))
    refresh = next(c for c in cookies if c.startswith("refresh_token_cookie="))
    assert "HttpOnly" in access and "SameSite=lax" in access and "Secure" not in access
    assert "HttpOnly" in refresh


async def test_cookies_are_secure_behind_https(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]},
                          headers={"x-forwarded-proto": "https"})
    assert all("Secure" in c for c in r.headers.get_list("set-cookie"))


async def test_wrong_password_and_unknown_email_get_the_same_answer(client) -> None:  # type: ignore[no-untyped-def]
    wrong = await client.post("/auth/login", json={"email": ADMIN[0], "password": "nope"})
    unknown = await client.post("/auth/login", json={"email": "ghost@studio.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json() == {"login": False, "message": "Wrong email or password."}
    missing = await client.post("/auth/login", json={"email": ADMIN[0]})
    assert missing.status_code == 400
    assert missing.json()["data"]["errors"] == [{"field": "password", "message": "Field required"}]


async def test_authenticated_with_bearer_and_with_cookie(client, tokens) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 200 and r.json()["authenticated"] is True
    assert r.json()["user"]["id"] == tokens["user"]["id"]
    client.cookies.set("access_token_cookie", tokens["access_token"])
    try:
        r = await client.get("/auth/authenticated")
        assert r.status_code == 200 and r.json()["user"]["email"] == ADMIN[0]
    finally:
        client.cookies.clear()
    r = await client.get("/auth/authenticated", headers={"Authorization": "Bearer not.a.jwt"})
    assert r.status_code == 422 and "msg" in r.json()


async def test_refresh_gives_a_new_access_token(client, tokens) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert r.status_code == 200
    new = r.json()["access_token"]
    assert new != tokens["access_token"]
    ok = await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {new}"})
    assert ok.status_code == 200
    # An access token cannot refresh, a refresh token cannot call the API.
    r = await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert r.status_code == 422 and r.json()["msg"] == "Only refresh tokens are allowed"
    r = await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert r.status_code == 422


async def test_logout_revokes_access_and_refresh_tokens(client, tokens) -> None:  # type: ignore[no-untyped-def]
    h = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = await client.get("/auth/logout", headers=h)
    assert r.status_code == 200 and r.json() == {"logout": True}
    r = await client.get("/auth/authenticated", headers=h)
    assert r.status_code == 401 and r.json()["msg"] == "Token has been revoked"
    # The refresh token paired with it is revoked too, through the shared KV bucket.
    view = client.app.state.verifier.revocations
    for _ in range(50):
        refresh_jti = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})["jti"]
        if refresh_jti in view.jtis:
            break
        await asyncio.sleep(0.02)
    r = await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert r.status_code == 401


async def test_jwks_publishes_the_signing_key(client, tokens) -> None:  # type: ignore[no-untyped-def]
    doc = (await client.get("/auth/jwks.json")).json()
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    key = next(k for k in doc["keys"] if k["kid"] == kid)
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and "d" not in key
    claims = jwt.decode(tokens["access_token"], jwt.PyJWK(key).key, algorithms=["RS256"], audience="slate")
    assert claims["sub"] == tokens["user"]["id"]


async def test_persons_crud_is_admin_only_and_hides_secrets(client, tokens) -> None:  # type: ignore[no-untyped-def]
    h = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = await client.post("/data/persons", json={"first_name": "Ada", "last_name": "L", "email": "ada@studio.test",
                                                 "role": "user", "password": "sneaky"}, headers=h)
    assert r.status_code == 201
    ada = r.json()
    assert ada["full_name"] == "Ada L" and ada["departments"] == [] and "password" not in ada
    r = await client.post("/data/persons", json={"first_name": "B", "email": "b@studio.test", "role": "emperor"}, headers=h)
    assert r.status_code == 400
    # As in Zou, the admin's password at creation is stored (and never shown).
    r = await client.post("/auth/login", json={"email": "ada@studio.test", "password": "sneaky"})
    assert r.status_code == 200 and "password" not in r.json()["user"]
    listed = (await client.get("/data/persons", params={"email": "ada@studio.test"}, headers=h)).json()
    assert [p["id"] for p in listed] == [ada["id"]]


async def test_role_change_and_deactivation_revoke_the_persons_tokens(client, tokens) -> None:  # type: ignore[no-untyped-def]
    from slate_common.db import transaction

    from slate_auth.domain.passwords import hash_password
    from slate_auth.models import Person

    admin = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with transaction(client.app.state.runtime.sessionmaker) as session:
        person = Person(first_name="Rita", email="rita@studio.test", role="supervisor",
                        password=hash_password("rita password"))
        session.add(person)
    login = await client.post("/auth/login", json={"email": "rita@studio.test", "password": "rita password"})
    rita = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/auth/authenticated", headers=rita)).status_code == 200
    # Editing something else keeps her session.
    assert (await client.put(f"/data/persons/{person.id}", json={"phone": "123"}, headers=admin)).status_code == 200
    assert (await client.get("/auth/authenticated", headers=rita)).status_code == 200
    assert (await client.put(f"/data/persons/{person.id}", json={"role": "user"}, headers=admin)).status_code == 200
    r = await client.get("/auth/authenticated", headers=rita)
    assert r.status_code == 401 and r.json()["msg"] == "Token has been revoked"
    login = await client.post("/auth/login", json={"email": "rita@studio.test", "password": "rita password"})
    rita = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/auth/authenticated", headers=rita)).status_code == 200
    assert (await client.put(f"/data/persons/{person.id}", json={"active": False}, headers=admin)).status_code == 200
    assert (await client.get("/auth/authenticated", headers=rita)).status_code == 401
    r = await client.post("/auth/login", json={"email": "rita@studio.test", "password": "rita password"})
    assert r.status_code == 401 and r.json()["login"] is False


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_its_family(client) -> None:  # type: ignore[no-untyped-def]
    login = (await client.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})).json()
    first = login["refresh_token"]
    r = await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {first}"})
    assert r.status_code == 200 and set(r.json()) == {"access_token", "refresh_token"}
    second, access = r.json()["refresh_token"], r.json()["access_token"]
    assert second != first
    assert any(c.startswith("refresh_token_cookie=") for c in r.headers.get_list("set-cookie"))
    r = await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {second}"})
    assert r.status_code == 200
    third, newest_access = r.json()["refresh_token"], r.json()["access_token"]
    assert (await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {newest_access}"})).status_code == 200
    # The first token again: it leaked. The whole family dies, access tokens included.
    r = await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {first}"})
    assert r.status_code == 401 and r.json()["msg"] == "Token has been revoked"
    for token in (third,):
        assert (await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    for token in (access, newest_access, login["access_token"]):
        r = await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["msg"] == "Token has been revoked"
    # Another login (another family) is untouched.
    other = (await client.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})).json()
    assert (await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {other['refresh_token']}"})).status_code == 200


async def test_a_client_that_keeps_its_first_refresh_token_stays_logged_in(client) -> None:  # type: ignore[no-untyped-def]
    """gazu reads only ``access_token`` from a refresh (Zou never rotates), so it shows the
    refresh token of its login every time: that is not a leak while no rotated token of
    the family was used."""
    login = (await client.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})).json()
    first = {"Authorization": f"Bearer {login['refresh_token']}"}
    for _ in range(3):
        r = await client.get("/auth/refresh-token", headers=first)
        assert r.status_code == 200
        access = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (await client.get("/auth/authenticated", headers=access)).status_code == 200
    # Once a rotated token is used, the first one shown again is a leak.
    assert (await client.get("/auth/refresh-token",
                             headers={"Authorization": f"Bearer {r.json()['refresh_token']}"})).status_code == 200
    assert (await client.get("/auth/refresh-token", headers=first)).status_code == 401


async def test_no_route_waits_on_the_thread_pool_for_a_dependency(client) -> None:  # type: ignore[no-untyped-def]
    """Every dependency of auth's routes (and the shared ones: session, principal,
    runtime, CRUD context) is a coroutine: none costs a thread hop per request."""
    from slate_common.app import threadpool_dependencies

    assert threadpool_dependencies(client.app) == []
