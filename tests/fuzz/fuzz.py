"""Generated input through the gateway: schemathesis against every service's OpenAPI.

Boots its own embedded stack, seeds the differential tool's small production
(``tools/zoudiff/seed.py``: two projects, a person of every role, shots, assets, tasks,
comments, a PNG and an MP4 preview, an attachment, filters...), then, for each service
(auth, production, media, planning, import-export) and each role (``admin``, ``artist``:
the artist is in the first project's team and assigned tasks there), generates requests
from the service's own OpenAPI document (read from the service, ``GET /openapi.json``) with
schemathesis's Python API and sends every one **through the gateway** (``/api``), with the
role's token. Each operation gets its share of the service's ``cases`` budget (at least
one), drawn with a fixed seed in three kinds, in turn:

- positive, path ids of the seeded world (``zoudiff.plan.param_symbol``: ``{project_id}``
  is the seeded project...): answers with data, checked against the documented schemas;
- negative (schemathesis breaks a parameter or the body): must be refused clearly;
- positive with generated path ids (mostly unknown UUIDs: 404s).

Every answer goes through the **contract checks**, which the short mode asserts:
``not_a_server_error`` (no 5xx), ``status_code_conformance`` (the status is documented) and
``response_schema_conformance`` (the body matches the documented schema of that status);
and ``positive_data_acceptance`` (a request the schema allows is accepted: 2xx, 401, 403
or 404), measured and reported, not asserted.

**Order and exclusions** (so destructive operations cannot ruin the run): ``GET
/auth/logout`` (revokes the token in use), ``POST /auth/change-password`` and ``POST``/``PUT
/auth/reset-password`` (the caller's own password) are not sent. Every ``DELETE`` runs
after every other operation of every service and role, deletes of projects, persons and
the organisation last of all. Writes that name a person (``{person_id}``, persons'
``{instance_id}``) target the seeded client, never the admin or the artist running the
cases.

Short mode: ``tests/fuzz/test_fuzz.py``. Long mode (writes a JSON report)::

    .venv/bin/python tests/fuzz/fuzz.py --cases 1000 --out bench/out/fuzz-long.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

from slate_common.stack import Stack, StackConfig  # noqa: E402

from zoudiff.modes import new_tag  # noqa: E402
from zoudiff.plan import LITERAL_PARAMS, Route, param_symbol  # noqa: E402
from zoudiff.seed import Seeder  # noqa: E402
from zoudiff.side import Side  # noqa: E402

SERVICES = ("auth", "production", "media", "planning", "import-export")
ROLES = ("admin", "artist")
#: Checks the short mode asserts (the contract of issue 17 part 2).
CONTRACT = ("not_a_server_error", "status_code_conformance", "response_schema_conformance")
#: Checks measured and reported, not asserted.
MEASURED = ("positive_data_acceptance",)
#: Never sent: they end the session or change the caller's own password.
EXCLUDED = frozenset({
    ("GET", "/auth/logout"),
    ("POST", "/auth/change-password"),
    ("POST", "/auth/reset-password"),
    ("PUT", "/auth/reset-password"),
})
#: Deletes that would take the seeded world with them: the very last.
LAST = re.compile(r"^/data/(projects|persons|organisations)/\{instance_id\}$")
#: The person a write names: the seeded client (no case runs as the client).
VICTIM = "person:client"
MODES = ("positive-seeded", "negative", "positive")
#: Draws of an operation's share at most (a new seed each), when Hypothesis runs out of
#: distinct values before the share is sent (an operation with no parameter has one
#: request: it is sent again).
ROUNDS = 32


def fuzz_stack(home: Path) -> Stack:
    env = {
        "SLATE_LOG_LEVEL": "WARNING",
        # generated logins fail by the hundred from one address
        "SLATE_AUTH_LOGIN_ADDRESS_MAX_FAILURES": "1000000",
        "SLATE_CONSISTENCY_WAIT_SECONDS": "8",  # as the e2e stack: a loaded machine is not a stale read
        "SLATE_MEDIA_HD_PRESET": "ultrafast",
        "SLATE_MEDIA_LD_PRESET": "ultrafast",
    }
    return Stack(StackConfig.on_free_ports(home, gateway_replicas=1, extra_env=env))


# -- the plan ---------------------------------------------------------------------------


@dataclass
class Job:
    service: str
    role: str
    method: str
    path: str
    examples: int

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def phase(self) -> tuple[int, int]:
        if self.method != "DELETE":
            return (0, 0)
        return (1, 1 if LAST.match(self.path) else 0)


def operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for path, item in sorted((document.get("paths") or {}).items()):
        for method in sorted(item):
            if method in ("get", "put", "post", "delete", "patch") and (method.upper(), path) not in EXCLUDED:
                out.append((method.upper(), path))
    return out


def plan(documents: dict[str, dict[str, Any]], cases: int, roles: tuple[str, ...] = ROLES,
         per_operation: int = 1) -> list[Job]:
    """Every operation of every service for every role, ``cases`` per service and role split
    over its operations (at least ``per_operation`` each); deletes after everything else."""
    jobs = []
    for service, document in documents.items():
        ops = operations(document)
        per = max(per_operation, math.ceil(cases / max(1, len(ops))))
        for role in roles:
            jobs += [Job(service, role, method, path, per) for method, path in ops]
    return sorted(jobs, key=Job.phase)  # stable: services and roles keep their order in a phase


def seeded_path_ids(side: Side, method: str, path: str) -> dict[str, str]:
    """The seeded id (or the literal: ``{extension}`` is ``png``) of each path parameter of
    ``path`` the differential tool's world names; the others are generated."""
    route = Route(method, path, "")
    out = {}
    for name in re.findall(r"{([a-z_]+)}", path):
        if name in LITERAL_PARAMS:
            out[name] = LITERAL_PARAMS[name]
            continue
        try:
            symbol = param_symbol(route, name)
        except StopIteration:  # {instance_id} not after a collection
            continue
        if method != "GET" and symbol.startswith("person:"):
            symbol = VICTIM
        if symbol in side.world:
            out[name] = side.world[symbol]
    return out


