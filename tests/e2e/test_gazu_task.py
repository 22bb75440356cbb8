"""gazu.task end to end (proven on the oracle first: GAZU_TARGET=oracle)."""

from __future__ import annotations

import pytest

from .gazu_target import by_name, gazu_host, gz, tag  # noqa: F401  (fixtures)


def _shot_world(gz, tag):  # type: ignore[no-untyped-def]
    project = gz.project.new_project(f"Gazu tasks {tag}")
    sequence = gz.shot.new_sequence(project, "SQ01")
    shot = gz.shot.new_shot(project, sequence, "SH010")
    types = gz.task.all_task_types()
    anim, layout = by_name(types, "Animation", for_entity="Shot"), by_name(types, "Layout", for_entity="Shot")
    gz.project.add_task_type(project, anim, 1)
    gz.project.add_task_type(project, layout, 2)
    return project, sequence, shot, anim, layout


def test_gazu_reference_task_types_and_statuses(gz) -> None:  # type: ignore[no-untyped-def]
    departments = {d["id"]: d["name"] for d in gz.person.all_departments()}
    anim = gz.task.get_task_type_by_name("Animation", for_entity="Shot")
    assert (anim["color"], anim["priority"], departments[anim["department_id"]]) == ("#009688", 3, "Animation")
    modeling = gz.task.get_task_type_by_name("Modeling", for_entity="Asset")
    assert departments[modeling["department_id"]] == "Modeling"
    todo = gz.task.get_default_task_status()
    assert (todo["short_name"], todo["name"], todo["is_default"], todo["color"]) == ("todo", "Todo", True, "#f5f5f5")
    wip = gz.task.get_task_status_by_name("Work In Progress")
    assert (wip["short_name"], wip["is_wip"], wip["color"]) == ("wip", True, "#3273dc")
    assert {"todo", "wip", "wfa", "retake", "done", "ready"} <= {s["short_name"] for s in gz.task.all_task_statuses()}


def test_gazu_create_tasks(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project, sequence, shot, anim, layout = _shot_world(gz, tag)
    made = gz.task.create_entity_tasks(shot, [anim])
    assert [(t["task_type_name"], t["name"], t["task_status_short_name"]) for t in made] == [
        ("Animation", "main", "todo")]
    assert made[0]["assignees"] == [] and made[0]["entity_id"] == shot["id"]
    rest = gz.task.create_entity_tasks(shot, [])  # every task type of the project for shots, once
    assert [t["task_type_name"] for t in rest] == ["Layout"]
    assert gz.task.create_entity_tasks(shot, []) == []
    fx = gz.task.get_task_type_by_name("FX", for_entity="Shot")
    with pytest.raises(gz.exception.ParameterException, match="is not enabled in project"):
        gz.task.create_entity_tasks(shot, [fx])
    other = gz.shot.new_shot(project, sequence, "SH020")
    made = gz.task.create_shot_tasks(other, [layout])
    assert [(t["entity_id"], t["task_type_id"]) for t in made] == [(other["id"], layout["id"])]
    second = gz.task.new_task(shot, anim, name="second")
    assert (second["name"], second["assigner_id"], second["assignees"]) == ("second", None, [])

    task = gz.task.get_task_by_entity(shot, anim)
    assert task["name"] == "main" and task["task_type_id"] == anim["id"]
    full = gz.task.get_task(task["id"])
    assert (full["entity"]["id"], full["task_type"]["name"], full["task_status"]["short_name"]) == (
        shot["id"], "Animation", "todo")
    assert full["project"]["id"] == project["id"] and full["sequence"]["id"] == sequence["id"]
    assert sorted(t["name"] for t in gz.task.all_tasks_for_shot(shot)) == ["main", "main", "second"]
    assert [t["task_type_name"] for t in gz.task.all_shot_tasks_for_sequence(sequence)].count("Layout") == 2
    assert [t["name"] for t in gz.task.all_task_types_for_shot(shot)] == ["Animation", "Layout"]  # by name
    assert sorted(t["name"] for t in gz.task.all_tasks_for_entity_and_task_type(shot, anim)) == ["main", "second"]
    assert len(gz.task.all_tasks_for_task_type(project, anim)) == 2


def test_gazu_comments_and_assignation(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project, sequence, shot, anim, layout = _shot_world(gz, tag)
    task = gz.task.new_task(shot, anim)
    me = gz.client.get_current_user()
    assigned = gz.task.assign_task(task, me)
    assert [(t["id"], t["assignees"]) for t in assigned] == [(task["id"], [me["id"]])]
    assert task["id"] in [t["id"] for t in gz.task.all_tasks_for_person(me)]

    wip = gz.task.get_task_status_by_short_name("wip")
    comment = gz.task.add_comment(task, wip, "first take", checklist=[{"text": "fix hands", "checked": False}])
    assert (comment["text"], comment["task_status_id"], comment["person_id"], comment["object_id"]) == (
        "first take", wip["id"], me["id"], task["id"])
    assert comment["checklist"] == [{"text": "fix hands", "checked": False}]
    assert comment["task_status"]["short_name"] == "wip" and comment["person"]["id"] == me["id"]
    after = gz.task.get_task(task["id"])
    assert after["task_status_id"] == wip["id"] and after["real_start_date"] is not None
    assert [c["id"] for c in gz.task.all_comments_for_task(task)] == [comment["id"]]
    last = gz.task.get_last_comment_for_task(task)
    assert last["id"] == comment["id"] and last["person"]["id"] == me["id"]
    assert gz.task.get_comment(comment["id"])["text"] == "first take"
    edited = gz.task.update_comment({"id": comment["id"], "text": "edited"})
    assert (edited["text"], edited["editor_id"]) == ("edited", me["id"])
    acked = gz.task.acknowledge_comment(task, comment)
    assert acked["acknowledgements"] == [me["id"]]
    reply = gz.task.reply_to_comment(task, comment, "a reply")
    assert reply["text"] == "a reply" and reply["person_id"] == me["id"]
    assert [r["text"] for r in gz.task.get_comment(comment["id"])["replies"]] == ["a reply"]

    assert gz.task.update_task({"id": task["id"], "priority": 3})["priority"] == 3
    assert gz.task.update_task_data(task, {"lens": 35})["data"] == {"lens": 35}
    cleared = gz.task.clear_assignations(task)
    assert cleared == [task["id"]] and gz.task.get_task(task["id"])["assignees"] == []
    gz.task.remove_comment(comment)
    assert gz.task.all_comments_for_task(task) == []
    gz.task.remove_task(task)
    with pytest.raises(gz.exception.RouteNotFoundException):
        gz.task.get_task(task["id"])
