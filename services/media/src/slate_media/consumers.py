"""What media replicates from production: projects (with their team), tasks, comments and
entities. Each keeps the columns media queries on plus the whole snapshot, but tasks, of
which media reads only the columns: an update that changes none of them (an estimation,
a priority, a status) is skipped (``Replica.keeps``; see ``slate_common.replica`` for the
mechanism and its ordering guard)."""

from __future__ import annotations

from typing import Any

from slate_common.events import EventHandler
from slate_common.replica import Replica, handlers_of, parse_id

from .models import CommentReplica, EntityReplica, ProjectReplica, TaskReplica

ENTITY_KINDS = ("entity", "asset", "shot", "sequence", "episode", "edit", "concept", "scene")


def _ids(values: Any) -> list[Any]:
    out = []
    for value in values or []:
        if isinstance(value, dict):  # a serialized person rather than an id
            value = value.get("id")
        parsed = parse_id(value)
        if parsed is not None:
            out.append(parsed)
    return out


def _project_columns(snap: dict[str, Any]) -> dict[str, Any]:
    return {"name": snap.get("name"), "team": _ids(snap.get("team"))}


#: The snapshot fields :func:`_task_columns` reads.
_TASK_FIELDS = ("project_id", "entity_id", "task_type_id", "assignees")


def _task_columns(snap: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": parse_id(snap.get("project_id")),
        "entity_id": parse_id(snap.get("entity_id")),
        "task_type_id": parse_id(snap.get("task_type_id")),
        "assignees": _ids(snap.get("assignees")),
    }


def _comment_columns(snap: dict[str, Any]) -> dict[str, Any]:
    return {"object_id": parse_id(snap.get("object_id")), "person_id": parse_id(snap.get("person_id"))}


def _entity_columns(kind: str) -> Any:
    def columns(snap: dict[str, Any]) -> dict[str, Any]:
        return {"kind": kind, "project_id": parse_id(snap.get("project_id"))}

    return columns


PROJECTS = Replica(ProjectReplica, "project", "production", columns=_project_columns)
TASKS = Replica(TaskReplica, "task", "production", columns=_task_columns, fields=_TASK_FIELDS,
                verbs=("assign", "unassign", "status-changed"))
COMMENTS = Replica(CommentReplica, "comment", "production", columns=_comment_columns,
                   verbs=("reply", "delete-reply"))  # the replies an attachment's comment shows
ENTITIES = [Replica(EntityReplica, kind, "production", columns=_entity_columns(kind)) for kind in ENTITY_KINDS]
ENTITY_BY_KIND = {replica.kind: replica for replica in ENTITIES}

REPLICAS: list[Replica] = [PROJECTS, TASKS, COMMENTS, *ENTITIES]


def consumers() -> dict[str, EventHandler]:
    return handlers_of(REPLICAS)
