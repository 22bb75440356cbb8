"""The consistency matrix: every cross-service (write, next call) pair, with zero delay.

Clients see one database (docs/consistency.md): a request that starts after a write's
response has been received sees that write, on every service. Each row below makes one
write on one service and, as soon as the response is in, makes the call on another service
that depends on it. A *stale* answer is a 2xx or a 404 that contradicts the acknowledged
write; a 503 (a service down) is counted apart and is not stale. No row may poll: polling
for a client-visible effect is exactly the bug this test exists to catch.

Modes (seconds on the 2-core CI machine, with the stack already up):
- short (``make test``): each row 10 times in a row, then 32 clients running every row
  once each, at once — about 60 s;
- full: ``SLATE_MATRIX=full .venv/bin/pytest tests/e2e/test_consistency_matrix.py``: each
  row 100 times, then 32 clients running every row 4 times each.

Every cross-service pair added later gets a row here. ``test_two_of_each.py`` runs every
row again on a stack with two gateways and two processes and workers of each service.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import os
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyotp
import pytest
from PIL import Image

from .conftest import gateway_client, login

FULL = os.environ.get("SLATE_MATRIX", "short") == "full"
SEQUENTIAL_RUNS = 100 if FULL else 10
CONCURRENT_CLIENTS = 32
CONCURRENT_ROUNDS = 4 if FULL else 1
PASSWORD = "matrix password 1"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (random.randrange(256), 90, 160)).save(buf, "PNG")
    return buf.getvalue()


class Stale(Exception):
    """A 2xx or 404 that contradicts an acknowledged write."""


class Unavailable(Exception):
    """A clear 503: a service is down (not stale)."""


def expect(r: httpx.Response, *codes: int) -> Any:
    if r.status_code == 503:
        raise Unavailable(f"{r.request.method} {r.request.url.path}: 503")
    if r.status_code not in codes:
        raise Stale(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:200]}")
    return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else None


def write_ok(r: httpx.Response, *codes: int) -> Any:
    """The write itself must succeed; a failure here is a test error, not a stale read."""
    assert r.status_code in codes, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:300]}"
    return r.json() if r.content else None


#: Which of the concurrent clients runs the current row (0 in the sequential runs).
CLIENT: contextvars.ContextVar[int] = contextvars.ContextVar("client", default=0)


@dataclass
class World:
    api: httpx.AsyncClient
    admin: dict[str, str]
    project_id: str
    asset_type_id: str
    task_type_id: str
    status_id: str
    department_id: str
    counter: Counter[str] = field(default_factory=Counter)
    #: One artist per client, created once: rows that log in use the client's artist (a
    #: password hash per row would be most of the run's CPU, and the consistency tested
    #: there is the team's and the task's, not the person's).
    artists: dict[int, tuple[dict[str, Any], dict[str, str]]] = field(default_factory=dict)
    #: A client of the project (in its team), made once: rows only read as them.
    client_headers: dict[str, str] | None = None

    async def artist(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The current client's artist and their headers, taken off the team first."""
        n = CLIENT.get()
        if n not in self.artists:
            person = await self.person(can_log_in=True)
            self.artists[n] = (person, await self.headers_of(person))
        person, headers = self.artists[n]
        r = await self.api.delete(f"/data/projects/{self.project_id}/team/{person['id']}", headers=self.admin)
        assert r.status_code in (204, 404), r.text
        return person, headers

    async def person(self, role: str = "user", *, can_log_in: bool = False, **extra: Any) -> dict[str, Any]:
        """A new person (with a password only when the row logs in: hashing it is slow)."""
        tag = uuid.uuid4().hex[:10]
        if can_log_in:
            extra["password"] = PASSWORD
        return write_ok(await self.api.post("/data/persons", headers=self.admin, json={
            "first_name": "Mx", "last_name": tag, "email": f"matrix-{tag}@example.com", "role": role, **extra}), 201)

    async def join_and_assign(self, person_id: str, task_id: str) -> None:
        """Production adds the person to the project's team, then assigns them the task."""
        write_ok(await self.api.post(f"/data/projects/{self.project_id}/team", headers=self.admin,
                                     json={"person_id": person_id}), 200, 201)
        write_ok(await self.api.put(f"/actions/tasks/{task_id}/assign", headers=self.admin,
                                    json={"person_id": person_id}), 200)

    async def project_client(self) -> dict[str, str]:
        """The headers of a client in the project's team (made on first use)."""
        if self.client_headers is None:
            person = await self.person("client", can_log_in=True)
            write_ok(await self.api.post(f"/data/projects/{self.project_id}/team", headers=self.admin,
                                         json={"person_id": person["id"]}), 200, 201)
            self.client_headers = await self.headers_of(person)
        return self.client_headers

    async def task(self) -> dict[str, Any]:
        """A task on a new asset (an entity has one task per task type, as in Zou)."""
        asset = write_ok(await self.api.post("/data/entities", headers=self.admin, json={
            "name": f"matrix-{uuid.uuid4().hex[:8]}", "project_id": self.project_id,
            "entity_type_id": self.asset_type_id}), 201)
        created = write_ok(await self.api.post(f"/data/entities/{asset['id']}/tasks", headers=self.admin,
                                               json={"task_type_ids": [self.task_type_id]}), 201)
        return created[0] if isinstance(created, list) else created

    async def comment(self, task_id: str) -> dict[str, Any]:
        return write_ok(await self.api.post(f"/actions/tasks/{task_id}/comment", headers=self.admin,
                                            json={"task_status_id": self.status_id, "comment": "matrix"}), 201)

    async def headers_of(self, person: dict[str, Any]) -> dict[str, str]:
        body = await login(self.api, person["email"], PASSWORD)
        return {"Authorization": f"Bearer {body['access_token']}"}


