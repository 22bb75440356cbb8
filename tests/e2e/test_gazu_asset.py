"""gazu.asset end to end (proven on the oracle first: GAZU_TARGET=oracle)."""

from __future__ import annotations

import pytest

from .gazu_target import gazu_host, gz, tag  # noqa: F401  (fixtures)

ASSET_KEYS = {"id", "name", "code", "description", "shotgun_id", "canceled", "nb_frames", "nb_entities_out",
              "is_casting_standby", "is_shared", "status", "project_id", "entity_type_id", "parent_id", "source_id",
              "preview_file_id", "data", "ready_for", "created_by", "entities_out", "entity_concept_links",
              "instance_casting", "created_at", "updated_at", "entities_in", "type"}


def test_gazu_asset_types(gz, tag) -> None:  # type: ignore[no-untyped-def]
    names = {t["name"] for t in gz.asset.all_asset_types()}
    assert {"Character", "Prop", "Environment", "FX"} <= names  # a fresh studio's
    character = gz.asset.get_asset_type_by_name("Character")
    assert (character["type"], character["short_name"], character["archived"]) == ("EntityType", None, False)
    one = gz.asset.get_asset_type(character["id"])
    assert (one["type"], one["name"], one["task_types"]) == ("AssetType", "Character", [])

    vehicle = gz.asset.new_asset_type(f"Vehicle {tag}")
    assert (vehicle["name"], vehicle["task_types"], vehicle["type"]) == (f"Vehicle {tag}", [], "EntityType")
    vehicle["name"] = f"Car {tag}"
    updated = gz.asset.update_asset_type(vehicle)
    assert (updated["name"], updated["task_types"]) == (f"Car {tag}", [])
    gz.asset.remove_asset_type(vehicle)
    assert gz.asset.get_asset_type_by_name(f"Car {tag}") is None


def test_gazu_assets(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project = gz.project.new_project(f"Gazu assets {tag}", production_type="tvshow")
    character = gz.asset.get_asset_type_by_name("Character")
    gz.project.add_asset_type(project, character)
    episode = gz.shot.new_episode(project, "E01")

    hero = gz.asset.new_asset(project, character, "Hero", description="the hero", extra_data={"height": 2},
                              episode=episode)
    assert (hero["name"], hero["description"], hero["data"], hero["source_id"], hero["type"]) == (
        "Hero", "the hero", {"height": 2}, episode["id"], "Asset")
    assert hero["entity_type_id"] == character["id"] and hero["project_id"] == project["id"]
    assert gz.asset.new_asset(project, character, "Hero")["id"] == hero["id"]  # found by name

    got = gz.asset.get_asset(hero["id"])
    assert (got["asset_type_name"], got["episode_id"], got["project_name"], got["tasks"]) == (
        "Character", episode["id"], f"Gazu assets {tag}", [])
    assert (got["entities_in"], got["entities_out"], got["instance_casting"]) == ([], [], [])
    assert gz.asset.get_asset_by_name(project, "Hero")["id"] == hero["id"]
    assert [a["id"] for a in gz.asset.all_assets_for_project(project)] == [hero["id"]]
    assert [a["id"] for a in gz.asset.all_assets_for_project_and_type(project, character)] == [hero["id"]]
    assert [a["id"] for a in gz.asset.all_assets_for_episode(episode)] == [hero["id"]]
    assert [t["name"] for t in gz.asset.all_asset_types_for_project(project)] == ["Character"]
    assert gz.asset.get_episode_from_asset(hero)["id"] == episode["id"]
    assert gz.asset.get_asset_type_from_asset(hero)["id"] == character["id"]
    assert sum(a["project_id"] == project["id"] for a in gz.asset.all_assets_for_open_projects()) == 1

    hero["description"] = "changed"
    updated = gz.asset.update_asset(hero)
    assert set(updated) == ASSET_KEYS and updated["description"] == "changed"
    data = gz.asset.update_asset_data(hero, {"weight": 3})
    assert data["data"] == {"height": 2, "weight": 3} and set(data) == ASSET_KEYS
    assert gz.asset.get_asset(hero["id"])["data"] == {"height": 2, "weight": 3}

    gz.asset.remove_asset(hero)
    with pytest.raises(gz.exception.RouteNotFoundException):
        gz.asset.get_asset(hero["id"])
