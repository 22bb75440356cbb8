"""The routes that read their body themselves (after a permission check, as Zou does, or
from a form as well as JSON) document it in the OpenAPI, so a client generated from it
sends what the route accepts (issue 17 part 2)."""

from __future__ import annotations

from typing import Any

#: (method, path) -> the body's required fields (None: the body is a list).
DOCUMENTED: dict[tuple[str, str], list[str] | None] = {
    ("post", "/actions/tasks/{task_id}/comment"): ["task_status_id"],
    ("post", "/actions/projects/{project_id}/tasks/comment-many"): None,
    ("post", "/actions/tasks/{task_id}/batch-comment"): ["comments"],
    ("post", "/actions/tasks/batch-comment"): ["comments"],
    ("post", "/data/tasks/{task_id}/comments/{comment_id}/reply"): [],
    ("post", "/data/comments"): ["object_id"],
    ("put", "/data/comments/{instance_id}"): [],
    ("post", "/actions/tasks/{task_id}/comments/{comment_id}/move"): ["target_task_id"],
    ("post", "/actions/projects/{project_id}/tasks/copy-client-comments"): ["task_ids"],
    ("post", "/actions/projects/{project_id}/task-types/{task_type_id}/shots/create-tasks"): None,
    ("post", "/actions/projects/{project_id}/task-types/{task_type_id}/assets/create-tasks"): None,
    ("post", "/data/entities/{entity_id}/tasks"): [],
    ("put", "/actions/tasks/{task_id}/assign"): ["person_id"],
    ("put", "/actions/persons/{person_id}/assign"): [],
    ("put", "/actions/tasks/clear-assignation"): [],
    ("put", "/actions/tasks/set-priority"): ["priority"],
    ("post", "/actions/projects/{project_id}/delete-tasks"): None,
    ("post", "/actions/projects/{project_id}/task-types/{task_type_id}/set-shot-nb-frames"): [],
    ("put", "/data/user/notifications/{notification_id}"): [],
    ("post", "/actions/user/tasks/subscribe"): ["task_ids"],
    ("post", "/actions/user/tasks/unsubscribe"): ["task_ids"],
    ("post", "/data/user/filters"): ["name", "query", "list_type"],
    ("put", "/data/user/filters/{filter_id}"): [],
    ("post", "/data/user/filter-groups"): ["name", "color", "list_type"],
    ("put", "/data/user/filter-groups/{filter_group_id}"): [],
    ("put", "/data/projects/{project_id}/preview-account"): ["is_open"],
}


async def test_bodies_read_by_the_route_are_documented(client: Any) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for (method, path), required in DOCUMENTED.items():
        body = paths[path][method]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert "$ref" not in str(schema), (method, path)
        if required is None:
            assert schema["type"] == "array", (method, path)
        else:
            assert schema["type"] == "object" and schema.get("required", []) == required, (method, path, schema)
    ids = paths["/actions/tasks/{task_id}/assign"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert ids["properties"]["person_id"]["format"] == "uuid"
    many = paths["/actions/tasks/batch-comment"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert many["properties"]["comments"]["items"]["required"] == ["task_status_id"]
    # what the columns hold is what the schema allows (a longer colour was a statement error)
    group = paths["/data/user/filter-groups"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert (group["properties"]["color"]["maxLength"], group["properties"]["name"]["maxLength"]) == (8, 200)
    # a comment of comment-many names its task as task_id or object_id
    item = paths["/actions/projects/{project_id}/tasks/comment-many"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["items"]
    assert [alt["required"] for alt in item["anyOf"]] == [["task_id"], ["object_id"]]
