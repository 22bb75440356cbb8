"""Auth flows through the gateway against the whole running suite: password changes and
resets (mail read from the stack's SMTP sink) and refresh token reuse refused by every
service within a second, two-factor logins, bots, department membership reaching
production's replica, avatars set in media reaching auth."""

from __future__ import annotations

import io
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pyotp
from PIL import Image

from .conftest import db_fetch, login, refused_everywhere_within_a_second


async def _new_person(api, admin, password: str, **fields):  # type: ignore[no-untyped-def]
    email = f"e2e-{uuid.uuid4().hex[:8]}@studio.test"
    r = await api.post("/data/persons", json={"first_name": "E2e", "last_name": "Person", "email": email,
                                              "role": "user", **fields}, headers=admin)
    assert r.status_code == 201, r.text
    person = r.json()
    r = await api.post(f"/actions/persons/{person['id']}/change-password",
                       json={"password": password, "password_2": password}, headers=admin)
    assert r.status_code == 200, r.text
    return person


async def test_password_change_is_refused_by_every_service_within_a_second(api, admin) -> None:  # type: ignore[no-untyped-def]
    person = await _new_person(api, admin, "first password")
    body = await login(api, person["email"], "first password")
    h = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await api.get("/data/projects", headers=h)).status_code == 200
    r = await api.post("/auth/change-password", json={"old_password": "first password", "password": "second password",
                                                       "password_2": "second password"}, headers=h)
    assert r.status_code == 200
    await refused_everywhere_within_a_second(api, h)
    r = await api.get("/auth/refresh-token", headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert r.status_code == 401
    await login(api, person["email"], "second password")


async def test_reset_by_mail_from_the_stack_sink(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    person = await _new_person(api, admin, "forgotten password")
    body = await login(api, person["email"], "forgotten password")
    h = {"Authorization": f"Bearer {body['access_token']}"}
    r = await api.post("/auth/reset-password", json={"email": person["email"]})
    assert r.status_code == 200 and r.json() == {"success": "Reset token sent"}
    mail = stack.mailbox.wait_for(person["email"], timeout=15)[-1]
    link = re.search(r"\S+/reset-change-password\?\S+", stack.mailbox.text(mail)).group(0)  # type: ignore[union-attr]
    token = parse_qs(urlsplit(link).query)["token"][0]
    r = await api.put("/auth/reset-password", json={"email": person["email"], "token": token,
                                                     "password": "remembered password", "password2": "remembered password"})
    assert r.status_code == 200
    await refused_everywhere_within_a_second(api, h)
    await login(api, person["email"], "remembered password")


async def test_refresh_token_reuse_revokes_the_family_everywhere(api, admin) -> None:  # type: ignore[no-untyped-def]
    person = await _new_person(api, admin, "refresh password")
    body = await login(api, person["email"], "refresh password")
    stolen = {"Authorization": f"Bearer {body['refresh_token']}"}
    r = await api.get("/auth/refresh-token", headers=stolen)
    assert r.status_code == 200
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await api.get("/data/projects", headers=h)).status_code == 200
    # The rightful client moves on with the rotated token...
    r = await api.get("/auth/refresh-token", headers={"Authorization": f"Bearer {r.json()['refresh_token']}"})
    assert r.status_code == 200
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    # ...so the spent one shown again has leaked: the family dies everywhere.
    assert (await api.get("/auth/refresh-token", headers=stolen)).status_code == 401
    await refused_everywhere_within_a_second(api, h)
    assert (await api.get("/auth/refresh-token",
                          headers={"Authorization": f"Bearer {r.json()['refresh_token']}"})).status_code == 401


async def test_two_factor_logins_through_the_gateway(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    person = await _new_person(api, admin, "2fa password")
    body = await login(api, person["email"], "2fa password")
    h = {"Authorization": f"Bearer {body['access_token']}"}
    secret = (await api.put("/auth/totp", headers=h)).json()["otp_secret"]
    r = await api.post("/auth/totp", json={"totp": pyotp.TOTP(secret).now()}, headers=h)
    codes = r.json()["otp_recovery_codes"]
    assert (await api.put("/auth/email-otp", headers=h)).status_code == 200
    mail = stack.mailbox.wait_for(person["email"], timeout=15)[-1]
    code = re.search(r"code is (\d{6})\b", stack.mailbox.text(mail)).group(1)  # type: ignore[union-attr]
    assert (await api.post("/auth/email-otp", json={"email_otp": code}, headers=h)).status_code == 200

    creds = {"email": person["email"], "password": "2fa password"}
    r = await api.post("/auth/login", json=creds)
    assert r.status_code == 400 and r.json()["two_factor_authentication_enabled"] == ["recovery_code", "totp", "email_otp"]
    r = await api.post("/auth/login", json={**creds, "totp": pyotp.TOTP(secret).now()})
    assert r.status_code == 200
    assert (await api.get("/data/projects", headers={"Authorization": f"Bearer {r.json()['access_token']}"})).status_code == 200
    assert (await api.get("/auth/email-otp", params={"email": person["email"]})).status_code == 200
    mail = stack.mailbox.wait_for(person["email"], count=2, timeout=15)[-1]
    code = re.search(r"code is (\d{6})\b", stack.mailbox.text(mail)).group(1)  # type: ignore[union-attr]
    assert (await api.post("/auth/login", json={**creds, "email_otp": code})).status_code == 200
    assert (await api.post("/auth/login", json={**creds, "recovery_code": codes[0]})).status_code == 200
    assert (await api.post("/auth/login", json={**creds, "recovery_code": codes[0]})).status_code == 400
    r = await api.delete(f"/actions/persons/{person['id']}/disable-two-factor-authentication", headers=admin)
    assert r.status_code == 200
    assert (await api.post("/auth/login", json=creds)).status_code == 200


async def test_bot_token_works_in_other_services_until_replaced(api, admin) -> None:  # type: ignore[no-untyped-def]
    r = await api.post("/data/persons", json={"first_name": "Farm", "last_name": "Bot", "is_bot": True,
                                              "role": "manager"}, headers=admin)
    bot = r.json()
    h = {"Authorization": f"Bearer {bot['access_token']}"}
    assert (await api.get("/data/projects", headers=h)).status_code == 200
    r = await api.put(f"/data/persons/{bot['id']}", json={"expiration_date": "2031-01-01"}, headers=admin)
    await refused_everywhere_within_a_second(api, h)
    assert (await api.get("/data/projects", headers={"Authorization": f"Bearer {r.json()['access_token']}"})).status_code == 200


async def test_department_membership_reaches_production(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    dept = (await api.post("/data/departments", json={"name": f"Comp {uuid.uuid4().hex[:4]}", "color": "#112233"},
                           headers=admin)).json()
    person = await _new_person(api, admin, "dept password")
    r = await api.post(f"/actions/persons/{person['id']}/departments/add", json={"department_id": dept["id"]},
                       headers=admin)
    assert r.status_code == 201
    pid, did = uuid.UUID(person["id"]), uuid.UUID(dept["id"])
    sql = "select department_id from department_person_link where person_id=$1"
    # applied by production's replica before auth answered (docs/consistency.md): no polling
    rows = await db_fetch(stack, "slate_production", sql, pid)
    assert [r["department_id"] for r in rows] == [did]
    assert (await api.delete(f"/actions/persons/{person['id']}/departments/{dept['id']}", headers=admin)).status_code == 204
    assert await db_fetch(stack, "slate_production", sql, pid) == []


async def test_avatar_set_in_media_reaches_auth(api, admin) -> None:  # type: ignore[no-untyped-def]
    person = await _new_person(api, admin, "avatar password")
    body = await login(api, person["email"], "avatar password")
    h = {"Authorization": f"Bearer {body['access_token']}"}
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, "PNG")
    r = await api.post(f"/pictures/thumbnails/persons/{person['id']}", headers=h,
                       files={"file": ("me.png", buf.getvalue(), "image/png")})
    assert r.status_code == 201, r.text

    # media -> avatar:update -> auth, applied before media answered
    assert (await api.get(f"/data/persons/{person['id']}", headers=admin)).json()["has_avatar"] is True
