"""Preview accounts through auth's NATS RPC (as production calls it) and the login
window: a client-role person with a generated password, logging in only while its
window is open; closing, resetting or deleting ends its sessions."""

from __future__ import annotations

import asyncio
import json
import uuid

import jwt
import pytest
from sqlalchemy import select

from slate_common import bus
from slate_common.errors import NotFound

from .conftest import ADMIN


async def _rpc(client, operation: str, payload):  # type: ignore[no-untyped-def]
    return await bus.request(client.app.state.runtime.nc, "auth", f"preview-account.{operation}", payload)


async def _outbox(client, person_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    from slate_common.db import transaction

    from slate_auth.models import OutboxEvent

    async with transaction(client.app.state.runtime.sessionmaker) as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at))).all()
    docs = [json.loads(row.payload) for row in rows]
    return [d for d in docs if d["data"].get("person_id") == person_id]


async def _login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    r = await client.post("/auth/login", json={"email": email, "password": password})
    client.cookies.clear()
    return r


@pytest.mark.slow
async def test_create_open_login_close_reset_delete(client) -> None:  # type: ignore[no-untyped-def]
    project_id, actor = str(uuid.uuid4()), str(uuid.uuid4())
    assert await _rpc(client, "get", {"project_id": project_id}) is None
    created = await _rpc(client, "create", {"project_id": project_id, "project_name": "Cosmos", "actor_id": actor})
    assert created["full_name"] == "Preview Cosmos" and created["preview_open_until"] is None
    assert created["email"].startswith("preview-") and created["email"].endswith("@preview.kitsu.invalid")
    assert len(created["password"]) == 16 and created["created"] is True
    password, email, person_id = created["password"], created["email"], created["id"]
    assert await _rpc(client, "get", {"project_id": project_id}) == {
        k: created[k] for k in ("id", "email", "full_name", "preview_open_until")}

    # closed: the right password gets the inactive answer, a wrong one the usual one
    r = await _login(client, email, password)
    assert r.status_code == 401 and r.json()["unactive"] is True and r.json()["login"] is False
    r = await _login(client, email, "not the password")
    assert r.status_code == 400 and r.json() == {"login": False, "message": "Wrong email or password."}

    opened = await _rpc(client, "set-open", {"project_id": project_id, "is_open": True, "actor_id": actor})
    until = opened["preview_open_until"]
    assert until is not None
    r = await _login(client, email, password)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["role"] == "client" and body["user"]["preview_project_id"] == project_id
    # no token outlives the window
    from datetime import datetime, timezone
    end = datetime.fromisoformat(until).replace(tzinfo=timezone.utc).timestamp()
    for token in (body["access_token"], body["refresh_token"]):
        assert jwt.decode(token, options={"verify_signature": False})["exp"] <= end
    h = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/auth/authenticated", headers=h)).status_code == 200
    # not listed among the persons (as Zou), still read one by one
    r = await client.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
    client.cookies.clear()
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    listed = [p["id"] for p in (await client.get("/data/persons", headers=admin)).json()]
    assert person_id not in listed and body["user"]["id"] == person_id and listed
    assert (await client.get("/data/persons", params={"id": person_id}, headers=admin)).json() == []
    one = (await client.get(f"/data/persons/{person_id}", headers=admin)).json()
    assert one["preview_project_id"] == project_id and one["preview_open_until"] is not None

    closed = await _rpc(client, "set-open", {"project_id": project_id, "is_open": False, "actor_id": actor})
    assert closed["preview_open_until"] is None
    r = await client.get("/auth/authenticated", headers=h)
    assert r.status_code == 401 and r.json() == {"msg": "Token has been revoked"}
    r = await client.get("/auth/refresh-token", headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert r.status_code == 401
    assert (await _login(client, email, password)).status_code == 401

    # a reset: same person, new password, window closed again
    await _rpc(client, "set-open", {"project_id": project_id, "is_open": True})
    h = {"Authorization": f"Bearer {(await _login(client, email, password)).json()['access_token']}"}
    reset = await _rpc(client, "create", {"project_id": project_id, "project_name": "Cosmos", "actor_id": actor})
    assert reset["id"] == person_id and reset["email"] == email and reset["password"] != password
    assert reset["preview_open_until"] is None and reset["created"] is False
    assert (await client.get("/auth/authenticated", headers=h)).status_code == 401
    await _rpc(client, "set-open", {"project_id": project_id, "is_open": True})
    assert (await _login(client, email, password)).status_code == 400
    r = await _login(client, email, reset["password"])
    assert r.status_code == 200
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}

    deleted = await _rpc(client, "delete", {"project_id": project_id, "actor_id": actor})
    assert deleted == {"person_id": person_id}
    assert (await client.get("/auth/authenticated", headers=h)).status_code == 401
    assert (await _login(client, email, reset["password"])).status_code == 400
    assert await _rpc(client, "get", {"project_id": project_id}) is None
    assert await _rpc(client, "delete", {"project_id": project_id}) == {"person_id": None}

    # the replicas learn it all, and no event carries a password
    events = await _outbox(client, person_id)
    names = [e["name"] for e in events]
    assert names[0] == "person:new" and names[-1] == "person:delete" and "person:update" in names
    assert events[0]["data"]["snapshot"]["role"] == "client"
    for event in events:
        text = json.dumps(event)
        assert password not in text and reset["password"] not in text and '"password"' not in text


async def test_bad_calls_get_typed_errors(client) -> None:  # type: ignore[no-untyped-def]
    project_id = str(uuid.uuid4())
    with pytest.raises(NotFound) as missing:
        await _rpc(client, "set-open", {"project_id": project_id, "is_open": True})
    assert missing.value.message == "404 Not Found: No preview account for this project"
    for operation, payload in (("get", {"project_id": "nope"}), ("create", {"project_id": project_id}),
                               ("set-open", {"project_id": project_id, "is_open": "yes"}), ("delete", None)):
        with pytest.raises(bus.RpcError) as bad:
            await _rpc(client, operation, payload)
        assert bad.value.status_code == 400


async def test_creations_at_once_make_one_account(client) -> None:  # type: ignore[no-untyped-def]
    project_id = str(uuid.uuid4())
    answers = await asyncio.gather(*(
        _rpc(client, "create", {"project_id": project_id, "project_name": "Race"}) for _ in range(4)))
    assert len({a["id"] for a in answers}) == 1 and sum(a["created"] for a in answers) == 1
    assert len({a["password"] for a in answers}) == 4
    from slate_common.db import transaction

    from slate_auth.models import Person

    async with transaction(client.app.state.runtime.sessionmaker) as session:
        rows = (await session.scalars(select(Person).where(Person.preview_project_id == uuid.UUID(project_id)))).all()
    assert [str(p.id) for p in rows] == [answers[0]["id"]]
