"""Shot versions, a task's previews, episode retake stats, the open tasks' burndown and
guessing entities from a file path (shapes and permissions observed on the oracle)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import nats
import pytest
from sqlalchemy import insert, select, update

from slate_common.bus import event_subject
from slate_common.db import transaction
from slate_common.events import Event

from slate_production.models import PreviewFileReplica, Project, Task, task_person_link

ROLES = ("manager", "supervisor", "user", "client", "vendor", "outsider")


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, f"{response.status_code} {response.text}"
    return response.json() if response.content else None


def headers(signer, prod, who: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if who == "admin":
        return signer.headers()
    return signer.headers(prod.people[who], "user" if who == "outsider" else who)


async def _tasks(client, signer, prod, task_type: str = "anim") -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    tasks = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids[task_type]}/shots/create-tasks", json=[],
        headers=signer.headers()), 201)
    by_shot = {t["entity_id"]: t for t in tasks}
    return [by_shot[s] for s in prod.ids["shots"]]


async def _assign(sessionmaker, task_id: str, person_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        await session.execute(insert(task_person_link).values(task_id=uuid.UUID(task_id), person_id=person_id))


# --- shot versions ------------------------------------------------------------------------


async def test_shot_versions_follow_frame_range_changes(client, signer, production_factory,
                                                        sessionmaker) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory()
    shot = prod.ids["shots"][0]
    h_manager = headers(signer, prod, "manager")
    assert await ok(await client.get(f"/data/shots/{shot}/versions", headers=h_manager)) == []

    await ok(await client.put(f"/data/shots/{shot}", json={"description": "no frames"}, headers=h_manager))
    await ok(await client.put(f"/data/shots/{shot}", json={"data": {"frame_in": 1, "frame_out": 48, "fps": 25}},
                              headers=h_manager))  # fps only: the range did not move
    assert await ok(await client.get(f"/data/shots/{shot}/versions", headers=h_manager)) == []

    await ok(await client.put(f"/data/shots/{shot}", json={"data": {"frame_in": 1, "frame_out": 60}},
                              headers=h_manager))
    await ok(await client.put(f"/data/entities/{shot}", json={"name": "SH010b", "data": {"frame_in": 5, "frame_out": 60}},
                              headers=signer.headers(prod.people["manager"], "manager")))
    versions = await ok(await client.get(f"/data/shots/{shot}/versions", headers=h_manager))
    assert [(v["name"], v["data"]) for v in versions] == [
        ("SH010b", {"frame_in": 5, "frame_out": 60}), ("SH010", {"frame_in": 1, "frame_out": 60})]
    assert {v["person_id"] for v in versions} == {str(prod.people["manager"])}
    assert {v["entity_id"] for v in versions} == {shot} and {v["type"] for v in versions} == {"ShotVersion"}
    assert list(versions[0]) == ["name", "data", "entity_id", "person_id", "id", "created_at", "updated_at", "type"]

    # a failed update (artists may not change shots) writes no version
    r = await client.put(f"/data/shots/{shot}", json={"data": {"frame_in": 9}}, headers=headers(signer, prod, "user"))
    assert r.status_code == 403

    # everyone in the team reads them; vendors only for a shot they have a task on
    tasks = await _tasks(client, signer, prod)
    for who in ("admin", *ROLES):
        r = await client.get(f"/data/shots/{shot}/versions", headers=headers(signer, prod, who))
        if who in ("outsider", "vendor"):
            assert r.status_code == 403, who
        else:
            assert [v["id"] for v in r.json()] == [v["id"] for v in versions], who
    await _assign(sessionmaker, tasks[0]["id"], prod.people["vendor"])
    r = await client.get(f"/data/shots/{shot}/versions", headers=headers(signer, prod, "vendor"))
    assert r.status_code == 200 and len(r.json()) == 2

    assert (await client.get(f"/data/shots/{prod.ids['asset']}/versions", headers=h_manager)).status_code == 404
    assert (await client.get(f"/data/shots/{uuid.uuid4()}/versions", headers=h_manager)).status_code == 404
    r = await client.get("/data/shots/not-an-id/versions", headers=h_manager)
    assert r.status_code == 400 and r.json()["error"] is True


# --- task previews ------------------------------------------------------------------------


async def _publish(infra, name: str, data: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    nc = await nats.connect(infra.nats_url)
    event = Event(name=name, data=data)
    await nc.jetstream().publish(event_subject("media", name), event.to_json(), headers={"Nats-Msg-Id": str(event.id)})
    await nc.close()


def _preview_snapshot(task_id: str, revision: int, position: int, **extra: Any) -> dict[str, Any]:
    pid = str(uuid.uuid4())
    return {
        "name": pid[:13], "original_name": f"take{revision}", "revision": revision, "position": position,
        "extension": "mp4", "description": None, "path": None, "source": "webgui", "file_size": 1000 * revision,
        "status": "ready", "validation_status": "neutral", "annotations": [], "width": 1920, "height": 1080,
        "duration": 2.0, "data": None, "token_in": None, "token_out": None, "task_id": task_id, "person_id": None,
        "source_file_id": None, "shotgun_id": None, "is_movie": True, "url": None, "uploaded_movie_url": None,
        "uploaded_movie_name": None, "id": pid, "created_at": "2026-11-23T10:00:00",
        "updated_at": "2026-11-23T10:00:00", "type": "PreviewFile", "comment_id": str(uuid.uuid4()),
        "project_id": None, "entity_id": None, **extra,
    }


async def _replica_count(sessionmaker, task_ids: list[str], expected: int) -> int:  # type: ignore[no-untyped-def]
    ids = [uuid.UUID(t) for t in task_ids]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        async with transaction(sessionmaker) as session:
            count = len((await session.scalars(select(PreviewFileReplica.id).where(
                PreviewFileReplica.task_id.in_(ids), PreviewFileReplica.snapshot.is_not(None)))).all())
        if count == expected or loop.time() > deadline:
            return count
        await asyncio.sleep(0.1)


async def test_task_previews_come_from_media_events(client, signer, production_factory, sessionmaker,
                                                    infra) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory()
    tasks = await _tasks(client, signer, prod)
    task_id, other_id = tasks[0]["id"], tasks[1]["id"]
    first = _preview_snapshot(task_id, 1, 1)
    second = _preview_snapshot(task_id, 2, 2)
    third = _preview_snapshot(task_id, 2, 1)
    elsewhere = _preview_snapshot(other_id, 1, 1)
    for snap in (first, second, third, elsewhere):
        await _publish(infra, "preview-file:new", {"preview_file_id": snap["id"], "snapshot": snap})
    assert await _replica_count(sessionmaker, [task_id, other_id], 4) == 4
    # media's later update (processing finished with another size) replaces the snapshot
    await _publish(infra, "preview-file:update", {"preview_file_id": first["id"],
                                                  "snapshot": {**first, "width": 1280, "status": "ready"}})

    h = headers(signer, prod, "supervisor")

    async def widths() -> Any:
        rows = await ok(await client.get(f"/data/tasks/{task_id}/previews", headers=h))
        return rows

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    rows = await widths()
    while rows[-1]["width"] != 1280 and loop.time() < deadline:
        await asyncio.sleep(0.1)
        rows = await widths()
    assert [r["id"] for r in rows] == [third["id"], second["id"], first["id"]]
    assert rows[-1]["width"] == 1280 and rows[0]["file_size"] == 2000 and rows[0]["original_name"] == "take2"
    expected_keys = [k for k in third if k not in ("comment_id", "project_id", "entity_id", "type")] + ["type"]
    assert list(rows[0]) == expected_keys and rows[0]["type"] == "PreviewFile"

    for who in ("admin", *ROLES):
        r = await client.get(f"/data/tasks/{task_id}/previews", headers=headers(signer, prod, who))
        if who in ("outsider", "vendor"):
            assert r.status_code == 403, who
        else:
            assert len(r.json()) == 3, who
    await _assign(sessionmaker, task_id, prod.people["vendor"])
    assert len(await ok(await client.get(f"/data/tasks/{task_id}/previews", headers=headers(signer, prod, "vendor")))) == 3

    await _publish(infra, "preview-file:delete", {"preview_file_id": second["id"]})
    assert await _replica_count(sessionmaker, [task_id], 2) == 2
    rows = await ok(await client.get(f"/data/tasks/{task_id}/previews", headers=h))
    assert [r["id"] for r in rows] == [third["id"], first["id"]]
    assert (await client.get(f"/data/tasks/{uuid.uuid4()}/previews", headers=h)).status_code == 404
    assert (await client.get("/data/tasks/nope/previews", headers=h)).status_code == 400


# --- episode retake stats -----------------------------------------------------------------


async def _set_task(sessionmaker, task_id: str, **values: Any) -> None:  # type: ignore[no-untyped-def]
    async with transaction(sessionmaker) as session:
        await session.execute(update(Task).where(Task.id == uuid.UUID(task_id)).values(**values))


async def test_episode_retake_stats(client, signer, production_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(tvshow=True, shots=4)
    st = {k: uuid.UUID(v) for k, v in prod.ids["status"].items()}
    h = signer.headers()
    frames = [43, 5, 100, 200]
    for shot, nb in zip(prod.ids["shots"], frames):
        await ok(await client.put(f"/data/shots/{shot}", json={"nb_frames": nb}, headers=h))
    tasks = await _tasks(client, signer, prod)
    layout = await _tasks(client, signer, prod, "layout")
    await _set_task(sessionmaker, tasks[0]["id"], retake_count=1, task_status_id=st["retake"])
    await _set_task(sessionmaker, tasks[2]["id"], retake_count=2, task_status_id=st["retake"])
    await _set_task(sessionmaker, tasks[3]["id"], retake_count=1, task_status_id=st["done"], nb_drawings=7)
    await _set_task(sessionmaker, layout[1]["id"], task_status_id=st["done"])
    # an asset task does not count
    await ok(await client.post(f"/actions/projects/{prod.id}/task-types/{prod.ids['modeling']}/assets/create-tasks",
                               json=[], headers=h), 201)

    stats = await ok(await client.get(f"/data/projects/{prod.id}/episodes/retake-stats", headers=h))
    episode, anim, lay = prod.ids["episode"], prod.ids["anim"], prod.ids["layout"]
    assert list(stats) == ["all", episode]
    c = lambda n, f, d=0: {"count": n, "frames": f, "drawings": d}  # noqa: E731
    anim_now = {"done": c(1, 200, 7), "retake": c(2, 143), "other": c(1, 5)}
    assert stats[episode][anim] == {
        "max_retake_count": 2,
        "evolution": {
            "1": {"done": c(0, 0), "retake": c(3, 343, 7), "other": c(1, 5)},
            "2": {"done": c(1, 200, 7), "retake": c(1, 100), "other": c(2, 48)},
        },
        **anim_now,
    }
    assert stats[episode][lay] == {"max_retake_count": 0, "evolution": {}, "done": c(1, 5),
                                   "retake": c(0, 0), "other": c(3, 343)}
    assert stats[episode]["all"]["done"] == c(2, 205, 7) and stats[episode]["all"]["max_retake_count"] == 2
    assert stats[episode]["all"]["evolution"]["1"] == {"done": c(1, 5), "retake": c(3, 343, 7), "other": c(4, 348)}
    assert stats["all"][anim] == {"max_retake_count": 2, "evolution": {}, **anim_now}
    assert stats["all"]["all"]["retake"] == c(2, 143) and stats["all"]["all"]["evolution"] == {}
    assert list(stats[episode][anim]) == ["max_retake_count", "evolution", "done", "retake", "other"]

    await _assign(sessionmaker, tasks[2]["id"], prod.people["vendor"])
    for who in ROLES:
        r = await client.get(f"/data/projects/{prod.id}/episodes/retake-stats", headers=headers(signer, prod, who))
        if who == "outsider":
            assert r.status_code == 403
        elif who == "client":
            assert r.status_code == 403
        elif who == "vendor":  # only the task assigned to them
            assert r.json()["all"]["all"]["retake"] == c(1, 100) and r.json()["all"]["all"]["other"] == c(0, 0)
        else:
            assert r.json() == stats, who
    empty = await production_factory()  # no episodes: only the zeroed "all"
    r = await ok(await client.get(f"/data/projects/{empty.id}/episodes/retake-stats", headers=h))
    assert r == {"all": {"all": {"max_retake_count": 0, "evolution": {}, "done": c(0, 0), "retake": c(0, 0),
                                 "other": c(0, 0)}}}
    assert (await client.get(f"/data/projects/{uuid.uuid4()}/episodes/retake-stats", headers=h)).status_code == 404
    assert (await client.get("/data/projects/xx/episodes/retake-stats", headers=h)).status_code == 400


# --- burndown -------------------------------------------------------------------------------


async def test_open_tasks_burndown(client, signer, production_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(shots=3)
    st = {k: uuid.UUID(v) for k, v in prod.ids["status"].items()}
    tasks = await _tasks(client, signer, prod)
    await _set_task(sessionmaker, tasks[0]["id"], estimation=3.0, start_date=dt.datetime(2026, 11, 20),
                    due_date=dt.datetime(2026, 12, 5))
    await _set_task(sessionmaker, tasks[1]["id"], estimation=2.5, task_status_id=st["done"],
                    done_date=dt.datetime(2026, 11, 23, 15, 0))
    await _set_task(sessionmaker, tasks[2]["id"], task_status_id=st["done"], done_date=dt.datetime(2026, 11, 24, 9))
    await _assign(sessionmaker, tasks[0]["id"], prod.people["user"])
    h = signer.headers()
    q = {"project_id": prod.id}
    r = await ok(await client.get("/data/tasks/open-tasks/burndown", params=q, headers=h))
    assert r == {"total": 3, "total_estimation": 5.5, "start_date": "2026-11-20", "end_date": "2026-12-05",
                 "done_by_day": [{"date": "2026-11-23", "done": 1, "done_estimation": 2.5},
                                 {"date": "2026-11-24", "done": 1, "done_estimation": 0}]}
    r = await ok(await client.get("/data/tasks/open-tasks/burndown",
                                  params={**q, "task_status_id": prod.ids["status"]["done"]}, headers=h))
    assert (r["total"], r["start_date"], r["end_date"]) == (2, "2026-11-23", "2026-11-24")
    r = await ok(await client.get("/data/tasks/open-tasks/burndown",
                                  params={**q, "task_type_id": prod.ids["modeling"]}, headers=h))
    assert r == {"total": 0, "total_estimation": 0, "start_date": None, "end_date": None, "done_by_day": []}
    r = await ok(await client.get("/data/tasks/open-tasks/burndown",
                                  params={**q, "person_id": str(prod.people["user"])}, headers=h))
    assert (r["total"], r["total_estimation"]) == (1, 3.0)
    r = await ok(await client.get("/data/tasks/open-tasks/burndown", params={**q, "start_date": "2026-11-21"},
                                  headers=h))
    assert r["total"] == 0
    r = await ok(await client.get("/data/tasks/open-tasks/burndown", params={**q, "due_date": "2026-12-06"},
                                  headers=h))
    assert (r["total"], r["done_by_day"]) == (1, [])
    r = await ok(await client.get("/data/tasks/open-tasks/burndown", params={**q, "priority": "0"}, headers=h))
    assert r["total"] == 3
    for params, message in (({"project_id": "xx"}, "Wrong UUID format."),
                            ({"priority": "abc"}, "Wrong value for parameter priority."),
                            ({"start_date": "abc"}, "Wrong date format")):
        r = await client.get("/data/tasks/open-tasks/burndown", params=params, headers=h)
        assert r.status_code == 400 and r.json()["message"].startswith(message)

    for who in ROLES:
        r = await ok(await client.get("/data/tasks/open-tasks/burndown", params=q, headers=headers(signer, prod, who)))
        expected = {"outsider": 0, "vendor": 0}.get(who, 3)
        assert r["total"] == expected, who
    await _assign(sessionmaker, tasks[1]["id"], prod.people["vendor"])
    r = await ok(await client.get("/data/tasks/open-tasks/burndown", params=q, headers=headers(signer, prod, "vendor")))
    assert (r["total"], r["total_estimation"]) == (1, 2.5)
    # closed projects are left out
    async with transaction(sessionmaker) as session:
        from slate_production.models import ProjectStatus
        closed = await session.scalar(select(ProjectStatus.id).where(ProjectStatus.name == "Closed"))
        await session.execute(update(Project).where(Project.id == uuid.UUID(prod.id)).values(project_status_id=closed))
    r = await ok(await client.get("/data/tasks/open-tasks/burndown", params=q, headers=h))
    assert r["total"] == 0


# --- guess from path ----------------------------------------------------------------------

TREE = {
    "working": {"mountpoint": "/mnt", "root": "prod",
                "folder_path": {"shot": "<Project>/shots/<Sequence>/<Shot>/<TaskType>",
                                "asset": "<Project>/assets/<AssetType>/<Asset>/<TaskType>", "style": "lowercase"},
                "file_name": {"shot": "<Project>_<Shot>", "asset": "<Project>_<Asset>", "style": "lowercase"}},
    "output": {"mountpoint": "/out", "root": "prod",
               "folder_path": {"shot": "<Project>/shots/<Episode>/<Sequence>/<Shot>/v<Revision>",
                               "style": "lowercase"}},
}


@pytest.mark.parametrize("route", ["/data/entities/guess-from-path", "/data/entities/guess_from_path"])
async def test_guess_from_path(client, signer, production_factory, route) -> None:  # type: ignore[no-untyped-def]
    prod = await production_factory(tvshow=True)
    h = signer.headers()
    body = {"project_id": prod.id, "file_path": "/mnt/prod/x/shots/sq01/sh010/animation"}
    r = await client.post(route, json=body, headers=h)
    assert r.status_code == 400 and r.json()["message"] == "No tree can be found for given project."
    await ok(await client.put(f"/data/projects/{prod.id}", json={"file_tree": TREE}, headers=h))
    project_dir = prod.project["name"].lower().replace(" ", "_")
    shot, seq = prod.ids["shots"][0], prod.ids["sequence"]

    async def guess(path: str, who: str = "admin", **extra: Any) -> Any:
        return await ok(await client.post(route, json={"project_id": prod.id, "file_path": path, **extra},
                                          headers=headers(signer, prod, who)))

    assert await guess(f"/mnt/prod/{project_dir}/shots/SQ01/sh010/animation/{project_dir}_sh010.ma") == [
        {"Template": "shot", "Project": prod.id, "Sequence": seq, "Shot": shot, "TaskType": prod.ids["anim"]}]
    assert await guess(f"/mnt/prod/{prod.project['name']}/assets/character/hero/modeling") == [
        {"Template": "asset", "Project": prod.id, "AssetType": prod.ids["character"], "Asset": prod.ids["asset"],
         "TaskType": prod.ids["modeling"]}]
    # resolution stops at the first name that finds nothing, or where the path ends
    assert await guess(f"/mnt/prod/{project_dir}/shots/sq01/sh999/animation") == [
        {"Template": "shot", "Project": prod.id, "Sequence": seq}]
    assert await guess("/mnt/prod/other/shots/sq01/sh010") == [{"Template": "shot"}]
    assert await guess(f"/mnt/prod/{project_dir}/shots") == [{"Template": "shot", "Project": prod.id}]
    assert await guess(f"/out/prod/{project_dir}/shots/e01/sq01/sh010/v3/x.mov") == [
        {"Template": "shot", "Project": prod.id, "Episode": prod.ids["episode"], "Sequence": seq, "Shot": shot}]
    assert await guess(f"mnt/prod/{project_dir}/shots") == [] and await guess("/nothing/here") == []
    assert await guess(f"\\mnt\\prod\\{project_dir}\\shots\\sq01", sep="\\") == [
        {"Template": "shot", "Project": prod.id, "Sequence": seq}]

    for who in ROLES:
        r = await client.post(route, json={"project_id": prod.id, "file_path": f"/mnt/prod/{project_dir}/shots"},
                              headers=headers(signer, prod, who))
        if who == "outsider":
            assert r.status_code == 403
        else:
            assert r.json() == [{"Template": "shot", "Project": prod.id}], who
    for bad, status in (({"file_path": "/a"}, 400), ({"project_id": prod.id}, 400),
                        ({"project_id": "xx", "file_path": "/a"}, 404),
                        ({"project_id": str(uuid.uuid4()), "file_path": "/a"}, 404)):
        r = await client.post(route, json=bad, headers=h)
        assert r.status_code == status and r.json()["error"] is True, bad
    r = await client.post(route, json=["x"], headers=h)
    assert r.status_code == 400


async def test_generic_updates_add_to_data(client, signer, production_factory) -> None:  # type: ignore[no-untyped-def]
    """PUT /data/entities and /data/tasks merge ``data`` as Zou does (PUT /data/shots replaces it)."""
    prod = await production_factory()
    h = signer.headers()
    shot = prod.ids["shots"][0]
    r = await ok(await client.put(f"/data/entities/{shot}", json={"data": {"frame_out": 60}}, headers=h))
    assert r["data"] == {"frame_in": 1, "frame_out": 60, "fps": 24}
    versions = await ok(await client.get(f"/data/shots/{shot}/versions", headers=h))
    assert [v["data"] for v in versions] == [{"frame_in": 1, "frame_out": 60, "fps": 24}]
    r = await ok(await client.put(f"/data/entities/{shot}", json={"data": None, "description": "d"}, headers=h))
    assert r["data"] == {"frame_in": 1, "frame_out": 60, "fps": 24} and r["description"] == "d"
    r = await ok(await client.put(f"/data/shots/{shot}", json={"data": {"frame_in": 2}}, headers=h))
    assert r["data"] == {"frame_in": 2}
    task = (await _tasks(client, signer, prod))[0]
    await ok(await client.put(f"/data/tasks/{task['id']}", json={"data": {"x": 1}}, headers=h))
    r = await ok(await client.put(f"/data/tasks/{task['id']}", json={"data": {"y": 2}}, headers=h))
    assert r["data"] == {"x": 1, "y": 2}
    r = await client.put(f"/data/entities/{shot}", json={"data": "nope"}, headers=h)
    assert r.status_code == 400


# --- open tasks -------------------------------------------------------------------------------


async def test_open_tasks_rows_and_stats_as_zou(client, signer, production_factory,
                                                sessionmaker) -> None:  # type: ignore[no-untyped-def]
    """Observed on the oracle (2026-12-07): an asset's task row of /data/tasks/open-tasks has
    no episode_ids/episode_names (the to-do list's rows do), and the stats' totals are float
    sums (0 when nothing is open)."""
    prod = await production_factory(shots=1)
    shot_task = (await _tasks(client, signer, prod))[0]
    asset_tasks = await ok(await client.post(
        f"/actions/projects/{prod.id}/task-types/{prod.ids['modeling']}/assets/create-tasks", json=[],
        headers=signer.headers()), 201)
    assert len(asset_tasks) == 1
    await _set_task(sessionmaker, shot_task["id"], estimation=0.0)
    for task in (shot_task, asset_tasks[0]):
        await _assign(sessionmaker, task["id"], prod.people["user"])
    q = {"project_id": prod.id}
    r = await ok(await client.get("/data/tasks/open-tasks", params=q, headers=headers(signer, prod, "user")))
    rows = {row["id"]: row for row in r["data"]}
    assert set(rows) == {shot_task["id"], asset_tasks[0]["id"]}
    assert "episode_ids" not in rows[asset_tasks[0]["id"]] and "episode_names" not in rows[asset_tasks[0]["id"]]
    assert rows[asset_tasks[0]["id"]]["entity_id"] == prod.ids["asset"]
    stats = r["stats"]
    assert stats["total"] == 2
    assert isinstance(stats["total_duration"], float) and stats["total_duration"] == 0.0
    assert isinstance(stats["total_estimation"], float) and stats["total_estimation"] == 0.0
    # the to-do list keeps an asset's episodes
    todo = await ok(await client.get("/data/user/tasks", headers=headers(signer, prod, "user")))
    assert next(t for t in todo if t["id"] == asset_tasks[0]["id"])["episode_ids"] == []
    # a project one is not in: 403 (Zou), not an empty page; an admin reads any
    r = await client.get("/data/tasks/open-tasks", params=q, headers=headers(signer, prod, "outsider"))
    assert r.status_code == 403 and r.json()["error"] is True
    # nothing open: int zeros, as Zou
    empty = await production_factory(shots=1)
    r = await ok(await client.get("/data/tasks/open-tasks", params={"project_id": empty.id}, headers=signer.headers()))
    assert r["data"] == [] and r["stats"]["total_duration"] == 0 and isinstance(r["stats"]["total_duration"], int)