# -- the report -------------------------------------------------------------------------


@dataclass
class Tally:
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    by_mode: Counter[str] = field(default_factory=Counter)
    #: check -> operation -> failing cases
    failures: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: check -> operation -> first failure seen
    samples: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    #: operation -> why no case could be generated in a mode
    not_generated: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: transport errors and checks that could not run
    errors: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases, "seconds": round(self.seconds, 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "by_mode": dict(self.by_mode),
            "operations_failing": {check: len(ops) for check, ops in sorted(self.failures.items())},
            "cases_failing": {check: sum(ops.values()) for check, ops in sorted(self.failures.items())},
            "failures": {check: dict(sorted(ops.items())) for check, ops in sorted(self.failures.items())},
            "samples": {check: dict(sorted(s.items())) for check, s in sorted(self.samples.items())},
            "not_generated": dict(self.not_generated),
            "errors": dict(self.errors),
        }


def summary(tallies: dict[tuple[str, str], Tally]) -> dict[str, Any]:
    """Per check: distinct failing operations (``METHOD path`` of a service, any role) and cases."""
    ops: dict[str, set[str]] = defaultdict(set)
    cases: Counter[str] = Counter()
    for (service, _role), tally in tallies.items():
        for check, per_op in tally.failures.items():
            ops[check] |= {f"{service} {op}" for op in per_op}
            cases[check] += sum(per_op.values())
    return {
        "cases": sum(t.cases for t in tallies.values()),
        "server_errors": sum(n for t in tallies.values() for s, n in t.statuses.items() if s >= 500),
        "operations_failing": {check: len(ops[check]) for check in (*CONTRACT, *MEASURED)},
        "cases_failing": {check: cases[check] for check in (*CONTRACT, *MEASURED)},
    }


# -- the run ----------------------------------------------------------------------------


def _checks() -> dict[str, Callable[..., Any]]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        positive_data_acceptance,
        response_schema_conformance,
        status_code_conformance,
    )

    return {"not_a_server_error": not_a_server_error, "status_code_conformance": status_code_conformance,
            "response_schema_conformance": response_schema_conformance,
            "positive_data_acceptance": positive_data_acceptance}


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _modes(examples: int, seeded: bool) -> Iterator[tuple[str, int]]:
    """How many examples of each kind an operation gets, in turn."""
    kinds = MODES if seeded else ("positive", "negative")
    share = Counter(kinds[i % len(kinds)] for i in range(max(examples, 1)))
    for kind in kinds:
        if share[kind]:
            yield kind, share[kind]


