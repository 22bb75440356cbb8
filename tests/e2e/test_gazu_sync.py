"""gazu.sync end to end (proven on the oracle first: GAZU_TARGET=oracle): the id maps a
studio builds between two instances, here two clients of the same one, over the
reference data a fresh instance has."""

from __future__ import annotations

import pytest

from .gazu_target import gazu_host, gz, tag  # noqa: F401  (fixtures)

DEFAULT_DEPARTMENTS = ("Modeling", "Animation", "FX", "Compositing", "Concept", "Layout")


def test_gazu_sync_id_maps(gz, gazu_host) -> None:  # type: ignore[no-untyped-def]
    host, email, password = gazu_host
    source = gz.client.default_client
    target = gz.client.create_client(host)
    gz.log_in(email, password, client=target)

    departments = {d["name"]: d["id"] for d in gz.person.all_departments(client=target)}
    department_map = gz.sync.get_sync_department_id_map(source, target)
    assert {departments[n]: department_map[departments[n]] for n in DEFAULT_DEPARTMENTS} == {
        departments[n]: departments[n] for n in DEFAULT_DEPARTMENTS}

    asset_type_map = gz.sync.get_sync_asset_type_id_map(source, target)
    character = gz.asset.get_asset_type_by_name("Character", client=target)
    assert asset_type_map[character["id"]] == character["id"]

    status_map = gz.sync.get_sync_task_status_id_map(source, target)
    statuses = {s["short_name"]: s["id"] for s in gz.task.all_task_statuses(client=target)}
    assert {statuses[s]: status_map[statuses[s]] for s in ("todo", "wip", "wfa", "retake", "done")} == {
        statuses[s]: statuses[s] for s in ("todo", "wip", "wfa", "retake", "done")}

    task_type_map = gz.sync.get_sync_task_type_id_map(source, target)
    animation = gz.task.get_task_type_by_name("Animation", for_entity="Shot", client=target)
    assert task_type_map[animation["id"]] == animation["id"]

    me = gz.client.get_current_user(client=target)
    if all(p.get("email") for p in gz.person.all_persons(client=target)):
        person_map = gz.sync.get_sync_person_id_map(source, target)
        assert person_map[me["id"]] == me["id"]
    else:  # a bot has no email (as on Zou): gazu 1.3.1's person map fails on it, on both
        with pytest.raises(AttributeError):
            gz.sync.get_sync_person_id_map(source, target)
    projects = gz.project.all_projects(client=target)
    names = [p["name"].lower() for p in projects]
    project_map = gz.sync.get_sync_project_id_map(source, target)
    assert all(project_map[p["id"]] == p["id"] for p in projects if names.count(p["name"].lower()) == 1)
