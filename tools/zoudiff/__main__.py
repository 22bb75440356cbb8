"""Command line: ``PYTHONPATH=tools .venv/bin/python -m zoudiff <mode>`` (docs/differential.md).

  live      seed both, call every route Slate serves on both, compare
  record    seed the oracle, call every route of routes.tsv, store the normalized answers
  replay    seed Slate, call what it serves, compare with the recorded fixture (CI)
  baseline  write known_gaps.json from the last results (the gaps to fix, printed by CI)
  report    judge a results file again with today's rules and lists
  matrix    the role x route status matrix of the fixture or of a results file (TSV)
  slate     boot a private Slate on free ports (until Ctrl-C)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from .modes import compare_all, new_tag, replay, run_side, slate_served, write_results
from .plan import Route, load_routes
from .shape import SHALLOW, load_fixture, pack, truncate
from .side import COLUMNS, Side
from .verdict import FIXTURE, KNOWN_GAPS, CallResult, judge, load_intentional, load_known_gaps, load_unstable, report

ZOU_VERSION = "1.0.97"
DEFAULT_RESULTS = Path("var/zoudiff-results.json")


def zou_side(args: argparse.Namespace) -> Side:
    return Side("zou", args.zou, *args.zou_admin.split(":", 1))


def slate_side(args: argparse.Namespace) -> Side:
    return Side("slate", args.slate, *args.slate_admin.split(":", 1))


def select(routes: list[Route], args: argparse.Namespace) -> list[Route]:
    if args.routes:
        pattern = re.compile(args.routes)
        routes = [r for r in routes if pattern.search(f"{r.method} {r.path}")]
    if args.service:
        routes = [r for r in routes if r.service in args.service.split(",")]
    return routes


def roles(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(args.roles.split(",")) if args.roles else COLUMNS


def finish(results: list[CallResult], args: argparse.Namespace, mode: str) -> int:
    print(report(results, verbose=not args.quiet))
    write_results(Path(args.out), results, mode)
    print(f"results: {args.out}")
    new = [r for r in results if r.new]
    if new:
        print(f"{len(new)} calls differ beyond intentional.toml and known_gaps.json")
    return 1 if new else 0


def cmd_live(args: argparse.Namespace) -> int:
    zou, slate = zou_side(args), slate_side(args)
    routes = select(slate_served(slate), args)
    role_list = roles(args)
    tag = new_tag()
    print(f"live: {len(routes)} served routes x {len(role_list)} roles, tag {tag}", flush=True)
    # the oracle first: its answers tell which of Slate's 404s on fresh targets to retry
    rz = run_side(zou, routes, role_list, tag)
    rs = run_side(slate, routes, role_list, tag, expected=rz.records)
    return finish(compare_all(routes, role_list, rz.records, rs.records), args, "live")


def cmd_record(args: argparse.Namespace) -> int:
    zou = zou_side(args)
    routes = select(load_routes(), args)
    role_list = roles(args)
    runner = run_side(zou, routes, role_list, new_tag())
    path = Path(args.fixture)
    old = load_fixture(path) if path.exists() and (args.routes or args.service or args.roles) else {}
    old.update(runner.records)
    write_fixture(path, old)
    print(f"recorded {len(runner.records)} calls into {path} ({len(old)} in all)")
    return 0


def write_fixture(path: Path, records: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"zou": ZOU_VERSION, "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            "roles": list(COLUMNS)} | pack(records)
    # one record per line: reviewable diffs when the fixture is refreshed
    lines = ["{"]
    for name in ("zou", "recorded_at", "roles"):
        lines.append(f"{json.dumps(name)}: {json.dumps(body[name])},")
    for name in ("shapes", "records"):
        items = list(body[name].items())
        lines.append(f"{json.dumps(name)}: {{")
        lines.extend(f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}{',' if i < len(items) - 1 else ''}"
                     for i, (k, v) in enumerate(items))
        lines.append("}," if name == "shapes" else "}")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def cmd_compact(args: argparse.Namespace) -> int:
    """Rewrite the fixture in the current format (shapes cut as recording now cuts them)."""
    records = load_fixture(args.fixture)
    for key, rec in records.items():
        route = key.rsplit(" | ", 1)[0]
        if "shape" in rec:
            rec["shape"] = truncate(rec["shape"], SHALLOW.get(route, 16))
    write_fixture(Path(args.fixture), records)
    print(f"{len(records)} records rewritten into {args.fixture}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    started = time.monotonic()
    results = replay(slate_side(args), Path(args.fixture), roles(args), lambda routes: select(routes, args))
    code = finish(results, args, "replay")
    print(f"replay took {time.monotonic() - started:.1f}s")
    return code


def cmd_baseline(args: argparse.Namespace) -> int:
    data = json.loads(Path(args.results).read_text())
    intentional = load_intentional()
    # --merge keeps the gaps already listed (a call that answers differently from run to
    # run, e.g. behind a lagging replica, is listed with each of its answers)
    gaps: dict[str, list[str]] = load_known_gaps() if args.merge else {}
    for key, call in sorted(data["calls"].items()):
        route, role = key.rsplit(" | ", 1)
        if call["zou"]["status"] in (0, 598, 599):
            continue
        res = judge(route, call["service"], role, call["zou"], call["slate"], intentional, {})
        left = [str(d) for d in res.new]
        if left:
            gaps[key] = sorted(set(gaps.get(key, [])) | set(left))
    KNOWN_GAPS.write_text(json.dumps({
        "about": "Known gaps to fix (issue 13 part 2): differences from Zou 1.0.97 seen on "
                 f"{time.strftime('%Y-%m-%d', time.gmtime())}. Not intentional: shrink this list, never grow it.",
        "unstable": load_unstable(),
        "gaps": gaps,
    }, indent=1, sort_keys=True) + "\n")
    print(f"{len(gaps)} calls with known gaps written to {KNOWN_GAPS}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Judge a results file again with today's rules and lists, print the report."""
    data = json.loads(Path(args.results).read_text())
    intentional, known = load_intentional(), load_known_gaps()
    results = []
    for key, call in sorted(data["calls"].items()):
        route, role = key.rsplit(" | ", 1)
        if call["zou"]["status"] not in (0, 598, 599):
            results.append(judge(route, call["service"], role, call["zou"], call["slate"], intentional, known))
    print(report(results, verbose=not args.quiet))
    return 1 if any(r.new for r in results) else 0