class Fuzzer:
    def __init__(self, side: Side, base_url: str, documents: dict[str, dict[str, Any]], *, seed: int,
                 log: Callable[[str], None] = print) -> None:
        import schemathesis

        self.side = side
        self.base_url = base_url
        self.seed = seed
        self.log = log
        self.checks = _checks()
        self.schemas = {name: schemathesis.openapi.from_dict(doc) for name, doc in documents.items()}
        self.tallies: dict[tuple[str, str], Tally] = {}
        #: the operation being run (reported when the run is interrupted)
        self.current = ""
        self.skip: frozenset[str] = frozenset()

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.side.tokens[role]}"}

    def run(self, jobs: list[Job], max_seconds: float | None = None) -> None:
        started = time.monotonic()
        for i, job in enumerate(jobs):
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                self.log(f"time budget of {max_seconds:.0f}s spent after {i} of {len(jobs)} operations")
                break
            if os.environ.get("SLATE_FUZZ_VERBOSE"):
                self.log(f"  {job.service} as {job.role}: {job.label}")
            if i % 100 == 0:
                self.log(f"  {i}/{len(jobs)} operations, {sum(t.cases for t in self.tallies.values())} cases, "
                         f"{time.monotonic() - started:.0f}s")
            self.current = f"{job.service} as {job.role}: {job.label}"
            if job.label in self.skip:
                continue
            self.run_job(job)

    def run_job(self, job: Job) -> None:
        from schemathesis import GenerationMode

        tally = self.tallies.setdefault((job.service, job.role), Tally())
        operation = self.schemas[job.service][job.path][job.method]
        seeded = seeded_path_ids(self.side, job.method, job.path)
        t0 = time.monotonic()
        before: dict[str, int] = {}  # cases of each kind sent before this operation
        carry = 0  # what a kind could not send (nothing to break, too few distinct values) goes to the next
        shares = list(_modes(job.examples, bool(seeded)))
        for kind, share in [*shares, ("positive", 0)]:
            count = share + carry
            if count <= 0:
                continue
            mode = GenerationMode.NEGATIVE if kind == "negative" else GenerationMode.POSITIVE
            kwargs: dict[str, Any] = {"path_parameters": seeded} if kind == "positive-seeded" else {}
            try:
                strategy = operation.as_strategy(generation_mode=mode, **kwargs)
                # Hypothesis stops early when it has tried every distinct value (an operation
                # with few parameters): draw again with the next seeds until the share is sent.
                for round_ in range(ROUNDS):
                    sent = tally.by_mode[kind]
                    remaining = count - (sent - before.get(kind, sent))
                    if remaining <= 0:
                        break
                    before.setdefault(kind, sent)
                    self._draw(strategy, remaining, lambda case, k=kind: self._one(job, tally, case, k),
                               seed=self.seed + round_)
            except Exception as exc:  # nothing to generate in this mode (no parameter to break...)
                tally.not_generated[job.label].append(f"{kind}: {type(exc).__name__}: {_short(str(exc), 160)}")
            carry = count - (tally.by_mode[kind] - before.get(kind, tally.by_mode[kind]))
            before.pop(kind, None)  # a later round of the same kind counts afresh
        tally.seconds += time.monotonic() - t0

    def _draw(self, strategy: Any, count: int, each: Callable[[Any], None], seed: int) -> None:
        import hypothesis
        from hypothesis import HealthCheck, Phase, Verbosity

        @hypothesis.seed(seed)
        @hypothesis.settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
                             suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                             report_multiple_bugs=False)
        @hypothesis.given(strategy)
        def draw(case: Any) -> None:
            each(case)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            draw()

    def _one(self, job: Job, tally: Tally, case: Any, kind: str) -> None:
        try:
            response = case.call(base_url=self.base_url, headers=self.headers(job.role), timeout=60)
        except Exception as exc:  # a transport error: counted, never a check failure of its own
            tally.errors[f"{job.label}: {type(exc).__name__}"] += 1
            return
        tally.cases += 1
        tally.by_mode[kind] += 1
        tally.statuses[response.status_code] += 1
        for name, check in self.checks.items():
            try:
                case.validate_response(response, checks=[check])
            except (AssertionError, BaseExceptionGroup) as exc:
                failures = getattr(exc, "exceptions", (exc,))
                tally.failures[name][job.label] += 1
                tally.samples[name].setdefault(job.label, {
                    "role": job.role, "mode": kind, "status": response.status_code,
                    "request": f"{case.method} {case.formatted_path}"
                               + (f"?{case.query}" if case.query else "")
                               + (f" body={_short(json.dumps(case.body, default=str), 200)}"
                                  if case.body is not None and not _is_unset(case.body) else ""),
                    "body": _short(response.text, 300),
                    "failure": _short(" | ".join(f"{getattr(f, 'title', '')}: {getattr(f, 'message', f)}"
                                                 for f in failures), 500),
                })
            except Exception as exc:  # the check could not run (a schema it cannot read...)
                tally.errors[f"{job.label}: {name}: {type(exc).__name__}: {_short(str(exc), 120)}"] += 1


