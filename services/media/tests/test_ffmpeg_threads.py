"""How many threads a worker's ffmpeg gets: the CPUs the process may use (affinity,
capped by a cgroup CPU quota), or SLATE_MEDIA_FFMPEG_THREADS; and that the command
line carries it to the decoder, the filter graph and both encoders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slate_media.adapters import processing
from slate_media.config import MediaSettings, available_cpus


def cgroup_v2(tmp_path: Path, path: str, limits: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for where, value in limits.items():
        (root / where).mkdir(parents=True, exist_ok=True)
        (root / where / "cpu.max").write_text(value + "\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(f"0::{path}\n")
    return root, proc


def test_available_cpus_follows_affinity_and_cgroup_quota(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    root, proc = cgroup_v2(tmp_path / "none", "/", {".": "max 100000"})
    assert available_cpus(root, proc) == affinity
    # a Kubernetes container limited to 1 CPU (its namespace root holds the quota)
    root, proc = cgroup_v2(tmp_path / "k8s", "/", {".": "100000 100000"})
    assert available_cpus(root, proc) == 1
    # 1.5 CPUs on a parent of the process's cgroup: rounded up, never above the affinity
    root, proc = cgroup_v2(tmp_path / "nested", "/kubepods/pod1/c1", {
        ".": "max 100000", "kubepods": "max 100000", "kubepods/pod1": "150000 100000", "kubepods/pod1/c1": "max 100000"})
    assert available_cpus(root, proc) == min(2, affinity)
    # cgroup v1
    v1 = tmp_path / "v1" / "cgroup"
    (v1 / "cpu,cpuacct" / "docker" / "abc").mkdir(parents=True)
    (v1 / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_quota_us").write_text("50000\n")
    (v1 / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "v1" / "proc"
    proc.write_text("4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n")
    assert available_cpus(v1, proc) == 1
    # nothing readable: the affinity
    assert available_cpus(tmp_path / "missing", tmp_path / "missing-proc") == affinity


def test_thread_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLATE_MEDIA_FFMPEG_THREADS", raising=False)
    assert MediaSettings().ffmpeg_thread_count() == available_cpus()
    monkeypatch.setenv("SLATE_MEDIA_FFMPEG_THREADS", "1")
    assert MediaSettings().ffmpeg_thread_count() == 1
    monkeypatch.setenv("SLATE_MEDIA_FFMPEG_THREADS", "0")
    assert MediaSettings().ffmpeg_thread_count() == 0


def test_threads_reach_decoder_filters_and_encoders(tmp_path: Path) -> None:
    info = processing.Probe(640, 360, 2.0, 25.0, True)
    kw = dict(fps=25.0, resolution=(1920, 1080), hd_preset="medium", hd_crf=23, ld_preset="veryfast", ld_crf=28,
              ld_height=480)
    argv = processing.normalize_command("ffmpeg", tmp_path / "in.mov", processing.movie_outputs(tmp_path), info,
                                        threads=1, **kw)
    i = argv.index("-i")
    assert argv[i - 2:i] == ["-threads", "1"]  # decoder
    assert argv[argv.index("-filter_complex_threads") + 1] == "1"
    assert [argv[j + 1] for j, a in enumerate(argv) if a == "-threads"] == ["1", "1", "1"]  # decoder + 2 encoders
    auto = processing.normalize_command("ffmpeg", tmp_path / "in.mov", processing.movie_outputs(tmp_path), info,
                                        threads=0, **kw)
    assert "-filter_complex_threads" not in auto and auto[auto.index("-i") - 1] != "1"