def cmd_matrix(args: argparse.Namespace) -> int:
    """The role x route status matrix (issue 17 part 3) as TSV: Zou's status, or
    ``zou/slate`` where they differ, ``!`` marking an allows-more."""
    if args.results:
        calls = json.loads(Path(args.results).read_text())["calls"]
        cells = {k: (v["zou"]["status"], v["slate"]["status"]) for k, v in calls.items()}
    else:
        records = load_fixture(args.fixture)
        cells = {k: (v["status"], None) for k, v in records.items()}
    rows: dict[str, dict[str, str]] = {}
    for key, (zou, slate) in cells.items():
        route, role = key.rsplit(" | ", 1)
        text = str(zou) if slate is None or slate == zou else f"{zou}/{slate}"
        if slate is not None and zou >= 400 and 0 < slate < 400:
            text += "!"
        rows.setdefault(route, {})[role] = text
    print("route\t" + "\t".join(COLUMNS))
    for route in sorted(rows):
        print(route + "\t" + "\t".join(rows[route].get(role, "") for role in COLUMNS))
    return 0


def cmd_slate(args: argparse.Namespace) -> int:
    from .slate import serve

    serve(Path(args.home).resolve(), Path(args.url_file) if args.url_file else None)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="zoudiff", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)

    def common(sp: argparse.ArgumentParser, zou: bool, slate: bool) -> None:
        if zou:
            sp.add_argument("--zou", default=os.environ.get("ZOU_URL", "http://127.0.0.1:58090"))
            sp.add_argument("--zou-admin", default=os.environ.get("ZOU_ADMIN", "admin@example.com:oracle-admin-pass"),
                            help="email:password")
        if slate:
            sp.add_argument("--slate", default=os.environ.get("SLATE_URL", "http://127.0.0.1:8080"))
            sp.add_argument("--slate-admin", help="email:password", default=os.environ.get(
                "SLATE_ADMIN", f"{os.environ.get('SLATE_ADMIN_EMAIL', 'admin@example.com')}:"
                               f"{os.environ.get('SLATE_ADMIN_PASSWORD', 'slate-admin-password')}"))
        sp.add_argument("--routes", help="regex on 'METHOD /path'")
        sp.add_argument("--service", help="comma-separated services")
        sp.add_argument("--roles", help=f"comma-separated, of {','.join(COLUMNS)}")
        sp.add_argument("--fixture", default=str(FIXTURE))
        sp.add_argument("--out", default=str(DEFAULT_RESULTS))
        sp.add_argument("--quiet", action="store_true", help="summary only")

    common(sub.add_parser("live"), zou=True, slate=True)
    common(sub.add_parser("record"), zou=True, slate=False)
    common(sub.add_parser("replay"), zou=False, slate=True)
    b = sub.add_parser("baseline")
    b.add_argument("--results", default=str(DEFAULT_RESULTS))
    b.add_argument("--merge", action="store_true", help="add to the listed gaps instead of replacing them")
    c = sub.add_parser("compact")
    c.add_argument("--fixture", default=str(FIXTURE))
    r = sub.add_parser("report")
    r.add_argument("--results", default=str(DEFAULT_RESULTS))
    r.add_argument("--quiet", action="store_true")
    m = sub.add_parser("matrix")
    m.add_argument("--results", help="a live/replay results file (default: the fixture, Zou only)")
    m.add_argument("--fixture", default=str(FIXTURE))
    s = sub.add_parser("slate")
    s.add_argument("--home", default="var/zoudiff-slate")
    s.add_argument("--url-file")
    args = p.parse_args(argv)
    return {"live": cmd_live, "record": cmd_record, "replay": cmd_replay, "baseline": cmd_baseline,
            "matrix": cmd_matrix, "slate": cmd_slate, "compact": cmd_compact, "report": cmd_report}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
