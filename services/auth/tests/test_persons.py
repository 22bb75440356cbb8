"""Persons beyond CRUD: bots and their tokens, department membership (with person:update
snapshots), department members, studios, organisations, login and desktop login logs,
the desktop app login flow, and avatars set by media."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid

import jwt
from sqlalchemy import select

from .conftest import ADMIN, login_headers, make_person

PASSWORD = "persons password"


def _admin(tokens):  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _events(client, name: str, key: str, ident: str) -> list[dict]:  # type: ignore[no-untyped-def]
    from slate_common.db import transaction

    from slate_auth.models import OutboxEvent

    async with transaction(client.app.state.runtime.sessionmaker) as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at))).all()
    out = []
    for row in rows:
        doc = json.loads(row.payload)
        if doc["name"] == name and doc["data"].get(key) == ident:
            out.append(doc["data"])
    return out


async def test_bot_token_never_expires_and_is_replaced_with_its_expiration(client, tokens) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/data/persons", json={"first_name": "Render", "last_name": "Bot", "is_bot": True,
                                                 "role": "user"}, headers=_admin(tokens))
    assert r.status_code == 201
    bot = r.json()
    token = bot["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["identity_type"] == "bot" and claims["sub"] == bot["id"]
    assert claims["exp"] - claims["iat"] > 50 * 365 * 86400  # never expires in practice
    h = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/auth/authenticated", headers=h)).json()["user"]["is_bot"] is True
    assert (await client.get("/auth/refresh-token", headers=h)).json()["msg"] == "Only refresh tokens are allowed"
    # Reads never show the token again; an unrelated change does not issue one.
    assert "access_token" not in (await client.get(f"/data/persons/{bot['id']}", headers=_admin(tokens))).json()
    r = await client.put(f"/data/persons/{bot['id']}", json={"phone": "42"}, headers=_admin(tokens))
    assert "access_token" not in r.json()
    # A new expiration date: a new token, the old one revoked everywhere.
    r = await client.put(f"/data/persons/{bot['id']}", json={"expiration_date": "2030-01-01"}, headers=_admin(tokens))
    assert r.status_code == 200
    new = r.json()["access_token"]
    assert jwt.decode(new, options={"verify_signature": False})["exp"] == 1893456000
    r = await client.get("/auth/authenticated", headers=h)
    assert r.status_code == 401 and r.json()["msg"] == "Token has been revoked"
    assert (await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {new}"})).status_code == 200
    # Deactivating a bot revokes its token.
    r = await client.put(f"/data/persons/{bot['id']}", json={"active": False}, headers=_admin(tokens))
    assert (await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {new}"})).status_code == 401
    snapshot = (await _events(client, "person:new", "person_id", bot["id"]))[0]["snapshot"]
    assert "access_token" not in snapshot and "bot_token_jti" not in snapshot


async def test_non_admins_read_the_minimal_person_and_edit_only_themselves(client, tokens) -> None:  # type: ignore[no-untyped-def]
    email = f"minimal-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    listed = (await client.get("/data/persons", headers=h)).json()
    assert listed and all(set(p) == {"id", "type", "first_name", "last_name", "full_name", "has_avatar", "active",
                                     "departments", "studio_id", "role", "desktop_login", "is_bot"} for p in listed)
    me = (await client.get(f"/data/persons/{person.id}", headers=h)).json()
    assert "email" not in me and me["full_name"] == person.full_name
    full = (await client.get(f"/data/persons/{person.id}", headers=_admin(tokens))).json()
    assert full["email"] == email and "timezone" in full
    r = await client.put(f"/data/persons/{person.id}", json={"phone": "555", "role": "admin", "active": False}, headers=h)
    assert r.status_code == 200 and r.json()["phone"] == "555" and r.json()["role"] == "user" and r.json()["active"]
    admin_id = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sub"]
    assert (await client.put(f"/data/persons/{admin_id}", json={"phone": "1"}, headers=h)).status_code == 403
    r = await client.put(f"/data/persons/{person.id}", json={"totp_enabled": True}, headers=_admin(tokens))
    assert r.status_code == 200 and r.json()["totp_enabled"] is False  # 2FA belongs to /auth routes


async def test_department_membership_emits_person_update_with_departments(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(tokens)
    dept = (await client.post("/data/departments", json={"name": f"Layout {uuid.uuid4().hex[:4]}",
                                                         "color": "#123456"}, headers=admin)).json()
    email = f"member-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, PASSWORD)
    url = f"/actions/persons/{person.id}/departments/add"
    r = await client.post(url, json={"department_id": dept["id"]}, headers=admin)
    assert r.status_code == 201 and r.json()["departments"] == [dept["id"]] and r.json()["id"] == str(person.id)
    assert (await client.post(url, json={"department_id": dept["id"]}, headers=admin)).status_code == 201
    login = (await client.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
    me = (await client.get("/auth/authenticated", headers={"Authorization": f"Bearer {login['access_token']}"})).json()
    assert me["user"]["departments"] == [dept["id"]] and me["user"]["id"] == str(person.id)
    assert me["organisation"]["type"] == "Organisation"
    r = await client.post(url, json={"department_id": str(uuid.uuid4())}, headers=admin)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "Department ID matches no department",
                                                 "data": None}
    assert (await client.post(url, json={"department_id": "bad"}, headers=admin)).status_code == 400
    h = await login_headers(client, email, PASSWORD)
    assert (await client.post(url, json={"department_id": dept["id"]}, headers=h)).status_code == 403
    members = (await client.get(f"/data/departments/{dept['id']}/persons", headers=admin)).json()
    assert [m["id"] for m in members] == [str(person.id)] and members[0]["email"] == email
    members = (await client.get(f"/data/departments/{dept['id']}/persons", headers=h)).json()
    assert [m["id"] for m in members] == [str(person.id)] and "email" not in members[0]
    assert (await client.get(f"/data/departments/{uuid.uuid4()}/persons", headers=admin)).status_code == 404
    # the departments in the person listing: an admin's with relations, nobody else's (Zou)
    listed = {p["id"]: p for p in (await client.get("/data/persons?relations=true", headers=admin)).json()}
    assert listed[str(person.id)]["departments"] == [dept["id"]]
    listed = {p["id"]: p for p in (await client.get("/data/persons", headers=admin)).json()}
    assert "departments" not in listed[str(person.id)] and listed[str(person.id)]["email"] == email
    for headers in (h, admin):
        one = (await client.get(f"/data/persons/{person.id}", headers=headers)).json()
        assert one["departments"] == [dept["id"]]
    listed = {p["id"]: p for p in (await client.get("/data/persons", headers=h)).json()}
    assert listed[str(person.id)]["departments"] == [] and "email" not in listed[str(person.id)]
    updates = await _events(client, "person:update", "person_id", str(person.id))
    assert updates[-1]["snapshot"]["departments"] == [dept["id"]] and "password" not in updates[-1]["snapshot"]
    r = await client.delete(f"/actions/persons/{person.id}/departments/{dept['id']}", headers=admin)
    assert r.status_code == 204 and r.content == b""
    assert (await client.delete(f"/actions/persons/{person.id}/departments/{dept['id']}", headers=admin)).status_code == 204
    updates = await _events(client, "person:update", "person_id", str(person.id))
    assert updates[-1]["snapshot"]["departments"] == []
    assert (await client.get(f"/data/departments/{dept['id']}/persons", headers=admin)).json() == []


async def test_studios_and_organisation_secrets(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(tokens)
    r = await client.post("/data/studios", json={"name": "Main Studio"}, headers=admin)
    assert r.status_code == 400
    r = await client.post("/data/studios", json={"name": "Main Studio", "color": "#123456"}, headers=admin)
    assert r.status_code == 201
    studio = r.json()
    assert studio["type"] == "Studio" and studio["archived"] is False
    email = f"studio-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    assert [s["id"] for s in (await client.get("/data/studios", headers=h)).json()] == [studio["id"]]
    assert (await client.post("/data/studios", json={"name": "X", "color": "#000000"}, headers=h)).status_code == 403
    assert (await client.put(f"/data/studios/{studio['id']}", json={"archived": True}, headers=admin)).json()["archived"]
    assert await _events(client, "studio:update", "studio_id", studio["id"])
    assert (await client.delete(f"/data/studios/{studio['id']}", headers=admin)).status_code == 204
    org = (await client.get("/data/organisations", headers=admin)).json()[0]
    assert org["chat_token_slack"] == "" and org["hours_by_day"] == 8.0
    r = await client.put(f"/data/organisations/{org['id']}", json={"chat_token_slack": "xoxb-secret"}, headers=admin)
    assert r.status_code == 200
    seen = (await client.get("/data/organisations", headers=h)).json()[0]
    assert "chat_token_slack" not in seen and "chat_token_discord" not in seen and seen["name"] == org["name"]


async def test_login_logs_and_desktop_login_logs(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(tokens)
    email = f"logs-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, PASSWORD)
    assert (await client.post("/auth/login", json={"email": email, "password": "wrong"})).status_code == 400
    h = await login_headers(client, email, PASSWORD)
    assert (await client.get("/data/events/login-logs/last", headers=h)).status_code == 403
    rows = (await client.get("/data/events/login-logs/last", params={"person_ids": str(person.id)}, headers=admin)).json()
    assert len(rows) == 1 and set(rows[0]) == {"id", "created_at", "ip_address", "person_id", "origin"}
    assert rows[0]["origin"] == "script" and rows[0]["person_id"] == str(person.id)
    from slate_common.db import transaction

    from slate_auth.models import LoginLog

    async with transaction(client.app.state.runtime.sessionmaker) as session:
        attempts = (await session.scalars(select(LoginLog).where(LoginLog.person_id == person.id))).all()
    assert sorted(a.success for a in attempts) == [False, True]  # every attempt is kept
    latest = (await client.get("/data/events/login-logs/last", params={"limit": 1}, headers=admin)).json()
    assert len(latest) == 1

    r = await client.post("/data/user/desktop-login-logs", json={}, headers=h)
    assert r.status_code == 201 and r.json()["type"] == "DesktopLoginLog" and r.json()["person_id"] == str(person.id)
    r = await client.post(f"/data/persons/{person.id}/desktop-login-logs", json={"date": "2026-11-20"}, headers=h)
    assert r.status_code == 201 and r.json()["date"] == "2026-11-20T00:00:00"
    assert (await client.post(f"/data/persons/{person.id}/desktop-login-logs", json={"date": "garbage"},
                              headers=h)).status_code == 400
    assert (await client.post(f"/data/persons/{person.id}/desktop-login-logs", json={}, headers=h)).status_code == 400
    mine = (await client.get("/data/user/desktop-login-logs", headers=h)).json()
    assert len(mine) == 2 and mine[0]["date"] > mine[1]["date"]
    assert (await client.get(f"/data/persons/{person.id}/desktop-login-logs", headers=admin)).json() == mine
    admin_id = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sub"]
    assert (await client.get(f"/data/persons/{admin_id}/desktop-login-logs", headers=h)).status_code == 403
    # a manager reads anyone's, as Zou answers; a supervisor does not
    for role, status in (("manager", 200), ("supervisor", 403)):
        email = f"{role}-logs-{uuid.uuid4().hex[:6]}@studio.test"
        await make_person(client, email, "a password", role=role)
        other = await login_headers(client, email, "a password")
        r = await client.get(f"/data/persons/{person.id}/desktop-login-logs", headers=other)
        assert r.status_code == status, role
        if status == 200:
            assert r.json() == mine


async def test_desktop_app_login_with_pkce(client) -> None:  # type: ignore[no-untyped-def]
    email = f"app-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    verifier = base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    r = await client.post("/auth/app-login/code", json={"code_challenge": "short"}, headers=h)
    assert r.status_code == 400 and "String should match pattern" in r.json()["data"]["errors"][0]["message"]
    assert (await client.post("/auth/app-login/code", json={"code_challenge": challenge})).status_code == 401
    r = await client.post("/auth/app-login/code", json={"code_challenge": challenge}, headers=h)
    assert r.status_code == 201 and set(r.json()) == {"code"}
    code = r.json()["code"]
    r = await client.post("/auth/app-login/token", json={"code": code, "code_verifier": verifier})
    assert r.status_code == 200 and r.json()["login"] is True and r.json()["user"]["email"] == email
    assert not r.headers.get_list("set-cookie")
    app_h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get("/auth/authenticated", headers=app_h)).status_code == 200
    r = await client.post("/auth/app-login/token", json={"code": code, "code_verifier": verifier})
    assert r.status_code == 400 and r.json() == {"login": False, "message": "Wrong or expired code."}
    # A wrong verifier spends the code.
    code = (await client.post("/auth/app-login/code", json={"code_challenge": challenge}, headers=h)).json()["code"]
    r = await client.post("/auth/app-login/token", json={"code": code, "code_verifier": "x" * 43})
    assert r.status_code == 400 and r.json()["message"] == "Wrong or expired code."
    r = await client.post("/auth/app-login/token", json={"code": code, "code_verifier": verifier})
    assert r.status_code == 400


async def test_avatar_update_from_media_flips_has_avatar(client, tokens) -> None:  # type: ignore[no-untyped-def]
    from slate_common.bus import event_subject
    from slate_common.events.envelope import Event

    email = f"avatar-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, PASSWORD)
    org = (await client.get("/data/organisations", headers=_admin(tokens))).json()[0]
    js = client.app.state.runtime.js
    for kind, ident in (("person", str(person.id)), ("organisation", org["id"])):
        event = Event(name="avatar:update", data={"kind": kind, "id": ident, "has_avatar": True})
        await js.publish(event_subject("media", "avatar:update"), event.to_json(), headers={"Nats-Msg-Id": str(event.id)})

    async def flipped() -> bool:
        p = (await client.get(f"/data/persons/{person.id}", headers=_admin(tokens))).json()
        o = (await client.get(f"/data/organisations/{org['id']}", headers=_admin(tokens))).json()
        return bool(p["has_avatar"] and o["has_avatar"])

    for _ in range(100):
        if await flipped():
            break
        await asyncio.sleep(0.1)
    assert await flipped()
    updates = await _events(client, "person:update", "person_id", str(person.id))
    assert updates[-1]["snapshot"]["has_avatar"] is True
    assert (await _events(client, "organisation:update", "organisation_id", org["id"]))[-1]["snapshot"]["has_avatar"]
    assert ADMIN


async def test_person_creation_is_validated_like_zou(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(tokens)
    email = f"valid-{uuid.uuid4().hex[:6]}@studio.test"
    cases = [
        ({"first_name": "X", "email": "not-an-email"}, "An email address must have an @-sign."),
        ({"first_name": "X", "email": email, "role": "emperor"}, "Invalid role"),
        ({"first_name": "X", "email": email, "contract_type": "bad"}, "Invalid contract_type"),
    ]
    for body, message in cases:
        r = await client.post("/data/persons", json=body, headers=admin)
        assert r.status_code == 400 and r.json() == {"error": True, "message": message, "data": None}
    assert (await client.post("/data/persons", json={"first_name": "X", "email": email}, headers=admin)).status_code == 201
    r = await client.post("/data/persons", json={"first_name": "Y", "email": email.upper()}, headers=admin)
    assert r.status_code == 400 and r.json()["message"] == "Email already in use."
    other = (await client.post("/data/persons", json={"first_name": "Z", "email": "z" + email}, headers=admin)).json()
    r = await client.put(f"/data/persons/{other['id']}", json={"email": email}, headers=admin)
    assert r.status_code == 400 and r.json()["message"] == "Email already in use."
    r = await client.put(f"/data/persons/{other['id']}", json={"email": "z" + email}, headers=admin)
    assert r.status_code == 200


async def test_a_password_given_at_creation_is_stored_hashed_and_never_shown(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(tokens)
    email = f"with-password-{uuid.uuid4().hex[:6]}@studio.test"
    body = {"first_name": "P", "last_name": "W", "email": email, "password": "created with a password"}
    r = await client.post("/data/persons", json=body, headers=admin)
    assert r.status_code == 201 and "password" not in r.json()
    login = await client.post("/auth/login", json={"email": email, "password": "created with a password"})
    assert login.status_code == 200 and login.json()["login"] is True
    # Afterwards the CRUD route does not change it: that is the password routes' job.
    person_id = r.json()["id"]
    r = await client.put(f"/data/persons/{person_id}", json={"password": "changed through crud"}, headers=admin)
    assert r.status_code == 200 and "password" not in r.json()
    assert (await client.post("/auth/login", json={"email": email, "password": "changed through crud"})).status_code == 400
    assert (await client.post("/auth/login", json={"email": email, "password": "created with a password"})).status_code == 200


async def test_a_person_takes_departments_at_creation_and_on_update(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """As Zou: ``departments`` in the body is stored, answered and carried by person:* events;
    a malformed id is refused with Zou's 400 and nothing is created."""
    admin = _admin(tokens)
    a = (await client.post("/data/departments", json={"name": f"Anim {uuid.uuid4().hex[:4]}", "color": "#111111"},
                           headers=admin)).json()
    b = (await client.post("/data/departments", json={"name": f"FX {uuid.uuid4().hex[:4]}", "color": "#222222"},
                           headers=admin)).json()
    tag = uuid.uuid4().hex[:8]
    r = await client.post("/data/persons", json={"first_name": "Dee", "last_name": tag, "email": f"dee-{tag}@x.io",
                                                 "departments": [a["id"]]}, headers=admin)
    assert r.status_code == 201, r.text
    person = r.json()
    assert person["departments"] == [a["id"]]
    assert (await client.get(f"/data/persons/{person['id']}", headers=admin)).json()["departments"] == [a["id"]]
    new = await _events(client, "person:new", "person_id", person["id"])
    assert new[-1]["snapshot"]["departments"] == [a["id"]]
    r = await client.put(f"/data/persons/{person['id']}", json={"departments": [b["id"]]}, headers=admin)
    assert r.status_code == 200 and r.json()["departments"] == [b["id"]]
    updates = await _events(client, "person:update", "person_id", person["id"])
    assert updates[-1]["snapshot"]["departments"] == [b["id"]]
    # an id naming no department is left out, as the oracle does
    r = await client.put(f"/data/persons/{person['id']}", json={"departments": [b["id"], str(uuid.uuid4())]},
                         headers=admin)
    assert r.status_code == 200 and r.json()["departments"] == [b["id"]]
    for bad in (["not-an-id"], "x"):
        email = f"bad-{uuid.uuid4().hex[:6]}@x.io"
        r = await client.post("/data/persons", json={"first_name": "Bad", "last_name": "Dep", "email": email,
                                                     "departments": bad}, headers=admin)
        assert r.status_code == 400 and r.json() == {"message": "One of the provided values has an invalid format."}
        listed = (await client.get("/data/persons", params={"email": email}, headers=admin)).json()
        assert listed == []


