"""Which routes to call, as whom, with which path parameters and bodies.

A *call* is one (route, role) pair. Its path parameters and body are written with
symbols (``@task``, ``@person:artist``) that each side resolves to its own ids; a call
that changes or deletes something gets a fresh target (``fresh:<kind>``) per role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .side import COLUMNS, OTHER, PASSWORD, base_role

REFERENCE_ROUTES = Path("/work/shared/reference/routes.tsv")
REPO_ROUTES = Path(__file__).resolve().parents[2] / "tests" / "e2e" / "routes.tsv"
NOWHERE = "00000000-0000-4000-8000-000000000000"  # an id no side has: both should say 404
PARAM = re.compile(r"\{([a-z_]+)\}")

#: Path parameter -> symbol of the seeded thing it takes.
PARAM_SYMBOL = {
    "project_id": "project", "task_id": "task", "person_id": "person:artist", "sequence_id": "sequence",
    "task_type_id": "task_type", "shot_id": "shot", "comment_id": "comment", "asset_id": "asset",
    "preview_file_id": "preview", "episode_id": "episode", "entity_id": "shot", "asset_type_id": "asset_type",
    "filter_group_id": "filter_group", "attachment_file_id": "attachment", "task_status_id": "task_status",
    "notification_id": "notification", "filter_id": "filter", "department_id": "department", "reply_id": "reply",
    "preview_background_file_id": "preview_background", "news_id": "news", "entity_link_id": "entity_link",
    "playlist_id": "playlist", "edit_id": "", "concept_id": "", "scene_id": "", "temporal_entity_id": "shot",
}
#: ``{instance_id}`` -> symbol, by the collection in front of it.
COLLECTION_SYMBOL = {
    "projects": "project", "persons": "person:artist", "departments": "department", "tasks": "task",
    "comments": "comment", "entities": "shot", "entity-links": "entity_link", "entity-types": "asset_type",
    "news": "news", "notifications": "notification", "organisations": "organisation=Kitsu",
    "preview-files": "preview", "attachment-files": "attachment", "preview-background-files": "preview_background",
    "project-status": "project_status=Open", "search-filter-groups": "filter_group", "search-filters": "filter",
    "studios": "studio", "subscriptions": "subscription", "task-status": "task_status", "task-types": "task_type",
    "shots": "shot", "assets": "asset", "sequences": "sequence", "episodes": "episode", "playlists": "playlist",
}
LITERAL_PARAMS = {
    "extension": "png", "file_name": "notes.png", "filename": "notes.png", "entity_type": "shots",
    "year": "2026", "month": "12", "week": "49", "day": "1", "date": "2026-12-01", "month_date": "2026-12-01",
    "field_name": "name", "token": "zoudiff-not-a-token",
}
#: Kinds :meth:`Seeder.fresh` can make.
FRESH_KINDS = frozenset({
    "project", "episode", "sequence", "shot", "asset", "task", "comment", "reply", "person", "assignee", "department",
    "task_type", "task_status", "asset_type", "project_status", "studio", "preview", "attachment", "filter",
    "filter_group", "preview_background", "entity_link",
})
#: Kinds seeded a second time in ``project:other`` (``shot:other``...): a call of the
#: ``@other`` column takes those instead of the first project's.
OTHER_KINDS = frozenset({"project", "episode", "sequence", "shot", "asset", "task", "comment", "preview",
                         "attachment", "entity_link"})


def other_symbol(symbol: str) -> str:
    """``shot:2`` -> ``shot:other``; a symbol of no project (a person, a task type) stays."""
    kind = kind_of(symbol)
    return f"{kind}:other" if kind in OTHER_KINDS else symbol


def in_a_project(params: dict[str, str], body: Any) -> bool:
    """Whether a call names something of a project (a path id or an ``@`` symbol of its body)."""
    return any(kind_of(s) in OTHER_KINDS for s in [*filter(None, params.values()), *body_symbols(body)])


def body_symbols(value: Any) -> list[str]:
    """The symbols a body names (``@task`` -> ``task``, ``@fresh:shot`` -> ``shot``)."""
    if isinstance(value, str):
        return [value[1:].removeprefix("fresh:")] if value.startswith("@") else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in body_symbols(v)]
    if isinstance(value, list):
        return [s for v in value for s in body_symbols(v)]
    return []


#: Calls that end the caller's session: made with a login of their own.
OWN_LOGIN = frozenset({"GET /auth/logout"})

PNG_UPLOAD = {"file": "png"}
#: Request bodies by route. ``@sym`` is a seeded id, ``@fresh:kind`` a new one per call,
#: ``{uniq}`` a unique text; ``files`` uploads generated files; ``query`` adds query parameters
#: (symbols resolved the same way). Unlisted writes send ``{}``.
BODIES: dict[str, dict[str, Any]] = {
    "POST /auth/login": {"json": {"email": "{email}", "password": "{password}"}},
    "POST /data/projects": {"json": {"name": "{uniq}"}},
    "PUT /data/projects/{instance_id}": {"json": {"description": "zd"}},
    "POST /data/departments": {"json": {"name": "{uniq}", "color": "#112233"}},
    "PUT /data/departments/{instance_id}": {"json": {"color": "#445566"}},
    "POST /data/persons": {"json": {"first_name": "Zd", "last_name": "{uniq}", "email": "{uniq_email}", "role": "user",
                                    "active": False}},
    "PUT /data/persons/{instance_id}": {"json": {"phone": "0102030405"}},
    "POST /data/task-types": {"json": {"name": "{uniq}", "for_entity": "Shot"}},
    "PUT /data/task-types/{instance_id}": {"json": {"color": "#123456"}},
    "POST /data/task-status": {"json": {"name": "{uniq}", "short_name": "{uniq_short}", "color": "#000000"}},
    "PUT /data/task-status/{instance_id}": {"json": {"color": "#111111"}},
    "POST /data/entity-types": {"json": {"name": "{uniq}"}},
    "PUT /data/entity-types/{instance_id}": {"json": {"name": "{uniq}"}},
    "POST /data/project-status": {"json": {"name": "{uniq}", "color": "#010101"}},
    "PUT /data/project-status/{instance_id}": {"json": {"color": "#020202"}},
    "POST /data/studios": {"json": {"name": "{uniq}", "color": "#999999"}},
    "PUT /data/studios/{instance_id}": {"json": {"color": "#888888"}},
    # the organisation is a singleton on the shared oracle: write back what it holds
    "POST /data/organisations": {"json": {"name": "Kitsu"}},
    "PUT /data/organisations/{instance_id}": {"json": {"hours_by_day": 8}},
    "POST /data/tasks": {"json": {"project_id": "@project", "entity_id": "@fresh:shot", "task_type_id": "@task_type",
                                  "task_status_id": "@task_status", "name": "main"}},
    "PUT /data/tasks/{instance_id}": {"json": {"priority": 1}},
    "POST /data/comments": {"json": {"object_id": "@task", "object_type": "Task", "task_status_id": "@task_status",
                                     "person_id": "@person:admin", "text": "zd"}},
    "PUT /data/comments/{instance_id}": {"json": {"text": "zd edited"}},
    "POST /data/entities": {"json": {"name": "{uniq}", "project_id": "@project", "entity_type_id": "@asset_type"}},
    "PUT /data/entities/{instance_id}": {"json": {"description": "zd"}},
    "POST /data/entity-links": {"json": {"entity_in_id": "@fresh:shot", "entity_out_id": "@asset", "nb_occurences": 1}},
    "PUT /data/entity-links/{instance_id}": {"json": {"nb_occurences": 3}},
    "POST /data/search-filters": {"json": {"list_type": "shots", "name": "{uniq}", "query": "x", "project_id": "@project",
                                           "person_id": "@person:artist"}},
    "PUT /data/search-filters/{instance_id}": {"json": {"name": "{uniq}"}},
    "POST /data/search-filter-groups": {"json": {"list_type": "shots", "name": "{uniq}", "color": "#000000",
                                                 "project_id": "@project", "person_id": "@person:artist"}},
    "PUT /data/search-filter-groups/{instance_id}": {"json": {"name": "{uniq}"}},
    "POST /data/subscriptions": {"json": {"person_id": "@person:artist", "task_id": "@fresh:task"}},
    "POST /data/task-status-links": {"json": {"project_id": "@project", "task_status_id": "@task_status=Retake"}},
    "POST /data/task-type-links": {"json": {"project_id": "@project", "task_type_id": "@task_type=Lighting/Shot"}},
    "POST /data/preview-files": {"json": {"name": "zd", "task_id": "@fresh:task", "revision": 1, "person_id": "@person:admin"}},
    "PUT /data/preview-files/{instance_id}": {"json": {"position": 2}},
    "POST /data/attachment-files": {"json": {"name": "x.png", "comment_id": "@fresh:comment", "extension": "png",
                                             "mimetype": "image/png", "size": 10}},
    "PUT /data/attachment-files/{instance_id}": {"json": {"name": "y.png"}},
    "POST /data/preview-background-files": {"json": {"name": "{uniq}"}},
    "PUT /data/preview-background-files/{instance_id}": {"json": {"name": "{uniq}"}},
    "POST /data/projects/{project_id}/episodes": {"json": {"name": "{uniq}"}},
    "POST /data/projects/{project_id}/sequences": {"json": {"name": "{uniq}", "episode_id": "@episode"}},
    "POST /data/projects/{project_id}/shots": {"json": {"name": "{uniq}", "sequence_id": "@sequence", "nb_frames": 10}},
    "POST /data/projects/{project_id}/asset-types/{asset_type_id}/assets/new": {"json": {"name": "{uniq}", "description": "zd"}},
    "PUT /data/shots/{shot_id}": {"json": {"nb_frames": 30}},
    "PUT /data/assets/{asset_id}/casting": {"json": [{"asset_id": "@asset:2", "nb_occurences": 1}]},
    "PUT /data/projects/{project_id}/entities/{entity_id}/casting": {"json": [{"asset_id": "@asset:2", "nb_occurences": 1}]},
    "POST /data/projects/{project_id}/team": {"json": {"person_id": "@fresh:person"}},
    "POST /data/projects/{project_id}/settings/task-types": {"json": {"task_type_id": "@task_type=Lighting/Shot"}},
    "POST /data/projects/{project_id}/settings/task-status": {"json": {"task_status_id": "@task_status=Retake"}},
    "POST /data/projects/{project_id}/settings/asset-types": {"json": {"asset_type_id": "@asset_type=Character"}},
    "POST /data/projects/{project_id}/settings/preview-background-files": {"json": {"preview_background_file_id": "@preview_background"}},
    "POST /actions/tasks/{task_id}/comment": {"json": {"task_status_id": "@task_status", "comment": "zd"}},
    "POST /actions/tasks/{task_id}/comments/{comment_id}/add-preview": {"json": {}},
    "POST /actions/tasks/{task_id}/comments/{comment_id}/add-attachment": {"files": PNG_UPLOAD},
    "POST /pictures/preview-files/{instance_id}": {"files": PNG_UPLOAD},
    "POST /pictures/preview-background-files/{instance_id}": {"files": PNG_UPLOAD},
    "POST /pictures/thumbnails/persons/{instance_id}": {"files": PNG_UPLOAD},
    "POST /pictures/thumbnails/persons/{instance_id}.png": {"files": PNG_UPLOAD},
    "POST /pictures/thumbnails/projects/{instance_id}": {"files": PNG_UPLOAD},
    "POST /pictures/thumbnails/projects/{instance_id}.png": {"files": PNG_UPLOAD},
    "POST /pictures/thumbnails/organisations/{instance_id}": {"files": PNG_UPLOAD},
    "POST /pictures/thumbnails/organisations/{instance_id}.png": {"files": PNG_UPLOAD},
    "POST /pictures/thumbnails/preview-background-files/{instance_id}.png": {"files": PNG_UPLOAD},
    "POST /data/tasks/{task_id}/comments/{comment_id}/reply": {"json": {"text": "zd reply"}},
    "PUT /actions/persons/{person_id}/assign": {"json": {"task_ids": ["@fresh:task"]}},
    "PUT /actions/tasks/{task_id}/assign": {"json": {"person_id": "@person:artist"}},
    "PUT /actions/tasks/clear-assignation": {"json": {"task_ids": ["@fresh:task"]}},
    "PUT /actions/tasks/set-priority": {"json": {"task_ids": ["@fresh:task"], "priority": 2}},
    "POST /actions/persons/{person_id}/change-password": {"json": {"password": "zoudiff-new-pass-1",
                                                                   "password_2": "zoudiff-new-pass-1"}},
    "POST /actions/persons/{person_id}/departments/add": {"json": {"department_id": "@department:2"}},
    "POST /data/user/filters": {"json": {"list_type": "shots", "name": "{uniq}", "query": "x", "project_id": "@project"}},
    "PUT /data/user/filters/{filter_id}": {"json": {"name": "{uniq}"}},
    "POST /data/user/filter-groups": {"json": {"list_type": "shots", "name": "{uniq}", "color": "#000000",
                                               "project_id": "@project"}},
    "PUT /data/user/filter-groups/{filter_group_id}": {"json": {"name": "{uniq}"}},
    "PUT /data/user/notifications/{notification_id}": {"json": {"read": True}},
    "POST /data/user/desktop-login-logs": {"json": {"date": "2026-12-01T10:00:00"}},
    "POST /data/persons/{person_id}/desktop-login-logs": {"json": {"date": "2026-12-01T10:00:00"}},
    "POST /actions/projects/{project_id}/task-types/{task_type_id}/shots/create-tasks": {"json": ["@fresh:shot"]},
    "POST /actions/projects/{project_id}/task-types/{task_type_id}/assets/create-tasks": {"json": ["@fresh:asset"]},
    "POST /actions/projects/{project_id}/delete-tasks": {"json": ["@fresh:task"]},
    "POST /actions/projects/{project_id}/delete-entities": {"json": ["@fresh:shot"]},
    "POST /actions/projects/{project_id}/tasks/comment-many": {"json": [{"object_id": "@fresh:task",
                                                                         "task_status_id": "@task_status", "comment": "zd"}]},
    "POST /data/entities/guess-from-path": {"json": {"project_id": "@project", "file_path": "/E01/SQ01/SH010/a.ma"}},
    "POST /data/entities/guess_from_path": {"json": {"project_id": "@project", "file_path": "/E01/SQ01/SH010/a.ma"}},
    "PUT /actions/preview-files/{preview_file_id}/update-position": {"json": {"position": 1}},
    "PUT /actions/preview-files/{preview_file_id}/update-annotations": {"json": {"additions": [], "updates": [],
                                                                                 "deletions": []}},
    "POST /data/entities/{entity_id}/tasks": {"json": {"task_type_id": "@task_type"}},
    # every open task the caller sees, across projects: on a shared oracle or e2e stack others'
    # tasks change its page and stats from run to run; one project's are comparable
    "GET /data/tasks/open-tasks": {"query": {"project_id": "@project"}},
}

#: Bodies of the ``@other`` column that differ from ``BODIES``. Zou adds a person to a
#: project's team when it assigns them a task there (observed, docs/differential.md): a call
#: of that column assigning the artist would put ``artist@other`` in ``project:other``'s team
#: for every later call of the run, on each side at its own moment (calls run in parallel).
#: There the assignee is a fresh inactive person of the call, in no team, so the role's own
#: persons stay out of ``project:other`` for the whole run.
OTHER_BODIES: dict[str, dict[str, Any]] = {
    "PUT /actions/tasks/{task_id}/assign": {"json": {"person_id": "@fresh:assignee"}},
}
#: Persons whose assignment in ``project:other`` would change a column: every role's own.
ROLE_PERSONS = frozenset({"person:" + role for role in ("manager", "supervisor", "artist", "client", "vendor",
                                                         "outsider", "admin")})


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # Zou's template, e.g. /data/projects/{project_id}
    service: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Call:
    route: Route
    role: str
    params: dict[str, str] = field(default_factory=dict)  # name -> symbol or literal
    fresh: dict[str, str] = field(default_factory=dict)  # name -> kind made fresh for this call
    body: dict[str, Any] = field(default_factory=dict)
    own_login: bool = False

    @property
    def key(self) -> str:
        return f"{self.route.key} | {self.role}"

    @property
    def other(self) -> bool:
        """A call of the ``@other`` column: on the things of ``project:other``."""
        return self.role.endswith(OTHER)

    @property
    def login_role(self) -> str:
        return base_role(self.role)

    @property
    def phase(self) -> int:
        """Reads, then writes, then deletes, then the calls that end a session."""
        if self.own_login:
            return 3
        return {"GET": 0, "DELETE": 2}.get(self.route.method, 1)


def load_routes(path: Path | None = None) -> list[Route]:
    """Every route of routes.tsv (the shared reference, else the repo's copy)."""
    source = path or (REFERENCE_ROUTES if REFERENCE_ROUTES.exists() else REPO_ROUTES)
    rows = [line.rstrip("\n").split("\t") for line in source.read_text().splitlines()[1:] if line.strip()]
    return [Route(r[0], r[1], r[2]) for r in rows]


def template(path: str) -> str:
    return PARAM.sub("{}", path).rstrip("/") or "/"


def served_routes(routes: list[Route], openapi: dict[str, Any]) -> list[Route]:
    """The routes the gateway declares in its aggregated OpenAPI."""
    declared = set()
    for path, ops in openapi.get("paths", {}).items():
        path = re.sub(r"^/api(?=/)", "", path)
        for method in ops:
            declared.add((method.upper(), template(path)))
    return [r for r in routes if (r.method, template(r.path)) in declared]


def param_symbol(route: Route, name: str) -> str:
    """The seeded symbol (or literal) a path parameter takes."""
    if name in LITERAL_PARAMS:
        return LITERAL_PARAMS[name]
    if name == "instance_id":
        parts = route.path.split("/")
        idx = next(i for i, p in enumerate(parts) if p.startswith("{instance_id}"))
        collection = parts[idx - 1]
        if route.path.startswith("/movies/"):
            return "preview:movie"
        if collection == "persons" and route.path.startswith("/pictures/"):
            return "person:artist"
        return COLLECTION_SYMBOL.get(collection, "")
    if name == "preview_file_id" and ("extract-frame" in route.path or "extract-tile" in route.path):
        return "preview:movie"
    return PARAM_SYMBOL.get(name, "")


def kind_of(symbol: str) -> str:
    return symbol.split(":")[0].split("=")[0]


def plan(routes: list[Route], roles: tuple[str, ...] = COLUMNS) -> list[Call]:
    """Calls in a safe order: reads, then writes, then deletes; logouts last. The
    ``@other`` column only for routes that name something of a project."""
    calls: list[Call] = []
    for route in routes:
        names = PARAM.findall(route.path)
        params = {n: param_symbol(route, n) for n in names}
        id_params = [n for n in names if n not in LITERAL_PARAMS]
        target = id_params[-1] if id_params and route.method != "GET" else None
        body = BODIES.get(route.key, {"json": {}} if route.method in ("POST", "PUT") else {})
        for role in roles:
            if role.endswith(OTHER) and not in_a_project(params, body):
                continue
            call = Call(route, role, dict(params), body=OTHER_BODIES.get(route.key, body) if role.endswith(OTHER) else body)
            if target and params[target] and kind_of(params[target]) in FRESH_KINDS:
                call.fresh[target] = kind_of(params[target])
            call.own_login = route.key in OWN_LOGIN
            calls.append(call)
    calls.sort(key=lambda c: c.phase)
    return calls


def credentials(role: str, emails: dict[str, str], admin_password: str) -> tuple[str, str]:
    """What ``{email}``/``{password}`` mean in a body sent as ``role``."""
    if role == "anonymous":
        return "nobody@example.com", "wrong-password-0"
    return emails.get(role, "nobody@example.com"), admin_password if role == "admin" else PASSWORD
