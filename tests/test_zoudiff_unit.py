"""The differential tool's own rules, without servers: shapes, comparisons, the
intentional-differences file (tools/zoudiff, docs/differential.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from zoudiff.plan import ROLE_PERSONS, body_symbols, load_routes, plan  # noqa: E402
from zoudiff.shape import compare, record  # noqa: E402
from zoudiff.side import Answer  # noqa: E402
from zoudiff.verdict import IntentionalFileError, judge, load_intentional  # noqa: E402

A = "11111111-1111-4111-8111-111111111111"
B = "22222222-2222-4222-8222-222222222222"
OTHER = "33333333-3333-4333-8333-333333333333"


def rec(body: object, symbols: dict[str, str], status: int = 200) -> dict:
    return record(Answer(status, "application/json", json.dumps(body).encode(), 0.0), symbols)


def test_ids_compare_by_the_seeded_thing_they_name() -> None:
    zou = rec({"id": A, "project_id": A, "phone": None}, {A: "project"})
    same = rec({"id": B, "project_id": B, "phone": None}, {B: "project"})
    assert compare(zou, same) == []
    wrong = rec({"id": B, "project_id": OTHER, "phone": None}, {B: "project", OTHER: "shot"})
    assert [str(d) for d in compare(zou, wrong)] == ["ref $.project_id zou=@project slate=@shot"]


def test_null_empty_and_missing_keys_are_differences() -> None:
    zou = rec({"phone": None, "desktop_login": None}, {})
    slate = rec({"phone": ""}, {})
    assert {str(d) for d in compare(zou, slate)} == {
        "type $.phone zou=null slate=empty", "missing-key $.desktop_login zou=null"}


def test_lists_count_only_seeded_things() -> None:
    zou = rec([{"id": A}, {"id": OTHER}], {A: "task"})  # OTHER: someone else's, on the shared oracle
    slate = rec([{"id": B}], {B: "task"})
    assert compare(zou, slate) == []
    assert [d.kind for d in compare(zou, rec([], {}))] == ["missing-items"]


def test_a_2xx_where_zou_refuses_is_allows_more_and_never_excused(tmp_path: Path) -> None:
    zou = rec({"error": True}, {}, status=403)
    slate = rec([], {}, status=200)
    res = judge("GET /data/x", "production", "vendor", zou, slate, load_intentional(), {}, strict=True)
    assert res.allows_more and res.new
    bad = tmp_path / "bad.toml"
    bad.write_text('[[difference]]\nroute = "GET /data/x"\nkind = "allows-*"\nreason = "no"\n')
    with pytest.raises(IntentionalFileError):
        load_intentional(bad)


def test_a_failure_of_the_tool_is_its_own_difference_not_a_verdict_on_the_server() -> None:
    zou = rec({"error": True}, {}, status=400)
    broken = {"status": 0, "ctype": "", "kind": "tool-error", "error": "RuntimeError('dictionary changed')"}
    assert [(d.kind, d.zou) for d in compare(zou, broken)] == [("tool-error", "slate")]
    res = judge("PUT /data/x", "production", "vendor", zou, broken, load_intentional(), {}, strict=True)
    assert res.new and not res.allows_more


def test_refusing_more_can_be_intentional(tmp_path: Path) -> None:
    f = tmp_path / "ok.toml"
    f.write_text('[[difference]]\nroute = "GET /data/x"\nkind = "refuses-more"\nreason = "stricter"\n')
    res = judge("GET /data/x", "production", "client", rec([], {}), rec({"error": True}, {}, 403),
                load_intentional(f), {})
    assert res.accepted and res.intentional and not res.new


def test_the_repo_intentional_file_loads() -> None:
    assert all(i.reason for i in load_intentional())


def test_the_other_column_never_assigns_a_role_s_own_person() -> None:
    """Zou adds an assignee to the project's team: an ``@other`` call assigning the artist
    would put ``artist@other`` in ``project:other``'s team for the rest of the run, at a
    moment that differs between runs and sides. Every assignment there names a fresh person."""
    routes = [r for r in load_routes() if r.path.endswith("/assign")]
    assert {r.key for r in routes} >= {"PUT /actions/tasks/{task_id}/assign", "PUT /actions/persons/{person_id}/assign"}
    calls = [c for c in plan(routes) if c.other]
    assert calls
    for call in calls:
        named = [v for k, v in call.params.items() if k not in call.fresh] + body_symbols(call.body.get("json"))
        assert not ROLE_PERSONS & set(named), call.key
