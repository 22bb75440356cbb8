"""gazu.user and gazu.context end to end (proven on the oracle first: GAZU_TARGET=oracle)."""

from __future__ import annotations

from .gazu_target import gazu_host, gz, tag  # noqa: F401  (fixtures)

CONTEXT_KEYS = ["asset_types", "custom_actions", "departments", "notification_count", "persons", "plugins",
                "preview_background_files", "project_roles", "project_status", "projects", "search_filter_groups",
                "search_filters", "status_automations", "studios", "task_status", "task_types", "user_limit"]


def _my_work(gz, tag):  # type: ignore[no-untyped-def]
    project = gz.project.new_project(f"Gazu user {tag}", production_type="tvshow")
    character = gz.asset.get_asset_type_by_name("Character")
    gz.project.add_asset_type(project, character)
    episode = gz.shot.new_episode(project, "E05")
    sequence = gz.shot.new_sequence(project, "SQ01", episode=episode)
    shot = gz.shot.new_shot(project, sequence, "SH010")
    hero = gz.asset.new_asset(project, character, "Hero")
    me = gz.client.get_current_user()
    gz.project.add_person_to_team(project, me)
    anim = gz.task.get_task_type_by_name("Animation", for_entity="Shot")
    modeling = gz.task.get_task_type_by_name("Modeling", for_entity="Asset")
    shot_task = gz.task.new_task(shot, anim, assignees=[me])
    asset_task = gz.task.new_task(hero, modeling, assignees=[me])
    return project, character, episode, sequence, shot, hero, shot_task, asset_task


def test_gazu_user_work(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project, character, episode, sequence, shot, hero, shot_task, asset_task = _my_work(gz, tag)
    assert gz.user.is_authenticated() is True
    assert [p["name"] for p in gz.user.all_open_projects() if p["id"] == project["id"]] == [f"Gazu user {tag}"]
    assert [t["name"] for t in gz.user.all_asset_types_for_project(project)] == ["Character"]
    assert [a["name"] for a in gz.user.all_assets_for_asset_type_and_project(project, character)] == ["Hero"]
    assert [t["id"] for t in gz.user.all_tasks_for_asset(hero)] == [asset_task["id"]]
    assert [t["id"] for t in gz.user.all_tasks_for_shot(shot)] == [shot_task["id"]]
    assert [t["name"] for t in gz.user.all_task_types_for_shot(shot)] == ["Animation"]
    assert [t["name"] for t in gz.user.all_task_types_for_asset(hero)] == ["Modeling"]
    assert [s["name"] for s in gz.user.all_sequences_for_project(project)] == ["SQ01"]
    assert [e["name"] for e in gz.user.all_episodes_for_project(project)] == ["E05"]
    assert [s["name"] for s in gz.user.all_shots_for_sequence(sequence)] == ["SH010"]
    todo = [t for t in gz.user.all_tasks_to_do() if t["project_id"] == project["id"]]
    assert sorted((t["entity_name"], t["task_type_name"], t["task_status_short_name"], t["episode_name"])
                  for t in todo) == [("Hero", "Modeling", "todo", None), ("SH010", "Animation", "todo", "E05")]
    assert all(t["project_name"] == f"Gazu user {tag}" and t["last_comment"] == {} for t in todo)

    # gazu.context asks the user routes for artists, the plain ones for the others
    assert [p["id"] for p in gz.context.all_open_projects() if p["id"] == project["id"]] == [project["id"]]
    assert [a["name"] for a in gz.context.all_assets_for_project(project)] == ["Hero"]
    assert [s["name"] for s in gz.context.all_shots_for_sequence(sequence)] == ["SH010"]
    assert [s["name"] for s in gz.context.all_sequences_for_episode(episode)] == ["SQ01"]
    assert [t["name"] for t in gz.context.all_task_types_for_shot(shot)] == ["Animation"]


def test_gazu_user_context_filters_subscriptions(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project, character, episode, sequence, shot, hero, shot_task, asset_task = _my_work(gz, tag)
    me = gz.client.get_current_user()
    context = gz.user.get_context()
    assert sorted(context) == CONTEXT_KEYS
    assert project["id"] in [p["id"] for p in context["projects"]]
    assert {"Animation", "Modeling"} <= {d["name"] for d in context["departments"]}

    search = gz.user.new_filter("my filter", "SH0", "shots", project=project)
    assert (search["name"], search["search_query"], search["list_type"], search["person_id"], search["project_id"],
            search["is_shared"], search["type"]) == ("my filter", "SH0", "shots", me["id"], project["id"], False,
                                                     "SearchFilter")
    assert gz.user.update_filter({"id": search["id"], "name": "renamed"})["name"] == "renamed"
    gz.user.remove_filter(search)

    assert gz.user.check_task_subscription(shot_task) is False
    subscription = gz.user.subscribe_to_task(shot_task)
    assert (subscription["person_id"], subscription["task_id"], subscription["type"]) == (
        me["id"], shot_task["id"], "Subscription")
    assert gz.user.check_task_subscription(shot_task) is True
    assert gz.user.unsubscribe_from_task(shot_task) == ""
    assert gz.user.check_task_subscription(shot_task) is False
