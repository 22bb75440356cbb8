"""Reference data as a fresh Zou has it: default task types linked to auth's default
departments by name once the department replica arrives, given once only; entity types
with their task types."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import nats
from sqlalchemy import select

from slate_common.bus import event_subject
from slate_common.db import transaction
from slate_common.events import Event

#: (name, for_entity) -> department name, observed on the oracle (GET /data/task-types
#: and /data/departments of a fresh Zou 1.0.97)
ORACLE_LINKS = {
    ("Concept", "Concept"): None, ("Concept", "Asset"): "Concept", ("Modeling", "Asset"): "Modeling",
    ("Shading", "Asset"): "Modeling", ("Rigging", "Asset"): "Animation", ("Storyboard", "Shot"): "Concept",
    ("Layout", "Shot"): "Layout", ("Animation", "Shot"): "Animation", ("Lighting", "Shot"): "Compositing",
    ("FX", "Shot"): "FX", ("Rendering", "Shot"): "Compositing", ("Compositing", "Shot"): "Compositing",
    ("Edit", "Edit"): "Compositing",
}


async def _publish_department(infra, name: str) -> str:  # type: ignore[no-untyped-def]
    dep_id = str(uuid.uuid4())
    event = Event(name="department:new", data={"department_id": dep_id, "snapshot": {
        "id": dep_id, "name": name, "color": "#F06292", "archived": False,
        "created_at": "2026-01-01T00:00:00", "updated_at": "2026-01-01T00:00:00", "type": "Department"}})
    nc = await nats.connect(infra.nats_url)
    await nc.jetstream().publish(event_subject("auth", event.name), event.to_json(), headers={"Nats-Msg-Id": str(event.id)})
    await nc.close()
    return dep_id


async def _task_types(client, signer) -> dict[tuple[str, str], dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = (await client.get("/data/task-types", headers=signer.headers())).json()
    return {(t["name"], t["for_entity"]): t for t in rows if (t["name"], t["for_entity"]) in ORACLE_LINKS}


async def test_seeded_task_types_get_their_department_when_it_arrives(client, signer, sessionmaker, infra) -> None:  # type: ignore[no-untyped-def]
    """Linked through the department replica, to the first department of that name it
    learns (in a shared test session, auth's own defaults may come first)."""
    from slate_production.models import Department, OutboxEvent, PendingTaskTypeDepartment

    types = await _task_types(client, signer)
    assert list(types) == list(ORACLE_LINKS)  # the oracle's order
    waiting = [k for k, dep in ORACLE_LINKS.items() if dep == "Compositing"]
    await _publish_department(infra, "Compositing")
    for _ in range(100):
        types = await _task_types(client, signer)
        if all(types[k]["department_id"] for k in waiting):
            break
        await asyncio.sleep(0.1)
    linked = {types[k]["department_id"] for k in waiting}
    async with transaction(sessionmaker) as session:
        compositing = {str(i) for i in (await session.scalars(
            select(Department.id).where(Department.name == "Compositing"))).all()}
        pending = (await session.scalars(select(PendingTaskTypeDepartment.department_name))).all()
        events = [json.loads(r.payload) for r in (await session.scalars(select(OutboxEvent))).all()]
    assert len(linked) == 1 and linked <= compositing
    [dep_id] = linked
    assert types[("Concept", "Concept")]["department_id"] is None  # no department on the oracle either
    assert list(types) == list(ORACLE_LINKS)  # still in order once rows were rewritten
    assert "Compositing" not in pending
    updated = {e["data"]["task_type_id"] for e in events
               if e["name"] == "task-type:update" and e["data"]["snapshot"]["department_id"] == dep_id}
    assert updated == {types[k]["id"] for k in waiting}
    # another department of that name links nothing more
    await _publish_department(infra, "Compositing")
    await asyncio.sleep(1.0)
    assert {t["department_id"] for k, t in (await _task_types(client, signer)).items() if k in waiting} == {dep_id}


async def test_reference_data_is_given_once(client, signer, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from slate_production.domain.defaults import ensure_defaults
    from slate_production.models import TaskType

    h = signer.headers()
    storyboard = [t for t in (await client.get("/data/task-types", headers=h)).json() if t["name"] == "Storyboard"]
    assert len(storyboard) == 1
    assert (await client.delete(f"/data/task-types/{storyboard[0]['id']}", headers=h)).status_code == 204
    async with transaction(sessionmaker) as session:  # what the next start runs
        await ensure_defaults(session)
    async with transaction(sessionmaker) as session:
        assert (await session.scalars(select(TaskType).where(TaskType.name == "Storyboard"))).all() == []
    statuses = {s["short_name"] for s in (await client.get("/data/task-status", headers=h)).json()}
    assert {"todo", "wip", "wfa", "retake", "done", "ready", "neutral", "approved", "rejected"} <= statuses


async def test_entity_type_alone_carries_its_task_types(client, signer, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from slate_production.models import entity_type_task_type_link

    h = signer.headers()
    modeling = next(t["id"] for t in (await client.get("/data/task-types", headers=h)).json()
                    if t["name"] == "Modeling" and t["for_entity"] == "Asset")
    shot = next(t for t in (await client.get("/data/entity-types", headers=h)).json() if t["name"] == "Shot")
    assert "task_types" not in shot  # lists do not carry them, as on the oracle
    one = (await client.get(f"/data/entity-types/{shot['id']}", headers=h)).json()
    assert list(one) == ["name", "short_name", "description", "task_types", "archived", "id", "created_at",
                         "updated_at", "type"]
    assert one["task_types"] == [] and one["type"] == "EntityType" and one["id"] == shot["id"]
    kind = (await client.post("/data/entity-types", json={"name": f"Vehicle {uuid.uuid4().hex[:4]}"}, headers=h)).json()
    async with transaction(sessionmaker) as session:  # a workflow, as the asset type settings make it
        await session.execute(insert(entity_type_task_type_link).values(entity_type_id=uuid.UUID(kind["id"]),
                                                                        task_type_id=uuid.UUID(modeling)))
    one = (await client.get(f"/data/entity-types/{kind['id']}", headers=h)).json()
    assert one["task_types"] == [modeling] and one["type"] == "EntityType"
