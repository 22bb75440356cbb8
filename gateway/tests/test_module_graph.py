"""The gateway's modules import each other without a cycle, stay free of libs/common, and
read the environment only through their settings (config.py)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "slate_gateway"


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(gateway modules imported, at any depth of the file; other top-level packages)."""
    own, other = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                own.add(node.module.split(".")[0] if node.module else "__init__")
            elif node.module:
                top, _, rest = node.module.partition(".")
                (own.add(rest.split(".")[0]) if top == "slate_gateway" and rest else other.add(top))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top, _, rest = alias.name.partition(".")
                (own.add(rest.split(".")[0]) if top == "slate_gateway" and rest else other.add(top))
    return own - {path.stem}, other


def test_no_import_cycle_and_no_slate_common() -> None:
    graph: dict[str, set[str]] = {}
    for path in SRC.glob("*.py"):
        own, other = _imports(path)
        graph[path.stem] = own
        assert "slate_common" not in other, f"{path.name} imports slate_common"
    assert {"server", "local", "discovery", "config"} <= graph.keys()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, set()) - seen:
            if nxt == goal or reaches(nxt, goal, seen | {nxt}):
                return True
        return False

    cycles = sorted(mod for mod in graph if reaches(mod, mod, set()))
    assert cycles == []
    assert "server" not in graph["local"] | graph["discovery"]


def test_only_config_reads_the_environment() -> None:
    readers = sorted(path.name for path in SRC.glob("*.py")
                     if "environ" in path.read_text() or "getenv" in path.read_text())
    assert readers == ["config.py"]
