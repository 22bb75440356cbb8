"""gazu.casting end to end (proven on the oracle first: GAZU_TARGET=oracle)."""

from __future__ import annotations

from .gazu_target import gazu_host, gz, tag  # noqa: F401  (fixtures)


def test_gazu_casting(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project = gz.project.new_project(f"Gazu casting {tag}", production_type="tvshow")
    character = gz.asset.get_asset_type_by_name("Character")
    gz.project.add_asset_type(project, character)
    episode = gz.shot.new_episode(project, "E07")
    sequence = gz.shot.new_sequence(project, "SQ01", episode=episode)
    shot = gz.shot.new_shot(project, sequence, "SH010")
    hero = gz.asset.new_asset(project, character, "Hero")
    sidekick = gz.asset.new_asset(project, character, "Sidekick")

    casting = [{"asset_id": hero["id"], "nb_occurences": 2}, {"asset_id": sidekick["id"], "nb_occurences": 1}]
    assert gz.casting.update_shot_casting(project, shot, casting) == casting
    cast = gz.casting.get_shot_casting(shot)
    assert [(c["asset_name"], c["asset_type_name"], c["nb_occurences"], c["label"], c["is_shared"]) for c in cast] == [
        ("Hero", "Character", 2, "", False), ("Sidekick", "Character", 1, "", False)]
    assert cast[0] == {"asset_id": hero["id"], "asset_name": "Hero", "asset_type_name": "Character", "ready_for": None,
                       "episode_id": None, "preview_file_id": None, "nb_occurences": 2, "label": "", "is_shared": False,
                       "project_id": project["id"]}
    assert gz.casting.get_asset_cast_in(hero) == [{
        "shot_id": shot["id"], "shot_name": "SH010", "sequence_name": "SQ01", "episode_id": episode["id"],
        "episode_name": "E07", "preview_file_id": None, "nb_occurences": 2}]
    by_shot = gz.casting.get_sequence_casting(sequence)
    assert list(by_shot) == [shot["id"]]
    assert [(c["name"], c["sequence_name"], c["nb_occurences"]) for c in by_shot[shot["id"]]] == [
        ("Hero", "SQ01", 2), ("Sidekick", "SQ01", 1)]
    assert gz.casting.get_sequence_shots_casting(project, sequence) == by_shot
    assert gz.casting.get_project_shots_casting(project) == by_shot
    # the episode follows its shots: each asset once
    assert [(c["asset_name"], c["nb_occurences"]) for c in gz.casting.get_episode_casting(episode)] == [
        ("Hero", 1), ("Sidekick", 1)]
    assert [(c["name"], c["nb_occurences"]) for c in gz.casting.get_episodes_casting(project)[episode["id"]]] == [
        ("Hero", 1), ("Sidekick", 1)]

    assert gz.casting.get_asset_casting(hero) == []
    assert gz.casting.update_asset_casting(project, hero, [{"asset_id": sidekick["id"], "nb_occurences": 1}]) == [
        {"asset_id": sidekick["id"], "nb_occurences": 1}]
    assert [c["asset_name"] for c in gz.casting.get_asset_casting(hero)] == ["Sidekick"]
    assert gz.casting.get_asset_type_casting(project, character) == {hero["id"]: [{
        "asset_id": sidekick["id"], "name": "Sidekick", "asset_name": "Sidekick", "asset_type_name": "Character",
        "preview_file_id": None, "nb_occurences": 1, "label": ""}]}
    links = gz.casting.all_entity_links_for_project(project)
    assert sorted((link["entity_in_id"], link["entity_out_id"], link["nb_occurences"], link["data"]) for link in links) == sorted([
        (shot["id"], hero["id"], 2, None), (shot["id"], sidekick["id"], 1, None), (hero["id"], sidekick["id"], 1, None),
        (episode["id"], hero["id"], 1, {"auto": True}), (episode["id"], sidekick["id"], 1, {"auto": True})])
    assert all(link["type"] == "EntityLink" and link["label"] == "" for link in links)

    assert gz.casting.update_shot_casting(project, shot, []) == []
    assert gz.casting.get_shot_casting(shot) == [] and gz.casting.get_asset_cast_in(hero) == []