async def test_a_second_organisation_of_the_same_name_is_refused(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """Zou's organisation names are unique: a POST of the existing name is a 400 in the
    shape of its integrity errors (``{"message"}`` alone); another name is created."""
    admin = _admin(tokens)
    org = (await client.get("/data/organisations", headers=admin)).json()[0]
    r = await client.post("/data/organisations", json={"name": org["name"]}, headers=admin)
    assert r.status_code == 400 and list(r.json()) == ["message"]
    assert len((await client.get("/data/organisations", headers=admin)).json()) == 1
    other = f"Org {uuid.uuid4().hex[:6]}"
    r = await client.post("/data/organisations", json={"name": other}, headers=admin)
    assert r.status_code == 201 and r.json()["name"] == other
    assert (await client.delete(f"/data/organisations/{r.json()['id']}", headers=admin)).status_code == 204


async def test_what_each_role_reads_of_persons_as_on_the_oracle(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """Observed on Zou 1.0.97: a manager reads one person whole; listings give non-admins
    minimal rows with an empty ``departments``; a client's rows lack departments, studio
    and desktop login; the chat tokens of the organisation are not in a non-admin's login."""
    admin = _admin(tokens)
    dep = (await client.post("/data/departments", json={"name": f"D {uuid.uuid4().hex[:6]}", "color": "#111111"},
                             headers=admin)).json()
    target = await make_person(client, f"target-{uuid.uuid4().hex[:6]}@studio.test")
    r = await client.post(f"/actions/persons/{target.id}/departments/add", json={"department_id": dep["id"]}, headers=admin)
    assert r.status_code in (200, 201), r.text
    heads, people = {}, {}
    for role in ("manager", "user", "client"):
        email = f"{role}-{uuid.uuid4().hex[:6]}@studio.test"
        people[role] = await make_person(client, email, PASSWORD, role=role)
        r = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200
        assert "chat_token_slack" not in r.json()["organisation"] and r.json()["user"]["last_presence"] is None
        heads[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    one = (await client.get(f"/data/persons/{target.id}", headers=heads["manager"])).json()
    assert one["email"] == target.email and one["departments"] == [dep["id"]] and "timezone" in one
    for role in ("manager", "user"):
        row = next(p for p in (await client.get("/data/persons", headers=heads[role])).json() if p["id"] == str(target.id))
        assert row["departments"] == [] and "email" not in row
    assert (await client.get(f"/data/persons/{target.id}", headers=admin)).json()["departments"] == [dep["id"]]
    # a client reads others only in a team of theirs (production's teams: tests/e2e/test_client_persons.py)
    seen = (await client.get(f"/data/persons/{people['client'].id}", headers=heads["client"])).json()
    assert not {"departments", "studio_id", "desktop_login", "email"} & set(seen) and seen["full_name"]
    authed = (await client.get("/auth/authenticated", headers=heads["user"])).json()
    assert "chat_token_discord" not in authed["organisation"]
    assert "chat_token_discord" in (await client.get("/auth/authenticated", headers=admin)).json()["organisation"]


async def test_last_presence_is_the_date_of_the_last_desktop_login(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """Zou leaves last_presence alone at login; a desktop login log sets it to its date."""
    email = f"presence-{uuid.uuid4().hex[:6]}@studio.test"
    person = await make_person(client, email, PASSWORD)
    h = await login_headers(client, email, PASSWORD)
    assert (await client.get(f"/data/persons/{person.id}", headers=_admin(tokens))).json()["last_presence"] is None
    r = await client.post(f"/data/persons/{person.id}/desktop-login-logs", json={"date": "2026-12-02T10:00:00"}, headers=h)
    assert r.status_code == 201
    assert (await client.get(f"/data/persons/{person.id}", headers=_admin(tokens))).json()["last_presence"] == "2026-12-02"
    updates = await _events(client, "person:update", "person_id", str(person.id))
    assert updates and updates[-1]["snapshot"]["last_presence"] == "2026-12-02"


async def test_minimal_rows_are_the_full_rows_cut_down(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """serialize_persons with ``fields`` answers exactly those keys of the full row."""
    from sqlalchemy import select

    from slate_common.db import transaction

    from slate_auth.domain.identity import MINIMAL_PERSON_FIELDS, serialize_persons
    from slate_auth.models import Person

    async with transaction(client.app.state.runtime.sessionmaker) as session:
        persons = list((await session.scalars(select(Person))).all())
        full = await serialize_persons(session, persons=persons)
        minimal = await serialize_persons(session, persons=persons, fields=MINIMAL_PERSON_FIELDS)
    assert persons and minimal == [{k: row[k] for k in MINIMAL_PERSON_FIELDS} for row in full]


async def test_non_admin_listing_from_plain_rows_is_the_minimal_rows(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """A non-admin's /data/persons is written from plain rows: the same rows, keys in the
    same order and values, as the minimal rows of the Person objects (departments empty),
    for an artist. (A client's listing asks production for their teams' people: with a
    stack, tests/e2e/test_client_persons.py and the differential's client rows.)"""
    from sqlalchemy import select

    from slate_common.db import transaction

    from slate_auth.domain.identity import MINIMAL_PERSON_FIELDS, serialize_persons
    from slate_auth.hooks import CLIENT_HIDDEN_PERSON_FIELDS
    from slate_auth.models import Person

    for role in ("user",):
        email = f"plain-{role}-{uuid.uuid4().hex[:6]}@studio.test"
        await make_person(client, email, PASSWORD, role=role)
        listed = (await client.get("/data/persons", headers=await login_headers(client, email, PASSWORD))).json()
        fields = MINIMAL_PERSON_FIELDS if role == "user" else tuple(
            f for f in MINIMAL_PERSON_FIELDS if f not in CLIENT_HIDDEN_PERSON_FIELDS)
        async with transaction(client.app.state.runtime.sessionmaker) as session:
            persons = list((await session.scalars(select(Person).where(Person.preview_project_id.is_(None))
                                                  .order_by(Person.created_at))).all())
            expected = await serialize_persons(session, persons=persons, fields=fields)
        for row in expected:
            if "departments" in row:
                row["departments"] = []
        assert len(listed) == len(expected) > 1
        assert {r["id"]: list(r.items()) for r in listed} == {r["id"]: list(r.items()) for r in expected}, role
        assert email not in str(listed) and listed[0]["type"] == "Person"
    full = (await client.get("/data/persons", headers=_admin(tokens))).json()
    assert any(p.get("email") == email for p in full) and "departments" not in full[0]


async def test_a_kept_listing_follows_every_change_of_a_person(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """A non-admin's /data/persons is answered again from its last body while the person
    table is unchanged (PersonHooks.listing_stamp): any committed change shows at the
    next request, whichever process or statement made it (a raw UPDATE that leaves
    updated_at alone too), and so do a new person and a deleted one."""
    from sqlalchemy import event, text

    from slate_common.db import transaction

    email = f"kept-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, email, PASSWORD)
    headers = await login_headers(client, email, PASSWORD)
    listings: list[str] = []  # the listing's own statement (the stamp's is not an ORM one)

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT person.") and "ORDER BY" in statement:
            listings.append(statement)

    engine = client.app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        first = await client.get("/data/persons", headers=headers)
        built = len(listings)
        again = await client.get("/data/persons", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert first.status_code == again.status_code == 200 and again.content == first.content
    assert built == 1 and len(listings) == 1  # the second answer is the kept body
    assert again.headers["content-type"] == "application/json"
    me = next(p for p in first.json() if p["first_name"] == email.split("@")[0].title())

    r = await client.put(f"/data/persons/{me['id']}", json={"first_name": "Changed"}, headers=_admin(tokens))
    assert r.status_code == 200
    assert next(p for p in (await client.get("/data/persons", headers=headers)).json() if p["id"] == me["id"])["first_name"] == "Changed"

    async with transaction(client.app.state.runtime.sessionmaker) as session:  # no updated_at, no event
        await session.execute(text("UPDATE person SET last_name = 'Renamed' WHERE id = :i"), {"i": me["id"]})
    listed = (await client.get("/data/persons", headers=headers)).json()
    assert next(p for p in listed if p["id"] == me["id"])["full_name"].endswith("Renamed")

    other = f"kept-other-{uuid.uuid4().hex[:6]}@studio.test"
    await make_person(client, other, PASSWORD)
    listed = (await client.get("/data/persons", headers=headers)).json()
    added = [p for p in listed if p["first_name"] == other.split("@")[0].title()]
    assert len(listed) == len(first.json()) + 1 and len(added) == 1
    async with transaction(client.app.state.runtime.sessionmaker) as session:
        await session.execute(text("DELETE FROM person WHERE id = :i"), {"i": added[0]["id"]})
    assert [p["id"] for p in (await client.get("/data/persons", headers=headers)).json()] == [p["id"] for p in first.json()]
    # a filter is never answered from the kept body
    filtered = (await client.get("/data/persons", params={"last_name": "Renamed"}, headers=headers)).json()
    assert [p["id"] for p in filtered] == [me["id"]]


async def test_a_person_changed_without_an_event_emits_identity_change(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """The gateway keeps /auth/authenticated's answers until an auth event: a transaction that
    changes a person and emits nothing gets identity:change; one that emitted already, or that
    changes nothing of a person, gets none; GET /auth/authenticated marks how long its answer
    stands, and a logout emits identity:change."""
    from slate_common.db import transaction
    from slate_common.events import emit
    from slate_common.events.models import OutboxEvent

    from slate_auth.models import Person

    sessionmaker = client.app.state.runtime.sessionmaker
    person = await make_person(client, f"identity-{uuid.uuid4().hex[:8]}@studio.test")

    async def emitted(change) -> list[str]:  # type: ignore[no-untyped-def]
        async with transaction(sessionmaker) as session:
            start = (await session.scalar(select(OutboxEvent.seq).order_by(OutboxEvent.seq.desc()).limit(1))) or 0
            await change(session, await session.get(Person, person.id))
        async with sessionmaker() as session:
            return list((await session.scalars(select(OutboxEvent.subject).where(OutboxEvent.seq > start))).all())

    async def rename(session, row) -> None:  # type: ignore[no-untyped-def]
        row.phone = uuid.uuid4().hex[:8]

    async def rename_with_event(session, row) -> None:  # type: ignore[no-untyped-def]
        emit(session, name="person:update", data={"person_id": str(row.id), "snapshot": {}})
        row.phone = uuid.uuid4().hex[:8]

    async def read_only(session, row) -> None:  # type: ignore[no-untyped-def]
        assert row.email

    assert await emitted(rename) == ["slate.events.auth.identity.change"]
    assert await emitted(rename_with_event) == ["slate.events.auth.person.update"]
    assert await emitted(read_only) == []
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    client.cookies.clear()
    r = await client.get("/auth/authenticated", headers=headers)
    assert r.status_code == 200 and int(r.headers["slate-answer-until"]) > time.time()
    async with sessionmaker() as session:
        start = await session.scalar(select(OutboxEvent.seq).order_by(OutboxEvent.seq.desc()).limit(1))
    assert (await client.get("/auth/logout", headers=headers)).status_code == 200
    async with sessionmaker() as session:
        subjects = (await session.scalars(select(OutboxEvent.subject).where(OutboxEvent.seq > start))).all()
    assert list(subjects) == ["slate.events.auth.identity.change"]
