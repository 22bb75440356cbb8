"""Write the response schemas every service's OpenAPI documents, derived from the answers of
Zou 1.0.97 the differential tool recorded (``tools/zoudiff/fixtures``: shapes only — keys
and the type of each value, no text), less the places where Slate is known to differ
(``known_gaps.json``, ``intentional.toml``).

    .venv/bin/python tools/gen_response_schemas.py           # write
    .venv/bin/python tools/gen_response_schemas.py --check   # fail if out of date

Output: ``libs/common/src/slate_common/openapi_responses.json``, ``{"METHOD /path/{}":
{status: schema, null (not JSON) or "error" (a refusal of the route's own: 405...)}}``
(the path with its parameters unnamed); ``slate_common.openapi``
applies it when each service's document is built. For each route, every 2xx/3xx status
observed for any role is documented; for a JSON answer, the schema is the union (``anyOf``)
of the shapes observed with that status:

- an object: its keys, each required, each typed; keys that are ids (a mapping by id) are
  free;
- a list: items of the shapes seen (a list seen empty: any items);
- a scalar: its JSON type, or null (a value seen filled may be empty in another
  production); a value seen null: any type;
- where a known gap or an intentional difference says Slate differs (a ``type`` at a place:
  any value there; a ``missing-key``: not required), the schema says so.

Design and alternatives: docs/decisions.md ("Response schemas from observed answers").
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from zoudiff.shape import load_fixture  # noqa: E402
from zoudiff.verdict import FIXTURE, KNOWN_GAPS  # noqa: E402

OUT = ROOT / "libs" / "common" / "src" / "slate_common" / "openapi_responses.json"
INTENTIONAL = ROOT / "tools" / "zoudiff" / "intentional.toml"
PARAM = re.compile(r"\{[^}/]+\}")
#: Routes whose answer is a document of its own, not data.
SKIP = ("GET /openapi.json", "GET /openapi-raw.json")
#: Refusals every route documents (slate_common.openapi.COMMON_ERRORS).
COMMON_ERRORS = frozenset({"400", "401", "403", "404", "422", "503"})
STRING_LABELS = frozenset({"str", "empty", "datetime", "datetime+tz", "date", "uuid", "ref"})
SCALAR_TYPES = {"bool": "boolean", "int": "integer", "float": "number"}


def template(method: str, path: str) -> str:
    """``GET /data/projects/{}``: a route whatever its parameters are named."""
    return f"{method} {PARAM.sub('{}', path)}"


class Relaxed:
    """The places of one route where Slate may differ from the observed shape."""

    def __init__(self, signatures: list[tuple[str, str]]) -> None:
        self.any_value = [where for kind, where in signatures if kind in ("type", "ref", "list-kind")]
        self.optional = [where for kind, where in signatures if kind == "missing-key"]
        self.items = [where for kind, where in signatures
                      if kind in ("missing-items", "extra-items", "length", "list-kind")]

    @staticmethod
    def _hit(patterns: list[str], where: str) -> bool:
        return any(fnmatch.fnmatchcase(where, p) for p in patterns)

    def anything(self, where: str) -> bool:
        return self._hit(self.any_value, where)

    def optional_key(self, where: str) -> bool:
        return self._hit(self.optional, where)


def schema_of(shape: Any, where: str, relaxed: Relaxed) -> dict[str, Any]:
    """The JSON schema of a recorded shape at ``where`` (the differential tool's places:
    ``$``, ``.key``, ``[@symbol]`` for a seeded item, ``[]`` for any item)."""
    if relaxed.anything(where):
        return {}
    if isinstance(shape, str):
        if shape == "null" or shape in ("object", "list"):  # null, or a level cut by the recorder
            return {}
        if shape in SCALAR_TYPES:
            return {"type": [SCALAR_TYPES[shape], "null"]}
        if shape in STRING_LABELS or shape.startswith(("@", "=")):
            return {"type": ["string", "null"]}
        return {}
    if not isinstance(shape, dict):
        return {}
    if "{}" in shape:
        properties: dict[str, Any] = {}
        required = []
        for key, value in shape["{}"].items():
            if key.startswith("@"):  # keyed by id: any key
                continue
            properties[key] = schema_of(value, f"{where}.{key}", relaxed)
            if not relaxed.optional_key(f"{where}.{key}"):
                required.append(key)
        out: dict[str, Any] = {"type": ["object", "null"], "properties": properties}
        if required:
            out["required"] = sorted(required)
        return out
    inner = shape.get("[]") or {}
    alternatives: list[dict[str, Any]] = []
    if "known" in inner:
        for symbol, item in sorted(inner["known"].items()):
            alternatives.append(schema_of(item, f"{where}[{symbol}]", relaxed))
        if inner.get("other") and not inner["known"]:
            alternatives.append({"type": "string"} if inner["other"] == ["uuid"] else {"type": "object"})
    else:
        for item in inner.get("item") or []:
            alternatives.append(schema_of(item, f"{where}[]", relaxed))
    return {"type": ["array", "null"], "items": union(alternatives)}


def union(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    distinct: list[dict[str, Any]] = []
    for s in schemas:
        if s == {}:
            return {}
        if s not in distinct:
            distinct.append(s)
    if not distinct:
        return {}
    return distinct[0] if len(distinct) == 1 else {"anyOf": distinct}


def known_gaps() -> tuple[dict[str, list[tuple[str, str]]], dict[str, set[str]]]:
    """Route template -> (difference kind, place pattern) where Slate is known to differ;
    route template -> the success statuses Slate answers instead of Zou's."""
    places: dict[str, list[tuple[str, str]]] = {}
    statuses: dict[str, set[str]] = {}
    gaps = json.loads(KNOWN_GAPS.read_text()).get("gaps", {}) if KNOWN_GAPS.exists() else {}
    for key, signatures in gaps.items():
        method, path = key.split(" | ")[0].split(" ", 1)
        route = template(method, path)
        for signature in signatures:
            kind, _, rest = signature.partition(" ")
            where = rest.split(" ")[0] if rest.startswith("$") else ""
            places.setdefault(route, []).append((kind, glob.escape(where) if where else "$*"))
            slate = re.search(r"slate=([23]\d\d)\b", rest)
            if kind == "status" and slate:
                statuses.setdefault(route, set()).add(slate.group(1))
    for entry in tomllib.loads(INTENTIONAL.read_text()).get("difference", []):
        kinds = entry["kind"] if isinstance(entry["kind"], list) else [entry["kind"]]
        for kind in kinds:
            places.setdefault("intentional " + entry["route"], []).append((kind, entry.get("where", "$*")))
    return places, statuses


