"""Generate the public routing for a Gateway API edge proxy from ``routes.tsv`` ownership.

    python tools/gen_routing.py            # rewrite deploy/k8s/overlays/gateway-api/httproutes.yaml
    python tools/gen_routing.py --check    # exit 1 if the committed file is out of date

Every public route template goes straight to the service that owns it (the ``service``
column of ``tests/e2e/routes.tsv``, a copy of the reference), at the root and under
``/api``; everything else (the gateway's own routes, the realtime socket, trailing-slash
variants, paths no service knows) goes to the Slate gateway, the default backend, which
routes it as it always does. A request that reaches the gateway instead of its owner is
still answered correctly, one hop later; a request never reaches a wrong owner.

The rules are made so that their meaning does not depend on the precedence an
implementation gives to regular expressions, which the Gateway API leaves to each:

- a literal prefix of one or two segments under which every template that could match
  belongs to one service (``/auth``, ``/pictures``, ``/data/playlists``...) is a
  ``PathPrefix`` match (plus its ``/api`` form);
- a literal template that a parameter template of another owner would also match
  (``/data/persons/task-dates`` beside auth's ``/data/persons/{instance_id}``) is an
  ``Exact`` match, which every implementation ranks first;
- every other template is one anchored ``RegularExpression`` (RE2 syntax, ``[^/]+``
  for a parameter), and no two owners' expressions match the same concrete path apart
  from those literals;
- the default backend is ``PathPrefix /`` (the shortest prefix, ranked last among
  prefixes). Implementations that rank every prefix above every regular expression
  (Istio) would then send the regular-expression templates to the gateway: generate with
  ``--default-match RegularExpression`` for them, so the default is the shortest
  expression ``/.*`` and ranks last among expressions.

Services accept the ``/api`` prefix themselves (slate_common.app strips it, as the
gateway does), so no rewrite filter is needed. Each expression stays within RE2 program
size 100, Envoy's default limit (``re2.max_program_size.error_level``); an HTTPRoute holds
at most 16 rules of at most 64 matches and 128 matches in all (the CRD's limits).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ROUTES_TSV = ROOT / "tests" / "e2e" / "routes.tsv"
OUT = ROOT / "deploy" / "k8s" / "overlays" / "gateway-api" / "httproutes.yaml"

#: owner -> (Service name, port): the Services of deploy/k8s/base.
BACKENDS: dict[str, tuple[str, int]] = {
    "gateway": ("slate-gateway", 8080),
    "auth": ("slate-auth", 8101),
    "production": ("slate-production", 8102),
    "media": ("slate-media", 8103),
    "import-export": ("slate-import-export", 8104),
    "planning": ("slate-planning", 8105),
}
#: HTTPRoute request timeouts: multi-gigabyte uploads (media) and imports take long; the
#: default route carries the realtime socket, whose stream must not time out ("0s": none).
TIMEOUTS: dict[str, str] = {"media": "1h", "import-export": "1h", "gateway": "0s"}
DEFAULT_TIMEOUT = "5m"
MAX_PROGRAM_SIZE = 100
MAX_MATCHES_PER_RULE = 64
MAX_MATCHES_PER_ROUTE = 128
PARENT = {"name": "slate", "sectionName": "https"}
_META = re.compile(r"([.+*?()\[\]{}|^$\\])")


@dataclass(frozen=True)
class Match:
    type: str  # Exact, PathPrefix, RegularExpression
    value: str
    owner: str


def load_owners(path: Path = ROUTES_TSV) -> dict[str, str]:
    """path template -> owner (one owner per path, whatever the method)."""
    owners: dict[str, str] = {}
    with path.open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            previous = owners.setdefault(row["path"], row["service"])
            if previous != row["service"]:
                raise SystemExit(f"{row['path']} has two owners: {previous}, {row['service']}")
    return owners


def segments(template: str) -> list[str]:
    return [s for s in template.split("/") if s]


def is_param(segment: str) -> bool:
    return "{" in segment


def segment_regex(segment: str) -> str:
    """``{id}.png`` -> ``[^/]+\\.png``; a literal segment is escaped."""
    parts = re.split(r"\{[^}]*\}", segment)
    return "[^/]+".join(_META.sub(r"\\\1", part) for part in parts)


def template_regex(template: str) -> str:
    return "/" + "/".join(segment_regex(s) for s in segments(template))


def program_size(regex: str) -> int:
    import re2  # google-re2: the RE2 Envoy and Istio use

    return int(re2.compile(regex).programsize)


def shadows(general: str, literal: str) -> bool:
    """Whether parameter template ``general`` matches the literal path ``literal``."""
    g, s = segments(general), segments(literal)
    return len(g) == len(s) and all(is_param(a) or a == b for a, b in zip(g, s))


def could_match_under(template: str, prefix: list[str]) -> bool:
    """Whether ``template`` matches some path under the literal ``prefix`` (the prefix
    itself included), as PathPrefix matching sees it (whole segments)."""
    t = segments(template)
    return len(t) >= len(prefix) and all(is_param(a) or a == b for a, b in zip(t, prefix))


def exclusive_prefixes(owners: dict[str, str], max_depth: int = 2) -> dict[tuple[str, ...], str]:
    """Literal prefixes (shortest first, up to ``max_depth`` segments) under which every
    template that could match a path belongs to one service: a PathPrefix match there
    cannot take a request of another owner, whatever the implementation's precedence."""
    found: dict[tuple[str, ...], str] = {}
    for depth in range(1, max_depth + 1):
        candidates = {tuple(segments(t)[:depth]) for t in owners if len(segments(t)) >= depth}
        for prefix in sorted(candidates):
            if any(is_param(s) for s in prefix) or any(prefix[:d] in found for d in range(1, depth)):
                continue
            reached = {owners[t] for t in owners if could_match_under(t, list(prefix))}
            if len(reached) == 1 and "gateway" not in reached:
                found[prefix] = next(iter(reached))
    return found


