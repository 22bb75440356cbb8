from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from slate_common.db import transaction
from slate_common.testing.tokens import TestSigner, service_client


@pytest.fixture(scope="session")
def signer() -> TestSigner:
    return TestSigner()


@pytest.fixture(scope="session")
async def production_app(infra, make_database, signer):  # type: ignore[no-untyped-def]
    """The production app with its lifespan running, and an in-process client to it."""
    from slate_production.config import ProductionSettings
    from slate_production.main import create_app

    settings = ProductionSettings(database_url=make_database("production", migrate=True))
    app = create_app(settings)
    async with service_client(app, signer) as c:
        yield app, c


@pytest.fixture(scope="session")
async def client(production_app):  # type: ignore[no-untyped-def]
    return production_app[1]


@pytest.fixture(scope="session")
def sessionmaker(production_app):  # type: ignore[no-untyped-def]
    """The app's own sessionmaker (commits wake its outbox relay)."""
    return production_app[0].state.runtime.sessionmaker


# --- factories (fixtures: tests import nothing from here) ---------------------------------


async def make_person(sessionmaker, role: str = "user", **extra: Any) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """A person as auth's person:new would have replicated it."""
    from slate_production.replicas import PERSONS

    pid = uuid.uuid4()
    async with transaction(sessionmaker) as session:
        await PERSONS.apply(session, snapshot={
            "id": str(pid), "first_name": role.capitalize(), "last_name": pid.hex[:6], "email": f"{pid.hex}@x.io",
            "role": role, "active": True, "archived": False, "has_avatar": False, "departments": [],
            "created_at": "2026-01-01T00:00:00", "updated_at": "2026-01-01T00:00:00", "type": "Person", **extra,
        }, version=None)
    return pid


@dataclass
class Production:
    project: dict[str, Any]
    people: dict[str, uuid.UUID] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.project["id"])


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


async def make_production(client, signer, sessionmaker, *, shots: int = 2, tvshow: bool = False) -> Production:  # type: ignore[no-untyped-def]
    """A project with a team (one person per role), an asset, a sequence of shots, and
    task types linked; no tasks yet."""
    h = signer.headers()
    body: dict[str, Any] = {"name": f"Prod {uuid.uuid4().hex[:8]}"}
    if tvshow:
        body["production_type"] = "tvshow"
    project = await ok(await client.post("/data/projects", json=body, headers=h), 201)
    prod = Production(project)
    for role in ("manager", "supervisor", "user", "client", "vendor"):
        prod.people[role] = await make_person(sessionmaker, role)
        await ok(await client.post(f"/data/projects/{prod.id}/team", json={"person_id": str(prod.people[role])},
                                   headers=h), 201)
    prod.people["outsider"] = await make_person(sessionmaker, "user")
    types = {t["name"]: t["id"] for t in await ok(await client.get("/data/entity-types", headers=h))}
    prod.ids["character"] = types["Character"]
    task_types = await ok(await client.get("/data/task-types", headers=h))
    prod.ids["anim"] = next(t["id"] for t in task_types if t["name"] == "Animation" and t["for_entity"] == "Shot")
    prod.ids["layout"] = next(t["id"] for t in task_types if t["name"] == "Layout" and t["for_entity"] == "Shot")
    prod.ids["modeling"] = next(t["id"] for t in task_types if t["name"] == "Modeling" and t["for_entity"] == "Asset")
    statuses = {s["short_name"]: s["id"] for s in await ok(await client.get("/data/task-status", headers=h))}
    prod.ids["status"] = statuses
    await ok(await client.post(f"/data/projects/{prod.id}/settings/asset-types",
                               json={"asset_type_id": prod.ids["character"]}, headers=h), 201)
    for tt in ("anim", "modeling"):
        await ok(await client.post(f"/data/projects/{prod.id}/settings/task-types",
                                   json={"task_type_id": prod.ids[tt]}, headers=h), 201)
    asset = await ok(await client.post(
        f"/data/projects/{prod.id}/asset-types/{prod.ids['character']}/assets/new",
        json={"name": "Hero", "description": "the hero", "data": {"x": 1}}, headers=h), 201)
    prod.ids["asset"] = asset["id"]
    if tvshow:
        episode = await ok(await client.post(f"/data/projects/{prod.id}/episodes", json={"name": "E01"}, headers=h), 201)
        prod.ids["episode"] = episode["id"]
    seq_body: dict[str, Any] = {"name": "SQ01"}
    if tvshow:
        seq_body["episode_id"] = prod.ids["episode"]
    sequence = await ok(await client.post(f"/data/projects/{prod.id}/sequences", json=seq_body, headers=h), 201)
    prod.ids["sequence"] = sequence["id"]
    prod.ids["shots"] = []
    for i in range(shots):
        shot = await ok(await client.post(f"/data/projects/{prod.id}/shots", json={
            "name": f"SH{(i + 1) * 10:03d}", "sequence_id": sequence["id"], "nb_frames": 48,
            "data": {"frame_in": 1, "frame_out": 48, "fps": 24}}, headers=h), 201)
        prod.ids["shots"].append(shot["id"])
    return prod


