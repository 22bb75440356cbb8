"""A production's preview account through the gateway: production's routes, auth's
person, password and login window (reached over NATS RPC), production's team.

Observed on Zou 1.0.97: managers of the production (and admins) only; POST creates a
client-role person (or gives it a new password) with the window closed and answers the
password once; PUT opens the window for an hour or closes it, which ends its sessions;
DELETE removes the person (and so its team membership); the right password outside
the window gets the inactive answer, a wrong one the usual one."""

from __future__ import annotations

import datetime as dt
import uuid

from .conftest import login, refused_everywhere_within_a_second

PASSWORD = "preview e2e password"


async def _person(api, admin, role: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    email = f"pa-{role}-{uuid.uuid4().hex[:8]}@studio.test"
    r = await api.post("/data/persons", json={"first_name": role.title(), "last_name": "Pa", "email": email,
                                              "role": role}, headers=admin)
    assert r.status_code == 201, r.text
    person = r.json()
    r = await api.post(f"/actions/persons/{person['id']}/change-password",
                       json={"password": PASSWORD, "password_2": PASSWORD}, headers=admin)
    assert r.status_code == 200, r.text
    body = await login(api, email, PASSWORD)
    return {**person, "headers": {"Authorization": f"Bearer {body['access_token']}"}}


async def _setup(api, admin):  # type: ignore[no-untyped-def]
    project = await api.post("/data/projects", json={"name": f"Preview {uuid.uuid4().hex[:6]}"}, headers=admin)
    assert project.status_code == 201, project.text
    pid = project.json()["id"]
    people = {role: await _person(api, admin, role) for role in ("manager", "user", "client", "supervisor")}
    people["outsider"] = await _person(api, admin, "user")
    people["manager-outside"] = await _person(api, admin, "manager")
    for role in ("manager", "user", "client", "supervisor"):
        r = await api.post(f"/data/projects/{pid}/team", json={"person_id": people[role]["id"]}, headers=admin)
        assert r.status_code == 201, r.text
    return project.json(), people


async def test_preview_account_lifecycle(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    project, people = await _setup(api, admin)
    pid, url = project["id"], f"/data/projects/{project['id']}/preview-account"
    manager = people["manager"]["headers"]

    assert (await api.get(url, headers=manager)).json() is None
    r = await api.put(url, json={"is_open": True}, headers=manager)
    assert r.status_code == 404 and r.json() == {"error": True,
                                                 "message": "404 Not Found: No preview account for this project"}
    assert (await api.delete(url, headers=manager)).status_code == 204

    r = await api.post(url, headers=manager)
    assert r.status_code == 201, r.text
    account = r.json()
    assert list(account) == ["id", "email", "full_name", "preview_open_until", "password"]
    assert account["full_name"] == f"Preview {project['name']}" and account["preview_open_until"] is None
    assert account["email"].startswith("preview-") and account["email"].endswith("@preview.kitsu.invalid")
    public = {k: v for k, v in account.items() if k != "password"}
    assert (await api.get(url, headers=manager)).json() == public

    # the account joins the team (production's replica learns the person from person:new)
    assert account["id"] in (await api.get(f"/data/projects/{pid}", headers=admin)).json()["team"]

    team = (await api.get(f"/data/projects/{pid}/team", headers=admin)).json()
    member = next(p for p in team if p["id"] == account["id"])
    assert member["role"] == "client" and member["full_name"] == account["full_name"]
    person = (await api.get(f"/data/persons/{account['id']}", headers=admin)).json()
    assert person["preview_project_id"] == pid and person["role"] == "client" and "password" not in person

    # closed window: the right password gets the inactive answer, a wrong one the usual one
    r = await api.post("/auth/login", json={"email": account["email"], "password": account["password"]})
    assert r.status_code == 401 and r.json()["unactive"] is True and r.json()["login"] is False
    r = await api.post("/auth/login", json={"email": account["email"], "password": "wrong password"})
    assert r.status_code == 400 and r.json() == {"login": False, "message": "Wrong email or password."}

    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    r = await api.put(url, json={"is_open": True}, headers=manager)
    assert r.status_code == 200, r.text
    until = dt.datetime.fromisoformat(r.json()["preview_open_until"])
    assert dt.timedelta(minutes=59) < until - before < dt.timedelta(minutes=61)
    assert {k: v for k, v in r.json().items() if k != "preview_open_until"} == {
        k: v for k, v in public.items() if k != "preview_open_until"}
    body = await login(api, account["email"], account["password"])
    h = {"Authorization": f"Bearer {body['access_token']}"}
    projects = (await api.get("/data/projects", headers=h)).json()
    assert [p["id"] for p in projects] == [pid]

    r = await api.put(url, json={"is_open": False}, headers=manager)
    assert r.status_code == 200 and r.json() == public
    await refused_everywhere_within_a_second(api, h)
    r = await api.post("/auth/login", json={"email": account["email"], "password": account["password"]})
    assert r.status_code == 401 and r.json()["unactive"] is True

    # a second POST: same account, new password, window closed, sessions ended
    assert (await api.put(url, json={"is_open": "yes"}, headers=manager)).json()["preview_open_until"]  # lax, as Zou
    h = {"Authorization": f"Bearer {(await login(api, account['email'], account['password']))['access_token']}"}
    r = await api.post(url, headers=admin)
    assert r.status_code == 201
    again = r.json()
    assert again["id"] == account["id"] and again["email"] == account["email"]
    assert again["password"] != account["password"] and again["preview_open_until"] is None
    await refused_everywhere_within_a_second(api, h)
    await api.put(url, json={"is_open": True}, headers=manager)
    r = await api.post("/auth/login", json={"email": account["email"], "password": account["password"]})
    assert r.status_code == 400
    h = {"Authorization": f"Bearer {(await login(api, account['email'], again['password']))['access_token']}"}

    # DELETE: the person is gone, out of the team, its sessions ended
    r = await api.delete(url, headers=manager)
    assert r.status_code == 204 and r.content == b""
    await refused_everywhere_within_a_second(api, h)
    r = await api.post("/auth/login", json={"email": account["email"], "password": again["password"]})
    assert r.status_code == 400
    assert (await api.get(url, headers=manager)).json() is None
    assert account["id"] not in (await api.get(f"/data/projects/{pid}", headers=admin)).json()["team"]
    assert (await api.get(f"/data/persons/{account['id']}", headers=admin)).status_code == 404
    r = await api.post(url, headers=manager)
    assert r.status_code == 201 and r.json()["id"] != account["id"]
    for service in ("auth", "production", "gateway"):
        log = stack.log(service)
        assert log and account["password"] not in log and again["password"] not in log, service


async def test_preview_account_permissions_and_bad_input(api, admin) -> None:  # type: ignore[no-untyped-def]
    project, people = await _setup(api, admin)
    url = f"/data/projects/{project['id']}/preview-account"
    assert (await api.post(url, headers=admin)).status_code == 201
    # in the team without the manager role, or outside the team (a manager too): 403, as Zou
    for role, status in (("user", 403), ("client", 403), ("supervisor", 403), ("outsider", 403),
                         ("manager-outside", 403)):
        h = people[role]["headers"]
        assert (await api.get(url, headers=h)).status_code == status, role
        assert (await api.post(url, headers=h)).status_code == status, role
        assert (await api.put(url, json={"is_open": True}, headers=h)).status_code == status, role
        assert (await api.delete(url, headers=h)).status_code == status, role
        if status == 403:
            r = await api.get(url, headers=h)
            assert r.json()["error"] is True and r.json()["message"]
    api.cookies.clear()  # logins above left their cookies on the client
    assert (await api.get(url)).status_code == 401
    assert (await api.get(url, headers=admin)).json()["preview_open_until"] is None  # nothing changed

    manager = people["manager"]["headers"]
    for body, field, message in (({}, "is_open", "Field required"),
                                 ({"is_open": None}, "is_open", "Input should be a valid boolean"),
                                 ({"is_open": "maybe"}, "is_open",
                                  "Input should be a valid boolean, unable to interpret input"),
                                 ([1], "", None)):
        r = await api.put(url, json=body, headers=manager)
        assert r.status_code == 400, r.text
        assert r.json()["error"] is True and r.json()["message"] == "Validation error."
        error = r.json()["data"]["errors"][0]
        assert error["field"] == field and (message is None or error["message"] == message)
    r = await api.put(url, content=b"{not json", headers={**manager, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] is True
    r = await api.get("/data/projects/not-a-uuid/preview-account", headers=admin)
    assert r.status_code == 400 and r.json() == {"error": True, "message": "Malformed ID.", "data": None}
    unknown = f"/data/projects/{uuid.uuid4()}/preview-account"
    assert (await api.get(unknown, headers=admin)).json() is None  # as Zou
    assert (await api.post(unknown, headers=admin)).status_code == 404
    assert (await api.put(unknown, json={"is_open": True}, headers=admin)).status_code == 404
    assert (await api.delete(unknown, headers=admin)).status_code == 204
    assert (await api.get(url, headers=admin)).json()["preview_open_until"] is None  # nothing changed
