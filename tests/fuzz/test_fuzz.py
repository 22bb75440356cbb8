"""Short mode of the generated-input run (tests/fuzz/fuzz.py): every operation of every
service's OpenAPI, as admin and as an artist, through the gateway of a stack of its own,
with a fixed seed: no 5xx, every status documented, every body matching the documented
schema of its status."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fuzz import CONTRACT, SERVICES, fuzz_stack, print_report, run

#: Cases per operation and role: one with the seeded world's ids in its path, one negative.
PER_OPERATION = 2


@pytest.mark.e2e  # boots a stack of its own
@pytest.mark.slow
def test_generated_input_short_mode(tmp_path: Path) -> None:
    with fuzz_stack(tmp_path / "stack") as stack:
        report = run(stack, cases=0, per_operation=PER_OPERATION, seed=17, log=lambda m: print(m, flush=True))
    print_report(report)
    summary = report["summary"]
    # every service and role was run, every operation at least once
    assert sorted(report["per_service"]) == sorted(f"{s} as {r}" for s in SERVICES for r in ("admin", "artist"))
    for name, part in report["per_service"].items():
        service = name.split(" as ")[0]
        assert part["cases"] >= report["operations"][service], (name, part["cases"])
        assert sum(part["by_mode"].values()) == part["cases"]
        assert not part["errors"], (name, part["errors"])
    # the services that serve public routes today were fuzzed (planning and import-export have none yet)
    assert all(report["operations"][s] > 0 for s in ("auth", "production", "media")), report["operations"]
    assert summary["cases"] >= 2 * sum(report["operations"].values())
    assert summary["server_errors"] == 0, _failures(report, "not_a_server_error")
    for check in CONTRACT:
        assert summary["operations_failing"][check] == 0, _failures(report, check)


def _failures(report: dict, check: str) -> str:  # type: ignore[type-arg]
    lines = []
    for name, part in report["per_service"].items():
        for label, sample in (part["samples"].get(check) or {}).items():
            lines.append(f"{name}: {label}: {sample}")
    return "\n".join(lines[:40])
