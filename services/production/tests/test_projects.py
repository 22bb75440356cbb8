"""Projects through the CRUD engine: Zou's shapes, filters, errors, permissions, events."""

from __future__ import annotations

import uuid

import nats

from slate_common.events import Event


async def _create(client, signer, **body):  # type: ignore[no-untyped-def]
    r = await client.post("/data/projects", json=body, headers=signer.headers())
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_has_zou_fields_and_defaults(client, signer) -> None:  # type: ignore[no-untyped-def]
    p = await _create(client, signer, name="Agent 327")
    assert p["type"] == "Project"
    assert p["fps"] == "25" and p["ratio"] == "16:9" and p["resolution"] == "1920x1080"
    assert p["production_type"] == "short" and p["production_style"] == "2d3d"
    assert p["team"] == [] and p["task_types"] == [] and p["data"] is None
    uuid.UUID(p["id"])
    assert "T" in p["created_at"] and "+" not in p["created_at"] and "." not in p["created_at"]
    statuses = (await client.get("/data/project-status", headers=signer.headers())).json()
    open_id = next(s["id"] for s in statuses if s["name"] == "Open")
    assert p["project_status_id"] == open_id


async def test_bad_input_gets_zou_400s(client, signer) -> None:  # type: ignore[no-untyped-def]
    h = signer.headers()
    await _create(client, signer, name="Unique One")
    r = await client.post("/data/projects", json={"name": "Unique One"}, headers=h)
    assert (r.status_code, r.json()["message"]) == (400, "A record with the same unique values already exists.")
    r = await client.post("/data/projects", json={}, headers=h)
    assert r.status_code == 400 and r.json()["message"] == "A required field is missing."
    r = await client.post("/data/projects", content=b"{not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] is True
    r = await client.post("/data/projects", json={"name": "X", "production_style": "opera"}, headers=h)
    assert r.status_code == 400 and "production_style" in r.json()["message"]
    r = await client.post("/data/projects", json={"name": "Y", "nb_episodes": "many"}, headers=h)
    assert r.status_code == 400 and r.json()["data"]["errors"][0]["field"] == "nb_episodes"
    r = await client.get("/data/projects/not-a-uuid", headers=h)
    assert (r.status_code, r.json()["message"]) == (400, "Malformed ID.")
    r = await client.get(f"/data/projects/{uuid.uuid4()}", headers=h)
    assert r.status_code == 404 and r.json()["error"] is True


async def test_filters_and_pagination(client, signer) -> None:  # type: ignore[no-untyped-def]
    h = signer.headers()
    a = await _create(client, signer, name="Filter Alpha", fps="24")
    b = await _create(client, signer, name="Filter Beta", fps="30")
    r = await client.get("/data/projects", params={"name": "filter alpha"}, headers=h)
    assert [p["id"] for p in r.json()] == [a["id"]]  # name is case-insensitive
    r = await client.get("/data/projects", params={"fps": "30"}, headers=h)
    assert b["id"] in [p["id"] for p in r.json()] and a["id"] not in [p["id"] for p in r.json()]
    r = await client.get("/data/projects", params={"id": f'["{a["id"]}","{b["id"]}"]'}, headers=h)
    assert sorted(p["id"] for p in r.json()) == sorted([a["id"], b["id"]])
    r = await client.get("/data/projects", params={"id": f'["{a["id"]}","{b["id"]}"]', "page": 2, "limit": 1}, headers=h)
    body = r.json()
    assert (body["total"], body["nb_pages"], body["page"], body["limit"], body["offset"]) == (2, 2, 2, 1, 1)
    assert len(body["data"]) == 1
    r = await client.get("/data/projects", params={"project_status_id": "nope"}, headers=h)
    assert r.status_code == 400


async def test_update_and_delete_rules(client, signer) -> None:  # type: ignore[no-untyped-def]
    h = signer.headers()
    p = await _create(client, signer, name="To Close")
    r = await client.put(f"/data/projects/{p['id']}", json={"fps": "24", "unknown": 1, "id": str(uuid.uuid4())}, headers=h)
    assert r.status_code == 200 and r.json()["fps"] == "24" and r.json()["id"] == p["id"]
    r = await client.delete(f"/data/projects/{p['id']}", headers=h)
    assert (r.status_code, r.json()["message"]) == (400, "Only closed projects can be deleted")
    statuses = (await client.get("/data/project-status", headers=h)).json()
    closed = next(s["id"] for s in statuses if s["name"] == "Closed")
    await client.put(f"/data/projects/{p['id']}", json={"project_status_id": closed}, headers=h)
    for role in ("manager", "user"):  # closed, it is an admin's to delete
        assert (await client.delete(f"/data/projects/{p['id']}", headers=signer.headers(role=role))).status_code == 403
    r = await client.delete(f"/data/projects/{p['id']}", headers=h)
    assert r.status_code == 204 and r.content == b""
    assert (await client.get(f"/data/projects/{p['id']}", headers=h)).status_code == 404


async def test_permissions_per_role(client, signer) -> None:  # type: ignore[no-untyped-def]
    p = await _create(client, signer, name="Secret Show")
    for role in ("manager", "supervisor", "user", "client", "vendor"):
        h = signer.headers(role=role)
        assert (await client.post("/data/projects", json={"name": f"by {role}"}, headers=h)).status_code == 403
        listed = (await client.get("/data/projects", headers=h)).json()
        assert p["id"] not in [x["id"] for x in listed]  # not in its team
        # named, it is refused (Zou's 403; 404 is for what does not exist)
        assert (await client.get(f"/data/projects/{p['id']}", headers=h)).status_code == 403
        assert (await client.get(f"/data/projects/{uuid.uuid4()}", headers=h)).status_code == 404
        # A query parameter cannot widen the scope.
        assert (await client.get("/data/projects", params={"id": p["id"]}, headers=h)).json() == []
        assert (await client.put(f"/data/projects/{p['id']}", json={"fps": "1"}, headers=h)).status_code == 403
        # an open project is refused first for being open, as Zou answers everyone
        r = await client.delete(f"/data/projects/{p['id']}", headers=h)
        assert (r.status_code, r.json()["message"]) == (400, "Only closed projects can be deleted")
        assert (await client.get("/data/projects/open", headers=h)).json() == []
    r = await client.get("/data/projects")
    assert r.status_code == 401 and "Missing JWT" in r.json()["msg"]


async def test_open_projects_lists_running_ones(client, signer) -> None:  # type: ignore[no-untyped-def]
    h = signer.headers()
    p = await _create(client, signer, name="Open Show")
    rows = (await client.get("/data/projects/open", headers=h)).json()
    row = next(r for r in rows if r["id"] == p["id"])
    assert row["descriptors"] == [] and row["task_types_priority"] == {} and row["team"] == []
    # GET one carries the same extras by default, the bare row with relations=false.
    one = (await client.get(f"/data/projects/{p['id']}", headers=h)).json()
    assert one["task_type_links"] == {} and one["team"] == [] and one["descriptors"] == []
    bare = (await client.get(f"/data/projects/{p['id']}", params={"relations": "false"}, headers=h)).json()
    assert "team" not in bare and "descriptors" not in bare and bare["name"] == "Open Show"
    listed = (await client.get("/data/projects", params={"relations": "true", "id": p["id"]}, headers=h)).json()
    assert listed[0]["team"] == [] and "descriptors" not in listed[0]
    named = (await client.get("/data/projects/open", params={"name": "open show"}, headers=h)).json()
    assert [r["id"] for r in named] == [p["id"]]


async def test_changes_emit_events_through_the_outbox(client, signer, infra) -> None:  # type: ignore[no-untyped-def]
    nc = await nats.connect(infra.nats_url)
    js = nc.jetstream()
    sub = await js.subscribe("slate.events.production.project.>", ordered_consumer=True,
                             deliver_policy=nats.js.api.DeliverPolicy.NEW)
    actor = uuid.uuid4()
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    r = await client.post("/data/projects", json={"name": "Evented"},
                          headers={**signer.headers(actor), "traceparent": traceparent})
    pid = r.json()["id"]
    await client.put(f"/data/projects/{pid}", json={"fps": "12"}, headers=signer.headers(actor))
    events, headers = [], []
    while len(events) < 2:  # other tests' events may interleave: keep this project's
        msg = await sub.next_msg(timeout=5)
        event = Event.from_json(msg.data)
        if event.data.get("project_id") == pid:
            events.append(event)
            headers.append(msg.headers or {})
    await nc.close()
    assert [e.name for e in events] == ["project:new", "project:update"]
    assert all(e.data["project_id"] == pid and str(e.project_id) == pid and e.actor_id == actor for e in events)
    assert events[1].data["snapshot"]["fps"] == "12"
    # The caller's trace continues in the event's headers; the message id is the event id.
    assert headers[0]["traceparent"].split("-")[1] == trace_id
    assert headers[0]["Nats-Msg-Id"] == str(events[0].id)


async def test_startup_heap_is_out_of_full_collections(production_app, signer) -> None:  # type: ignore[no-untyped-def]
    """The service froze what start-up made (slate_common.app.freeze_startup_heap): a
    full collection no longer walks the ~180,000 objects of modules, routes and mappers."""
    import gc

    app, client = production_app
    assert (await client.get("/data/projects", headers=signer.headers())).status_code == 200
    assert app.state.runtime is not None and gc.get_freeze_count() > 50_000


async def test_connections_plan_their_statements_once(production_app, signer) -> None:  # type: ignore[no-untyped-def]
    """Production's connections run with force_generic_plan (SLATE_PRODUCTION_DB_PLAN_CACHE_MODE):
    its listings' statements cost more to plan than to run."""
    from sqlalchemy import text

    app, client = production_app
    assert (await client.get("/data/user/tasks", headers=signer.headers())).status_code == 200
    async with app.state.runtime.engine.connect() as conn:
        assert (await conn.execute(text("SHOW plan_cache_mode"))).scalar() == "force_generic_plan"


async def test_six_requests_at_work_at_once_per_process(production_app, signer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Production bounds its requests at work (SLATE_PRODUCTION_MAX_ACTIVE_REQUESTS, default 6:
    bench/RESULTS.md, session 12); the setting reaches the middleware."""
    from slate_common.admission import AdmissionMiddleware

    from slate_production.config import ProductionSettings

    app, client = production_app
    bound = [m.kwargs["limit"] for m in app.user_middleware if m.cls is AdmissionMiddleware]
    assert bound == [6]
    assert (await client.get("/data/projects", headers=signer.headers())).status_code == 200
    monkeypatch.setenv("SLATE_PRODUCTION_MAX_ACTIVE_REQUESTS", "3")
    assert ProductionSettings().max_active_requests == 3
