"""Judging differences: the intentional-differences file, the known-gaps list, the report.

- ``intentional.toml``: differences Slate keeps on purpose, each with its reason. An entry
  may excuse a refusal Zou does not make (403/404 where Zou says 200), never an
  ``allows-more`` (2xx where Zou refuses): such an entry is an error when the file loads,
  and an ``allows-more`` is reported as a failure whatever the files say.
- ``known_gaps.json``: the differences of today, to fix (issue 13 part 2), per call; written
  by ``zoudiff baseline``. The CI test prints them and fails only on a difference that is in
  neither file: a call recorded as identical that now differs, or a new difference. The
  ``allows-more`` never passes as a known gap (strict, the default since none is left,
  2026-12-07); ``ZOUDIFF_STRICT=0`` lets a listed one pass again while it is being fixed.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .shape import ALLOWS_MORE, Diff, compare, own_view
from .side import base_role

HERE = Path(__file__).resolve().parent
INTENTIONAL = HERE / "intentional.toml"
KNOWN_GAPS = HERE / "known_gaps.json"
FIXTURE = HERE / "fixtures" / "zou-1.0.97.json"


class IntentionalFileError(ValueError):
    """The intentional-differences file tries to excuse what it may not."""


@dataclass(frozen=True)
class Intentional:
    route: str
    kind: str
    reason: str
    roles: tuple[str, ...] = ("*",)
    where: str = "*"

    def covers(self, route: str, role: str, diff: Diff) -> bool:
        if diff.kind == ALLOWS_MORE:
            return False
        return (
            fnmatch.fnmatchcase(route, self.route)
            and any(fnmatch.fnmatchcase(role, r) or fnmatch.fnmatchcase(base_role(role), r) for r in self.roles)
            and fnmatch.fnmatchcase(diff.kind, self.kind)
            and fnmatch.fnmatchcase(diff.where, self.where)
        )


def load_intentional(path: Path = INTENTIONAL) -> list[Intentional]:
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text())
    out = []
    for n, entry in enumerate(data.get("difference", []), 1):
        if not entry.get("reason"):
            raise IntentionalFileError(f"{path.name} entry {n}: every intentional difference needs a reason")
        kinds = entry.get("kind", "")
        for kind in [kinds] if isinstance(kinds, str) else kinds:
            if fnmatch.fnmatchcase(ALLOWS_MORE, kind):
                raise IntentionalFileError(
                    f"{path.name} entry {n} ({entry.get('route')}): an intentional difference may refuse more "
                    "than Zou, never allow more (kind must not match allows-more)")
            out.append(Intentional(entry["route"], kind, entry["reason"], tuple(entry.get("roles", ["*"])),
                                   entry.get("where", "*")))
    return out


def load_known_gaps(path: Path = KNOWN_GAPS) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get("gaps", {}))


@functools.cache
def load_unstable(path: Path = KNOWN_GAPS) -> dict[str, str]:
    """Routes whose answers on Slate change from run to run (route -> why): their
    differences are printed as gaps, never as regressions; allows-more still counts."""
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get("unstable", {}))


@dataclass
class CallResult:
    key: str  # "GET /data/projects | artist"
    route: str
    service: str
    role: str
    zou: dict[str, Any]
    slate: dict[str, Any]
    diffs: list[Diff] = field(default_factory=list)
    intentional: list[Diff] = field(default_factory=list)
    known: list[Diff] = field(default_factory=list)
    new: list[Diff] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.diffs

    @property
    def accepted(self) -> bool:
        """Identical, or only intentional differences."""
        return not self.known and not self.new

    @property
    def allows_more(self) -> bool:
        return any(d.kind == ALLOWS_MORE for d in self.diffs)


def judge(route: str, service: str, role: str, zou: dict[str, Any], slate: dict[str, Any],
          intentional: list[Intentional], known: dict[str, list[str]], strict: bool | None = None) -> CallResult:
    """Sort each difference: intentional (with its reason), a known gap, or new.

    ``allows-more`` is never intentional, and with ``strict`` (the default;
    ``ZOUDIFF_STRICT=0`` turns it off) never a known gap either: every one is a failure."""
    if strict is None:
        strict = os.environ.get("ZOUDIFF_STRICT", "1") not in ("", "0")
    key = f"{route} | {role}"
    if "shape" in zou:
        zou = zou | {"shape": own_view(zou["shape"], key)}
    if "shape" in slate:
        slate = slate | {"shape": own_view(slate["shape"], key)}
    res = CallResult(key, route, service, role, zou, slate, compare(zou, slate))
    gaps = set(known.get(key, []))
    unstable = route in load_unstable()
    for d in res.diffs:
        if any(i.covers(route, role, d) for i in intentional):
            res.intentional.append(d)
        elif (str(d) in gaps or (unstable and d.kind != ALLOWS_MORE)) and (d.kind != ALLOWS_MORE or not strict):
            res.known.append(d)
        else:
            res.new.append(d)
    return res


# -- reporting ------------------------------------------------------------------------------
def summarize(results: list[CallResult]) -> dict[str, Any]:
    by_route: dict[str, list[CallResult]] = defaultdict(list)
    for r in results:
        by_route[r.route].append(r)
    services: dict[str, Counter[str]] = defaultdict(Counter)
    for _route, rs in by_route.items():
        svc = rs[0].service
        if all(r.identical for r in rs):
            services[svc]["identical"] += 1
        elif all(r.accepted for r in rs):
            services[svc]["intentional"] += 1
        else:
            services[svc]["differing"] += 1
    kinds: Counter[str] = Counter()
    for r in results:
        for d in set(x.kind for x in r.diffs):
            kinds[d] += 1
    places: Counter[str] = Counter()
    for r in results:
        for d in r.diffs:
            places[f"{d.kind} {d.where} {d.zou}->{d.slate}".strip()] += 1
    calls = Counter("identical" if r.identical else "accepted" if r.accepted else "differing" for r in results)
    return {
        "routes": len(by_route),
        "identical_routes": sum(c["identical"] for c in services.values()),
        "calls": dict(calls),
        "services": {k: dict(v) for k, v in sorted(services.items())},
        "diff_kinds": dict(kinds.most_common()),
        "top_differences": places.most_common(25),
        "allows_more": sorted(r.key for r in results if r.allows_more),
    }


def report(results: list[CallResult], verbose: bool = True) -> str:
    lines: list[str] = []
    by_route: dict[str, list[CallResult]] = defaultdict(list)
    for r in results:
        by_route[r.route].append(r)
    if verbose:
        for route, rs in sorted(by_route.items(), key=lambda kv: (kv[1][0].service, kv[0])):
            if all(r.identical for r in rs):
                continue
            lines.append(f"[{rs[0].service}] {route}")
            for r in rs:
                if r.identical:
                    continue
                tag = "NEW " if r.new else "gap " if r.known else "ok  "
                shown = "; ".join(str(d) for d in r.diffs[:6]) + (f"; ... {len(r.diffs) - 6} more" if len(r.diffs) > 6 else "")
                lines.append(f"    {tag}{r.role:10} {shown}")
    s = summarize(results)
    lines.append("")
    lines.append("per service (routes):")
    for svc, c in s["services"].items():
        lines.append(f"  {svc:14} identical {c.get('identical', 0):4}  intentional-only {c.get('intentional', 0):3}  "
                     f"differing {c.get('differing', 0):4}")
    lines.append("difference kinds (calls having one): " + ", ".join(f"{k} {v}" for k, v in s["diff_kinds"].items()))
    lines.append("top differences:")
    for text, n in s["top_differences"][:15]:
        lines.append(f"  {n:5}  {text}")
    if s["allows_more"]:
        lines.append(f"ALLOWS MORE THAN ZOU ({len(s['allows_more'])} calls):")
        lines.extend(f"  {k}" for k in s["allows_more"])
    lines.append(f"identical routes: {s['identical_routes']}/{s['routes']} "
                 f"(calls: {', '.join(f'{k} {v}' for k, v in sorted(s['calls'].items()))})")
    return "\n".join(lines)
