"""Bad uploads: each a clear 4xx, or a broken status with a reason; never a stuck job
nor a half-written object."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from slate_common.testing.tokens import TestSigner

from .conftest import TEST_UPLOAD_LIMIT  # noqa: TID252

ADMIN = uuid.uuid4()


@pytest.fixture(scope="module")
async def s(world, signer: TestSigner) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    project = await world.project([ADMIN])
    task = await world.task(project, await world.entity(project))
    comment = await world.comment(task, ADMIN)
    return {"task": task, "comment": comment, "h": signer.headers(ADMIN, "admin")}


async def new_preview(client, s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.post(f"/actions/tasks/{s['task']['id']}/comments/{s['comment']['id']}/add-preview", json={}, headers=s["h"])
    assert r.status_code == 201
    return r.json()  # type: ignore[no-any-return]


async def send(client, s, preview_id: str, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return await client.post(f"/pictures/preview-files/{preview_id}", headers=s["h"],
                             files={"file": (name, content, "application/octet-stream")})


async def stored_keys(media_app, preview_id: str) -> list[str]:
    storage = media_app.state.storage
    found = []
    for kind in ("previews", "movies", "files"):
        objects = storage.client.list_objects(storage.bucket(kind), recursive=True)
        found += [f"{kind}/{o.object_name}" for o in objects if preview_id in o.object_name]
    return found


async def test_corrupt_movie_is_broken_with_a_reason(client, s, media_files, wait_status, media_app, outbox) -> None:  # type: ignore[no-untyped-def]
    preview = await new_preview(client, s)
    r = await send(client, s, preview["id"], "corrupt.mp4", media_files["corrupt"].read_bytes())
    assert r.status_code == 201 and r.json()["status"] == "processing"
    done = await wait_status(preview["id"], s["h"])
    assert done["status"] == "broken"
    assert "not a readable movie" in done["status_reason"]
    keys = await stored_keys(media_app, preview["id"])
    assert keys == [f"movies/source/{preview['id']}.mp4"]  # the source only, no partial derivative
    updates = [e for e in await outbox("preview-file:update") if e["data"]["preview_file_id"] == preview["id"]]
    assert updates[-1]["data"]["snapshot"]["status"] == "broken"
    assert (await client.get(f"/movies/originals/preview-files/{preview['id']}.mp4", headers=s["h"])).status_code == 404


async def test_text_named_png_is_refused(client, s, media_app) -> None:  # type: ignore[no-untyped-def]
    preview = await new_preview(client, s)
    r = await send(client, s, preview["id"], "fake.png", b"this is not a picture at all")
    assert r.status_code == 400
    assert r.json() == {"error": True, "message": "Uploaded file is not a readable picture."}
    assert await stored_keys(media_app, preview["id"]) == []
    after = (await client.get(f"/data/preview-files/{preview['id']}", headers=s["h"])).json()
    assert after["file_size"] == 0 and after["original_name"] is None


async def test_png_with_a_jpg_extension_is_read_by_content(client, s, media_files, wait_status) -> None:  # type: ignore[no-untyped-def]
    preview = await new_preview(client, s)
    r = await send(client, s, preview["id"], "mislabelled.jpg", media_files["png"].read_bytes())
    assert r.status_code == 201
    done = await wait_status(preview["id"], s["h"])
    assert (done["status"], done["width"], done["extension"]) == ("ready", 1920, "png")


async def test_unknown_extension_and_empty_file_and_no_file(client, s, media_app) -> None:  # type: ignore[no-untyped-def]
    preview = await new_preview(client, s)
    r = await send(client, s, preview["id"], "data.xyz", b"abc")
    assert r.status_code == 400 and r.json()["message"] == "Files with the extension .xyz are not accepted as previews."
    r = await send(client, s, preview["id"], "empty.png", b"")
    assert r.status_code == 400 and r.json()["message"] == "The uploaded file is empty."
    r = await send(client, s, preview["id"], "noext", b"abc")
    assert r.status_code == 400 and "no extension" in r.json()["message"]
    r = await client.post(f"/pictures/preview-files/{preview['id']}", headers=s["h"], data={"x": "1"})
    assert r.status_code == 400 and r.json()["error"] is True
    r = await client.post(f"/pictures/preview-files/{preview['id']}", headers=s["h"], json={"file": "x"})
    assert r.status_code == 400 and "multipart" in r.json()["message"]
    assert await stored_keys(media_app, preview["id"]) == []


async def test_path_in_the_name_is_refused(client, s, media_files, media_app) -> None:  # type: ignore[no-untyped-def]
    preview = await new_preview(client, s)
    for name in ("../../etc/passwd.png", "..\\evil.png", "dir/still.png"):
        r = await send(client, s, preview["id"], name, media_files["png"].read_bytes())
        assert r.status_code == 400 and r.json()["message"] == "Invalid file name: it must not contain a path."
    assert await stored_keys(media_app, preview["id"]) == []


async def test_upload_over_the_limit_is_refused_while_streaming(client, s, media_app) -> None:  # type: ignore[no-untyped-def]
    preview = await new_preview(client, s)
    big = b"\x00" * (TEST_UPLOAD_LIMIT + 1024 * 1024)
    r = await send(client, s, preview["id"], "huge.mp4", big)
    assert r.status_code == 413
    assert r.json() == {"error": True, "message": f"The file is too large: the limit is {TEST_UPLOAD_LIMIT} bytes."}

    # Without a Content-Length (chunked), the limit holds on the bytes read.
    boundary = "slateboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.mp4\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()

    async def body():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(TEST_UPLOAD_LIMIT // (1024 * 1024) + 2):
            yield b"\x01" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await client.post(f"/pictures/preview-files/{preview['id']}", content=body(),
                          headers={**s["h"], "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and r.json()["error"] is True
    assert await stored_keys(media_app, preview["id"]) == []
    after = (await client.get(f"/data/preview-files/{preview['id']}", headers=s["h"])).json()
    assert after["status"] == "processing" and after["file_size"] == 0


async def test_pdf_is_a_file_preview_ready_at_once(client, s, media_files) -> None:  # type: ignore[no-untyped-def]
    preview = await new_preview(client, s)
    r = await send(client, s, preview["id"], "doc.pdf", media_files["pdf"].read_bytes())
    assert r.status_code == 201
    assert (r.json()["status"], r.json()["extension"], r.json()["original_name"]) == ("ready", "pdf", "doc")
    got = await client.get(f"/pictures/originals/preview-files/{preview['id']}.pdf", headers=s["h"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert got.content == media_files["pdf"].read_bytes()
    assert (await client.get(f"/pictures/originals/preview-files/{preview['id']}.glb", headers=s["h"])).status_code == 404
    dl = await client.get(f"/pictures/originals/preview-files/{preview['id']}/download", headers=s["h"])
    assert dl.status_code == 200 and dl.headers["content-disposition"].endswith(".pdf")


async def test_malformed_ids_and_unknown_previews(client, s) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/pictures/thumbnails/preview-files/not-an-id.png", headers=s["h"])
    assert r.status_code == 400 and r.json()["message"] == "Malformed ID."
    r = await client.get(f"/movies/originals/preview-files/{uuid.uuid4()}.mp4", headers=s["h"])
    assert r.status_code == 404
    r = await client.post(f"/pictures/preview-files/{uuid.uuid4()}", headers=s["h"], files={"file": ("a.png", b"x")})
    assert r.status_code == 404


async def test_upload_again_while_processing_is_refused(client, s, media_files, wait_status) -> None:  # type: ignore[no-untyped-def]
    """Zou takes one file per preview (it processes it inside the upload request): a
    second upload is a 400 even while Slate is still processing the first."""
    preview = await new_preview(client, s)
    first = await send(client, s, preview["id"], "clip.mov", media_files["movie"].read_bytes())
    second = await send(client, s, preview["id"], "still.png", media_files["png"].read_bytes())
    assert (first.status_code, second.status_code) == (201, 400)
    done = await wait_status(preview["id"], s["h"])
    assert (done["status"], done["extension"], done["is_movie"]) == ("ready", "mp4", True)


async def test_a_processed_preview_takes_no_new_file(client, s, media_files, wait_status) -> None:  # type: ignore[no-untyped-def]
    """Zou answers 400 to an upload on a preview that already has its file, before any
    permission check (observed for every role)."""
    preview = await new_preview(client, s)
    assert (await send(client, s, preview["id"], "still.png", media_files["png"].read_bytes())).status_code == 201
    assert (await wait_status(preview["id"], s["h"]))["status"] == "ready"
    again = await send(client, s, preview["id"], "still.png", media_files["png"].read_bytes())
    assert again.status_code == 400 and again.json()["error"] is True


async def test_json_bodies_as_zou_documents_and_accepts_them(client, s, media_app) -> None:  # type: ignore[no-untyped-def]
    """The JSON bodies of media's actions are declared (the OpenAPI document says what is
    required), take what Zou 1.0.97 takes (numbers as digits in a string, no body where
    nothing is required) and refuse the rest with Zou's validation 400, never a 422."""
    task, comment, h = s["task"]["id"], s["comment"]["id"], s["h"]
    add = f"/actions/tasks/{task}/comments/{comment}/add-preview"
    assert (await client.post(add, headers=h)).status_code == 201  # no body at all
    assert (await client.post(add, json={"revision": ""}, headers=h)).status_code == 201
    assert (await client.post(add, json={"revision": "7"}, headers=h)).json()["revision"] == 7
    assert (await client.post(add, json={"revision": 8, "extra": "ignored"}, headers=h)).json()["revision"] == 8
    preview = (await client.post(add, json={"revision": 8}, headers=h)).json()
    bad = await client.post(add, json={"revision": "eight"}, headers=h)
    assert bad.status_code == 400
    assert bad.json()["error"] is True and bad.json()["message"] == "Validation error."
    assert [e["field"] for e in bad.json()["data"]["errors"]] == ["revision"]

    position = f"/actions/preview-files/{preview['id']}/update-position"
    assert (await client.put(position, json={"position": "1"}, headers=h)).status_code == 200
    missing = await client.put(position, json={}, headers=h)
    assert missing.status_code == 400
    assert missing.json()["data"]["errors"] == [{"field": "position", "message": "Field required"}]

    annotations = f"/actions/preview-files/{preview['id']}/update-annotations"
    assert (await client.put(annotations, headers=h)).json()["annotations"] == []  # nothing to change
    drawing = {"time": 0, "drawing": {"objects": [{"id": "o1", "type": "path"}]}}
    assert (await client.put(annotations, json={"additions": [drawing]}, headers=h)).json()["annotations"] == [drawing]
    assert (await client.put(annotations, json={"additions": "o1"}, headers=h)).status_code == 400

    # Zou's answer to a body without task_ids (the differential fixture's shape): a 400 naming the field
    no_ids = await client.put("/actions/tasks/set-main-preview", json={}, headers=h)
    assert no_ids.status_code == 400
    assert no_ids.json()["data"]["errors"] == [{"field": "task_ids", "message": "Field required"}]
    assert (await client.put("/actions/tasks/set-main-preview", json={"task_ids": ["nope"]}, headers=h)).status_code == 400

    backgrounds = f"/data/projects/{s['task']['project_id']}/settings/preview-background-files"
    for body in ({}, {"preview_background_file_id": "nope"}):
        r = await client.post(backgrounds, json=body, headers=h)
        assert r.status_code == 400 and r.json()["data"]["errors"][0]["field"] == "preview_background_file_id"

    document = media_app.openapi()
    models = document["components"]["schemas"]

    def body_of(path: str, method: str) -> tuple[bool, dict[str, Any]]:
        """Whether the operation requires a body, and its model's schema."""
        body = document["paths"][path][method]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        ref = next(s for s in schema.get("anyOf", [schema]) if "$ref" in s)["$ref"]
        return body.get("required", False), models[ref.rsplit("/", 1)[1]]

    add_required, add_model = body_of("/actions/tasks/{task_id}/comments/{comment_id}/add-preview", "post")
    assert not add_required and "required" not in add_model and "revision" in add_model["properties"]
    for path, method, required in (
        ("/actions/tasks/set-main-preview", "put", ["task_ids"]),
        ("/actions/preview-files/{preview_file_id}/update-position", "put", ["position"]),
        ("/data/projects/{project_id}/settings/preview-background-files", "post", ["preview_background_file_id"]),
    ):
        body_required, model = body_of(path, method)
        assert body_required and model["required"] == required, (path, model)
    annotations_required, annotations_model = body_of("/actions/preview-files/{preview_file_id}/update-annotations", "put")
    assert not annotations_required and set(annotations_model["properties"]) == {"additions", "updates", "deletions"}


