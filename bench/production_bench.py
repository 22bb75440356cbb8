#!/usr/bin/env python3
"""Production benchmark: Slate vs Zou 1.0.97, side by side, in one run, on loopback.

1. Boots Slate's embedded stack (every service, the gateway, PostgreSQL, NATS, S3) on free
   ports in a temporary home, and Zou 1.0.97 as its docs serve it (gunicorn, 3 gevent
   workers, redis) on a database of its own in the SAME PostgreSQL server.
2. Seeds the same production into each through the public API (bench/production_seed.py):
   1 project, 2 episodes, 20 sequences, 1,000 shots, 300 assets, 8 task types, 5,200
   tasks, 40 persons, 2,000 comments. Zou at its root, Slate through the gateway (/api).
3. Probes each request kind of the mix on both; a kind Slate does not serve yet is left
   out of the mix on BOTH sides (so the throughput ratio compares the same work) and
   reported as skipped; Zou also runs the full mix for reference.
4. Peak RSS increase of Slate's production process (and of Zou's workers) while serving
   the shot list with tasks, stream=true and plain, on a freshly restarted process
   (/proc/<pid>/clear_refs resets VmHWM; VmHWM and VmRSS are read around each request).
5. The full shot list with tasks at 1 client: median of ``--listing-runs`` requests.
6. The mix at 1, 8 and 32 clients against each target, alternating which goes first,
   each run a separate load-generator process (bench/production_load.py, aiohttp +
   uvloop), optionally pinned (``--pin-loadgen CPU``). Per run: throughput, median and
   p99 overall and per kind, the load generator's CPU, the servers' CPU per request, and
   the CPU other work on the machine took meanwhile.
7. Writes bench/out/production-<time>.json and prints the tables. Stops everything.

    .venv/bin/python bench/production_bench.py [--duration 20] [--levels 1,8,32]

Bounded: seeding (~5-8 min for Zou on 2 cores), plus per level and target ``--warmup`` +
``--duration`` seconds (or ``--max-requests``), plus the listing runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from production_load import KINDS, make_fixture, probe  # noqa: E402
from production_seed import Api, Scale, SeedResult, new_session, seed  # noqa: E402
from production_zou import ZouServer, default_venv, ensure_venv  # noqa: E402

from slate_common.stack import Stack, StackConfig, free_port  # noqa: E402

TARGETS = ("zou", "slate")


# -- measurements on processes ---------------------------------------------------------
def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_hwm(pid: int) -> None:
    """Reset the process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class RssSampler:
    """Samples VmRSS of some pids every few ms in a thread; keeps the max per pid."""

    def __init__(self, pids: list[int], interval: float = 0.005) -> None:
        self.pids, self.interval = pids, interval
        self.max_kb = {p: proc_status_kb(p, "VmRSS") for p in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for p in self.pids:
                try:
                    self.max_kb[p] = max(self.max_kb[p], proc_status_kb(p, "VmRSS"))
                except (OSError, KeyError):
                    pass
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds (user+system) of these processes and all their descendants."""
    total = 0.0
    seen: set[int] = set()
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            try:
                t = p.cpu_times()
                # children_*: CPU of children that exited and were reaped (PostgreSQL's
                # backends when a pool closes a connection; the load generator for us)
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                continue
    return total


def machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores)."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# -- the run ----------------------------------------------------------------------------
class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: dict[str, Any] = {
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join([".venv/bin/python", "bench/production_bench.py", *sys.argv[1:]]),
            "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg()},
            "settings": {k: v for k, v in vars(args).items()},
        }
        self.stack: Stack | None = None
        self.zou: ZouServer | None = None
        self.base: dict[str, str] = {}
        self.seeds: dict[str, SeedResult] = {}
        self.fixtures: dict[str, dict[str, Any]] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix="slate-prodbench-"))

    # processes --------------------------------------------------------------------------
    def server_pids(self, target: str) -> list[int]:
        """The processes serving ``target`` (PostgreSQL counted separately)."""
        if target == "zou":
            assert self.zou is not None and self.zou.gunicorn is not None and self.zou.redis is not None
            return [self.zou.gunicorn.pid, self.zou.redis.pid]
        assert self.stack is not None
        return [self.stack.supervisor[n].pid for n in self.stack.supervisor.names
                if n != "postgres" and self.stack.supervisor[n].pid]

    def postgres_pid(self) -> int:
        assert self.stack is not None
        pid = self.stack.supervisor["postgres"].pid
        assert pid is not None
        return pid

    def production_pid(self) -> int:
        assert self.stack is not None
        pid = self.stack.supervisor["production"].pid
        assert pid is not None
        return pid

    def production_workers(self) -> list[int]:
        """The processes serving production's requests: the uvicorn workers when it runs
        several (SLATE_PRODUCTION_HTTP_PROCESSES), else the process itself."""
        deadline = time.monotonic() + 30
        while True:
            kids = [c.pid for c in psutil.Process(self.production_pid()).children()
                    if "spawn_main" in " ".join(c.cmdline())]
            if kids or time.monotonic() > deadline:
                return kids or [self.production_pid()]
            time.sleep(0.5)

    # boot -------------------------------------------------------------------------------
    def boot(self) -> None:
        t0 = time.perf_counter()
        config = StackConfig.on_free_ports(
            self.workdir / "slate",
            # (~40 persons log in from one address: successful logins are never limited)
            postgres_fsync=self.args.fsync,
        )
        self.stack = Stack(config)
        self.stack.__enter__()
        self.out["boot"] = {"slate_s": round(time.perf_counter() - t0, 1)}
        t0 = time.perf_counter()
        pg_port = config.ports["postgres"]

        async def create_db() -> None:
            assert self.stack is not None
            conn = await asyncpg.connect(self.stack.infra.postgres_dsn)
            try:
                await conn.execute("CREATE DATABASE zou_bench")
            finally:
                await conn.close()

        asyncio.run(create_db())
        venv = ensure_venv(Path(self.args.zou_venv) if self.args.zou_venv else default_venv())
        self.zou = ZouServer(home=self.workdir / "zou", venv=venv, pg_host="127.0.0.1", pg_port=pg_port,
                             database="zou_bench", port=free_port(), redis_port=free_port(),
                             workers=self.args.zou_workers)
        self.zou.start()
        self.out["boot"]["zou_s"] = round(time.perf_counter() - t0, 1)
        self.base = {"zou": self.zou.url, "slate": self.stack.gateway_url + "/api"}
        self.creds = {"zou": (self.zou.admin_email, self.zou.admin_password),
                      "slate": (config.admin_email, config.admin_password)}
        print(f"Slate gateway {self.stack.gateway_url} (production pids {self.production_workers()}), "
              f"Zou {self.zou.url} (gunicorn pid {self.zou.gunicorn.pid if self.zou.gunicorn else '?'}), "
              f"PostgreSQL :{pg_port} shared", flush=True)

    def stop(self) -> None:
        if self.zou is not None:
            self.zou.stop()
        if self.stack is not None:
            self.stack.down()

    # seed -------------------------------------------------------------------------------
    def seed_all(self) -> None:
        scale = Scale.tiny() if self.args.tiny else Scale()
        self.out["scale"] = vars(scale)
        self.out["seed"] = {}
        for target in TARGETS:
            print(f"\nseeding {target} ({self.base[target]})", flush=True)
            cpu0 = tree_cpu(self.server_pids(target)) + tree_cpu([self.postgres_pid()])
            result = asyncio.run(seed(self.base[target], *self.creds[target], scale,
                                      concurrency=self.args.seed_concurrency))
            cpu = tree_cpu(self.server_pids(target)) + tree_cpu([self.postgres_pid()]) - cpu0
            self.seeds[target] = result
            summary = result.to_json()
            for big in ("shot_ids", "asset_ids", "tasks", "commented_task_ids", "sequence_ids"):
                summary[big] = len(summary[big])
            summary["persons"] = len(summary["persons"])
            summary["server_cpu_s"] = round(cpu, 1)
            self.out["seed"][target] = summary
            print(f"  {target}: {result.seconds:.1f} s, server+postgres CPU {cpu:.1f} s, counts {result.counts}"
                  + (f"\n  FAILED at {result.failed}" if result.failed else ""), flush=True)

    def settle(self, limit: float = 120.0) -> None:
        """Wait until both servers are idle: Slate's services consume the seed's events
        (replicas, notifications) in the background after the seed answered; measuring
        while they do would charge that backlog to the first load runs."""
        t0 = time.perf_counter()
        pids = self.server_pids("slate") + self.server_pids("zou") + [self.postgres_pid()]
        last = tree_cpu(pids)
        while time.perf_counter() - t0 < limit:
            time.sleep(3)
            now = tree_cpu(pids)
            if (now - last) / 3 < 0.15:  # under 15 % of a core for both servers and PostgreSQL
                break
            last = now
        self.out["settle_s"] = round(time.perf_counter() - t0, 1)
        print(f"\nservers idle after {self.out['settle_s']} s", flush=True)

    def slate_breakdown(self) -> dict[str, float]:
        """CPU seconds so far of each Slate process (with its children: PostgreSQL's backends)."""
        assert self.stack is not None
        return {n: tree_cpu([self.stack.supervisor[n].pid]) for n in self.stack.supervisor.names
                if self.stack.supervisor[n].pid}

    def prepare_mix(self) -> None:
        probes = {}
        for target in TARGETS:
            self.fixtures[target] = asyncio.run(make_fixture(self.base[target], self.seeds[target]))
            probes[target] = asyncio.run(probe(self.fixtures[target]))
        skipped = {k: why for k, why in probes["slate"].items() if why}
        broken_zou = {k: why for k, why in probes["zou"].items() if why}
        common_skip = sorted(set(skipped) | set(broken_zou))
        self.out["probe"] = probes
        self.out["skipped_kinds"] = {k: {"slate": probes["slate"][k], "zou": probes["zou"][k]} for k in common_skip}
        for target in TARGETS:
            self.fixtures[target]["skip"] = common_skip
            path = self.workdir / f"fixture-{target}.json"
            path.write_text(json.dumps(self.fixtures[target]))
        if common_skip:
            print("\nrequest kinds left out of the side-by-side mix (not served yet):", flush=True)
            for k in common_skip:
                print(f"  SKIP {k}: slate: {probes['slate'][k] or 'ok'}; zou: {probes['zou'][k] or 'ok'}", flush=True)

    # listing and memory -------------------------------------------------------------------
    async def _timed_get(self, session: Any, url: str, token: str, stream: bool = False) -> tuple[float, int, int]:
        t0 = time.perf_counter()
        size = 0
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
            if stream:
                async for chunk in r.content.iter_chunked(65536):
                    size += len(chunk)
            else:
                size = len(await r.read())
            return (time.perf_counter() - t0) * 1000, r.status, size

    def listing_url(self, target: str, variant: str = "") -> str:
        fx = self.fixtures[target]
        return f"{fx['base']}/data/shots/with-tasks?project_id={fx['project_id']}" + (f"&{variant}" if variant else "")

    def serves_listing(self, target: str) -> bool:
        return not self.out["probe"][target]["shots_with_tasks"]

    def listing(self) -> None:
        """The full shot list with tasks at 1 client, median of N, per variant."""
        targets = [t for t in TARGETS if self.serves_listing(t)]
        res: dict[str, Any] = {}
        if "slate" not in targets:
            res["skipped"] = f"slate: {self.out['probe']['slate']['shots_with_tasks']}"
            print(f"\nshot list with tasks on Slate: SKIPPED ({res['skipped']})", flush=True)

        # "json" repeats the same request on unchanged data (what a cache may serve);
        # "json_after_write" changes one task's priority (untimed) before each request,
        # so nothing computed before the change can be reused
        variants = (("json", "", False), ("json_after_write", "", True), ("compact", "compact=true", False),
                    ("stream", "stream=true", False))

        async def run() -> None:
            import random

            rng = random.Random(3)
            async with new_session(limit=2) as session:
                for name, query, write_first in variants:
                    for target in targets:
                        fx = self.fixtures[target]
                        url = self.listing_url(target, query)
                        writer = Api(session, fx["base"], fx["manager_token"])
                        await self._timed_get(session, url, fx["manager_token"], bool(query))  # warm
                        rows = []
                        for _ in range(self.args.listing_runs):
                            if write_first:
                                await writer.put(f"/data/tasks/{rng.choice(fx['task_ids'])}",
                                                 {"priority": rng.randint(0, 3)})
                            rows.append(await self._timed_get(session, url, fx["manager_token"], bool(query)))
                        ms = [r[0] for r in rows]
                        res.setdefault(name, {})[target] = {
                            "runs": len(ms), "median_ms": round(statistics.median(ms), 1),
                            "min_ms": round(min(ms), 1), "max_ms": round(max(ms), 1),
                            "bytes": rows[-1][2], "statuses": sorted({r[1] for r in rows})}

        asyncio.run(run())
        for _variant, r in res.items():
            if isinstance(r, dict) and "slate" in r and "zou" in r and r["slate"]["median_ms"]:
                r["speedup"] = round(r["zou"]["median_ms"] / r["slate"]["median_ms"], 2)
        self.out["listing"] = res

    def memory(self) -> None:
        """Peak RSS increase while serving the shot list (stream and plain), fresh processes."""
        assert self.stack is not None and self.zou is not None
        res: dict[str, Any] = {}
        if not self.serves_listing("slate"):
            res["skipped"] = f"slate: {self.out['probe']['slate']['shots_with_tasks']}"
            print(f"\nmemory of the shot list on Slate: SKIPPED ({res['skipped']})", flush=True)
        else:
            # a fresh production process: memory a previous big response left in Python's
            # allocator would hide what this listing costs
            self.stack.restart_service("production", hard=False)
            self.stack.wait_healthy(names=["gateway"], path="/readyz", timeout=60)

        async def one(target: str, variant: str, pids: list[int]) -> dict[str, Any]:
            fx = self.fixtures[target]
            async with new_session(limit=1) as session:
                # warm the processes with small requests (imports, pools), not the listing
                for _ in range(8):
                    await self._timed_get(session, f"{fx['base']}/data/projects/open", fx["manager_token"])
                for p in pids:
                    reset_hwm(p)
                before = {p: proc_status_kb(p, "VmRSS") for p in pids}
                with RssSampler(pids) as sampler:
                    ms, status, size = await self._timed_get(session, self.listing_url(target, variant),
                                                             fx["manager_token"], stream="stream" in variant)
                hwm = {p: proc_status_kb(p, "VmHWM") for p in pids}
                deltas = {p: (max(hwm[p], sampler.max_kb[p]) - before[p]) / 1024 for p in pids}
                worst = max(deltas, key=lambda p: deltas[p])
                return {"status": status, "bytes": size, "ms": round(ms, 1),
                        "rss_before_mb": round(before[worst] / 1024, 1),
                        "peak_increase_mb": round(deltas[worst], 1)}

        for variant in ("stream=true", "json"):
            query = "" if variant == "json" else variant
            row = res.setdefault(variant, {})
            if self.serves_listing("slate"):
                row["slate_production"] = asyncio.run(one("slate", query, self.production_workers()))
            if self.serves_listing("zou"):
                row["zou_worker"] = asyncio.run(one("zou", query, self.zou.worker_pids()))
        self.out["memory"] = res

    # the mix ---------------------------------------------------------------------------
    def run_load(self, target: str, concurrency: int, full_mix: bool = False) -> dict[str, Any]:
        self.settle(limit=30.0)
        fixture = self.workdir / f"fixture-{target}.json"
        if full_mix:
            fx = dict(self.fixtures[target], skip=[])
            fixture = self.workdir / f"fixture-{target}-full.json"
            fixture.write_text(json.dumps(fx))
        out = self.workdir / f"load-{target}-{concurrency}{'-full' if full_mix else ''}.json"
        cmd = [sys.executable, str(HERE / "production_load.py"), "--fixture", str(fixture),
               "--concurrency", str(concurrency), "--duration", str(self.args.duration),
               "--warmup", str(self.args.warmup), "--max-requests", str(self.args.max_requests),
               "--seed", str(concurrency), "--out", str(out)]
        if self.args.pin_loadgen is not None:
            cmd = ["taskset", "-c", self.args.pin_loadgen, *cmd]
        ours = [os.getpid()]
        servers = self.server_pids(target) + [self.postgres_pid()]
        busy0, ours0, srv0 = machine_busy_s(), tree_cpu(ours), tree_cpu(servers)
        load0 = os.getloadavg()[0]
        parts0 = self.slate_breakdown()
        subprocess.run(cmd, check=True)
        busy1, ours1, srv1 = machine_busy_s(), tree_cpu(ours), tree_cpu(servers)
        parts1 = self.slate_breakdown()
        result: dict[str, Any] = json.loads(out.read_text())
        wall = self.args.duration + self.args.warmup
        ok = result["all"]["ok"]
        # servers' CPU over warmup + measured window, per request served in that time
        result["server_cpu_s"] = round(srv1 - srv0, 2)
        result["server_cpu_ms_per_request"] = round((srv1 - srv0) * 1000 / max(1, ok * wall / result["seconds"]), 2)
        # ours: this process, every server and the load generator (reaped: in children_*)
        other = (busy1 - busy0) - (ours1 - ours0)
        result["other_cpu_cores"] = round(max(0.0, other) / wall, 2)
        result["loadavg_before"] = round(load0, 2)
        # where the CPU went on Slate's side (postgres: the whole server, whoever drove it)
        result["slate_cpu_s_by_process"] = {n: round(parts1[n] - parts0.get(n, 0.0), 2) for n in parts1}
        a = result["all"]
        print(f"  {target:<5} {concurrency:>3} clients{' (full mix)' if full_mix else ''}: {a['rps']:8.1f} req/s  "
              f"median {a['median_ms']} ms  p99 {a['p99_ms']} ms  errors {a['errors']}  "
              f"loadgen CPU {result['loadgen_cpu_share'] * 100:.0f}% of a core  "
              f"server CPU {result['server_cpu_ms_per_request']} ms/req  other load {result['other_cpu_cores']} cores",
              flush=True)
        return result

    def mix(self) -> None:
        self.out["mix"] = {"slate": {}, "zou": {}, "zou_full_mix": {}}
        if len(self.out["skipped_kinds"]) == len(KINDS):
            print("\nside-by-side mix: SKIPPED (Slate serves none of the request kinds yet)", flush=True)
        else:
            print(f"\nmix of {', '.join(k.name for k in KINDS if k.name not in self.out['skipped_kinds'])}",
                  flush=True)
            for i, level in enumerate(self.args.levels):
                order = TARGETS if i % 2 == 0 else tuple(reversed(TARGETS))
                for target in order:
                    self.out["mix"][target][str(level)] = self.run_load(target, level)
        if self.out["skipped_kinds"] and not self.args.no_zou_full_mix:
            print("\nZou on the full mix (reference; Slate does not serve all of it yet)", flush=True)
            for level in self.args.levels:
                self.out["mix"]["zou_full_mix"][str(level)] = self.run_load("zou", level, full_mix=True)
        ratios = {}
        for level in self.args.levels if self.out["mix"]["slate"] else []:
            s, z = self.out["mix"]["slate"][str(level)]["all"], self.out["mix"]["zou"][str(level)]["all"]
            ratios[str(level)] = {
                "throughput_ratio": round(s["rps"] / z["rps"], 2) if z["rps"] else None,
                "slate_p99_ms": s["p99_ms"], "zou_median_ms": z["median_ms"],
                "slate_p99_below_zou_median": (s["p99_ms"] is not None and z["median_ms"] is not None
                                               and s["p99_ms"] < z["median_ms"]),
            }
        self.out["ratios"] = ratios

    # report ------------------------------------------------------------------------------
    def report(self) -> Path:
        out_dir = HERE / "out"
        out_dir.mkdir(exist_ok=True)
        path = out_dir / f"production-{time.strftime('%Y%m%d-%H%M%S')}.json"
        self.out["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.out["machine"]["loadavg_after"] = os.getloadavg()
        path.write_text(json.dumps(self.out, indent=1))
        print_summary(self.out)
        print(f"\nresults: {path}")
        return path


def fmt(v: Any, unit: str = "") -> str:
    return "-" if v is None else f"{v}{unit}"


def print_summary(out: dict[str, Any]) -> None:
    print("\n== seed (seconds; requests) ==")
    seed_ = out.get("seed", {})
    steps = list(next(iter(seed_.values()))["steps"]) if seed_ else []
    print(f"{'step':<12}" + "".join(f"{t:>28}" for t in TARGETS))
    for step in steps:
        cells = []
        for t in TARGETS:
            s = seed_[t]["steps"].get(step, {})
            cells.append(("FAILED " if s.get("error") else "") + f"{s.get('seconds', 0):.1f} s; {s.get('requests', 0)}")
        print(f"{step:<12}" + "".join(f"{c:>28}" for c in cells))
    print(f"{'total':<12}" + "".join(f"{seed_[t]['seconds']:>26.1f} s" for t in TARGETS))
    for k, why in out.get("skipped_kinds", {}).items():
        print(f"SKIP {k}: slate {why['slate'] or 'ok'}; zou {why['zou'] or 'ok'}")
    mix = out.get("mix", {})
    if mix.get("slate"):
        print("\n== mix (same kinds on both) ==")
        print(f"{'clients':>7} {'target':<6}{'req/s':>9}{'median ms':>11}{'p99 ms':>10}{'errors':>8}"
              f"{'srv CPU ms/req':>16}{'loadgen CPU':>13}{'other cores':>13}")
        for level in mix["slate"]:
            for t in TARGETS:
                r = mix[t][level]
                a = r["all"]
                print(f"{level:>7} {t:<6}{a['rps']:>9.1f}{fmt(a['median_ms']):>11}{fmt(a['p99_ms']):>10}"
                      f"{a['errors']:>8}{r['server_cpu_ms_per_request']:>16}"
                      f"{r['loadgen_cpu_share'] * 100:>12.0f}%{r['other_cpu_cores']:>13}")
            q = out["ratios"][level]
            print(f"{'':>7} ratio  throughput x{q['throughput_ratio']}, slate p99 {q['slate_p99_ms']} ms vs zou median "
                  f"{q['zou_median_ms']} ms -> {'below' if q['slate_p99_below_zou_median'] else 'NOT below'}")
        print("\n== per kind (median / p99 ms; req/s) ==")
        kinds = sorted({k for t in TARGETS for lv in mix[t].values() for k in lv["kinds"]},
                       key=[k.name for k in KINDS].index)
        for level in mix["slate"]:
            for k in kinds:
                cells = []
                for t in TARGETS:
                    r = mix[t][level]["kinds"].get(k)
                    cells.append("-" if r is None else f"{fmt(r['median_ms'])} / {fmt(r['p99_ms'])}; {r['rps']}"
                                 + (f" ({r['errors']} err)" if r["errors"] else ""))
                print(f"{level:>3} {k:<18} slate {cells[1]:<32} zou {cells[0]}")
    if mix.get("zou_full_mix"):
        print("\n== Zou on the full mix (reference) ==")
        for level, r in mix["zou_full_mix"].items():
            a = r["all"]
            print(f"{level:>7} zou   {a['rps']:>9.1f} req/s  median {a['median_ms']} ms  p99 {a['p99_ms']} ms")
    listing = out.get("listing", {})
    print("\n== full shot list with tasks, 1 client (median ms; bytes) ==")
    for variant, r in listing.items():
        if variant == "skipped":
            print(f"SKIPPED: {r}")
            continue
        cells = {t: f"{r[t]['median_ms']} ms ({r[t]['bytes']} B)" if t in r else "-" for t in TARGETS}
        print(f"{variant:<14} slate {cells['slate']:<26} zou {cells['zou']:<26} x{r.get('speedup', '-')}")
    memory = out.get("memory", {})
    print("\n== peak RSS increase while serving the shot list ==")
    for variant, r in memory.items():
        if variant == "skipped":
            print(f"SKIPPED: {r}")
            continue
        cells = {k: f"+{r[k]['peak_increase_mb']} MB (from {r[k]['rss_before_mb']} MB)" if k in r else "-"
                 for k in ("slate_production", "zou_worker")}
        print(f"{variant:<14} slate production {cells['slate_production']:<28} zou worker {cells['zou_worker']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per level and target")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=20000, help="cap per level and target")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--listing-runs", type=int, default=10)
    parser.add_argument("--seed-concurrency", type=int, default=8)
    parser.add_argument("--pin-loadgen", default=None, help="taskset CPU list for the load generator, e.g. 1")
    parser.add_argument("--zou-venv", default=None, help="default ${ZOU_ORACLE_HOME:-/tmp/zou-oracle}/venv")
    parser.add_argument("--zou-workers", type=int, default=3)
    parser.add_argument("--no-zou-full-mix", action="store_true")
    parser.add_argument("--tiny", action="store_true", help="tiny production (a smoke run)")
    parser.add_argument("--fsync", action="store_true",
                        help="PostgreSQL with fsync on (default off, as the test stacks: less disk noise)")
    args = parser.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    bench = Bench(args)

    def interrupted(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # run the finally below: stop both servers

    signal.signal(signal.SIGTERM, interrupted)
    try:
        bench.boot()
        bench.seed_all()
        bench.settle()
        bench.prepare_mix()
        bench.memory()
        bench.listing()
        bench.mix()
    finally:
        bench.stop()
        shutil.rmtree(bench.workdir, ignore_errors=True)
    bench.report()


if __name__ == "__main__":
    main()
