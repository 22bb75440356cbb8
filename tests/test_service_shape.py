"""The shape of the code that tests cannot see by behaviour (issue 14, ``docs/contributing.md``).

Domain functions take keyword arguments after their first parameter (the session, or
what the function works on: ``def set_departments(session, *, person_id, ids)``), so a
call reads as what it does and a new parameter cannot shift the others. The check walks
the ``domain/`` package of every service and, in ``libs/common``, every public function
or method whose first parameter is the session. It reads the source (``ast``): nothing
is imported, nothing is started.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]



def _positional_after_first(fn: ast.FunctionDef | ast.AsyncFunctionDef, *, method: bool) -> list[str]:
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    return params[(2 if method else 1):]


def _public_functions(path: Path) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """(qualified name in its module, the definition, is a method) of every public
    module-level function and public method of a public class."""
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, node, False
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_"):
                    yield f"{node.name}.{item.name}", item, True


def _domain_modules() -> Iterator[tuple[str, str, Path]]:
    """(service, module name inside domain/, path) of every domain module."""
    for domain in sorted(ROOT.glob("services/*/src/*/domain")):
        for path in sorted(domain.rglob("*.py")):
            yield domain.parents[2].name, ".".join(path.relative_to(domain).with_suffix("").parts), path


def domain_positional() -> dict[str, list[str]]:
    """``{service: ["module.function", ...]}`` for the domain functions that take
    positional parameters after the first."""
    found: dict[str, list[str]] = {}
    for service, module, path in _domain_modules():
        for name, fn, method in _public_functions(path):
            if not method and _positional_after_first(fn, method=False):
                found.setdefault(service, []).append(f"{module}.{name}")
    return found


def common_positional() -> list[str]:
    """libs/common's public functions and methods whose first parameter is ``session``
    and that take other positional parameters."""
    src = ROOT / "libs" / "common" / "src" / "slate_common"
    out = []
    for path in sorted(src.rglob("*.py")):
        module = ".".join(path.relative_to(src).with_suffix("").parts)
        for name, fn, method in _public_functions(path):
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args][(1 if method else 0):]
            if params[:1] == ["session"] and len(params) > 1:
                out.append(f"{module}.{name}")
    return out


def test_every_service_domain_is_walked() -> None:
    """The walk finds the modules (a glob that matched nothing would pass the check).
    planning and import-export have no domain/ yet: theirs is walked as it lands."""
    walked = Counter(service for service, _, _ in _domain_modules())
    assert walked["auth"] >= 10 and walked["media"] >= 4 and walked["production"] >= 20, walked


def test_domain_functions_take_keywords_after_the_first_parameter() -> None:
    found = domain_positional()
    assert found == {}, "take keyword arguments after the first parameter (def f(session, *, a, b)): " + repr(found)


def test_common_functions_take_keywords_after_the_session() -> None:
    found = common_positional()
    assert found == [], "take keyword arguments after the session (def f(session, *, a, b)): " + repr(found)


def test_the_check_sees_a_positional_function(tmp_path: Path) -> None:
    """The walker itself: a positional parameter after the first is found, a keyword-only
    one, a private function and a one-parameter function are not."""
    path = tmp_path / "m.py"
    path.write_text("def a(session, b): ...\nasync def c(session, *, d): ...\ndef _e(s, f): ...\n"
                    "def g(session): ...\nclass H:\n    async def i(self, session, j): ...\n")
    names = {name: _positional_after_first(fn, method=method) for name, fn, method in _public_functions(path)}
    assert names == {"a": ["b"], "c": [], "g": [], "H.i": ["j"]}
