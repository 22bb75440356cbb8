"""Short mode of the hostile uploads run (tests/chaos/hostile_uploads.py): one upload of
each hostile kind through the gateway of a stack of its own, two clients at once. Every
answer is a 4xx in Zou's error shape or a preview that ends broken with a reason (or
ready, for what is readable after all) within the bound; no 5xx, no cut connection; the
media processes stay under the memory bound; no preview left processing, no job left in
the queue; a good picture and a good movie still go through afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .hostile_files import catalogue
from .hostile_uploads import RSS_BOUND_MB, SPECIAL, hostile_stack, print_report, run

#: Seconds within which every accepted preview must leave ``processing``.
SETTLE_BOUND_S = 60.0


@pytest.mark.e2e  # boots a stack of its own
@pytest.mark.slow
def test_hostile_uploads_short_mode(tmp_path: Path) -> None:
    kinds = [*catalogue(), *SPECIAL]
    with hostile_stack(tmp_path / "stack") as stack:
        report = asyncio.run(run(stack, count=len(kinds), clients=2, settle_bound=SETTLE_BOUND_S,
                                 log=lambda m: print(m, flush=True)))
    print_report(report)
    assert report["problems"] == []  # includes the RSS bound, checked again below
    assert sorted(report["per_kind"]) == sorted(kinds)  # every kind was sent and answered
    assert report["settle"]["stuck_processing"] == 0
    assert report["jobs_left"] == {"queued": 0, "pending": 0, "ack_pending": 0}
    assert report["rss_samples"] > 10
    for name, peak in report["rss_peak_mb"].items():
        assert peak < RSS_BOUND_MB, (name, peak)
    # the answers that must be refusals (nothing in them can be read as what it claims to be)
    refused = {"png_60000", "jpeg_60000", "png_bomb", "text_named_png", "empty_png", "empty_mp4", "random_png",
               "name_traversal", "name_nul", "avatar_png_bomb", "avatar_png_60000", "avatar_movie_named_png",
               "avatar_empty", "oversized", "stalled_body", "movie_named_png"}
    for kind in refused:
        [(answer, _)] = report["per_kind"][kind].items()
        assert answer.startswith("4"), (kind, answer)
    assert next(iter(report["per_kind"]["stalled_body"])).startswith("408 ")
    assert next(iter(report["per_kind"]["oversized"])).startswith("413 ")
    for kind in ("corrupt_header_mp4", "random_mp4", "movie_frame_60000", "truncated_mp4_10"):
        [(answer, _)] = report["per_kind"][kind].items()
        assert answer.startswith("201 -> broken: "), (kind, answer)