def build() -> dict[str, dict[str, Any]]:
    records = load_fixture(FIXTURE)
    places, slate_statuses = known_gaps()
    intentional = {k.split(" ", 1)[1]: v for k, v in places.items() if k.startswith("intentional ")}
    observed: dict[str, dict[str, list[Any]]] = {}
    relaxed: dict[str, list[tuple[str, str]]] = {}
    for key, record in sorted(records.items()):
        route = key.split(" | ")[0]
        status = int(record.get("status") or 0)
        if route in SKIP or not 200 <= status < 500:
            continue
        method, path = route.split(" ", 1)
        name = template(method, path)
        observed.setdefault(name, {}).setdefault(str(status), []).append(
            record.get("shape") if record.get("kind") == "json" else None)
        if name not in relaxed:
            relaxed[name] = list(places.get(name, []))
            for pattern, entries in intentional.items():
                if fnmatch.fnmatchcase(route, pattern):
                    relaxed[name] += entries
    out: dict[str, dict[str, Any]] = {}
    for route, statuses in sorted(observed.items()):
        rules = Relaxed(relaxed[route])
        out[route] = {}
        for status, shapes in sorted(statuses.items()):
            if int(status) >= 400:
                if status not in COMMON_ERRORS:
                    out[route][status] = "error"  # documented with Zou's error body
                continue
            json_shapes = [s for s in shapes if s is not None]
            if len(json_shapes) < len(shapes):  # some role got a body that is not JSON
                out[route][status] = None
            else:
                out[route][status] = union([schema_of(s, "$", rules) for s in json_shapes])
        for status in sorted(slate_statuses.get(route, set()) - set(statuses)):
            out[route][status] = {}  # Slate's status where it differs (a known gap): its body as is
        if not out[route]:
            del out[route]
    return out


def render() -> str:
    return json.dumps(build(), sort_keys=True, separators=(",", ":")) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is not what the fixture gives")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run tools/gen_response_schemas.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(json.loads(text))} routes, {len(text) // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