# --- the rows: (write on one service) -> (next call on another) ------------------------

async def person_then_team(w: World) -> None:
    """auth creates a person -> production adds them to a team."""
    person = await w.person()
    expect(await w.api.post(f"/data/projects/{w.project_id}/team", headers=w.admin,
                            json={"person_id": person["id"]}), 200, 201)


async def person_then_assign(w: World) -> None:
    """auth creates a person -> production assigns them a task; the task lists them."""
    task = await w.task()
    person = await w.person()
    body = expect(await w.api.put(f"/actions/tasks/{task['id']}/assign", headers=w.admin,
                                  json={"person_id": person["id"]}), 200)
    assigned = body[0] if isinstance(body, list) else body
    if person["id"] not in assigned["assignees"]:
        raise Stale(f"assignees {assigned['assignees']} without the new person")


async def person_with_department_then_team_listing(w: World) -> None:
    """auth creates a person in a department -> production's team listing shows the department."""
    department = w.department_id
    person = await w.person(departments=[department])
    write_ok(await w.api.post(f"/data/projects/{w.project_id}/team", headers=w.admin,
                              json={"person_id": person["id"]}), 200, 201)
    team = expect(await w.api.get(f"/data/projects/{w.project_id}/team", headers=w.admin), 200)
    row = next((p for p in team if p["id"] == person["id"]), None)
    if row is None or department not in row.get("departments", []):
        raise Stale(f"team row {row and row.get('departments')} without department {department}")


async def person_rename_then_authenticated(w: World) -> None:
    """auth renames an artist -> the gateway, which keeps /auth/authenticated's answers
    (slate_gateway.identity), answers the new name."""
    person, h = await w.artist()
    expect(await w.api.get("/auth/authenticated", headers=h), 200)  # kept from here
    name = uuid.uuid4().hex[:10]
    write_ok(await w.api.put(f"/data/persons/{person['id']}", headers=w.admin, json={"last_name": name}), 200)
    user = expect(await w.api.get("/auth/authenticated", headers=h), 200)["user"]
    if user["last_name"] != name:
        raise Stale(f"/auth/authenticated answered the name {user['last_name']!r} after the rename to {name!r}")


async def totp_then_authenticated(w: World) -> None:
    """auth enables an artist's TOTP (two-factor's own routes) -> the gateway answers
    totp_enabled."""
    person, h = await w.artist()
    r = await w.api.delete(f"/actions/persons/{person['id']}/disable-two-factor-authentication", headers=w.admin)
    assert r.status_code in (200, 400), r.text
    if expect(await w.api.get("/auth/authenticated", headers=h), 200)["user"]["totp_enabled"]:
        raise Stale("/auth/authenticated answered totp_enabled after two-factor was disabled")
    secret = write_ok(await w.api.put("/auth/totp", headers=h), 200)["otp_secret"]
    write_ok(await w.api.post("/auth/totp", headers=h, json={"totp": pyotp.TOTP(secret).now()}), 200)
    try:
        if not expect(await w.api.get("/auth/authenticated", headers=h), 200)["user"]["totp_enabled"]:
            raise Stale("/auth/authenticated answered totp_enabled false after TOTP was enabled")
    finally:  # the other rows log this artist in with a password alone
        write_ok(await w.api.delete(f"/actions/persons/{person['id']}/disable-two-factor-authentication",
                                    headers=w.admin), 200)


