"""Two-factor authentication as Zou exposes it: TOTP, email OTP (mailed through a real
SMTP sink), recovery codes, the login's second step, and the admin's switch."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest

from .conftest import ADMIN, login_headers, make_person

PASSWORD = "two factor password"


def _code_from(mailbox, address: str, count: int) -> str:  # type: ignore[no-untyped-def]
    mails = mailbox.wait_for(address, count=count)
    match = re.search(r"code is (\d{6})\b", mailbox.text(mails[-1]))
    assert match, mailbox.text(mails[-1])
    return match.group(1)


async def _enable_totp(client, h):  # type: ignore[no-untyped-def]
    r = await client.put("/auth/totp", headers=h)
    assert r.status_code == 200, r.text
    secret = r.json()["otp_secret"]
    r = await client.post("/auth/totp", json={"totp": pyotp.TOTP(secret).now()}, headers=h)
    assert r.status_code == 200, r.text
    return secret, r.json()


@pytest.mark.slow
async def test_totp_enable_login_and_disable(client) -> None:  # type: ignore[no-untyped-def]
    email = f"totp-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    r = await client.put("/auth/totp", headers=h)
    body = r.json()
    assert r.status_code == 200 and set(body) == {"totp_provisionning_uri", "otp_secret"}
    assert body["totp_provisionning_uri"].startswith("otpauth://totp/Kitsu%20Kitsu:")
    assert f"secret={body['otp_secret']}" in body["totp_provisionning_uri"]
    r = await client.post("/auth/totp", json={"totp": "000000"}, headers=h)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "TOTP verification failed.", "wrong_OTP": True}
    r = await client.post("/auth/totp", json={}, headers=h)
    assert r.status_code == 400 and r.json()["data"]["errors"] == [{"field": "totp", "message": "Field required"}]
    totp = pyotp.TOTP(body["otp_secret"])
    r = await client.post("/auth/totp", json={"totp": totp.now()}, headers=h)
    assert r.status_code == 200
    enabled = r.json()
    assert set(enabled) == {"otp_recovery_codes", "access_token", "refresh_token"}
    assert len(enabled["otp_recovery_codes"]) == 16 and all(len(c) == 10 for c in enabled["otp_recovery_codes"])
    assert (await client.put("/auth/totp", headers=h)).json() == {"error": True, "message": "TOTP already enabled."}
    me = (await client.get("/auth/authenticated", headers=h)).json()["user"]
    assert me["totp_enabled"] is True and me["preferred_two_factor_authentication"] == "totp"

    # Login now asks for the second factor.
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 400 and r.json() == {
        "error": True, "login": False, "missing_OTP": True,
        "message": "A two-factor authentication code is required.",
        "preferred_two_factor_authentication": "totp",
        "two_factor_authentication_enabled": ["recovery_code", "totp"],
    }
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD, "email_otp": "123456"})
    assert r.status_code == 400 and r.json()["missing_OTP"] is True  # a method not enabled counts as missing
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD, "totp": "000000"})
    assert r.status_code == 400 and r.json() == {"error": True, "login": False, "wrong_OTP": True,
                                                 "message": "Wrong two-factor authentication code."}
    r = await client.post("/auth/login", json={"email": email, "password": "wrong", "totp": totp.now()})
    assert r.status_code == 400 and r.json() == {"login": False, "message": "Wrong email or password."}
    r = await client.post("/auth/login", json={"email": email, "password": PASSWORD, "totp": totp.now()})
    assert r.status_code == 200 and r.json()["login"] is True

    # Disabling needs a second factor.
    r = await client.request("DELETE", "/auth/totp", json={"totp": "000000"}, headers=h)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "OTP verification failed.", "wrong_OTP": True}
    r = await client.request("DELETE", "/auth/totp", json={"totp": totp.now()}, headers=h)
    assert r.status_code == 200 and r.json() == {"success": True}
    me = (await client.get("/auth/authenticated", headers=h)).json()["user"]
    assert me["totp_enabled"] is False and me["preferred_two_factor_authentication"] is None
    assert (await client.request("DELETE", "/auth/totp", json={}, headers=h)).json()["message"] == "TOTP not enabled."
    assert (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 200


@pytest.mark.slow
async def test_recovery_codes_work_once_and_can_be_renewed(client) -> None:  # type: ignore[no-untyped-def]
    email = f"recovery-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    r = await client.put("/auth/recovery-codes", json={}, headers=h)
    assert r.status_code == 400 and r.json()["message"] == "No two factor authentication enabled."
    secret, enabled = await _enable_totp(client, h)
    codes = enabled["otp_recovery_codes"]
    creds = {"email": email, "password": PASSWORD}
    r = await client.post("/auth/login", json={**creds, "recovery_code": codes[0]})
    assert r.status_code == 200 and r.json()["login"] is True
    r = await client.post("/auth/login", json={**creds, "recovery_code": codes[0]})
    assert r.status_code == 400 and r.json()["wrong_OTP"] is True
    assert (await client.post("/auth/login", json={**creds, "recovery_code": codes[1].lower()})).status_code == 200
    # New codes need a second factor and replace the old ones.
    r = await client.put("/auth/recovery-codes", json={}, headers=h)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "OTP verification failed.", "wrong_OTP": True}
    r = await client.put("/auth/recovery-codes", json={"totp": pyotp.TOTP(secret).now()}, headers=h)
    assert r.status_code == 200
    fresh = r.json()["otp_recovery_codes"]
    assert len(fresh) == 16 and not set(fresh) & set(codes)
    assert (await client.post("/auth/login", json={**creds, "recovery_code": codes[2]})).status_code == 400
    assert (await client.post("/auth/login", json={**creds, "recovery_code": fresh[0]})).status_code == 200


@pytest.mark.slow
async def test_email_otp_through_the_smtp_sink(client, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    email = f"mailotp-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    r = await client.put("/auth/email-otp", headers=h)
    assert r.status_code == 200 and r.json() == {"success": True}
    code = _code_from(smtp_sink, email, 1)
    wrong = "000000" if code != "000000" else "111111"
    r = await client.post("/auth/email-otp", json={"email_otp": wrong}, headers=h)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "OTP by email verification failed.",
                                                 "wrong_OTP": True}
    r = await client.post("/auth/email-otp", json={"email_otp": code}, headers=h)
    assert r.status_code == 200 and len(r.json()["otp_recovery_codes"]) == 16
    r = await client.post("/auth/email-otp", json={"email_otp": code}, headers=h)
    assert r.json()["message"] == "OTP by email already enabled."

    creds = {"email": email, "password": PASSWORD}
    r = await client.post("/auth/login", json=creds)
    assert r.json()["two_factor_authentication_enabled"] == ["recovery_code", "email_otp"]
    assert r.json()["preferred_two_factor_authentication"] == "email_otp"
    # Asking for a code answers the same for unknown addresses; only a real one gets mail.
    assert (await client.get("/auth/email-otp", params={"email": "nobody@studio.test"})).json() == {"success": True}
    r = await client.get("/auth/email-otp")
    assert r.status_code == 400 and r.json() == {"error": True, "message": "Missing required parameter: email", "data": None}
    assert (await client.get("/auth/email-otp", params={"email": email})).json() == {"success": True}
    code = _code_from(smtp_sink, email, 2)
    r = await client.post("/auth/login", json={**creds, "email_otp": code})
    assert r.status_code == 200 and r.json()["login"] is True
    r = await client.post("/auth/login", json={**creds, "email_otp": code})  # spent
    assert r.status_code == 400 and r.json()["wrong_OTP"] is True
    assert smtp_sink.to(email)[-1]["From"] and "one-time code" in str(smtp_sink.to(email)[-1]["Subject"])

    # With TOTP too, either works; disabling email OTP with a TOTP code.
    secret, enabled = await _enable_totp(client, h)
    assert enabled["otp_recovery_codes"] is None  # not the first second factor
    r = await client.post("/auth/login", json=creds)
    assert r.json()["two_factor_authentication_enabled"] == ["recovery_code", "totp", "email_otp"]
    r = await client.request("DELETE", "/auth/email-otp", json={"totp": pyotp.TOTP(secret).now()}, headers=h)
    assert r.status_code == 200 and r.json() == {"success": True}
    me = (await client.get("/auth/authenticated", headers=h)).json()["user"]
    assert me["email_otp_enabled"] is False and me["preferred_two_factor_authentication"] == "totp"


async def test_admin_disables_two_factor(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = {"Authorization": f"Bearer {tokens['access_token']}"}
    email = f"lost-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    await _enable_totp(client, h)
    url = f"/actions/persons/{person.id}/disable-two-factor-authentication"
    assert (await client.delete(url, headers=h)).status_code == 403
    r = await client.delete(url, headers=admin)
    assert r.status_code == 200 and r.json() == {"success": True}
    r = await client.delete(url, headers=admin)
    assert r.status_code == 400 and r.json()["message"] == "Two factor authentication not enabled for this user."
    assert (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).status_code == 200
    other_admin = await make_person(client, f"admin2-{uuid.uuid4().hex[:6]}@studio.test", PASSWORD, role="admin",
                                    totp_enabled=True, totp_secret=pyotp.random_base32())
    r = await client.delete(f"/actions/persons/{other_admin.id}/disable-two-factor-authentication", headers=admin)
    assert r.status_code == 400 and r.json()["message"] == "An admin can't disable 2FA for other admins."
    r = await client.delete(f"/actions/persons/{uuid.uuid4()}/disable-two-factor-authentication", headers=admin)
    assert r.status_code == 404


async def test_second_factor_secrets_never_leave(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = {"Authorization": f"Bearer {tokens['access_token']}"}
    email = f"secret-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    secret, enabled = await _enable_totp(client, h)
    await client.put("/auth/email-otp", headers=h)
    forbidden = {"password", "totp_secret", "email_otp_secret", "email_otp_code", "recovery_codes",
                 "fido_credentials", "reset_token_hash", "bot_token_jti"}
    reads = [
        (await client.get(f"/data/persons/{person.id}", headers=admin)).json(),
        (await client.get("/data/persons", headers=admin)).json(),
        (await client.get(f"/data/persons/{person.id}", headers=h)).json(),
        (await client.get("/data/persons", headers=h)).json(),
        (await client.get("/auth/authenticated", headers=h)).json(),
        (await client.post("/auth/login", json={"email": email, "password": PASSWORD,
                                                "totp": pyotp.TOTP(secret).now()})).json(),
    ]
    text = repr(reads)
    assert secret not in text
    assert not any(code in text for code in enabled["otp_recovery_codes"])
    for read in reads:
        for row in read if isinstance(read, list) else [read.get("user", read)]:
            assert not forbidden & set(row), forbidden & set(row)
    assert ADMIN[0]  # the admin used above is the fixture's
