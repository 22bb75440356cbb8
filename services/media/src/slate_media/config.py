"""Media settings (``SLATE_MEDIA_*``): object storage buckets, upload limit, the job
queue and the transcoding knobs."""

from __future__ import annotations

import math
import os
from pathlib import Path

from slate_common.config import BaseServiceSettings, service_config


def _cgroup_quota(cgroup_root: Path, proc_cgroup: Path) -> float | None:
    """The tightest CPU quota (in CPUs) on this process's cgroup and its parents, if any."""
    limits: list[float] = []
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":  # cgroup v2: <root>/<path>/cpu.max
            parts = [p for p in path.split("/") if p]
            for depth in range(len(parts), -1, -1):
                try:
                    quota, period = (cgroup_root / "/".join(parts[:depth]) / "cpu.max").read_text().split()[:2]
                except (OSError, ValueError):
                    continue
                if quota != "max" and float(period) > 0:
                    limits.append(float(quota) / float(period))
        elif "cpu" in controllers.split(","):  # cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us
            for base in (cgroup_root / "cpu,cpuacct", cgroup_root / "cpu"):
                for where in (base / path.lstrip("/"), base):
                    try:
                        quota_us = int((where / "cpu.cfs_quota_us").read_text())
                        period_us = int((where / "cpu.cfs_period_us").read_text())
                    except (OSError, ValueError):
                        continue
                    if quota_us > 0 and period_us > 0:
                        limits.append(quota_us / period_us)
                    break
    return min(limits) if limits else None


def available_cpus(cgroup_root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """The CPUs this process may use: its affinity, capped by its cgroup's CPU quota (rounded up)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    quota = _cgroup_quota(cgroup_root, proc_cgroup)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


class MediaSettings(BaseServiceSettings):
    service_name = "media"
    model_config = service_config("media")

    #: Buckets are ``<prefix>-previews``, ``-movies``, ``-files``, ``-thumbnails``, ``-attachments``.
    bucket_prefix: str = "slate"
    #: Largest accepted upload, in bytes (refused while streaming, 413).
    max_upload_bytes: int = 5 * 1024**3
    #: Whether GET /movies/source/preview-files/{id}.mp4 serves a movie as it was uploaded.
    #: Zou 1.0.97 answers 404 there (observed for .mp4 and .mov uploads): off by default,
    #: so no client reads more than on Zou; the source is stored either way.
    serve_movie_source: bool = False
    #: Seconds an upload may go without a byte arriving before it is refused (408) and its
    #: scratch file removed (nothing stored, nothing queued).
    upload_idle_seconds: float = 30.0
    #: Longest an upload may take in all, in seconds (then 408, as above).
    upload_max_seconds: float = 3600.0
    #: Largest picture decoded (width x height, read from the header first): uploads over it
    #: are refused (400), before any pixel is decoded. Pillow's own bomb threshold.
    max_picture_pixels: int = 89_478_485
    #: Largest movie frame transcoded (read by the probe first): beyond, the preview is
    #: marked broken with the reason. 8K DCI (8192 x 4320) fits.
    max_movie_pixels: int = 40_000_000
    #: Longest movie transcoded, in seconds (read by the probe first; broken beyond).
    max_movie_seconds: float = 4 * 3600.0
    #: Data size each ffmpeg run may use (RLIMIT_DATA; 0: no limit): beyond, its allocations
    #: fail, it stops and the preview is broken with ffmpeg's reason.
    ffmpeg_memory_bytes: int = 4 * 1024**3
    #: Longest ffmpeg run, in seconds (a run is given 30 times the movie's length, at least
    #: 600 s, up to this): beyond, it is stopped and the preview broken with the reason.
    ffmpeg_timeout_seconds: float = 4 * 3600.0
    #: Run the preview job loop in this process (the API by default, like the relay).
    jobs_enabled: bool = True
    #: Jobs one process works on at once.
    job_concurrency: int = 1
    #: Seconds without a heartbeat after which JetStream hands a job to another worker.
    job_ack_wait: float = 60.0
    #: A job whose processing was started this many times (crashes included) is broken.
    job_max_attempts: int = 5
    jobs_stream: str = "SLATE_MEDIA_JOBS"
    #: Subjects of the jobs (``<jobs_subject>.preview``); one stream per prefix.
    jobs_subject: str = "slate.jobs.media"
    #: ffmpeg binary; empty = the system's ``ffmpeg`` if any, else the imageio-ffmpeg wheel's.
    ffmpeg: str = ""
    #: x264 preset and quality of the normalised movie and its low-definition variant.
    hd_preset: str = "medium"
    hd_crf: int = 23
    ld_preset: str = "veryfast"
    ld_crf: int = 28
    ld_height: int = 480
    #: Threads each ffmpeg run may use (decoding, filters, encoding). Unset: the CPUs this
    #: process may use (its CPU affinity, capped by a cgroup ``cpu.max`` quota, so a
    #: Kubernetes worker limited to 1 CPU runs 1 thread); 0 lets ffmpeg decide (it counts
    #: the affinity's CPUs, not the quota).
    ffmpeg_threads: int | None = None
    #: Directory for scratch files of uploads and transcodes (default: the system's temp dir).
    scratch_dir: str | None = None

    def ffmpeg_thread_count(self) -> int:
        return self.ffmpeg_threads if self.ffmpeg_threads is not None else available_cpus()

    def bucket(self, kind: str) -> str:
        return f"{self.bucket_prefix}-{kind}"
