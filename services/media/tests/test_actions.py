"""Permissions, positions, annotations, main previews, listings, deletion; thumbnails
of persons/projects/organisations; attachments; preview backgrounds."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from PIL import Image

from slate_common.testing.tokens import TestSigner

ADMIN = uuid.uuid4()


@pytest.fixture(scope="module")
async def s(world, signer: TestSigner) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    artist, unassigned, supervisor, client_p, outsider, vendor = (uuid.uuid4() for _ in range(6))
    project = await world.project([ADMIN, artist, unassigned, supervisor, client_p, vendor])
    entity = await world.entity(project, "shot", "sh010")
    task = await world.task(project, entity, assignees=[artist])
    comment = await world.comment(task, artist)
    h = signer.headers
    return {
        "project": project, "entity": entity, "task": task, "comment": comment, "artist": artist,
        "admin": h(ADMIN, "admin"), "artist_h": h(artist, "user"), "unassigned": h(unassigned, "user"),
        "supervisor": h(supervisor, "supervisor"), "client": h(client_p, "client"), "outsider": h(outsider, "user"),
        "outsider_manager": h(outsider, "manager"), "vendor": h(vendor, "vendor"), "vendor_id": vendor,
    }


def add_url(s: dict[str, Any], comment: dict[str, Any] | None = None) -> str:
    return f"/actions/tasks/{s['task']['id']}/comments/{(comment or s['comment'])['id']}/add-preview"


async def test_who_may_add_and_see_previews(client, s) -> None:  # type: ignore[no-untyped-def]
    assert (await client.post(add_url(s), json={}, headers=s["unassigned"])).status_code == 403
    # a client of the project may add a preview to a comment (Zou: 201)
    assert (await client.post(add_url(s), json={}, headers=s["client"])).status_code == 201
    # outside the caller's projects Zou refuses (403) rather than hides
    assert (await client.post(add_url(s), json={}, headers=s["outsider_manager"])).status_code == 403
    assert (await client.post(add_url(s), json={})).status_code == 401
    r = await client.post(add_url(s), json={}, headers=s["supervisor"])
    assert r.status_code == 201
    preview = r.json()
    assert (await client.get(f"/data/preview-files/{preview['id']}", headers=s["unassigned"])).status_code == 200
    assert (await client.get(f"/data/preview-files/{preview['id']}", headers=s["outsider"])).status_code == 403
    assert (await client.get(f"/data/preview-files/{preview['id']}", headers=s["vendor"])).status_code == 403
    assert (await client.get(f"/data/preview-files/{uuid.uuid4()}", headers=s["outsider"])).status_code == 404
    listed = await client.get(f"/data/preview-files?task_id={s['task']['id']}", headers=s["outsider"])
    assert listed.status_code == 200 and listed.json() == []
    assert (await client.get(f"/pictures/thumbnails/preview-files/{preview['id']}.png", headers=s["outsider"])).status_code == 403
    # an artist may not upload on someone else's task, nor change its validation
    up = await client.post(f"/pictures/preview-files/{preview['id']}", headers=s["unassigned"],
                           files={"file": ("a.png", b"x", "image/png")})
    assert up.status_code == 403
    put = await client.put(f"/data/preview-files/{preview['id']}", json={"validation_status": "validated"},
                           headers=s["unassigned"])
    assert put.status_code == 403
    # the artist assigned to the task may (Zou: 200)
    put = await client.put(f"/data/preview-files/{preview['id']}", json={"validation_status": "neutral"},
                           headers=s["artist_h"])
    assert put.status_code == 200
    put = await client.put(f"/data/preview-files/{preview['id']}", json={"validation_status": "validated"},
                           headers=s["supervisor"])
    assert put.status_code == 200 and put.json()["validation_status"] == "validated"
    bad = await client.put(f"/data/preview-files/{preview['id']}", json={"status": "nonsense"}, headers=s["admin"])
    assert bad.status_code == 400


async def test_team_change_reaches_permissions(client, s, world, signer) -> None:  # type: ignore[no-untyped-def]
    newcomer = uuid.uuid4()
    preview = (await client.post(add_url(s), json={}, headers=s["admin"])).json()
    headers = signer.headers(newcomer, "supervisor")
    assert (await client.get(f"/data/preview-files/{preview['id']}", headers=headers)).status_code == 403
    project = {**s["project"], "team": [*s["project"]["team"], str(newcomer)]}
    await world.update_project(project)
    from slate_common.testing import eventually

    async def visible() -> bool:
        return (await client.get(f"/data/preview-files/{preview['id']}", headers=headers)).status_code == 200

    assert await eventually(visible, timeout=30)


async def test_positions_annotations_main_preview_listings_delete(client, s, world, outbox) -> None:  # type: ignore[no-untyped-def]
    comment = await world.comment(s["task"], s["artist"])
    a = (await client.post(add_url(s, comment), json={}, headers=s["artist_h"])).json()
    b = (await client.post(add_url(s, comment), json={}, headers=s["artist_h"])).json()
    c = (await client.post(add_url(s, comment), json={}, headers=s["artist_h"])).json()
    assert [a["position"], b["position"], c["position"]] == [1, 2, 3]
    r = await client.put(f"/actions/preview-files/{c['id']}/update-position", json={"position": 1}, headers=s["artist_h"])
    assert r.status_code == 200
    assert [(p["id"], p["position"]) for p in r.json()] == [(c["id"], 1), (a["id"], 2), (b["id"], 3)]

    body = {"additions": [{"time": 0, "drawing": {"objects": [{"id": "o1", "type": "path"}, {"id": "o2", "type": "rect"}]}}],
            "updates": [], "deletions": []}
    r = await client.put(f"/actions/preview-files/{a['id']}/update-annotations", json=body, headers=s["client"])
    assert r.status_code == 200
    assert r.json()["annotations"] == body["additions"]
    change = {"additions": [], "updates": [{"time": 0, "drawing": {"objects": [{"id": "o1", "type": "path", "stroke": 3}]}}],
              "deletions": [{"time": 0, "objects": ["o2"]}]}
    r = await client.put(f"/actions/preview-files/{a['id']}/update-annotations", json=change, headers=s["supervisor"])
    assert r.json()["annotations"] == [{"time": 0, "drawing": {"objects": [{"id": "o1", "type": "path", "stroke": 3}]}}]

    r = await client.put(f"/actions/preview-files/{a['id']}/set-main-preview", headers=s["artist_h"])
    assert r.status_code == 200
    assert r.json()["id"] == s["entity"]["id"] and r.json()["preview_file_id"] == a["id"] and r.json()["name"] == "sh010"
    mains = [e for e in await outbox("preview-file:set-main") if e["data"]["preview_file_id"] == a["id"]]
    assert mains[0]["data"] == {"preview_file_id": a["id"], "entity_id": s["entity"]["id"], "task_id": s["task"]["id"]}
    r = await client.put(f"/actions/tasks/{s['task']['id']}/set-main-preview", headers=s["supervisor"])
    assert r.status_code == 200 and r.json()["id"] == s["entity"]["id"]
    r = await client.put("/actions/tasks/set-main-preview", json={"task_ids": [s["task"]["id"]]}, headers=s["supervisor"])
    assert r.status_code == 200 and [e["id"] for e in r.json()] == [s["entity"]["id"]]
    bare = await world.task(s["project"], await world.entity(s["project"], "shot", "sh020"), assignees=[s["artist"]])
    # who may, as Zou 1.0.97 answers (observed on the oracle, docs/differential.md): every
    # artist of the team, assigned to the task or not, and supervisors and up (a task without
    # a preview: 400); a vendor on a task not assigned to them, a client, anyone out of the
    # team: 403, before any "no preview"
    for who, status, bare_status in (("unassigned", 200, 400), ("artist_h", 200, 400), ("supervisor", 200, 400),
                                     ("admin", 200, 400), ("client", 403, 403), ("vendor", 403, 403),
                                     ("outsider", 403, 403), ("outsider_manager", 403, 403)):
        for url, body in ((f"/actions/tasks/{s['task']['id']}/set-main-preview", None),
                          (f"/actions/preview-files/{a['id']}/set-main-preview", None),
                          ("/actions/tasks/set-main-preview", {"task_ids": [s["task"]["id"]]})):
            r = await client.put(url, json=body, headers=s[who])
            assert r.status_code == status, (who, url, r.text)
        r = await client.put(f"/actions/tasks/{bare['id']}/set-main-preview", headers=s[who])
        assert r.status_code == bare_status and r.json()["error"] is True, who
    # a vendor on a task assigned to them may
    theirs = await world.task(s["project"], await world.entity(s["project"], "shot", "sh030"), assignees=[s["vendor_id"]])
    theirs_comment = await world.comment(theirs, s["artist"])
    mine = (await client.post(f"/actions/tasks/{theirs['id']}/comments/{theirs_comment['id']}/add-preview", json={},
                              headers=s["admin"])).json()
    assert (await client.put(f"/actions/tasks/{theirs['id']}/set-main-preview", headers=s["vendor"])).status_code == 200
    assert (await client.put(f"/actions/preview-files/{mine['id']}/set-main-preview", headers=s["vendor"])).status_code == 200

    listed = (await client.get(f"/data/entities/{s['entity']['id']}/preview-files", headers=s["artist_h"])).json()
    ids = [p["id"] for p in listed]
    assert {a["id"], b["id"], c["id"]} <= set(ids)
    assert set(listed[0]) == {"id", "name", "original_name", "extension", "revision", "position", "file_size",
                              "status", "validation_status", "task_id", "person_id", "created_at", "token_in",
                              "token_out"}
    revisions = [p["revision"] for p in listed]
    assert revisions == sorted(revisions, reverse=True)
    # a shot's: per task type, one row per revision, its other files in "previews" (the oracle's shape)
    got = await client.get(f"/data/shots/{s['entity']['id']}/preview-files", headers=s["artist_h"])
    assert got.status_code == 200, got.text
    by_type = got.json()
    assert list(by_type) == [s["task"]["task_type_id"]]
    rows = by_type[s["task"]["task_type_id"]]
    assert [r["revision"] for r in rows] == sorted({p["revision"] for p in listed}, reverse=True)
    mine = next(r for r in rows if r["id"] == c["id"])  # position 1 of its revision
    assert list(mine) == ["id", "revision", "original_name", "extension", "width", "height", "duration", "status",
                          "annotations", "previews", "created_at", "task_id", "original_width", "original_height",
                          "original_duration", "original_file_size"]
    assert [p["id"] for p in mine["previews"]] == [a["id"], b["id"]]
    # a project's whole list is Zou's admins' only
    project_list = (await client.get(f"/data/projects/{s['project']['id']}/preview-files", headers=s["admin"])).json()
    assert {a["id"], b["id"], c["id"]} <= {p["id"] for p in project_list} and project_list[0]["type"] == "PreviewFile"
    for who in ("artist_h", "supervisor", "outsider"):
        assert (await client.get(f"/data/projects/{s['project']['id']}/preview-files", headers=s[who])).status_code == 403

    url = f"/actions/tasks/{s['task']['id']}/comments/{comment['id']}/preview-files/{b['id']}"
    assert (await client.delete(url, headers=s["unassigned"])).status_code == 403
    assert (await client.delete(url, headers=s["artist_h"])).status_code == 204
    assert (await client.get(f"/data/preview-files/{b['id']}", headers=s["admin"])).status_code == 404
    deleted = [e for e in await outbox("preview-file:delete") if e["data"]["preview_file_id"] == b["id"]]
    assert deleted and deleted[0]["data"]["snapshot"]["comment_id"] == comment["id"]


async def test_upload_through_the_comment_route(client, s, media_files, world, wait_status) -> None:  # type: ignore[no-untyped-def]
    preview = (await client.post(add_url(s), json={}, headers=s["artist_h"])).json()
    other = await world.comment(s["task"], s["artist"])
    url = f"/actions/tasks/{s['task']['id']}/comments/{other['id']}/preview-files/{preview['id']}"
    r = await client.post(url, headers=s["artist_h"], files={"file": ("still.png", media_files["png"].read_bytes(), "image/png")})
    assert r.status_code == 201, r.text
    one = (await client.get(f"/data/preview-files/{preview['id']}", headers=s["artist_h"])).json()
    assert set(one["comments"]) == {s["comment"]["id"], other["id"]}
    assert (await wait_status(preview["id"], s["artist_h"]))["status"] == "ready"
    # without a file, as Kitsu calls it: one more preview in that preview's revision, on the
    # comment, awaiting its file (Zou's extra preview)
    r = await client.post(url, headers=s["artist_h"], json={})
    assert r.status_code == 201, r.text
    extra = r.json()
    assert extra["id"] != preview["id"] and (extra["revision"], extra["position"]) == (one["revision"], one["position"] + 1)
    assert (extra["status"], extra["comments"], extra["person_id"]) == ("processing", [other["id"]], str(s["artist"]))
    assert (await client.post(url, headers=s["outsider"], json={})).status_code == 403
    missing = f"/actions/tasks/{s['task']['id']}/comments/{other['id']}/preview-files/{uuid.uuid4()}"
    assert (await client.post(missing, headers=s["artist_h"], json={})).status_code == 404


def png(size: tuple[int, int] = (800, 600)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


async def test_person_project_organisation_thumbnails(client, s, signer, outbox) -> None:  # type: ignore[no-untyped-def]
    me = uuid.uuid4()
    mine = signer.headers(me, "user")
    r = await client.post(f"/pictures/thumbnails/persons/{me}", headers=mine, files={"file": ("me.png", png(), "image/png")})
    assert r.status_code == 201 and r.json() == {"thumbnail_path": f"pictures/thumbnails/persons/{me}.png"}
    got = await client.get(f"/pictures/thumbnails/persons/{me}.png", headers=s["artist_h"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(got.content)).size == (400, 400)
    assert (await client.get(f"/pictures/thumbnails/persons/{me}", headers=mine)).content == got.content
    events = [e["data"] for e in await outbox("avatar:update") if e["data"]["id"] == str(me)]
    assert events == [{"kind": "person", "id": str(me), "has_avatar": True}]
    # someone else's avatar: refused; a non-picture: clear 400
    r = await client.post(f"/pictures/thumbnails/persons/{me}", headers=s["artist_h"], files={"file": ("x.png", png(), "image/png")})
    assert r.status_code == 403
    r = await client.post(f"/pictures/thumbnails/persons/{me}.png", headers=mine, files={"file": ("x.png", b"nope", "image/png")})
    assert r.status_code == 400 and r.json()["message"] == "Uploaded file is not a readable picture."
    assert (await client.delete("/actions/user/clear-avatar", headers=mine)).status_code == 204
    assert (await client.get(f"/pictures/thumbnails/persons/{me}.png", headers=mine)).status_code == 404
    events = [e["data"] for e in await outbox("avatar:update") if e["data"]["id"] == str(me)]
    assert events[-1] == {"kind": "person", "id": str(me), "has_avatar": False}
    assert (await client.delete(f"/actions/persons/{me}/clear-avatar", headers=s["artist_h"])).status_code == 403

    pid = s["project"]["id"]
    assert (await client.post(f"/pictures/thumbnails/projects/{pid}", headers=s["supervisor"],
                              files={"file": ("p.png", png(), "image/png")})).status_code == 403
    # Zou takes a project's picture without ".png" only: 405 with it, for every role
    for who in ("admin", "supervisor"):
        r = await client.post(f"/pictures/thumbnails/projects/{pid}.png", headers=s[who],
                              files={"file": ("p.png", png(), "image/png")})
        assert r.status_code == 405 and r.json()["error"] is True
    r = await client.post(f"/pictures/thumbnails/projects/{pid}", headers=s["admin"], files={"file": ("p.png", png(), "image/png")})
    assert r.status_code == 201
    assert (await client.get(f"/pictures/thumbnails/projects/{pid}.png", headers=s["artist_h"])).status_code == 200
    assert [e["data"]["kind"] for e in await outbox("avatar:update") if e["data"]["id"] == pid] == ["project"]
    org = uuid.uuid4()
    assert (await client.post(f"/pictures/thumbnails/organisations/{org}", headers=s["supervisor"],
                              files={"file": ("o.png", png(), "image/png")})).status_code == 403
    assert (await client.post(f"/pictures/thumbnails/organisations/{org}", headers=s["admin"],
                              files={"file": ("o.png", png(), "image/png")})).status_code == 201
    assert (await client.get(f"/pictures/thumbnails/organisations/{org}.png", headers=mine)).status_code == 200


async def test_comment_attachments(client, s, media_files) -> None:  # type: ignore[no-untyped-def]
    url = f"/actions/tasks/{s['task']['id']}/comments/{s['comment']['id']}/add-attachment"
    r = await client.post(url, headers=s["artist_h"], files=[
        ("files", ("notes.pdf", media_files["pdf"].read_bytes(), "application/pdf")),
        ("files", ("ref.png", png((300, 200)), "image/png")),
    ])
    assert r.status_code == 201, r.text
    pdf, picture = r.json()
    # the answer lists each file as a comment does (observed on the oracle)
    assert pdf == {"id": pdf["id"], "name": "notes.pdf", "extension": "pdf", "size": media_files["pdf"].stat().st_size}
    assert list(picture) == ["id", "name", "extension", "size"] and picture["name"] == "ref.png"
    one = (await client.get(f"/data/attachment-files/{pdf['id']}", headers=s["artist_h"])).json()
    assert list(one) == ["name", "size", "extension", "mimetype", "comment_id", "reply_id", "chat_message_id", "id",
                         "created_at", "updated_at", "comment", "chat_message", "type"]
    assert (one["mimetype"], one["comment_id"], one["reply_id"], one["chat_message"], one["type"]) == (
        "application/pdf", s["comment"]["id"], None, None, "AttachmentFile")
    assert one["comment"]["id"] == s["comment"]["id"] and one["comment"]["object_id"] == s["task"]["id"]
    assert list(one["comment"]) == ["shotgun_id", "object_id", "object_type", "text", "data", "replies", "checklist",
                                    "pinned", "for_client", "links", "task_status_id", "person_id", "editor_id",
                                    "preview_file_id", "id", "created_at", "updated_at", "type"]
    got = await client.get(f"/data/attachment-files/{pdf['id']}/file/notes.pdf", headers=s["supervisor"])
    assert got.status_code == 200 and got.content == media_files["pdf"].read_bytes()
    assert got.headers["content-type"] == "application/pdf"
    # outside the caller's projects: refused, as Zou does (403), not hidden
    assert (await client.get(f"/data/attachment-files/{pdf['id']}/file/notes.pdf", headers=s["outsider"])).status_code == 403
    # Zou makes no thumbnail of an attached picture (observed: 404 for a 300x200 PNG)
    thumb = await client.get(f"/pictures/thumbnails/attachment-files/{picture['id']}.png", headers=s["artist_h"])
    assert thumb.status_code == 404
    listed = await client.get(f"/data/attachment-files?comment_id={s['comment']['id']}", headers=s["admin"])
    assert {a["id"] for a in listed.json()} == {pdf["id"], picture["id"]}
    assert all(a["comment"]["id"] == s["comment"]["id"] and "data" not in a for a in listed.json())
    # the whole list is Zou's admins' only
    for who in ("outsider", "artist_h", "supervisor"):
        assert (await client.get("/data/attachment-files", headers=s[who])).status_code == 403
    r = await client.post(url, headers=s["unassigned"], files={"files": ("x.txt", b"hi", "text/plain")})
    assert r.status_code == 403
    r = await client.post(url, headers=s["artist_h"], files={"files": ("../x.txt", b"hi", "text/plain")})
    assert r.status_code == 400
    delete_url = f"/data/tasks/{s['task']['id']}/comments/{s['comment']['id']}/attachments/{pdf['id']}"
    assert (await client.delete(delete_url, headers=s["unassigned"])).status_code == 403
    assert (await client.delete(delete_url, headers=s["artist_h"])).status_code == 204
    assert (await client.get(f"/data/attachment-files/{pdf['id']}/file/notes.pdf", headers=s["artist_h"])).status_code == 404


#: A 1x1 Radiance HDR picture.
HDR = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n\x80\x80\x80\x80"


async def test_preview_backgrounds(client, s) -> None:  # type: ignore[no-untyped-def]
    name = f"studio-{uuid.uuid4().hex[:6]}"
    assert (await client.post("/data/preview-background-files", json={"name": name}, headers=s["supervisor"])).status_code == 403
    r = await client.post("/data/preview-background-files", json={"name": name, "is_default": True}, headers=s["admin"])
    assert r.status_code == 201
    bg = r.json()
    assert bg["type"] == "PreviewBackgroundFile" and bg["is_default"] is True and bg["archived"] is False
    up = await client.post(f"/pictures/preview-background-files/{bg['id']}", headers=s["admin"],
                           files={"file": ("sky.HDR", HDR, "image/vnd.radiance")})
    assert up.status_code == 201 and up.json()["extension"] == "hdr" and up.json()["original_name"] == "sky"
    got = await client.get(f"/pictures/preview-background-files/{bg['id']}.hdr", headers=s["artist_h"])
    assert got.status_code == 200 and got.content == HDR
    # any other format: Zou answers 400 and deletes the background (observed with .png, .jpg, .exr)
    doomed = (await client.post("/data/preview-background-files", json={"name": f"{name}-png"}, headers=s["admin"])).json()
    bad = await client.post(f"/pictures/preview-background-files/{doomed['id']}", headers=s["admin"],
                            files={"file": ("sky.png", png((64, 32)), "image/png")})
    assert bad.status_code == 400 and bad.json()["error"] is True
    assert (await client.get(f"/data/preview-background-files/{doomed['id']}", headers=s["admin"])).status_code == 404
    r = await client.post(f"/data/projects/{s['project']['id']}/settings/preview-background-files",
                          json={"preview_background_file_id": doomed["id"]}, headers=s["admin"])
    assert r.status_code == 400  # linking a background that does not exist (Zou: 400)
    pid = s["project"]["id"]
    r = await client.post(f"/data/projects/{pid}/settings/preview-background-files",
                          json={"preview_background_file_id": bg["id"]}, headers=s["admin"])
    assert r.status_code == 201
    listed = await client.get(f"/data/projects/{pid}/settings/preview-background-files", headers=s["artist_h"])
    assert [b["id"] for b in listed.json()] == [bg["id"]]
    r = await client.delete(f"/data/projects/{pid}/settings/preview-background-files/{bg['id']}", headers=s["admin"])
    assert r.status_code == 204
    assert (await client.get(f"/data/projects/{pid}/settings/preview-background-files", headers=s["artist_h"])).json() == []


async def test_shot_previews_carry_a_movie_s_original_facts(client, s) -> None:  # type: ignore[no-untyped-def]
    """A shot's previews by task type give a movie's original size and duration (its
    ``data`` once transcoded), null for a picture, as Zou lists them."""
    movie = (await client.post(add_url(s), json={}, headers=s["admin"])).json()
    picture = (await client.post(add_url(s), json={}, headers=s["admin"])).json()
    facts = {"original_width": 640, "original_height": 360, "original_duration": 2.0, "original_file_size": 12345}
    r = await client.put(f"/data/preview-files/{movie['id']}",
                         json={"data": {"movie_prefixes": ["originals", "low"], **facts}}, headers=s["admin"])
    assert r.status_code == 200, r.text
    by_type = (await client.get(f"/data/shots/{s['entity']['id']}/preview-files", headers=s["admin"])).json()
    rows = {r["id"]: r for group in by_type.values() for first in group for r in (first, *first["previews"])}
    assert {k: rows[movie["id"]][k] for k in facts} == facts
    assert {k: rows[picture["id"]][k] for k in facts} == dict.fromkeys(facts)
    # the tiles of a preview that is no movie: Zou's 400, with data: null
    r = await client.get(f"/actions/preview-files/{picture['id']}/extract-tile", headers=s["admin"])
    assert r.status_code == 400 and r.json()["data"] is None


async def test_permission_holes_closed_as_on_the_oracle(client, s, world) -> None:  # type: ignore[no-untyped-def]
    """Role by role, what Zou 1.0.97 refuses (observed with tools/zoudiff): Slate refuses too."""
    preview = (await client.post(add_url(s), json={}, headers=s["supervisor"])).json()
    shot = s["entity"]["id"]
    # an entity's and a shot's previews: 403 outside the team and for a vendor with no task
    # on it, 404 for an id naming no entity of that kind (concepts, edits)
    for path in (f"/data/entities/{shot}/preview-files", f"/data/shots/{shot}/preview-files"):
        for who, status in (("admin", 200), ("artist_h", 200), ("client", 200), ("vendor", 403), ("outsider", 403)):
            assert (await client.get(path, headers=s[who])).status_code == status, (path, who)
    for kind in ("concepts", "edits"):
        for who in ("admin", "artist_h", "outsider"):
            assert (await client.get(f"/data/{kind}/{uuid.uuid4()}/preview-files", headers=s[who])).status_code == 404
        assert (await client.get(f"/data/{kind}/{shot}/preview-files", headers=s["admin"])).status_code == 404
    # frames of a movie: managers only
    for who in ("supervisor", "artist_h", "client"):
        r = await client.get(f"/actions/preview-files/{preview['id']}/extract-frame", headers=s[who])
        assert r.status_code == 403, who
    # previews made through /data: admins only
    body = {"task_id": s["task"]["id"], "revision": 1, "name": "direct"}
    for who, status in (("outsider_manager", 403), ("supervisor", 403), ("admin", 201)):
        r = await client.post("/data/preview-files", json=body, headers=s[who])
        assert r.status_code == status, who
    # Zou's answer to that create: no source, and the (no) comments it is on
    assert (r.json()["source"], r.json()["comments"], r.json()["type"]) == (None, [], "PreviewFile")
    assert list(r.json())[-2:] == ["comments", "type"]
    # drawings: an artist on their own previews only
    own = (await client.post(add_url(s), json={}, headers=s["artist_h"])).json()
    drawing = {"additions": [], "updates": [], "deletions": []}
    assert (await client.put(f"/actions/preview-files/{preview['id']}/update-annotations", json=drawing,
                             headers=s["artist_h"])).status_code == 403
    assert (await client.put(f"/actions/preview-files/{own['id']}/update-annotations", json=drawing,
                             headers=s["artist_h"])).status_code == 200
    # attachments on someone else's comment: the author or a manager, not a supervisor
    other = await world.comment(s["task"], uuid.uuid4())
    url = f"/actions/tasks/{s['task']['id']}/comments/{other['id']}/add-attachment"
    for who in ("supervisor", "artist_h", "client"):
        assert (await client.post(url, headers=s[who], files={"file": ("n.txt", b"hi", "text/plain")})).status_code == 403
    r = await client.post(url, headers=s["admin"], files={"file": ("n.txt", b"hi", "text/plain")})
    assert r.status_code == 201
    attachment = r.json()[0]
    for who, status in (("artist_h", 200), ("client", 200), ("vendor", 403), ("outsider", 403)):
        assert (await client.get(f"/data/attachment-files/{attachment['id']}", headers=s[who])).status_code == status
    # removing it through another comment's address is refused, as Zou does, for everyone
    wrong = f"/data/tasks/{s['task']['id']}/comments/{s['comment']['id']}/attachments/{attachment['id']}"
    assert (await client.delete(wrong, headers=s["admin"])).status_code == 403
    # preview background files: the upload is an admin's
    bg = (await client.post("/data/preview-background-files", json={"name": f"bg-{uuid.uuid4().hex[:6]}"},
                            headers=s["admin"])).json()
    r = await client.post(f"/pictures/preview-background-files/{bg['id']}", headers=s["outsider_manager"],
                          files={"file": ("sky.hdr", HDR, "image/vnd.radiance")})
    assert r.status_code == 403
    # its thumbnail too: Zou 1.0.97 answers 500 to everyone signed in (observed: its handler
    # fails before any check); Slate asks what the background's other writes ask, an admin
    thumb = f"/pictures/thumbnails/preview-background-files/{bg['id']}.png"
    for who in ("outsider_manager", "supervisor", "artist_h"):
        r = await client.post(thumb, headers=s[who], files={"file": ("t.png", png((64, 32)), "image/png")})
        assert r.status_code == 403 and r.json()["error"] is True
    r = await client.post(f"/pictures/thumbnails/preview-background-files/{uuid.uuid4()}.png", headers=s["admin"],
                          files={"file": ("t.png", png((64, 32)), "image/png")})
    assert r.status_code == 404
    r = await client.post(thumb, headers=s["admin"], files={"file": ("t.png", png((64, 32)), "image/png")})
    assert r.status_code == 201 and r.json() == {"thumbnail_path": thumb.lstrip("/")}
    got = await client.get(thumb, headers=s["artist_h"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png" and got.content[:4] == b"\x89PNG"