async def test_uploads_document_their_multipart_file(media_app) -> None:  # type: ignore[no-untyped-def]
    """The routes that stream their upload themselves document it (multipart, a binary
    ``file``), so a client generated from the OpenAPI, or schemathesis, sends one; the
    project picture's ``.png`` address, which only answers 405 as Zou's, documents none."""
    paths = media_app.openapi()["paths"]
    uploads = [
        "/pictures/thumbnails/persons/{instance_id}", "/pictures/thumbnails/persons/{instance_id}.png",
        "/pictures/thumbnails/organisations/{instance_id}", "/pictures/thumbnails/organisations/{instance_id}.png",
        "/pictures/thumbnails/projects/{instance_id}", "/pictures/preview-background-files/{instance_id}",
        "/pictures/thumbnails/preview-background-files/{instance_id}.png", "/pictures/preview-files/{instance_id}",
        "/actions/tasks/{task_id}/comments/{comment_id}/add-attachment",
    ]
    for path in uploads:
        body = paths[path]["post"]["requestBody"]
        file = body["content"]["multipart/form-data"]["schema"]["properties"]["file"]
        assert body["required"] is True and file == {"type": "string", "format": "binary"}, path
    optional = paths["/actions/tasks/{task_id}/comments/{comment_id}/preview-files/{preview_file_id}"]["post"]
    assert optional["requestBody"]["required"] is False  # without a file: a new preview awaiting one
    assert "requestBody" not in paths["/pictures/thumbnails/projects/{instance_id}.png"]["post"]