def _is_unset(value: Any) -> bool:
    return type(value).__name__ == "NotSet"


def documents_of(stack: Stack, services: tuple[str, ...] = SERVICES) -> dict[str, dict[str, Any]]:
    """Each service's own OpenAPI document, as it serves it."""
    out = {}
    for service in services:
        r = httpx.get(stack.service_url(service) + "/openapi.json", timeout=60)
        r.raise_for_status()
        out[service] = r.json()
    return out


def seed_world(stack: Stack, log: Callable[[str], None] = print) -> Side:
    side = Side("slate", stack.gateway_url, stack.config.admin_email, stack.config.admin_password)
    Seeder(side, new_tag(), log=log).seed()
    return side


def run(stack: Stack, *, cases: int, per_operation: int = 1, seed: int = 0, services: tuple[str, ...] = SERVICES,
        roles: tuple[str, ...] = ROLES, max_seconds: float | None = None, skip: tuple[str, ...] = (),
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Seed, then fuzz ``cases`` per service and role (``per_operation`` at least); the
    report (a JSON-able dict)."""
    t0 = time.monotonic()
    side = seed_world(stack, log)
    log(f"seeded {len(side.world)} things in {time.monotonic() - t0:.1f}s")
    documents = documents_of(stack, services)
    jobs = plan(documents, cases, roles, per_operation)
    fuzzer = Fuzzer(side, stack.gateway_url + "/api", documents, seed=seed, log=log)
    fuzzer.skip = frozenset(skip or ())
    for service in documents:  # a service with no public operation yet is reported with 0 cases
        for role in roles:
            fuzzer.tallies.setdefault((service, role), Tally())
    t1 = time.monotonic()
    interrupted = None
    try:
        fuzzer.run(jobs, max_seconds)
    except KeyboardInterrupt:  # Ctrl-C: the report of what ran
        interrupted = fuzzer.current
    finally:
        side.close()
    tallies = fuzzer.tallies
    return {
        "interrupted_at": interrupted, "skipped": sorted(skip or ()),
        "seed": seed, "cases_per_service_and_role": cases, "seconds": round(time.monotonic() - t1, 1),
        "operations": {name: len(operations(doc)) for name, doc in documents.items()},
        "load_average": os.getloadavg(), "cpus": os.cpu_count(),
        "summary": summary(tallies),
        "per_service": {f"{service} as {role}": tally.as_json() for (service, role), tally in tallies.items()},
    }


def print_report(report: dict[str, Any]) -> None:
    s = report["summary"]
    print(f"{s['cases']} cases in {report['seconds']}s, {s['server_errors']} answered 5xx "
          f"(load {report['load_average'][0]:.1f} on {report['cpus']} CPUs)")
    for check in (*CONTRACT, *MEASURED):
        print(f"  {check}: {s['operations_failing'][check]} operations, {s['cases_failing'][check]} cases")
    for name, part in report["per_service"].items():
        print(f"  {name}: {part['cases']} cases in {part['seconds']}s, statuses {part['statuses']}, "
              f"failing operations {part['operations_failing']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="generated cases per service and role")
    parser.add_argument("--per-operation", type=int, default=1, help="at least this many cases per operation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", action="append", default=[], help="an operation not to run (\"GET /path\")")
    parser.add_argument("--services", default=",".join(SERVICES))
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "fuzz-long.json"))
    parser.add_argument("--home", help="keep the stack's data and logs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slate-fuzz-") as tmp:
        stack = fuzz_stack(Path(args.home or tmp))
        t = time.monotonic()
        with stack:
            print(f"stack up in {time.monotonic() - t:.1f}s at {stack.gateway_url}", flush=True)
            report = run(stack, cases=args.cases, per_operation=args.per_operation, seed=args.seed,
                         services=tuple(args.services.split(",")),
                         roles=tuple(args.roles.split(",")), skip=tuple(args.skip), log=lambda m: print(m, flush=True))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, sort_keys=True, default=str))
    print_report(report)
    print(f"report: {out}")
    contract = report["summary"]["operations_failing"]
    return 1 if report["summary"]["server_errors"] or any(contract[c] for c in CONTRACT) else 0


if __name__ == "__main__":
    raise SystemExit(main())
