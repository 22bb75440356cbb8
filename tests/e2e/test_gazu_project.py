"""gazu.project end to end (proven on the oracle first: GAZU_TARGET=oracle)."""

from __future__ import annotations

import pytest

from .gazu_target import by_name, gazu_host, gz, tag  # noqa: F401  (fixtures)


def test_gazu_project_lifecycle(gz, tag) -> None:  # type: ignore[no-untyped-def]
    statuses = gz.project.all_project_status()
    names = [s["name"] for s in statuses]
    assert names == sorted(names) and {"Closed", "Open"} <= set(names)  # sorted by name; a shared oracle has more
    open_status = gz.project.get_project_status_by_name("Open")
    assert open_status["type"] == "ProjectStatus" and open_status["color"] == "#000000"

    project = gz.project.new_project(f"Gazu {tag}", production_type="tvshow")
    assert (project["name"], project["production_type"], project["production_style"], project["type"]) == (
        f"Gazu {tag}", "tvshow", "2d3d", "Project")
    assert project["project_status_id"] == open_status["id"]
    assert project["fps"] == "25" and project["ratio"] == "16:9" and project["resolution"] == "1920x1080"
    assert gz.project.new_project(f"Gazu {tag}")["id"] == project["id"]  # found by name, not made twice
    assert gz.project.get_project(project["id"])["name"] == f"Gazu {tag}"
    assert gz.project.get_project_by_name(f"Gazu {tag}")["id"] == project["id"]
    assert project["id"] in [p["id"] for p in gz.project.all_projects()]
    assert project["id"] in [p["id"] for p in gz.project.all_open_projects()]

    project["description"] = "made by gazu"
    updated = gz.project.update_project(project)
    assert updated["description"] == "made by gazu"
    gz.project.update_project_data(project, {"budget_code": "B-42"})
    gz.project.update_project_data(project, {"client": "ACME"})
    assert gz.project.get_project(project["id"])["data"] == {"budget_code": "B-42", "client": "ACME"}

    closed = gz.project.close_project(project)
    assert closed["project_status_id"] == gz.project.get_project_status_by_name("Closed")["id"]
    assert project["id"] not in [p["id"] for p in gz.project.all_open_projects()]


def test_gazu_project_settings_and_team(gz, tag) -> None:  # type: ignore[no-untyped-def]def test_gazu_project_settings_and_team(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project = gz.project.new_project(f"Gazu settings {tag}")
    assert (project["asset_types"], project["task_types"], project["task_statuses"], project["team"]) == ([], [], [], [])
    character = gz.asset.get_asset_type_by_name("Character")
    modeling = by_name(gz.task.all_task_types(), "Modeling", for_entity="Asset")
    wip = gz.task.get_task_status_by_short_name("wip")

    assert gz.project.add_asset_type(project, character)["id"] == project["id"]
    assert gz.project.add_task_type(project, modeling, 1)["id"] == project["id"]
    assert gz.project.add_task_status(project, wip)["id"] == project["id"]
    got = gz.project.get_project(project["id"])
    assert (got["asset_types"], got["task_types"], got["task_statuses"], got["project_status_name"]) == (
        [character["id"]], [modeling["id"]], [wip["id"]], "Open")
    gz.project.remove_task_type(project, modeling)
    assert gz.project.get_project(project["id"])["task_types"] == []

    person = gz.person.new_person("Team", f"Member {tag}", f"team-{tag}@example.com")
    gz.project.add_person_to_team(project, person)
    assert [p["id"] for p in gz.project.get_team(project)] == [person["id"]]
    assert gz.project.get_project(project["id"])["team"] == [person["id"]]
    gz.project.remove_person_from_team(project, person)
    assert gz.project.get_team(project) == []



def test_gazu_project_removal(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project = gz.project.new_project(f"Gazu removal {tag}")
    with pytest.raises(gz.exception.ParameterException, match="Only closed projects can be deleted"):
        gz.project.remove_project(project)
    gz.project.close_project(project)
    gz.project.remove_project(project)
    assert gz.project.get_project_by_name(f"Gazu removal {tag}") is None
    with pytest.raises(gz.exception.RouteNotFoundException):
        gz.project.get_project(project["id"])