def build_matches(owners: dict[str, str]) -> list[Match]:
    for template in owners:
        if segments(template) and is_param(segments(template)[0]):
            raise SystemExit(f"{template}: a parameter first segment cannot be routed by prefix")
    prefixes = exclusive_prefixes(owners)
    matches: list[Match] = []
    for prefix, owner in sorted(prefixes.items()):
        path = "/" + "/".join(prefix)
        matches += [Match("PathPrefix", path, owner), Match("PathPrefix", "/api" + path, owner)]
    params = [t for t in owners if any(is_param(s) for s in segments(t))]
    for template in sorted(owners):
        owner = owners[template]
        segs = segments(template)
        if owner == "gateway" or any(tuple(segs[:d]) in prefixes for d in range(1, len(segs) + 1)):
            continue
        if not any(is_param(s) for s in segs) and any(owners[p] != owner and shadows(p, template) for p in params):
            matches += [Match("Exact", template, owner), Match("Exact", "/api" + template, owner)]
            continue
        regex = template_regex(template)
        both = "(/api)?" + regex
        if program_size(both) <= MAX_PROGRAM_SIZE:
            matches.append(Match("RegularExpression", both, owner))
        else:
            for one in (regex, "/api" + regex):
                if program_size(one) > MAX_PROGRAM_SIZE:
                    raise SystemExit(f"{template}: regular expression too large for Envoy's default limit")
                matches.append(Match("RegularExpression", one, owner))
    return matches


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def backend_ref(owner: str) -> dict[str, Any]:
    name, port = BACKENDS[owner]
    return {"name": name, "port": port}


def route(name: str, owner: str, matches: list[Match]) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "slate"}},
        "spec": {
            "parentRefs": [PARENT],
            "rules": [
                {
                    "matches": [{"path": {"type": m.type, "value": m.value}} for m in chunk],
                    "backendRefs": [backend_ref(owner)],
                    "timeouts": {"request": TIMEOUTS.get(owner, DEFAULT_TIMEOUT)},
                }
                for chunk in _chunks(matches, MAX_MATCHES_PER_RULE)
            ],
        },
    }


def build_routes(owners: dict[str, str], default_match: str = "PathPrefix") -> list[dict[str, Any]]:
    matches = build_matches(owners)
    by_owner: dict[str, list[Match]] = defaultdict(list)
    for m in matches:
        by_owner[m.owner].append(m)
    routes = []
    for owner in sorted(by_owner):
        for i, chunk in enumerate(_chunks(by_owner[owner], MAX_MATCHES_PER_ROUTE), start=1):
            routes.append(route(f"slate-{owner}-{i}", owner, chunk))
    default = Match(default_match, "/" if default_match == "PathPrefix" else "/.*", "gateway")
    routes.append(route("slate-default", "gateway", [default]))
    return routes


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(routes: list[dict[str, Any]], default_match: str) -> str:
    flag = "" if default_match == "PathPrefix" else f" --default-match {default_match}"
    head = (f"# Generated by tools/gen_routing.py{flag} from tests/e2e/routes.tsv: do not edit.\n"
            "# Each route template goes to its owner; everything else to the Slate gateway.\n")
    return head + "---\n".join(yaml.dump(r, Dumper=_Dumper, sort_keys=False, width=200) for r in routes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the output file is out of date")
    parser.add_argument("--default-match", choices=("PathPrefix", "RegularExpression"), default="PathPrefix")
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args()
    text = render(build_routes(load_owners(), args.default_match), args.default_match)
    if args.check:
        if not args.output.exists() or args.output.read_text() != text:
            print(f"{args.output} is out of date: run tools/gen_routing.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
