#!/usr/bin/env python3
"""Markdown tables of a production benchmark result (bench/out/production-*.json).

    python bench/production_report.py bench/out/production-20261123-134103.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

KIND_ORDER = ("projects_open", "shots_with_tasks", "assets_with_tasks", "task_comments", "user_todo",
              "comment_status", "update_task")


def ms(v: Any) -> str:
    return "-" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def report(d: dict[str, Any]) -> str:
    out: list[str] = []
    w = out.append
    seed = d["seed"]
    w("| seed step | Zou | Slate |")
    w("|---|---|---|")
    for step in seed["zou"]["steps"]:
        z, s = seed["zou"]["steps"][step], seed["slate"]["steps"][step]
        w(f"| {step} ({z['requests']} / {s['requests']} requests) | {z['seconds']:.1f} s | {s['seconds']:.1f} s |")
    w(f"| **total** | **{seed['zou']['seconds']:.0f} s** (server+PostgreSQL CPU {seed['zou']['server_cpu_s']:.0f} s)"
      f" | **{seed['slate']['seconds']:.0f} s** (CPU {seed['slate']['server_cpu_s']:.0f} s) |")
    w("")
    mix = d["mix"]
    w("| clients | Zou req/s | Slate req/s | ratio | Zou median | Slate median | Zou p99 | Slate p99 |"
      " Slate p99 < Zou median | server CPU per request Zou / Slate | other load (cores) Zou / Slate run |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for level in mix["slate"]:
        z, s, q = mix["zou"][level], mix["slate"][level], d["ratios"][level]
        w(f"| {level} | {z['all']['rps']:.1f} | {s['all']['rps']:.1f} | **x{q['throughput_ratio']}** |"
          f" {ms(z['all']['median_ms'])} ms | {ms(s['all']['median_ms'])} ms | {ms(z['all']['p99_ms'])} ms |"
          f" {ms(s['all']['p99_ms'])} ms | {'yes' if q['slate_p99_below_zou_median'] else 'no'} |"
          f" {z['server_cpu_ms_per_request']:.0f} / {s['server_cpu_ms_per_request']:.0f} ms |"
          f" {z['other_cpu_cores']} / {s['other_cpu_cores']} |")
    w("")
    w("Per request kind, median / p99 in ms (requests per second):")
    w("")
    w("| clients | kind | Zou | Slate |")
    w("|---|---|---|---|")
    for level in mix["slate"]:
        for k in KIND_ORDER:
            cells = []
            for t in ("zou", "slate"):
                r = mix[t][level]["kinds"].get(k)
                cells.append("-" if r is None else f"{ms(r['median_ms'])} / {ms(r['p99_ms'])} ({r['rps']})"
                             + (f", {r['errors']} errors" if r["errors"] else ""))
            w(f"| {level} | {k} | {cells[0]} | {cells[1]} |")
    w("")
    listing = d["listing"]
    w(f"| shot list with tasks, 1 client, median of {next(iter(listing.values()))['zou']['runs']} | Zou | Slate | Slate faster by |")
    w("|---|---|---|---|")
    for variant, r in listing.items():
        if variant == "skipped":
            continue
        w(f"| {variant} | {ms(r['zou']['median_ms'])} ms ({r['zou']['bytes'] / 1e6:.2f} MB) |"
          f" {ms(r['slate']['median_ms'])} ms ({r['slate']['bytes'] / 1e6:.2f} MB) | x{r.get('speedup')} |")
    w("")
    w("| peak RSS increase while serving the shot list | Slate production process | Zou worker |")
    w("|---|---|---|")
    for variant, r in d["memory"].items():
        if variant == "skipped":
            continue
        s, z = r["slate_production"], r["zou_worker"]
        w(f"| {variant} | +{s['peak_increase_mb']} MB (from {s['rss_before_mb']} MB) |"
          f" +{z['peak_increase_mb']} MB (from {z['rss_before_mb']} MB) |")
    breakdown = [(lv, r.get("slate_cpu_s_by_process")) for lv, r in mix["slate"].items()]
    if all(b for _, b in breakdown):
        w("")
        w("Slate's CPU seconds per process during each load run (warmup + window):")
        w("")
        names = sorted(breakdown[0][1], key=lambda n: -breakdown[-1][1][n])
        w("| clients | " + " | ".join(names) + " |")
        w("|---|" + "---|" * len(names))
        for lv, b in breakdown:
            w(f"| {lv} | " + " | ".join(f"{b[n]:.1f}" for n in names) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(report(json.load(open(sys.argv[1]))))
