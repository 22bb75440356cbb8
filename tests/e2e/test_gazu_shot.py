"""gazu.shot end to end (proven on the oracle first: GAZU_TARGET=oracle)."""

from __future__ import annotations

import pytest

from .gazu_target import gazu_host, gz, tag  # noqa: F401  (fixtures)


def test_gazu_episodes_sequences_shots(gz, tag) -> None:  # type: ignore[no-untyped-def]
    project = gz.project.new_project(f"Gazu shots {tag}", production_type="tvshow")
    episode = gz.shot.new_episode(project, "E02")
    assert (episode["name"], episode["type"], episode["description"], episode["parent_id"]) == (
        "E02", "Episode", "", None)
    assert gz.shot.new_episode(project, "E02")["id"] == episode["id"]
    sequence = gz.shot.new_sequence(project, "SQ01", episode=episode)
    assert (sequence["name"], sequence["type"], sequence["parent_id"], sequence["source_id"]) == (
        "SQ01", "Sequence", episode["id"], None)
    shot = gz.shot.new_shot(project, sequence, "SH010", nb_frames=24, frame_in=1, frame_out=24, data={"fps": 24},
                            description="first")
    assert (shot["name"], shot["type"], shot["parent_id"], shot["nb_frames"], shot["description"]) == (
        "SH010", "Shot", sequence["id"], 24, "first")
    assert shot["data"] == {"fps": 24, "frame_in": 1, "frame_out": 24} and shot["source_id"] is None
    other = gz.shot.new_shot(project, sequence, "SH020")
    assert other["data"] == {} and other["nb_frames"] is None and other["description"] is None

    got = gz.shot.get_shot(shot["id"])
    assert (got["sequence_name"], got["episode_id"], got["episode_name"], got["project_name"]) == (
        "SQ01", episode["id"], "E02", f"Gazu shots {tag}")
    assert (got["frame_in"], got["frame_out"], got["fps"], got["tasks"]) == (1, 24, 24, [])
    assert (got["entities_in"], got["entities_out"], got["instance_casting"]) == ([], [], [])
    assert gz.shot.get_shot_by_name(sequence, "SH010")["id"] == shot["id"]
    assert gz.shot.get_sequence(sequence["id"])["episode_name"] == "E02"
    assert gz.shot.get_sequence_by_name(project, "SQ01", episode=episode)["id"] == sequence["id"]
    assert gz.shot.get_sequence_from_shot(shot)["id"] == sequence["id"]
    assert gz.shot.get_episode(episode["id"])["name"] == "E02"
    assert gz.shot.get_episode_by_name(project, "E02")["id"] == episode["id"]
    assert gz.shot.get_episode_from_sequence(sequence)["id"] == episode["id"]
    assert [s["name"] for s in gz.shot.all_shots_for_project(project)] == ["SH010", "SH020"]
    assert [s["name"] for s in gz.shot.all_shots_for_sequence(sequence)] == ["SH010", "SH020"]
    assert [s["name"] for s in gz.shot.all_shots_for_episode(episode)] == ["SH010", "SH020"]
    assert [s["name"] for s in gz.shot.all_sequences_for_project(project)] == ["SQ01"]
    assert [s["name"] for s in gz.shot.all_sequences_for_episode(episode)] == ["SQ01"]
    assert [e["name"] for e in gz.shot.all_episodes_for_project(project)] == ["E01", "E02"]  # a TV show has E01
    assert gz.shot.all_previews_for_shot(shot) == {}

    shot["description"] = "changed"
    assert gz.shot.update_shot(shot)["description"] == "changed"
    assert gz.shot.update_shot_data(shot, {"frame_in": 5})["data"] == {"fps": 24, "frame_in": 5, "frame_out": 24}
    assert gz.shot.get_shot(shot["id"])["frame_in"] == 5
    sequence["description"] = "night"
    assert gz.shot.update_sequence(sequence)["description"] == "night"
    assert gz.shot.update_sequence_data(sequence, {"mood": "dark"})["data"] == {"mood": "dark"}
    episode["description"] = "pilot"
    assert gz.shot.update_episode(episode)["description"] == "pilot"
    assert gz.shot.update_episode_data(episode, {"air": "monday"})["data"] == {"air": "monday"}

    gz.shot.remove_shot(other)
    with pytest.raises(gz.exception.RouteNotFoundException):
        gz.shot.get_shot(other["id"])
    assert [s["name"] for s in gz.shot.all_shots_for_sequence(sequence)] == ["SH010"]
