"""bench/side_by_side.py's pure part, without servers: the summary of recorded result files
(load.py's JSON with the harness's ``side_by_side`` block: one round of a --quick run at
1, 8 and 32 clients on a busy machine, in tests/data/side_by_side) and the verdicts on
issue 16's targets."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import side_by_side as sbs  # noqa: E402
from cpu_layers import tree_cpu_seconds  # noqa: E402

pytestmark = pytest.mark.slow  # imports the bench's modules (the stack launcher among them)

RECORDED = Path(__file__).parent / "data" / "side_by_side"


def recorded() -> list[dict[str, Any]]:
    return sbs.load_runs(RECORDED)


def run_of(runs: list[dict[str, Any]], server: str, kind: str, key: int | str) -> dict[str, Any]:
    (found,) = [r for r in runs if r["side_by_side"]["server"] == server and r["side_by_side"]["kind"] == kind
                and r["side_by_side"]["key"] == key]
    return found


def by_target(marks: list[dict[str, Any]], fragment: str) -> dict[str, Any]:
    (found,) = [m for m in marks if fragment in m["target"]]
    return found


def test_one_round_is_read_as_recorded() -> None:
    runs = recorded()
    assert len(runs) == 12  # 2 servers x (3 mix levels + 3 heavy listings)
    summary = sbs.summarise(runs)

    assert summary["rounds"] == 1 and summary["same_dataset"]
    assert list(summary["mix"]) == ["1", "8", "32"]
    zou, slate = run_of(runs, "zou", "mix", 32), run_of(runs, "slate", "mix", 32)
    row = summary["mix"]["32"]
    assert row["zou"]["rps"] == zou["overall"]["rps"] and row["slate"]["p99"] == slate["overall"]["p99_ms"]
    assert row["slate"]["cpu_ms"] == slate["side_by_side"]["cpu"]["ms_per_request"]
    assert row["rps_ratio"] == round(slate["overall"]["rps"] / zou["overall"]["rps"], 2)
    assert row["p50_ratio"] == round(zou["overall"]["p50_ms"] / slate["overall"]["p50_ms"], 2)
    assert set(summary["heavy"]) == set(sbs.HEAVY)
    # every call of the mix at 1 client, the project's shot list included; one the 5 s run
    # never drew on Slate's side has no ratio
    calls = summary["calls_c1"]
    assert "project_shots" in calls and calls["project_shots"]["ratio"] is not None
    assert calls["shots_with_tasks_episode"]["slate"] is None and calls["shots_with_tasks_episode"]["ratio"] is None
    assert summary["noisy_runs"] == 12  # recorded on a machine other work kept busy


def test_the_median_over_rounds_and_the_ratio_of_the_medians(tmp_path: Path) -> None:
    """Three rounds: the median is the middle round's figure, whatever the order of files."""
    for path in RECORDED.glob("*.json"):
        data = json.loads(path.read_text())
        for n, factor in enumerate((3.0, 1.0, 2.0)):
            copied = copy.deepcopy(data)
            copied["side_by_side"]["round"] = n
            copied["overall"]["rps"] = round(data["overall"]["rps"] * factor, 2)
            copied["side_by_side"]["cpu"]["ms_per_request"] = round(data["side_by_side"]["cpu"]["ms_per_request"]
                                                                    * factor, 2)
            (tmp_path / path.name.replace("-r0-", f"-r{n}-")).write_text(json.dumps(copied))
    summary = sbs.summarise(sbs.load_runs(tmp_path))
    base = sbs.summarise(recorded())

    assert summary["rounds"] == 3
    for level in ("1", "8", "32"):
        for server in sbs.SERVERS:
            assert summary["mix"][level][server]["rounds"] == 3
            assert summary["mix"][level][server]["rps"] == pytest.approx(2 * base["mix"][level][server]["rps"],
                                                                         abs=0.02)
        assert summary["mix"][level]["rps_ratio"] == pytest.approx(base["mix"][level]["rps_ratio"], abs=0.01)
    assert summary["mix"]["1"]["zou"]["rps_each"] == [
        round(base["mix"]["1"]["zou"]["rps"] * f, 2) for f in (3.0, 1.0, 2.0)]


def test_verdicts_of_the_recorded_run() -> None:
    marks = sbs.verdicts(sbs.summarise(recorded()))

    assert len(marks) == 6
    assert all(m["met"] is False for m in marks)  # a busy machine's smoke run: far from the targets
    assert "below: auth_authenticated" in by_target(marks, "every call")["value"]
    assert "not called on both: shots_with_tasks_episode" in by_target(marks, "every call")["value"]
    text = sbs.render(sbs.summarise(recorded()), marks)
    assert "| GET /data/projects/{id}/shots (`project_shots`) |" in text and "**below 3x**" in text
    assert text.count("**not met**") == 6 and "Noisy machine" in text


