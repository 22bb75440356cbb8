"""A client reads the people of their open projects' teams only (auth asks production, which
holds the teams, at the time of the request).

Observed on Zou 1.0.97 (2026-12-07, the oracle): ``GET /data/persons`` as a client lists the
members of the teams of the client's open projects (inactive ones too) and nobody else, not
the admin outside those teams; ``GET /data/persons/{id}`` of anyone else answers 403; once
the project is closed the listing is empty.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from .conftest import login

PASSWORD = "client persons 1"


async def _person(api: httpx.AsyncClient, admin: dict[str, str], role: str, **extra: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    r = await api.post("/data/persons", headers=admin, json={
        "first_name": role, "last_name": tag, "email": f"cp-{tag}@example.com", "role": role, **extra})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_client_lists_and_reads_the_people_of_their_open_projects_only(api, admin) -> None:  # type: ignore[no-untyped-def]
    me = await _person(api, admin, "client", password=PASSWORD)
    mate = await _person(api, admin, "user")
    quiet = await _person(api, admin, "user", active=False)
    stranger = await _person(api, admin, "user")
    project = (await api.post("/data/projects", headers=admin, json={"name": f"CP {uuid.uuid4().hex[:6]}"})).json()
    for who in (me, mate, quiet):
        r = await api.post(f"/data/projects/{project['id']}/team", headers=admin, json={"person_id": who["id"]})
        assert r.status_code in (200, 201), r.text
    h = {"Authorization": f"Bearer {(await login(api, me['email'], PASSWORD))['access_token']}"}
    ours = {me["id"], mate["id"], quiet["id"], stranger["id"]}

    listed = (await api.get("/data/persons", headers=h)).json()
    assert {p["id"] for p in listed} == {me["id"], mate["id"], quiet["id"]}  # nobody else: not the admin either
    assert (await api.get(f"/data/persons/{mate['id']}", headers=h)).status_code == 200
    r = await api.get(f"/data/persons/{stranger['id']}", headers=h)
    assert r.status_code == 403 and r.json()["error"] is True

    # a team change answered a moment before is seen at once (production is asked, not a replica)
    r = await api.delete(f"/data/projects/{project['id']}/team/{mate['id']}", headers=admin)
    assert r.status_code == 204
    assert {p["id"] for p in (await api.get("/data/persons", headers=h)).json()} & ours == {me["id"], quiet["id"]}
    assert (await api.get(f"/data/persons/{mate['id']}", headers=h)).status_code == 403

    closed = next(s for s in (await api.get("/data/project-status", headers=admin)).json() if s["name"] == "Closed")
    r = await api.put(f"/data/projects/{project['id']}", headers=admin, json={"project_status_id": closed["id"]})
    assert r.status_code == 200, r.text
    assert (await api.get("/data/persons", headers=h)).json() == []
    # other roles still list everyone
    assert ours <= {p["id"] for p in (await api.get("/data/persons", headers=admin)).json()}
