"""Media settings (``SLATE_MEDIA_*``): object storage buckets, upload limit, the job
queue and the transcoding knobs."""

from __future__ import annotations

from slate_common.config import BaseServiceSettings, service_config


class MediaSettings(BaseServiceSettings):
    service_name = "media"
    model_config = service_config("media")

    #: Buckets are ``<prefix>-previews``, ``-movies``, ``-files``, ``-thumbnails``, ``-attachments``.
    bucket_prefix: str = "slate"
    #: Largest accepted upload, in bytes (refused while streaming, 413).
    max_upload_bytes: int = 5 * 1024**3
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
    #: Threads each ffmpeg run may use (0 = ffmpeg decides).
    ffmpeg_threads: int = 0
    #: Directory for scratch files of uploads and transcodes (default: the system's temp dir).
    scratch_dir: str | None = None

    def bucket(self, kind: str) -> str:
        return f"{self.bucket_prefix}-{kind}"
