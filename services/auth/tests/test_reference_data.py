"""What a fresh studio starts with (the default departments, as a fresh Zou after its
init-data), given once; and person fields as the oracle answers them."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from .conftest import ADMIN

#: observed on the oracle (GET /data/departments of a fresh Zou 1.0.97)
ORACLE_DEPARTMENTS = {"Modeling": "#78909C", "Animation": "#009688", "FX": "#26C6DA",
                      "Compositing": "#F06292", "Concept": "#8D6E63", "Layout": "#7CB342"}


def _admin(tokens):  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_fresh_database_has_the_default_departments_with_events(client, tokens) -> None:  # type: ignore[no-untyped-def]
    from slate_common.db import transaction

    from slate_auth.models import OutboxEvent

    listed = (await client.get("/data/departments", headers=_admin(tokens))).json()
    defaults = {d["name"]: d for d in listed if d["name"] in ORACLE_DEPARTMENTS}
    assert {n: d["color"] for n, d in defaults.items()} == ORACLE_DEPARTMENTS
    assert all(d["archived"] is False and d["type"] == "Department" for d in defaults.values())
    async with transaction(client.app.state.runtime.sessionmaker) as session:
        rows = (await session.scalars(select(OutboxEvent))).all()
    announced = {json.loads(r.payload)["data"]["snapshot"]["name"]: json.loads(r.payload)["data"]["department_id"]
                 for r in rows if json.loads(r.payload)["name"] == "department:new"}
    assert {n: announced[n] for n in ORACLE_DEPARTMENTS} == {n: d["id"] for n, d in defaults.items()}


async def test_defaults_are_given_once_and_deleted_ones_stay_deleted(client, tokens) -> None:  # type: ignore[no-untyped-def]
    from slate_common.db import transaction

    from slate_auth.domain.defaults import seed_departments

    admin = _admin(tokens)
    layout = (await client.get("/data/departments?name=Layout", headers=admin)).json()
    assert len(layout) == 1
    assert (await client.delete(f"/data/departments/{layout[0]['id']}", headers=admin)).status_code == 204
    async with transaction(client.app.state.runtime.sessionmaker) as session:  # what a restart runs
        assert await seed_departments(session) == []
    assert (await client.get("/data/departments?name=Layout", headers=admin)).json() == []


def _upgrade(url: str, revision: str) -> None:
    code = ("import sys; from pathlib import Path; from alembic import command; "
            "from slate_common.db import _alembic_config; import slate_auth as p; "
            "command.upgrade(_alembic_config(sys.argv[1], Path(p.__file__).parent / 'migrations'), sys.argv[2])")
    subprocess.run([sys.executable, "-c", code, url, revision], check=True)


@pytest.mark.slow
async def test_migration_marks_an_existing_install_as_seeded(make_database) -> None:  # type: ignore[no-untyped-def]
    """An install that had data before this version never gets the defaults; a fresh
    database is left unmarked, for its first start to seed."""
    import asyncpg

    fresh, existing = make_database("auth"), make_database("auth")
    for url in (fresh, existing):
        _upgrade(url, "0002")
    conn = await asyncpg.connect(existing.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("INSERT INTO department (id, name, color, archived, created_at, updated_at) "
                           "VALUES ($1, 'Lighting', '#FFFFFF', false, now(), now())", uuid.uuid4())
    finally:
        await conn.close()
    marks = []
    for url in (fresh, existing):
        _upgrade(url, "head")
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            marks.append([r["name"] for r in await conn.fetch("SELECT name FROM reference_seed")])
        finally:
            await conn.close()
    assert marks == [[], ["default-departments"]]


async def test_person_created_through_crud_has_null_phone_and_desktop_login(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(tokens)
    email = f"fields-{uuid.uuid4().hex[:6]}@studio.test"
    created = (await client.post("/data/persons", json={"first_name": "F", "last_name": "L", "email": email},
                                 headers=admin)).json()
    assert created["phone"] is None and created["desktop_login"] is None and created["departments"] == []
    one = (await client.get(f"/data/persons/{created['id']}", headers=admin)).json()
    assert one["phone"] is None and one["desktop_login"] is None and one["departments"] == []
    me = (await client.get("/data/persons?email=" + ADMIN[0], headers=admin)).json()[0]
    assert me["phone"] == "" and me["desktop_login"] == ""  # the admin account, as on the oracle


async def test_person_list_carries_departments_only_with_relations(client, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = _admin(tokens)
    listed = (await client.get("/data/persons", headers=admin)).json()
    assert listed and all("departments" not in p for p in listed)
    listed = (await client.get("/data/persons?relations=true", headers=admin)).json()
    assert listed and all(isinstance(p["departments"], list) for p in listed)


async def test_persons_filtered_by_full_name(client, tokens) -> None:  # type: ignore[no-untyped-def]
    """gazu.person.get_person_by_full_name asks ``?full_name=...&is_bot=False``."""
    admin = _admin(tokens)
    last = f"Named {uuid.uuid4().hex[:6]}"
    made = (await client.post("/data/persons", json={"first_name": "Ann", "last_name": last,
                                                     "email": f"{last.split()[1]}@studio.test"}, headers=admin)).json()
    found = (await client.get("/data/persons", params={"full_name": f"Ann {last}", "is_bot": "False"},
                              headers=admin)).json()
    assert [p["id"] for p in found] == [made["id"]]
    assert (await client.get("/data/persons", params={"full_name": f"Bob {last}"}, headers=admin)).json() == []

