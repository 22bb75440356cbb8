"""``PUT /data/tasks/<id>`` with ``assignees`` sets the task's assignees, as Zou 1.0.97 does
(gazu.task.update_task sends the whole task, its assignees included).

Observed on the oracle (2026-12-07, a task of a throwaway project, two inactive persons):
the list replaces the assignees (ids or ``{"id": ...}`` objects; ids of nobody left out,
repeats once); ``null`` or ``[]`` clears them; a value that is not an id, or a body value
that is not a list, is refused with 400 "One of the provided values has an invalid format."
and nothing of the body is applied; the answer has no ``assignees`` key; a body without
``assignees`` leaves them; the project's team does not change.
"""

from __future__ import annotations

import uuid
from typing import Any


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


async def test_put_with_assignees_sets_them_as_zou(client, signer, production_factory, person_factory) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(shots=1)
    made = await ok(await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['anim']}/shots/create-tasks",
                                      json=[], headers=signer.headers()), 201)
    task_id = made[0]["id"]
    first, second = sorted([str(await person_factory("user")), str(await person_factory("user"))])
    team = set((await ok(await client.get(f"/data/projects/{prod.id}", headers=signer.headers())))["team"])

    async def assignees() -> list[str]:
        task = await ok(await client.get(f"/data/tasks/{task_id}", headers=signer.headers()))
        return sorted(task["assignees"])

    async def put(body: dict[str, Any], status: int = 200) -> Any:
        return await ok(await client.put(f"/data/tasks/{task_id}", json=body, headers=signer.headers()), status)

    answer = await put({"assignees": [first]})
    assert "assignees" not in answer and answer["id"] == task_id
    assert await assignees() == [first]
    await put({"assignees": [{"id": second}]})
    assert await assignees() == [second]  # replaced, not added
    await put({"assignees": [first, first, second, str(uuid.uuid4())]})
    assert await assignees() == [first, second]  # repeats once, nobody's id left out

    refused = await put({"assignees": ["not-an-id"], "priority": 3}, 400)
    assert refused["message"] == "One of the provided values has an invalid format."
    refused = await put({"assignees": first}, 400)
    assert refused["message"] == "One of the provided values has an invalid format."
    task = await ok(await client.get(f"/data/tasks/{task_id}", headers=signer.headers()))
    assert sorted(task["assignees"]) == [first, second] and task["priority"] != 3  # nothing applied

    await put({"priority": 2})
    assert await assignees() == [first, second]  # no assignees key: left as they are
    await put({"assignees": None})
    assert await assignees() == []
    await put({"assignees": [second]})
    await put({"assignees": []})
    assert await assignees() == []
    after = set((await ok(await client.get(f"/data/projects/{prod.id}", headers=signer.headers())))["team"])
    assert after == team  # unlike the assign actions, no team change
