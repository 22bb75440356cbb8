"""The differential test in CI mode: every route Slate serves, called as every role, against
the recorded answers of Zou 1.0.97 (tools/zoudiff/fixtures), so CI needs no Zou.

It fails on a regression: a call that differs in a way neither
tools/zoudiff/intentional.toml (accepted, with reasons) nor tools/zoudiff/known_gaps.json
(today's gaps, to fix) lists — a call recorded as identical that now differs, a new
difference, or an ``allows-more`` that is not already a known gap (see docs/differential.md);
and on a consistency breach: a call answered 404 that, asked again, finds its target.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

from zoudiff.modes import replay, write_results  # noqa: E402
from zoudiff.side import COLUMNS, Side  # noqa: E402
from zoudiff.verdict import FIXTURE, KNOWN_GAPS, load_known_gaps, report  # noqa: E402


def test_every_served_route_answers_as_zou_did(stack) -> None:  # type: ignore[no-untyped-def]
    # the recorded answers are part of the repo: without them this test proves nothing
    assert FIXTURE.exists(), f"{FIXTURE} is missing: `zoudiff record` writes it"
    started = time.monotonic()
    side = Side("slate", stack.gateway_url, stack.admin_email, stack.admin_password)
    try:
        results = replay(side, FIXTURE, COLUMNS)
    finally:
        side.close()
    print(report(results, verbose=False))
    # the whole answer of this run, for `zoudiff baseline --results var/zoudiff-ci-results.json`
    write_results(REPO / "var" / "zoudiff-ci-results.json", results, "replay")
    gaps = load_known_gaps()
    print(f"known gaps to fix ({KNOWN_GAPS.name}): {len(gaps)} calls, "
          f"{sum(1 for r in results if r.known)} still seen; "
          f"fixed since the list was written: {sum(1 for r in results if r.key in gaps and not r.known)}")
    seconds = time.monotonic() - started
    print(f"zoudiff replay: {len(results)} calls in {seconds:.1f}s")
    regressions = [r for r in results if r.new]
    failures = []
    if regressions:
        failures.append("calls that differ from Zou 1.0.97 beyond intentional.toml and known_gaps.json:\n" + "\n".join(
            f"  {r.key}: " + "; ".join(str(d) for d in r.new[:5]) for r in regressions[:40]))
    if side.lagged:
        # clients see one database (docs/consistency.md): a 404 on something the run made
        # and saw answered, gone when asked again, is a replica behind a write
        failures.append("calls answered 404 and then not when asked again (a replica behind a write):\n"
                        + "\n".join(f"  {x}" for x in side.lagged[:40]))
    assert not failures, "\n".join(failures)
