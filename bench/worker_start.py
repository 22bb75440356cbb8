"""How long a media worker takes from its spawn to running its loops (``worker_running``
in its log), and the CPU it used until then: the part of a restart's downtime the worker
itself costs (docs/reliability.md, "respawn -> serving" of the chaos run).

Boots embedded PostgreSQL, NATS and S3 in a temporary directory, migrates a media
database, then starts ``python -m slate_media worker`` ``--rounds`` times with each
``--python`` given (another worktree's venv runs that worktree's code), alternating, and
prints the median and each round's wall seconds, CPU seconds (user + system, from
/proc/<pid>/stat) and seconds waited for a CPU (/proc/<pid>/schedstat).

    .venv/bin/python bench/worker_start.py --python /work/main/.venv/bin/python \
        --python .venv/bin/python --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from slate_common.testing import create_database, migrate_in_process, start_infra

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def waited_seconds(pid: int) -> float:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def one_start(python: str, env: dict[str, str], log: Path) -> tuple[float, float, float]:
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen([python, "-m", "slate_media", "worker"], env=env,  # noqa: S603
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        while b"worker_running" not in log.read_bytes():
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() - started > 120:
                raise TimeoutError(log.read_text())
            time.sleep(0.01)
        wall = time.monotonic() - started
        return wall, cpu_seconds(proc.pid), waited_seconds(proc.pid)
    finally:
        proc.kill()  # as the chaos run does; a graceful stop is not what is measured
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", action="append", required=True, help="an interpreter (repeatable)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="worker-start-") as tmp, start_infra(Path(tmp), "embedded") as infra:
        database = create_database(infra, prefix="slate_media_bench")
        migrate_in_process("media", database)
        env = {**os.environ, **infra.env(), "SLATE_MEDIA_DATABASE_URL": database, "SLATE_LOG_LEVEL": "INFO",
               "SLATE_MEDIA_JOBS_ENABLED": "true", "SLATE_MEDIA_WORKERS_ENABLED": "true"}
        results: dict[str, list[tuple[float, float, float]]] = {p: [] for p in args.python}
        for round_ in range(args.rounds):
            for python in args.python:
                results[python].append(one_start(python, env, Path(tmp) / f"worker-{round_}.log"))
        print(f"load average {os.getloadavg()}")
        for python, rows in results.items():
            wall, cpu, waited = (statistics.median(r[i] for r in rows) for i in range(3))
            print(f"{python}: median wall {wall:.2f} s, CPU {cpu:.2f} s, waited {waited:.2f} s; rounds "
                  + ", ".join(f"{w:.2f}/{c:.2f}/{q:.2f}" for w, c, q in rows))


if __name__ == "__main__":
    main()
