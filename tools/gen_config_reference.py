"""Write the configuration reference of docs/operations.md from the settings the code reads.

    python tools/gen_config_reference.py           # rewrite the section in docs/operations.md
    python tools/gen_config_reference.py --check   # exit 1 if it is out of date

Sources: the pydantic settings classes (``SharedSettings``, ``BaseServiceSettings`` and
each service's ``Settings``: names, types, defaults, and the ``#:`` comments above each
field), and the environment look-ups of the gateway and of the embedded stack, which
read ``os.environ`` directly (found in their source: ``env.get("SLATE_...")``).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import io
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "operations.md"
BEGIN = "<!-- BEGIN GENERATED CONFIGURATION (tools/gen_config_reference.py) -->"
END = "<!-- END GENERATED CONFIGURATION -->"

#: service -> its settings class.
SERVICE_SETTINGS = {
    "auth": "slate_auth.config:AuthSettings",
    "production": "slate_production.config:ProductionSettings",
    "media": "slate_media.config:MediaSettings",
    "import-export": "slate_import_export.config:ImportExportSettings",
    "planning": "slate_planning.config:PlanningSettings",
}
#: Read with os.environ by code that has no settings class.
SCANNED = {
    "Gateway (`python -m slate_gateway serve`)": ROOT / "gateway" / "src" / "slate_gateway",
    "Embedded stack (`slate up`, `make up`)": ROOT / "libs" / "common" / "src" / "slate_common" / "stack",
}


@dataclass(frozen=True)
class Row:
    names: tuple[str, ...]
    type: str
    default: str
    doc: str


def _load(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def field_comments(cls: type) -> dict[str, str]:
    """``name -> text`` of the ``#:`` lines above each field of ``cls`` (and its bases'),
    or of a trailing ``# ...`` comment on the field's line."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith(("pydantic", "builtins", "typing")):
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        pending: list[str] = []
        for line in source.splitlines():
            stripped = line.strip()
            if stripped.startswith("#:"):
                pending.append(stripped[2:].strip())
                continue
            name = stripped.split(":", 1)[0].strip()
            if ":" in stripped and name.isidentifier() and not stripped.startswith(("def ", "class ", "return")):
                trailing = _trailing_comment(line)
                text = " ".join(pending) or trailing
                if text:
                    out[name] = text
            pending = [] if not stripped.startswith("#") else pending
    return out


def _trailing_comment(line: str) -> str:
    comments = []
    try:  # a line that opens a bracket ends in a TokenError, after its comment
        for token in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline):
            if token.type == tokenize.COMMENT:
                comments.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return comments[-1].lstrip("# ").strip() if comments else ""


def _type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not getattr(annotation, "__args__", None) else None
    return text or str(annotation).replace("typing.", "").replace("pathlib.", "")


def _default(value: Any) -> str:
    if value is None:
        return ""
    return f"`{value}`" if str(value) != "" else '`""`'


def env_names(cls: type, field_name: str, field: Any, prefix: str) -> tuple[str, ...]:
    from pydantic import AliasChoices

    alias = field.validation_alias or field.alias
    if isinstance(alias, AliasChoices):
        return tuple(str(c) for c in alias.choices)
    if isinstance(alias, str):
        return (alias,)
    return (prefix + field_name.upper(),)


def settings_rows(cls: type, prefix: str, *, skip: frozenset[str] = frozenset(),
                  defaults: dict[str, str] | None = None) -> list[Row]:
    comments = field_comments(cls)
    rows = []
    for name, field in cls.model_fields.items():  # type: ignore[attr-defined]
        if name in skip:
            continue
        default = (defaults or {}).get(name) or _default(field.get_default(call_default_factory=True))
        rows.append(Row(env_names(cls, name, field, prefix), _type(field.annotation), default, comments.get(name, "")))
    return rows


def scanned_rows(package: Path) -> list[Row]:
    """``env.get("SLATE_X", default)``, ``os.environ.get(...)`` and helper calls such as
    ``_env_bool("SLATE_X", default)`` in a package's source."""
    found: dict[str, Row] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text())
        lines = path.read_text().splitlines()
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and (
                    (isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "getenv"))
                    or isinstance(node.func, ast.Name))):  # helpers such as _env_bool("SLATE_X", True)
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)
                    and first.value.startswith("SLATE_")):
                continue
            default = ""
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                default = _default(node.args[1].value)
            comment = _trailing_comment(lines[node.lineno - 1])
            if first.value not in found or (default and not found[first.value].default):
                found[first.value] = Row((first.value,), "str", default, comment)
    return [found[k] for k in sorted(found)]


def sections() -> list[tuple[str, str, list[Row]]]:
    from slate_common.config import DEFAULT_PORTS, SERVICES, BaseServiceSettings, SharedSettings

    from slate_gateway.config import DEFAULT_UPSTREAMS

    out: list[tuple[str, str, list[Row]]] = [
        ("Every process", "Read by every service, worker and `slate migrate` (`SharedSettings`).",
         settings_rows(SharedSettings, "SLATE_")),
        ("Every service", "Each service reads these under its own prefix: replace `<SERVICE>` by `AUTH`, "
         "`PRODUCTION`, `MEDIA`, `IMPORT_EXPORT` or `PLANNING` (`BaseServiceSettings`).",
         settings_rows(BaseServiceSettings, "SLATE_<SERVICE>_",
                       defaults={"port": ", ".join(f"{s} `{DEFAULT_PORTS[s]}`" for s in SERVICES),
                                 "database_url": "`<SLATE_POSTGRES_URL>/slate_<service>`"})),
    ]
    base_fields = frozenset(BaseServiceSettings.model_fields)
    for service, spec in SERVICE_SETTINGS.items():
        cls = _load(spec)
        prefix = "SLATE_" + service.upper().replace("-", "_") + "_"
        rows = settings_rows(cls, prefix, skip=base_fields)
        if rows:
            out.append((f"{service}", f"`{spec.replace(':', '.')}`", rows))
    for title, package in SCANNED.items():
        rows = scanned_rows(package)
        if "Gateway" in title:
            rows += [Row((f"SLATE_{s.upper().replace('-', '_')}_URL",), "str", _default(url),
                         f"where the gateway reaches {s} (`off` leaves it out)")
                     for s, url in DEFAULT_UPSTREAMS.items()]
            rows.sort(key=lambda r: r.names)
        out.append((title, "Read from the environment directly.", rows))
    return out


def all_env_names() -> set[str]:
    from slate_common.config import SERVICES

    names: set[str] = set()
    for _, _, rows in sections():
        for row in rows:
            for name in row.names:
                if "<SERVICE>" in name:
                    names |= {name.replace("<SERVICE>", s.upper().replace("-", "_")) for s in SERVICES}
                else:
                    names.add(name)
    return names


def render() -> str:
    parts = [BEGIN, ""]
    for title, intro, rows in sections():
        parts += [f"#### {title}", "", intro, "", "| variable | type | default | what |", "|---|---|---|---|"]
        for row in rows:
            names = "<br>".join(f"`{n}`" for n in row.names)
            doc = row.doc.replace("|", "\\|")
            parts.append(f"| {names} | {row.type.replace('|', 'or')} | {row.default.replace('|', 'or')} | {doc} |")
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def updated(doc: str) -> str:
    start, end = doc.index(BEGIN), doc.index(END) + len(END)
    return doc[:start] + render() + doc[end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    doc = DOC.read_text()
    new = updated(doc)
    if args.check:
        if new != doc:
            print("docs/operations.md: the configuration reference is out of date; run tools/gen_config_reference.py",
                  file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