async def logout_then_authenticated(w: World) -> None:
    """auth revokes a token at logout -> /auth/authenticated refuses it, on every gateway
    (the logout waits for their views to drop what they kept)."""
    person, _ = await w.artist()
    h = await w.headers_of(person)
    expect(await w.api.get("/auth/authenticated", headers=h), 200)  # kept from here
    write_ok(await w.api.get("/auth/logout", headers=h), 200)
    expect(await w.api.get("/auth/authenticated", headers=h), 401)


async def person_rename_then_team_listing(w: World) -> None:
    """auth renames a person -> production's team listing has the new name."""
    person = await w.person()
    write_ok(await w.api.post(f"/data/projects/{w.project_id}/team", headers=w.admin,
                              json={"person_id": person["id"]}), 200, 201)
    name = "Renamed" + uuid.uuid4().hex[:6]
    write_ok(await w.api.put(f"/data/persons/{person['id']}", headers=w.admin, json={"first_name": name}), 200)
    team = expect(await w.api.get(f"/data/projects/{w.project_id}/team", headers=w.admin), 200)
    row = next((p for p in team if p["id"] == person["id"]), None)
    if row is None or row["first_name"] != name:
        raise Stale(f"team row says {row and row['first_name']!r}, not {name!r}")


async def assign_then_todo(w: World) -> None:
    """production assigns a task -> the assignee's to-do list has it."""
    person, h = await w.artist()
    task = await w.task()
    await w.join_and_assign(person["id"], task["id"])
    todo = expect(await w.api.get("/data/user/tasks", headers=h), 200)
    if task["id"] not in {t["id"] for t in todo}:
        raise Stale("to-do list without the assigned task")


async def project_then_media_thumbnail(w: World) -> None:
    """production creates a project -> media takes its picture."""
    project = write_ok(await w.api.post("/data/projects", headers=w.admin,
                                        json={"name": f"Matrix {uuid.uuid4().hex[:8]}"}), 201)
    expect(await w.api.post(f"/pictures/thumbnails/projects/{project['id']}", headers=w.admin,
                            files={"file": ("p.png", _png(), "image/png")}), 201)


async def project_avatar_then_project(w: World) -> None:
    """media stores a project's picture -> production says has_avatar."""
    project = write_ok(await w.api.post("/data/projects", headers=w.admin,
                                        json={"name": f"Matrix {uuid.uuid4().hex[:8]}"}), 201)
    write_ok(await w.api.post(f"/pictures/thumbnails/projects/{project['id']}", headers=w.admin,
                              files={"file": ("p.png", _png(), "image/png")}), 201)
    body = expect(await w.api.get(f"/data/projects/{project['id']}", headers=w.admin), 200)
    if body["has_avatar"] is not True:
        raise Stale("project has_avatar false after its picture was stored")


async def person_avatar_then_person(w: World) -> None:
    """media stores a person's picture -> auth says has_avatar."""
    person = await w.person()
    write_ok(await w.api.post(f"/pictures/thumbnails/persons/{person['id']}", headers=w.admin,
                              files={"file": ("me.png", _png(), "image/png")}), 201)
    body = expect(await w.api.get(f"/data/persons/{person['id']}", headers=w.admin), 200)
    if body["has_avatar"] is not True:
        raise Stale("person has_avatar false after their picture was stored")


async def person_avatar_then_kept_persons_listing(w: World) -> None:
    """media stores a person's picture -> auth's /data/persons as an artist (answered from
    its kept body while the person table's stamp is unchanged) says has_avatar."""
    person = await w.person()
    _, artist = await w.artist()
    expect(await w.api.get("/data/persons", headers=artist), 200)  # the body is kept
    write_ok(await w.api.post(f"/pictures/thumbnails/persons/{person['id']}", headers=w.admin,
                              files={"file": ("me.png", _png(), "image/png")}), 201)
    listed = expect(await w.api.get("/data/persons", headers=artist), 200)
    row = next((p for p in listed if p["id"] == person["id"]), None)
    if row is None or row["has_avatar"] is not True:
        raise Stale(f"the artist's person listing has_avatar {row and row['has_avatar']}")


