"""Kitsu's daily loop through the gateway: project -> asset -> task -> assign -> the
supervisor comments with a status change -> the assignee reads the notification and
marks it read.

Accounts with a password are made with auth's ``create-admin`` command (the only way to
give an account a password on this suite yet), then given their role by the admin
through ``PUT /data/persons/<id>``; production learns them from auth's person events.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

from .conftest import login


async def _account(api, stack, admin, role: str, first_name: str, tag: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    email, password = f"{first_name.lower()}-{tag}@example.com", f"pass-{tag}-{first_name}"
    proc = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "slate_auth", "create-admin", "--email", email, "--password", password],
        env=stack.stack.env(), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    persons = (await api.get("/data/persons", headers=admin)).json()
    person_id = next(p["id"] for p in persons if p["email"] == email)
    r = await api.put(f"/data/persons/{person_id}", json={"role": role, "first_name": first_name, "last_name": tag},
                      headers=admin)
    assert r.status_code == 200 and r.json()["role"] == role, r.text
    return person_id, password


async def test_comment_with_status_change_notifies_the_assignee(api, stack, admin) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    artist, artist_pw = await _account(api, stack, admin, "user", "Ana", tag)
    supervisor, supervisor_pw = await _account(api, stack, admin, "supervisor", "Sam", tag)

    project = await api.post("/data/projects", json={"name": f"Comments E2E {tag}"}, headers=admin)
    assert project.status_code == 201, project.text
    pid = project.json()["id"]

    for person_id in (artist, supervisor):  # persons auth has just created: no waiting
        r = await api.post(f"/data/projects/{pid}/team", json={"person_id": person_id}, headers=admin)
        assert r.status_code == 201, r.text

    types = {t["name"]: t["id"] for t in (await api.get("/data/asset-types", headers=admin)).json()}
    task_types = (await api.get("/data/task-types", headers=admin)).json()
    modeling = next(t["id"] for t in task_types if t["name"] == "Modeling" and t["for_entity"] == "Asset")
    r = await api.post(f"/data/projects/{pid}/settings/task-types", json={"task_type_id": modeling}, headers=admin)
    assert r.status_code == 201, r.text
    asset = await api.post(f"/data/projects/{pid}/asset-types/{types['Character']}/assets/new",
                           json={"name": "Hero", "description": "the hero"}, headers=admin)
    assert asset.status_code == 201, asset.text
    tasks = await api.post(f"/actions/projects/{pid}/task-types/{modeling}/assets/create-tasks", json=[],
                           headers=admin)
    assert tasks.status_code == 201 and len(tasks.json()) == 1, tasks.text
    task = tasks.json()[0]
    r = await api.put(f"/actions/tasks/{task['id']}/assign", json={"person_id": artist}, headers=admin)
    assert r.status_code == 200 and r.json()["assignees"] == [artist], r.text

    artist_h = {"Authorization": f"Bearer {(await login(api, f'ana-{tag}@example.com', artist_pw))['access_token']}"}
    sup_h = {"Authorization": f"Bearer {(await login(api, f'sam-{tag}@example.com', supervisor_pw))['access_token']}"}

    rows = (await api.get("/data/user/notifications", headers=artist_h)).json()
    told = [n for n in rows if n["notification_type"] == "assignation"]  # task:assign, applied before the answer
    assert told[0]["task_id"] == task["id"] and told[0]["author_id"] != artist

    statuses = {s["short_name"]: s["id"] for s in (await api.get("/data/task-status", headers=admin)).json()}
    r = await api.post(f"/actions/tasks/{task['id']}/comment", headers=sup_h,
                       json={"task_status_id": statuses["retake"], "comment": f"Please fix the hands @Ana {tag}"})
    assert r.status_code == 201, r.text
    comment = r.json()
    assert comment["person_id"] == supervisor and comment["mentions"] == [artist]
    assert comment["task_status"]["short_name"] == "retake"

    moved = (await api.get(f"/data/tasks/{task['id']}", headers=admin)).json()
    assert moved["task_status_id"] == statuses["retake"] and moved["retake_count"] == 1
    assert moved["last_comment_date"] is not None

    rows = (await api.get("/data/user/notifications", headers=artist_h)).json()
    about = [n for n in rows if n["comment_id"] == comment["id"]]
    assert sorted(n["notification_type"] for n in about) == ["comment", "mention"]
    note = next(n for n in about if n["notification_type"] == "comment")
    assert note["read"] is False and note["change"] is True and note["author_id"] == supervisor
    assert note["comment_text"] == f"Please fix the hands @Ana {tag}" and note["task_status_id"] == statuses["retake"]
    assert note["full_entity_name"] == "Character / Hero" and note["project_id"] == pid

    r = await api.put(f"/data/user/notifications/{note['id']}", json={"read": True}, headers=artist_h)
    assert r.status_code == 200 and r.json()["read"] is True
    r = await api.get(f"/data/user/notifications/{note['id']}", headers=artist_h)
    assert r.json()["read"] is True
    assert (await api.get(f"/data/user/notifications/{note['id']}", headers=sup_h)).status_code == 404
    r = await api.post("/actions/user/notifications/mark-all-as-read", headers=artist_h)
    assert r.status_code == 200 and r.json() == {"success": True}
    unread = (await api.get("/data/user/notifications", params={"read": "false"}, headers=artist_h)).json()
    assert unread == []

    listing = (await api.get(f"/data/tasks/{task['id']}/comments", headers=artist_h)).json()
    assert [c["id"] for c in listing] == [comment["id"]] and listing[0]["person"]["id"] == supervisor
    r = await api.post(f"/data/tasks/{task['id']}/comments/{comment['id']}/reply", json={"text": "on it"},
                       headers=artist_h)
    assert r.status_code == 200
    sup_rows = (await api.get("/data/user/notifications", headers=sup_h)).json()
    assert [n["notification_type"] for n in sup_rows] == ["reply"] and sup_rows[0]["reply_text"] == "on it"
