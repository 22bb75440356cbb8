"""gazu.files (previews and attachments) end to end, proven on the oracle first
(GAZU_TARGET=oracle). Picture previews only: Zou transcodes in the request, Slate in a
worker, so the test waits for the preview to be ready as gazu's own helper does."""

from __future__ import annotations

import time

from PIL import Image

from .gazu_target import gazu_host, gz, tag  # noqa: F401  (fixtures)


def _ready(gz, preview_id: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        preview = gz.files.get_preview_file(preview_id)
        if preview["status"] != "processing" or time.monotonic() > deadline:
            return preview
        time.sleep(0.2)


def test_gazu_previews_and_attachments(gz, tag, tmp_path) -> None:  # type: ignore[no-untyped-def]
    picture = tmp_path / "red.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(picture)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello attachment\n")
    project = gz.project.new_project(f"Gazu files {tag}")
    sequence = gz.shot.new_sequence(project, "SQ01")
    shot = gz.shot.new_shot(project, sequence, "SH010")
    anim = gz.task.get_task_type_by_name("Animation", for_entity="Shot")
    gz.project.add_task_type(project, anim, 1)
    task = gz.task.new_task(shot, anim)
    wip = gz.task.get_task_status_by_short_name("wip")

    comment = gz.task.add_comment(task, wip, "with a preview")
    preview = gz.task.add_preview(task, comment, str(picture))
    assert (preview["original_name"], preview["extension"], preview["revision"], preview["task_id"]) == (
        "red", "png", 1, task["id"])
    preview = _ready(gz, preview["id"])
    assert (preview["status"], preview["width"], preview["height"], preview["validation_status"]) == (
        "ready", 64, 48, "neutral")
    assert [p["id"] for p in gz.files.get_all_preview_files_for_task(task)] == [preview["id"]]
    assert gz.shot.all_previews_for_shot(shot)[anim["id"]][0]["id"] == preview["id"]
    original = tmp_path / "original.png"
    gz.files.download_preview_file(preview, str(original))
    assert Image.open(original).size == (64, 48)
    thumbnail = tmp_path / "thumbnail.png"
    gz.files.download_preview_file_thumbnail(preview, str(thumbnail))
    assert Image.open(thumbnail).format == "PNG"
    assert gz.files.update_preview(preview, {"validation_status": "validated"})["validation_status"] == "validated"

    attached = gz.task.add_attachment_files_to_comment(task, comment, [str(notes)])
    assert [(a["name"], a["extension"], a["size"]) for a in attached] == [("notes.txt", "txt", 17)]
    attachment = gz.files.get_attachment_file(attached[0]["id"])
    # gazu sends the file part without a type: Zou stores "" as its mimetype
    assert (attachment["mimetype"], attachment["comment_id"], attachment["reply_id"], attachment["chat_message"]) == (
        "", comment["id"], None, None)
    assert attachment["comment"]["id"] == comment["id"] and attachment["comment"]["text"] == "with a preview"
    assert [a["id"] for a in gz.files.get_all_attachment_files_for_task(task)] == [attachment["id"]]
    assert [a["id"] for a in gz.files.get_all_attachment_files_for_project(project)] == [attachment["id"]]
    downloaded = tmp_path / "downloaded.txt"
    gz.files.download_attachment_file(attachment, str(downloaded))
    assert downloaded.read_text() == "hello attachment\n"
    listed = gz.task.all_comments_for_task(task)[0]
    assert listed["attachment_files"] == [{"id": attachment["id"], "name": "notes.txt", "extension": "txt",
                                           "reply_id": None, "size": 17}]
    assert [p["id"] for p in listed["previews"]] == [preview["id"]]


def test_gazu_preview_becomes_the_tasks_last(gz, tag, tmp_path) -> None:  # type: ignore[no-untyped-def]
    picture = tmp_path / "blue.png"
    Image.new("RGB", (32, 32), (30, 30, 200)).save(picture)
    project = gz.project.new_project(f"Gazu last preview {tag}")
    shot = gz.shot.new_shot(project, gz.shot.new_sequence(project, "SQ01"), "SH010")
    anim = gz.task.get_task_type_by_name("Animation", for_entity="Shot")
    task = gz.task.new_task(shot, anim)
    comment = gz.task.add_comment(task, gz.task.get_task_status_by_short_name("wip"), "v1")
    preview = _ready(gz, gz.task.add_preview(task, comment, str(picture))["id"])
    assert gz.task.get_task(task["id"])["last_preview_file_id"] == preview["id"]