async def person_avatar_then_team_listing(w: World) -> None:
    """media stores a person's picture -> production's team listing says has_avatar (a cascade:
    media -> auth -> production)."""
    person = await w.person()
    write_ok(await w.api.post(f"/data/projects/{w.project_id}/team", headers=w.admin,
                              json={"person_id": person["id"]}), 200, 201)
    write_ok(await w.api.post(f"/pictures/thumbnails/persons/{person['id']}", headers=w.admin,
                              files={"file": ("me.png", _png(), "image/png")}), 201)
    team = expect(await w.api.get(f"/data/projects/{w.project_id}/team", headers=w.admin), 200)
    row = next((p for p in team if p["id"] == person["id"]), None)
    if row is None or row["has_avatar"] is not True:
        raise Stale(f"team row has_avatar {row and row['has_avatar']}")


async def task_then_add_preview(w: World) -> None:
    """production creates a task and a comment -> media adds a preview to that comment."""
    task = await w.task()
    comment = await w.comment(task["id"])
    expect(await w.api.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview",
                            headers=w.admin, json={}), 201)


async def add_preview_then_comments(w: World) -> None:
    """media adds a preview -> production's comment listing carries it."""
    task = await w.task()
    comment = await w.comment(task["id"])
    preview = write_ok(await w.api.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview",
                                        headers=w.admin, json={}), 201)
    comments = expect(await w.api.get(f"/data/tasks/{task['id']}/comments", headers=w.admin), 200)
    row = next((c for c in comments if c["id"] == comment["id"]), None)
    ids = [p["id"] if isinstance(p, dict) else p for p in (row or {}).get("previews", [])]
    if preview["id"] not in ids:
        raise Stale(f"comment previews {ids} without {preview['id']}")


async def team_then_artist_preview(w: World) -> None:
    """production adds an artist to a team and assigns a task -> media lets the artist add a
    preview to their task's comment (media's replica of the team and the task)."""
    person, h = await w.artist()
    task = await w.task()
    comment = await w.comment(task["id"])
    await w.join_and_assign(person["id"], task["id"])
    expect(await w.api.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview",
                            headers=h, json={}), 201)


async def task_then_set_main_preview(w: World) -> None:
    """production creates a task and assigns the artist -> media's set-main-preview, as the
    artist, finds the task and their assignment and answers that it has no preview (400, as
    Zou 1.0.97), not 404 (media's replica without the task) nor 403 (without the assignment)."""
    person, h = await w.artist()
    task = await w.task()
    await w.join_and_assign(person["id"], task["id"])
    body = expect(await w.api.put(f"/actions/tasks/{task['id']}/set-main-preview", headers=h), 400)
    if body != {"error": True, "message": "This task has no preview.", "data": None}:
        raise Stale(f"set-main-preview answered {body}")


async def assign_then_team_artist_sets_main_preview(w: World) -> None:
    """production assigns an artist who is in no team a task (which puts them in the project's
    team, as Zou) -> media's set-main-preview, as that artist, on *another* task of the
    project: as a team artist they are told it has no preview (400, as Zou 1.0.97), not 403
    (media's replica of the team without them) nor 404."""
    person, h = await w.artist()
    theirs, other = await w.task(), await w.task()
    write_ok(await w.api.put(f"/actions/tasks/{theirs['id']}/assign", headers=w.admin,
                             json={"person_id": person["id"]}), 200)
    body = expect(await w.api.put(f"/actions/tasks/{other['id']}/set-main-preview", headers=h), 400)
    if body != {"error": True, "message": "This task has no preview.", "data": None}:
        raise Stale(f"set-main-preview answered {body}")


async def assign_then_client_lists_persons(w: World) -> None:
    """production assigns a person who is in no team a task (so they join the team) -> auth's
    person listing, as a client of the project (the people of their projects' teams), names
    them."""
    client = await w.project_client()
    person = await w.person()
    task = await w.task()
    write_ok(await w.api.put(f"/actions/persons/{person['id']}/assign", headers=w.admin,
                             json={"task_ids": [task["id"]]}), 200)
    listed = expect(await w.api.get("/data/persons", headers=client), 200)
    if person["id"] not in {p["id"] for p in listed}:
        raise Stale("the client's person listing without the newly assigned team member")