def test_the_targets_are_met_at_their_thresholds_and_not_below() -> None:
    runs = recorded()

    def scaled(rps_ratio: float, p50_ratio: float, cpu_ms: float, p99_ms: float) -> list[dict[str, Any]]:
        """Slate's figures set from Zou's: ``rps_ratio`` times its req/s, every p50
        ``p50_ratio`` times shorter, ``cpu_ms`` per request, ``p99_ms`` at 32 clients."""
        out = copy.deepcopy(runs)
        for run in out:
            meta = run["side_by_side"]
            if meta["server"] != "slate":
                continue
            zou = run_of(out, "zou", meta["kind"], meta["key"])
            run["overall"]["rps"] = round(zou["overall"]["rps"] * rps_ratio, 2)
            run["overall"]["p99_ms"] = p99_ms
            meta["cpu"]["ms_per_request"] = cpu_ms
            zou_p50 = {e["endpoint"]: e["p50_ms"] for e in zou["endpoints"]}
            run["endpoints"] = [{**e, "p50_ms": zou_p50[e["endpoint"]] / p50_ratio}
                                for e in zou["endpoints"]]
        return out

    zou_p50_32 = run_of(runs, "zou", "mix", 32)["overall"]["p50_ms"]
    marks = sbs.verdicts(sbs.summarise(scaled(5.0, 3.0, 5.0, zou_p50_32 - 1)))
    assert [m["met"] for m in marks] == [True] * 6, marks
    assert by_target(marks, "every call")["value"] == "13 of 13"

    marks = sbs.verdicts(sbs.summarise(scaled(4.9, 2.9, 5.01, zou_p50_32)))
    assert [m["met"] for m in marks] == [False] * 6, marks
    assert "C=32: 5.01 ms" in by_target(marks, "CPU")["value"]


def test_levels_not_run_are_not_measured_rather_than_failed() -> None:
    runs = [r for r in recorded() if r["side_by_side"]["key"] != 32]  # --quick: levels 1 and 8
    marks = sbs.verdicts(sbs.summarise(runs))

    assert by_target(marks, "mix at 32 clients: req/s")["met"] is None
    assert by_target(marks, "p99 below")["value"] == "not measured"
    assert by_target(marks, "mix at 8 clients")["met"] is False
    assert "| mix at 32 clients: req/s at least 5x Zou's | not measured | not measured |" in sbs.render(
        sbs.summarise(runs), marks)


def test_report_writes_the_tables_beside_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in RECORDED.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "command.json").write_text(json.dumps({"argv": []}))  # not a result file

    assert sbs.main(["--report", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert (tmp_path / "tables.md").read_text().strip() == printed.strip()
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["summary"]["mix"]["8"]["zou"]["rps"] == run_of(recorded(), "zou", "mix", 8)["overall"]["rps"]
    assert len(saved["verdicts"]) == 6


def test_quick_and_full_defaults() -> None:
    quick = sbs.parse_args(["--quick"])
    assert (quick.scale, quick.rounds, quick.levels, quick.duration) == (0.1, 1, [1, 8], 5.0)
    full = sbs.parse_args([])
    assert (full.scale, full.rounds, full.levels, full.duration, full.warmup) == (1.0, 3, [1, 8, 32], 30.0, 5.0)
    assert sbs.parse_args(["--quick", "--levels", "1,8,32"]).levels == [1, 8, 32]


def burnt(pid: int) -> bool:
    """The shell has reaped its python child and sleeps."""
    try:
        return all("python" not in child.name() for child in psutil.Process(pid).children())
    except psutil.Error:
        return False


def test_the_cpu_of_a_tree_keeps_what_its_exited_children_used() -> None:
    """A child that burns 0.5 s of CPU and exits (as a PostgreSQL backend does when its
    connection closes) still counts: its time moves into its parent's children time."""
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass"
    parent = subprocess.Popen(["sh", "-c", f"{sys.executable} -c '{burn}'; sleep 30"])
    try:
        before = tree_cpu_seconds([parent.pid])
        deadline = time.monotonic() + 30
        while not burnt(parent.pid):
            assert time.monotonic() < deadline, "the child did not finish"
            time.sleep(0.05)
        after = tree_cpu_seconds([parent.pid])
    finally:
        parent.kill()
        parent.wait()
    assert 0.3 <= after - before < 5


def test_the_server_s_own_later_processes_are_not_counted_as_noise() -> None:
    """Recorded 2026-12-07 (Slate, 32 clients): load.py, given the pids at start, counted
    16 of the machine's 60 CPU-seconds as "other" (27 %: noisy, run again); the server's
    whole trees used 55.25 s in the window, so the rest of the machine was nearly idle."""
    driver = {"server_cpu_s": 40.9, "client_cpu_s": 2.79, "other_cpu_s": 16.11, "machine_busy_cpu_s": 59.8,
              "machine_capacity_cpu_s": 60.19}
    share = sbs.other_share(driver, 30.0, 55.25 / 30.124)
    assert 0.0 <= share < 0.05
    assert sbs.other_share(driver, 30.0, 0.5) > 0.5  # a server using little leaves the rest to others
    assert sbs.other_share({}, 30.0, 1.0) == 0.0
