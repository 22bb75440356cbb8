"""The route trie on its own."""

from slate_gateway.routing import RouteTable


def table() -> RouteTable:
    t = RouteTable()
    spec = {"paths": {
        "/data/projects": {"get": {}, "post": {}},
        "/data/projects/open": {"get": {}},
        "/data/projects/{project_id}": {"get": {}, "put": {}, "delete": {}},
        "/data/projects/{project_id}/team": {"get": {}},
        "/data/{model}/open/stats": {"get": {}},
        "/healthz": {"get": {}},
    }}
    t.add_openapi(spec, "prod", "production", exclude=["/healthz"])
    t.add("GET", "/", "index", "gateway")
    return t


def test_match_static_param_and_backtracking() -> None:
    t = table()
    assert set(t.match(b"/data/projects")) == {b"GET", b"POST"}
    assert set(t.match(b"/data/projects/")) == {b"GET", b"POST"}
    assert set(t.match(b"/data/projects/open")) == {b"GET"}
    assert set(t.match(b"/data/projects/123")) == {b"GET", b"PUT", b"DELETE"}
    assert t.match(b"/data/projects/123/team") is not None
    # "open" is static under /data/projects, yet /data/projects/open/stats must backtrack
    # to the {model} branch.
    assert t.match(b"/data/tasks/open/stats") is not None
    assert t.match(b"/data/projects/open/stats") is not None
    assert t.match(b"/") == {b"GET": "index"}
    assert t.match(b"/healthz") is None
    assert t.match(b"/data") is None
    assert t.match(b"/data/projects/1/2/3") is None
    assert t.match(b"/data/projects//team") is None


def test_first_owner_wins() -> None:
    t = table()
    conflicts = t.add_openapi({"paths": {"/data/projects": {"get": {}}}}, "other", "media")
    assert conflicts == [("GET", "/data/projects")]
    assert t.match(b"/data/projects")[b"GET"] == "prod"
