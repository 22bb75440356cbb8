"""Short mode of the chaos run (tests/chaos/chaos.py): about two minutes of the Kitsu mix
plus preview uploads at 4 clients, while each service process, the media worker, the
gateway, NATS and PostgreSQL are killed once (kill -9), one every 10 s, and restarted by
the supervisor. Nothing acknowledged may be lost, nothing duplicated, no event left
unapplied, no preview job stuck, and each process serves again within 5 s of its restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .chaos import ChaosConfig, chaos_stack, default_targets, print_report, run_load, serving_bound


@pytest.mark.e2e  # boots a stack of its own
@pytest.mark.slow
def test_faults_under_load_short_mode(tmp_path: Path) -> None:
    cfg = ChaosConfig(clients=4, duration=110.0, kill_every=10.0, lead=8.0, rounds=1)
    with chaos_stack(tmp_path / "stack") as stack:
        report = asyncio.run(run_load(stack, cfg, log=lambda m: print(m, flush=True)))
    print_report(report)
    assert [k["target"] for k in report["kills"]] == default_targets()
    assert report["problems"] == []
    # the run did what it says: writes of every kind, events through every consumer
    writes = report["writes"]
    assert writes["comments_acked"] > 0 and writes["task_updates_acked"] > 0 and writes["previews_uploaded"] > 0
    assert report["lost"] == 0 and report["duplicates_seen_by_clients"] == 0
    assert report["events"]["outbox_events"] > 0
    assert report["events"]["missing_from_stream_count"] == 0
    assert {"production-events", "media-events", "planning-events"} <= set(report["events"]["consumers"])
    # within 5 s of its restart, stretched by the machine's oversubscription (see serving_bound)
    for kill in report["kills"]:
        assert kill["serving_s"] is not None and kill["serving_s"] <= serving_bound(cfg, kill["load_per_cpu"]), kill
        assert kill["ready_s"] is not None, kill