async def task_put_assignees_then_vendor_sets_main_preview(w: World) -> None:
    """production sets a task's assignees with PUT /data/tasks (gazu.task.update_task sends
    them) -> media's set-main-preview, as the vendor now assigned: a vendor may on their own
    tasks, so it has no preview (400, as Zou 1.0.97), not 403 (media's task replica without
    the assignment) nor 404."""
    vendor = await w.person("vendor", can_log_in=True)
    h = await w.headers_of(vendor)
    task = await w.task()
    write_ok(await w.api.post(f"/data/projects/{w.project_id}/team", headers=w.admin,
                              json={"person_id": vendor["id"]}), 200, 201)
    write_ok(await w.api.put(f"/data/tasks/{task['id']}", headers=w.admin, json={"assignees": [vendor["id"]]}), 200)
    body = expect(await w.api.put(f"/actions/tasks/{task['id']}/set-main-preview", headers=h), 400)
    if body != {"error": True, "message": "This task has no preview.", "data": None}:
        raise Stale(f"set-main-preview answered {body}")


async def task_move_then_entity_previews(w: World) -> None:
    """production moves a task to another asset (PUT /data/tasks: ``entity_id``, a field
    media's task replica keeps, with ``priority``, one it does not) -> media lists the
    task's preview under the new asset. Updates naming only fields media does not keep
    are not waited for (docs/consistency.md, point 8); this one must be."""
    task = await w.task()
    comment = await w.comment(task["id"])
    preview = write_ok(await w.api.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview",
                                        headers=w.admin, json={}), 201)
    other = write_ok(await w.api.post("/data/entities", headers=w.admin, json={
        "name": f"matrix-{uuid.uuid4().hex[:8]}", "project_id": w.project_id, "entity_type_id": w.asset_type_id}), 201)
    write_ok(await w.api.put(f"/data/tasks/{task['id']}", headers=w.admin,
                             json={"entity_id": other["id"], "priority": 2}), 200)
    listed = expect(await w.api.get(f"/data/entities/{other['id']}/preview-files", headers=w.admin), 200)
    if preview["id"] not in [p["id"] for p in listed]:
        raise Stale(f"the new asset's previews {[p['id'] for p in listed]} without {preview['id']}")


async def comment_delete_then_add_preview(w: World) -> None:
    """production deletes a comment -> media refuses a preview on it (a delete, replicated)."""
    task = await w.task()
    comment = await w.comment(task["id"])
    write_ok(await w.api.delete(f"/data/tasks/{task['id']}/comments/{comment['id']}", headers=w.admin), 204)
    expect(await w.api.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview",
                            headers=w.admin, json={}), 404)


async def person_delete_then_team(w: World) -> None:
    """auth deletes a person -> production refuses to add them to a team."""
    person = await w.person()
    write_ok(await w.api.delete(f"/data/persons/{person['id']}", headers=w.admin), 204)
    expect(await w.api.post(f"/data/projects/{w.project_id}/team", headers=w.admin,
                            json={"person_id": person["id"]}), 404)


async def team_removal_then_artist_refused(w: World) -> None:
    """production takes an artist off a team -> media refuses their preview (an update of
    media's replica of the team)."""
    person, h = await w.artist()
    task = await w.task()
    comment = await w.comment(task["id"])
    await w.join_and_assign(person["id"], task["id"])
    write_ok(await w.api.delete(f"/data/projects/{w.project_id}/team/{person['id']}", headers=w.admin), 204)
    expect(await w.api.post(f"/actions/tasks/{task['id']}/comments/{comment['id']}/add-preview",
                            headers=h, json={}), 403, 404)


