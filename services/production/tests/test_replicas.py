"""Events production consumes: persons/departments from auth, main previews and project
avatars from media; published on the real JetStream, applied by the app's consumer."""

from __future__ import annotations

import uuid
from typing import Any

import nats
from sqlalchemy import select

from slate_common.bus import event_subject
from slate_common.db import transaction
from slate_common.events import Event
from slate_common.testing import eventually

from slate_production.models import Department, Entity, EntityType, Person, Project, department_person_link


async def _publish(infra, service: str, name: str, data: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    nc = await nats.connect(infra.nats_url)
    event = Event(name=name, data=data)
    await nc.jetstream().publish(event_subject(service, name), event.to_json(), headers={"Nats-Msg-Id": str(event.id)})
    await nc.close()


async def _read(sessionmaker, probe):  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        return await probe(session)


async def _applied(sessionmaker, probe, expected):  # type: ignore[no-untyped-def]
    """What ``probe`` reads once it reads ``expected``: events published straight to the
    stream (no write of production's to wait for) are applied on the consumer's schedule."""
    return await eventually(lambda: _read(sessionmaker, probe), until=lambda value: value == expected, timeout=10)


async def test_person_and_department_replicas(client, signer, sessionmaker, infra) -> None:  # type: ignore[no-untyped-def]
    dep_id, person_id = uuid.uuid4(), uuid.uuid4()
    await _publish(infra, "auth", "department:new", {"department_id": str(dep_id), "snapshot": {
        "id": str(dep_id), "name": "Animation", "color": "#123456", "archived": False,
        "created_at": "2026-01-01T00:00:00", "updated_at": "2026-01-01T00:00:00", "type": "Department"}})
    snapshot = {"id": str(person_id), "first_name": "Ann", "last_name": "Artist", "email": "ann@example.com",
                "role": "user", "active": True, "archived": False, "has_avatar": False, "timezone": "Europe/Paris",
                "departments": [str(dep_id)], "created_at": "2026-01-01T00:00:00",
                "updated_at": "2026-01-01T00:00:00", "type": "Person"}
    await _publish(infra, "auth", "person:new", {"person_id": str(person_id), "snapshot": snapshot})

    async def person_row(session):  # type: ignore[no-untyped-def]
        p = await session.get(Person, person_id)
        deps = (await session.scalars(select(department_person_link.c.department_id)
                                      .where(department_person_link.c.person_id == person_id))).all()
        return (p.full_name, p.role, p.serialize()["timezone"], list(deps)) if p else None

    assert await _applied(sessionmaker, person_row, ("Ann Artist", "user", "Europe/Paris", [dep_id])) == (
        "Ann Artist", "user", "Europe/Paris", [dep_id])
    dep = await _read(sessionmaker, lambda s: s.get(Department, dep_id))
    assert dep is not None and dep.name == "Animation"
    # the person, with their departments, wherever production shows a person
    project = (await client.post("/data/projects", json={"name": f"Deps {uuid.uuid4().hex[:6]}"},
                                 headers=signer.headers())).json()
    r = await client.post(f"/data/projects/{project['id']}/team", json={"person_id": str(person_id)},
                          headers=signer.headers())
    assert r.status_code == 201
    team = (await client.get(f"/data/projects/{project['id']}/team", headers=signer.headers())).json()
    assert team[0]["departments"] == [str(dep_id)] and team[0]["timezone"] == "Europe/Paris"
    assert team[0]["full_name"] == "Ann Artist" and team[0]["project_role"] is None

    await _publish(infra, "auth", "person:update", {"person_id": str(person_id), "snapshot": {
        **snapshot, "role": "supervisor", "departments": []}})
    assert await _applied(sessionmaker, person_row, ("Ann Artist", "supervisor", "Europe/Paris", [])) == (
        "Ann Artist", "supervisor", "Europe/Paris", [])
    await _publish(infra, "auth", "person:delete", {"person_id": str(person_id), "snapshot": snapshot})
    assert await _applied(sessionmaker, person_row, None) is None


async def test_main_preview_and_project_avatar(client, sessionmaker, infra) -> None:  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        project = Project(name=f"Media {uuid.uuid4().hex[:8]}")
        session.add(project)
        await session.flush()
        shot_type = await session.scalar(select(EntityType.id).where(EntityType.name == "Shot"))
        shot = Entity(name="SH001", project_id=project.id, entity_type_id=shot_type)
        session.add(shot)
        await session.flush()
        project_id, shot_id = project.id, shot.id
    preview_id = uuid.uuid4()
    await _publish(infra, "media", "preview-file:set-main",
                   {"preview_file_id": str(preview_id), "entity_id": str(shot_id), "task_id": str(uuid.uuid4())})

    async def preview_of(session):  # type: ignore[no-untyped-def]
        return (await session.get(Entity, shot_id, populate_existing=True)).preview_file_id

    assert await _applied(sessionmaker, preview_of, preview_id) == preview_id
    await _publish(infra, "media", "avatar:update", {"kind": "project", "id": str(project_id), "has_avatar": True})

    async def avatar_of(session):  # type: ignore[no-untyped-def]
        return (await session.get(Project, project_id, populate_existing=True)).has_avatar

    assert await _applied(sessionmaker, avatar_of, True) is True
