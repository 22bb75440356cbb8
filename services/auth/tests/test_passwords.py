"""Passwords: change, reset by mailed token (read from a real SMTP sink), admin side,
reset links and invitations; each new password ends every session of the person."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import login_headers, make_person

OLD = "old password 1"


def _admin(tokens):  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _token_in(text: str) -> tuple[str, str]:
    link = re.search(r"https://kitsu\.studio\.test/reset-change-password\?\S+", text)
    assert link, text
    query = parse_qs(urlsplit(link.group(0)).query)
    return query["email"][0], query["token"][0]


@pytest.mark.slow
async def test_change_own_password_rules_and_revocation(client) -> None:  # type: ignore[no-untyped-def]
    email = f"change-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, OLD)
    h = await login_headers(client, email, OLD)
    r = await client.post("/auth/change-password", json={}, headers=h)
    assert r.status_code == 400 and [e["field"] for e in r.json()["data"]["errors"]] == ["old_password", "password", "password_2"]
    cases = [
        ({"old_password": "wrong", "password": "new password", "password_2": "new password"}, "Old password is wrong."),
        ({"old_password": OLD, "password": "short", "password_2": "short"}, "Password is too short."),
        ({"old_password": OLD, "password": "new password", "password_2": "new passw0rd"},
         "Confirmation password doesn't match."),
    ]
    for body, message in cases:
        r = await client.post("/auth/change-password", json=body, headers=h)
        assert r.status_code == 400 and r.json() == {"error": True, "message": message}
    assert (await client.get("/auth/authenticated", headers=h)).status_code == 200
    r = await client.post("/auth/change-password",
                          json={"old_password": OLD, "password": "new password", "password_2": "new password"}, headers=h)
    assert r.status_code == 200 and r.json() == {"success": True}
    r = await client.get("/auth/authenticated", headers=h)
    assert r.status_code == 401 and r.json()["msg"] == "Token has been revoked"
    assert (await client.post("/auth/login", json={"email": email, "password": OLD})).status_code == 400
    await login_headers(client, email, "new password")


async def test_reset_password_by_mailed_token(client, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    email = f"reset-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, OLD)
    h = await login_headers(client, email, OLD)
    r = await client.post("/auth/reset-password", json={})
    assert r.status_code == 400 and r.json()["data"]["errors"] == [{"field": "email", "message": "Field required"}]
    for address in ("nobody@studio.test", email.upper()):
        r = await client.post("/auth/reset-password", json={"email": address})
        assert r.status_code == 200 and r.json() == {"success": "Reset token sent"}
    assert smtp_sink.to("nobody@studio.test") == []
    mail = smtp_sink.wait_for(email)[-1]
    mailed_email, token = _token_in(smtp_sink.text(mail))
    assert mailed_email == email and len(token) == 64 and "password reset" in str(mail["Subject"])

    body = {"email": email, "token": token, "password": "reset password", "password2": "reset password"}
    r = await client.put("/auth/reset-password", json={"email": email, "token": token, "password": "x",
                                                       "password_2": "x"})
    assert r.status_code == 400 and r.json()["data"]["errors"] == [{"field": "password2", "message": "Field required"}]
    r = await client.put("/auth/reset-password", json={**body, "password": "short", "password2": "short"})
    assert r.json() == {"error": True, "message": "Password is too short."}
    r = await client.put("/auth/reset-password", json={**body, "password2": "other password"})
    assert r.json() == {"error": True, "message": "Confirmation password doesn't match."}
    for wrong in ({**body, "token": "A" * 64}, {**body, "token": "é" * 64}, {**body, "email": "nobody@studio.test"}):
        r = await client.put("/auth/reset-password", json=wrong)
        assert r.status_code == 400 and r.json() == {"error": True, "message": "Wrong or expired token."}
    r = await client.put("/auth/reset-password", json=body)
    assert r.status_code == 200 and r.json() == {"success": True}
    assert (await client.get("/auth/authenticated", headers=h)).status_code == 401  # sessions ended
    r = await client.put("/auth/reset-password", json=body)  # used once
    assert r.status_code == 400 and r.json()["message"] == "Wrong or expired token."
    await login_headers(client, email, "reset password")


async def test_admin_change_password(client, tokens) -> None:  # type: ignore[no-untyped-def]
    email = f"adminset-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, OLD)
    h = await login_headers(client, email, OLD)
    url = f"/actions/persons/{person.id}/change-password"
    r = await client.post(url, json={"password": "abcdefgh", "password_2": "abcdefgi"}, headers=_admin(tokens))
    assert r.status_code == 400 and r.json()["data"]["errors"] == [
        {"field": "", "message": "Value error, Confirmation password doesn't match."}]
    r = await client.post(url, json={"password": "abcdefg", "password_2": "abcdefg"}, headers=_admin(tokens))
    assert r.status_code == 400 and r.json() == {"error": True, "message": "Password is too short."}
    assert (await client.post(url, json={"password": "abcdefgh", "password_2": "abcdefgh"}, headers=h)).status_code == 403
    r = await client.post(url, json={"password": "set by admin", "password_2": "set by admin"}, headers=_admin(tokens))
    assert r.status_code == 200 and r.json() == {"success": True}
    assert (await client.get("/auth/authenticated", headers=h)).status_code == 401
    await login_headers(client, email, "set by admin")
    r = await client.post(f"/actions/persons/{uuid.uuid4()}/change-password",
                          json={"password": "abcdefgh", "password_2": "abcdefgh"}, headers=_admin(tokens))
    assert r.status_code == 404
    # Another admin's password is theirs; a new admin without one can get a first one.
    other = await make_person(client, f"otheradmin-{uuid.uuid4().hex[:6]}@studio.test", OLD, role="admin")
    r = await client.post(f"/actions/persons/{other.id}/change-password",
                          json={"password": "abcdefgh", "password_2": "abcdefgh"}, headers=_admin(tokens))
    assert r.status_code == 400 and r.json()["message"] == "An admin can't change another admin's password."
    fresh = await make_person(client, f"newadmin-{uuid.uuid4().hex[:6]}@studio.test", None, role="admin")
    r = await client.post(f"/actions/persons/{fresh.id}/change-password",
                          json={"password": "abcdefgh", "password_2": "abcdefgh"}, headers=_admin(tokens))
    assert r.status_code == 200
    # an inactive person's password can be set too (Zou answers 200): it logs in once active again
    inactive = await make_person(client, f"inactive-{uuid.uuid4().hex[:6]}@studio.test", OLD, active=False)
    r = await client.post(f"/actions/persons/{inactive.id}/change-password",
                          json={"password": "abcdefgh", "password_2": "abcdefgh"}, headers=_admin(tokens))
    assert r.status_code == 200 and r.json() == {"success": True}


async def test_reset_link_and_invite(client, tokens, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    email = f"invited-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, None)
    r = await client.post(f"/actions/persons/{person.id}/reset-password-link", headers=_admin(tokens))
    assert r.status_code == 200 and set(r.json()) == {"reset_password_link"}
    link = r.json()["reset_password_link"]
    again = (await client.post(f"/actions/persons/{person.id}/reset-password-link", headers=_admin(tokens))).json()
    assert again["reset_password_link"] == link  # a pending link stays valid
    assert _token_in(link)[0] == email

    r = await client.get(f"/actions/persons/{person.id}/invite", headers=_admin(tokens))
    assert r.status_code == 200 and r.json() == {"success": True, "message": "Email sent"}
    mail = smtp_sink.wait_for(email)[-1]
    assert "invited" in str(mail["Subject"])
    _, token = _token_in(smtp_sink.text(mail))
    r = await client.put("/auth/reset-password", json={"email": email, "token": token, "password": "my first password",
                                                       "password2": "my first password"})
    assert r.status_code == 200
    h = await login_headers(client, email, "my first password")
    assert (await client.get(f"/actions/persons/{person.id}/invite", headers=h)).status_code == 403
    assert (await client.post(f"/actions/persons/{person.id}/reset-password-link", headers=h)).status_code == 403
    other = await make_person(client, f"adm-{uuid.uuid4().hex[:6]}@studio.test", OLD, role="admin")
    r = await client.post(f"/actions/persons/{other.id}/reset-password-link", headers=_admin(tokens))
    assert r.status_code == 400 and r.json()["message"] == "An admin can't change another admin's password."


def test_the_hash_cost_comes_from_the_settings_and_production_refuses_less_than_the_default() -> None:
    from argon2 import PasswordHasher

    from slate_auth.config import AuthSettings
    from slate_auth.domain import passwords

    session = AuthSettings()  # the tests' (conftest.py at the root): argon2id's least cost
    assert (session.password_hash_time_cost, session.password_hash_memory_kib, session.password_hash_parallelism) \
        == (1, 1024, 1)
    before = passwords._hashing
    try:
        old = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=2).hash("secret words")
        passwords.configure_hashing(time_cost=2, memory_kib=2048, parallelism=1, production=False)
        stored = passwords.hash_password("secret words")
        assert stored.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
        assert passwords.verify_password(stored, password="secret words")
        assert not passwords.verify_password(stored, password="other words")
        assert passwords.verify_password(old, password="secret words")  # a stored hash keeps its own cost
        assert not passwords.verify_password(None, password="secret words")
        with pytest.raises(RuntimeError, match="production refuses"):
            passwords.configure_hashing(time_cost=1, memory_kib=1024, parallelism=1, production=True)
        default = passwords.DEFAULT_HASHER
        passwords.configure_hashing(time_cost=default.time_cost, memory_kib=default.memory_cost,
                                    parallelism=default.parallelism, production=True)  # accepted
        assert passwords._hashing.dummy.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    finally:
        passwords._hashing = before