async def team_then_person_delete_refused(w: World) -> None:
    """production adds a person to a team -> auth refuses to delete them (Zou: 400, some
    data still linked); with force=true it deletes them and production's team forgets them."""
    person = await w.person()
    task = await w.task()
    await w.join_and_assign(person["id"], task["id"])
    body = expect(await w.api.delete(f"/data/persons/{person['id']}", headers=w.admin), 400)
    if body != {"error": True, "message": "Some data are still linked to given person."}:
        raise Stale(f"refusal answered {body}")
    write_ok(await w.api.delete(f"/data/persons/{person['id']}", headers=w.admin, params={"force": "true"}), 204)
    team = expect(await w.api.get(f"/data/projects/{w.project_id}/team", headers=w.admin), 200)
    if person["id"] in {p["id"] if isinstance(p, dict) else p for p in team}:
        raise Stale("a force-deleted person is still in the team")
    assignees = expect(await w.api.get(f"/data/tasks/{task['id']}", headers=w.admin), 200)["assignees"]
    if person["id"] in assignees:
        raise Stale("a force-deleted person is still assigned")


async def team_removal_then_person_delete(w: World) -> None:
    """production takes a person off a team -> auth deletes them (nothing links to them)."""
    person = await w.person()
    write_ok(await w.api.post(f"/data/projects/{w.project_id}/team", headers=w.admin,
                              json={"person_id": person["id"]}), 200, 201)
    write_ok(await w.api.delete(f"/data/projects/{w.project_id}/team/{person['id']}", headers=w.admin), 204)
    expect(await w.api.delete(f"/data/persons/{person['id']}", headers=w.admin), 204)


ROWS: list[Callable[[World], Awaitable[None]]] = [
    person_then_team,
    person_then_assign,
    person_with_department_then_team_listing,
    person_rename_then_team_listing,
    person_rename_then_authenticated,
    totp_then_authenticated,
    logout_then_authenticated,
    assign_then_todo,
    project_then_media_thumbnail,
    project_avatar_then_project,
    person_avatar_then_person,
    person_avatar_then_kept_persons_listing,
    person_avatar_then_team_listing,
    task_then_add_preview,
    add_preview_then_comments,
    team_then_artist_preview,
    task_then_set_main_preview,
    assign_then_team_artist_sets_main_preview,
    assign_then_client_lists_persons,
    task_move_then_entity_previews,
    task_put_assignees_then_vendor_sets_main_preview,
    comment_delete_then_add_preview,
    person_delete_then_team,
    team_removal_then_artist_refused,
    team_then_person_delete_refused,
    team_removal_then_person_delete,
]


@pytest.fixture(scope="module")
async def world(stack) -> World:  # type: ignore[no-untyped-def]
    world = await make_world(stack)
    yield world
    await world.api.aclose()


async def make_world(stack: Any) -> World:
    """A project, task type, status and department the rows work in, on ``stack``, and a
    client spreading its requests over the stack's gateways."""
    api = gateway_client(stack, timeout=60, limits=httpx.Limits(max_connections=CONCURRENT_CLIENTS + 8))
    body = await login(api, stack.admin_email, stack.admin_password)
    admin = {"Authorization": f"Bearer {body['access_token']}"}
    project = write_ok(await api.post("/data/projects", headers=admin, json={"name": f"Matrix {uuid.uuid4().hex[:6]}"}), 201)
    types = (await api.get("/data/entity-types", headers=admin)).json()
    character = next(t for t in types if t["name"] == "Character")
    task_type = next(t for t in (await api.get("/data/task-types", headers=admin)).json() if t["for_entity"] == "Asset")
    write_ok(await api.post(f"/data/projects/{project['id']}/settings/task-types", headers=admin,
                            json={"task_type_id": task_type["id"]}), 200, 201)
    status = (await api.get("/data/task-status", headers=admin)).json()[0]
    department = write_ok(await api.post("/data/departments", headers=admin,
                                         json={"name": f"Matrix {uuid.uuid4().hex[:6]}"}), 201)
    return World(api, admin, project["id"], character["id"], task_type["id"], status["id"], department["id"])


async def _run(world: World, row: Callable[[World], Awaitable[None]], tally: Counter[str], stale: list[str]) -> None:
    try:
        await row(world)
        tally["ok"] += 1
    except Unavailable:
        tally["unavailable"] += 1
    except Stale as exc:
        tally["stale"] += 1
        stale.append(f"{row.__name__}: {exc}")


@pytest.mark.parametrize("row", ROWS, ids=[r.__name__ for r in ROWS])
async def test_row_with_zero_delay(world: World, row: Callable[[World], Awaitable[None]]) -> None:
    await check_in_a_row(world, row)