@pytest.fixture
def person_factory(sessionmaker):  # type: ignore[no-untyped-def]
    async def factory(role: str = "user", **extra: Any) -> uuid.UUID:
        return await make_person(sessionmaker, role, **extra)

    return factory


@pytest.fixture
def production_factory(client, signer, sessionmaker):  # type: ignore[no-untyped-def]
    async def factory(**kwargs: Any) -> Production:
        return await make_production(client, signer, sessionmaker, **kwargs)

    return factory


# --- the comment flow's world (test_comments.py, test_notifications.py) ---------------


class CommentWorld:
    """A project with a team of every role, a department, an asset and its task
    (assigned to ``user``), persons in the replica, and tokens per role."""

    ROLES = ("admin", "manager", "supervisor", "user", "user2", "client", "vendor", "outsider")

    def __init__(self, signer, **ids):  # type: ignore[no-untyped-def]
        self.signer = signer
        self.__dict__.update(ids)

    def headers_for(self, who: str) -> dict[str, str]:
        role = {"user2": "user", "outsider": "user"}.get(who, who)
        return self.signer.headers(self.persons[who], role)


@pytest.fixture
async def comment_world(sessionmaker, signer):  # type: ignore[no-untyped-def]
    import uuid

    from sqlalchemy import insert, select

    from slate_common.db import transaction

    from slate_production.models import (
        Department,
        Entity,
        EntityType,
        Person,
        Project,
        ProjectStatus,
        Task,
        TaskStatus,
        TaskType,
        department_person_link,
        project_person_link,
        task_person_link,
    )

    tag = uuid.uuid4().hex[:6]
    async with transaction(sessionmaker) as session:
        persons = {}
        for who in CommentWorld.ROLES:
            role = {"user2": "user", "outsider": "user"}.get(who, who)
            person = Person(id=uuid.uuid4(), first_name=who.capitalize(), last_name=tag, role=role,
                            email=f"{who}-{tag}@example.com", snapshot={})
            session.add(person)
            persons[who] = person.id
        department = Department(id=uuid.uuid4(), name=f"Dep{tag}", color="#ff0000")
        open_status = await session.scalar(select(ProjectStatus.id).where(ProjectStatus.name == "Open"))
        project = Project(id=uuid.uuid4(), name=f"Comments {tag}", project_status_id=open_status)
        session.add_all([department, project])
        await session.flush()
        await session.execute(insert(department_person_link).values(person_id=persons["user"],
                                                                    department_id=department.id))
        await session.execute(insert(project_person_link), [
            {"project_id": project.id, "person_id": pid} for who, pid in persons.items() if who != "outsider"])
        character = await session.scalar(select(EntityType.id).where(EntityType.name == "Character"))
        asset = Entity(id=uuid.uuid4(), name=f"Hero{tag}", project_id=project.id, entity_type_id=character)
        task_type = TaskType(id=uuid.uuid4(), name=f"Model {tag}", for_entity="Asset")
        session.add_all([asset, task_type])
        await session.flush()
        statuses = {s.short_name: s.id for s in await session.scalars(select(TaskStatus))}
        task = Task(id=uuid.uuid4(), project_id=project.id, entity_id=asset.id, task_type_id=task_type.id,
                    task_status_id=statuses["todo"])
        session.add(task)
        await session.flush()
        await session.execute(insert(task_person_link).values(task_id=task.id, person_id=persons["user"]))
    return CommentWorld(signer, tag=tag, persons=persons, department_id=department.id, project_id=project.id,
                        asset_id=asset.id, task_type_id=task_type.id, task_id=task.id, statuses=statuses,
                        entity_type_name="Character", asset_name=asset.name)
