from __future__ import annotations

import pytest

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


# --- the comment flow's world (test_comments.py, test_notifications.py) ---------------


class CommentWorld:
    """A project with a team of every role, a department, an asset and its task
    (assigned to ``user``), persons in the replica, and tokens per role."""

    ROLES = ("admin", "manager", "supervisor", "user", "user2", "client", "vendor", "outsider")

    def __init__(self, signer, **ids):  # type: ignore[no-untyped-def]
        self.signer = signer
        self.__dict__.update(ids)

    def h(self, who: str) -> dict[str, str]:
        role = {"user2": "user", "outsider": "user"}.get(who, who)
        return self.signer.headers(self.persons[who], role)


@pytest.fixture
async def comment_world(sessionmaker, signer):  # type: ignore[no-untyped-def]
    import uuid

    from sqlalchemy import insert, select

    from slate_common.db import transaction
    from slate_production.models import (
        Department, Entity, EntityType, Person, Project, ProjectStatus, Task, TaskStatus, TaskType,
        department_person_link, project_person_link, task_person_link,
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