async def test_every_row_under_32_concurrent_clients(world: World) -> None:
    await check_concurrently(world)


async def test_a_write_that_waited_says_where_its_wait_went(world: World) -> None:
    """A person created on auth is replicated by production (and others): the answer's
    Server-Timing names the publication, the wait and the group announced last."""
    r = await world.api.post("/data/persons", headers=world.admin,
                             json={"first_name": "Timed", "last_name": uuid.uuid4().hex[:6],
                                   "email": f"timed-{uuid.uuid4().hex[:8]}@example.com"})
    write_ok(r, 201)
    timing = r.headers.get("server-timing", "")
    parts = dict(part.split(";", 1) for part in timing.split(", "))
    assert set(parts) >= {"settle-publish", "settle-wait"}, timing
    assert float(parts["settle-publish"].split("dur=")[1].split(";")[0]) > 0, timing
    waited = parts["settle-wait"]
    assert float(waited.split("dur=")[1].split(";")[0]) > 0, timing
    assert 'desc="' in waited and waited.split('desc="')[1].rstrip('"').endswith("-events"), timing
    # a read waits for nothing and says nothing
    r = await world.api.get("/data/persons", headers=world.admin)
    assert r.status_code == 200 and "server-timing" not in r.headers


async def check_in_a_row(world: World, row: Callable[[World], Awaitable[None]]) -> None:
    """``row`` SEQUENTIAL_RUNS times in a row: not one stale answer, not one 503."""
    tally: Counter[str] = Counter()
    stale: list[str] = []
    for _ in range(SEQUENTIAL_RUNS):
        await _run(world, row, tally, stale)
    assert stale == [], f"{len(stale)} stale of {SEQUENTIAL_RUNS}: {stale[:5]}"
    assert tally == Counter(ok=SEQUENTIAL_RUNS)


async def check_concurrently(world: World) -> None:
    """Every row CONCURRENT_ROUNDS times by each of 32 clients at once: not one stale answer."""
    tally: Counter[str] = Counter()
    stale: list[str] = []

    async def client(n: int) -> None:
        CLIENT.set(n)
        rows = ROWS * CONCURRENT_ROUNDS
        random.Random(n).shuffle(rows)
        for row in rows:
            await _run(world, row, tally, stale)

    await asyncio.gather(*(client(n) for n in range(CONCURRENT_CLIENTS)))
    total = CONCURRENT_CLIENTS * CONCURRENT_ROUNDS * len(ROWS)
    print(f"\nconsistency matrix, {CONCURRENT_CLIENTS} clients: {dict(tally)} of {total}")
    assert stale == [], f"{len(stale)} stale of {total}: {stale[:5]}"
    assert tally["ok"] == total


async def test_a_replica_killed_and_restarted_catches_up_before_it_is_ready(world: World, stack) -> None:  # type: ignore[no-untyped-def]
    """production is killed (-9) and kept down while auth creates persons (auth answers
    after its bound and logs replica_lag); production restarted reports ready only once it
    applied them, and then answers none of them stale."""
    ready_url = stack.url("production") + "/readyz"
    stack.kill("production")
    stack.stop("production")
    try:
        created = [await world.person() for _ in range(2)]  # each waits the bound (8 s in tests)
    finally:
        stack.start("production", wait=False)
    restarted = asyncio.get_running_loop().time()
    async with httpx.AsyncClient(timeout=5) as probe:
        saw_unready = False
        deadline = asyncio.get_running_loop().time() + 90
        while True:  # readiness is what a load balancer polls: polling it is not a stale read
            try:
                r = await probe.get(ready_url)
            except httpx.TransportError:
                r = None
            if r is not None and r.status_code == 200:
                assert r.json()["events"] is True
                break
            saw_unready = True
            assert asyncio.get_running_loop().time() < deadline, "production never became ready"
            await asyncio.sleep(0.05)
    assert saw_unready
    print(f"\nproduction ready {asyncio.get_running_loop().time() - restarted:.1f}s after its restart")
    for person in created:
        expect(await world.api.post(f"/data/projects/{world.project_id}/team", headers=world.admin,
                                    json={"person_id": person["id"]}), 200, 201)
    team = {p["id"] for p in expect(await world.api.get(f"/data/projects/{world.project_id}/team",
                                                        headers=world.admin), 200)}
    assert {p["id"] for p in created} <= team
