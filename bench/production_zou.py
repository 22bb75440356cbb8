"""Zou 1.0.97 as its deployment docs serve it, for the side-by-side production benchmark.

gunicorn with gevent workers (3 workers, ``worker_class = "gevent"``, as in Zou's
documented ``gunicorn.py``) running ``zou.app:app``, a private redis-server, and a
database of its own on a PostgreSQL server we are given (the embedded one of the Slate
stack, so both products share the same server, settings and disk).

Zou is installed from PyPI into a virtualenv outside the repository: by default the one
of the shared oracle tool (``${ZOU_ORACLE_HOME:-/tmp/zou-oracle}/venv``), else a new one
under ``--zou-venv`` (``python3 -m venv``; ``pip install zou==1.0.97 gunicorn gevent``).
Slate never imports zou: this module only runs its command line and its server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

ZOU_VERSION = "1.0.97"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "bench-admin-password"


def default_venv() -> Path:
    home = os.environ.get("ZOU_ORACLE_HOME") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "zou-oracle")
    return Path(home) / "venv"


def ensure_venv(venv: Path) -> Path:
    """A virtualenv with zou==1.0.97, gunicorn and gevent (installed when missing)."""
    if not (venv / "bin" / "zou").exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"zou=={ZOU_VERSION}", "gunicorn", "gevent"],
                       check=True)
    return venv


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark process dies, however it dies."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_http(url: str, timeout: float, alive: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"process exited with {alive.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class ZouServer:
    """``with ZouServer(...) as zou: zou.url`` — redis + gunicorn/gevent zou on loopback."""

    def __init__(self, *, home: Path, venv: Path, pg_host: str, pg_port: int, database: str,
                 port: int, redis_port: int, workers: int = 3, pg_user: str = "postgres") -> None:
        self.home = Path(home)
        self.venv = venv
        self.pg_host, self.pg_port, self.pg_user, self.database = pg_host, pg_port, pg_user, database
        self.port, self.redis_port, self.workers = port, redis_port, workers
        self.redis: subprocess.Popen[bytes] | None = None
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.admin_email, self.admin_password = ADMIN_EMAIL, ADMIN_PASSWORD

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key in [k for k in env if k.startswith("SLATE_")]:
            env.pop(key)
        env.update({
            "DB_HOST": self.pg_host, "DB_PORT": str(self.pg_port), "DB_USERNAME": self.pg_user,
            "DB_PASSWORD": "unused-trust-auth", "DB_DATABASE": self.database,
            "KV_HOST": "127.0.0.1", "KV_PORT": str(self.redis_port),
            "SECRET_KEY": "zou-bench-local-secret-key-0123456789abcdef",
            "PREVIEW_FOLDER": str(self.home / "previews"), "TMP_DIR": str(self.home / "tmp"),
            "MAIL_ENABLED": "false", "MAIL_CHECK_DELIVERABILITY": "false",
            # no Meilisearch here: point the indexer at a closed port
            "INDEXER_HOST": "127.0.0.1", "INDEXER_PORT": "1",
            "PLUGIN_FOLDER": str(self.home / "plugins"),
            "EVENT_HANDLERS_FOLDER": str(self.home / "no-event-handlers"),
        })
        return env

    def _zou(self, *args: str) -> None:
        log = self.home / "logs" / f"zou-{args[0]}.log"
        with open(log, "ab") as out:
            subprocess.run([str(self.venv / "bin" / "zou"), *args], check=True, env=self.env(), cwd=self.home,
                           stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def start(self) -> None:
        for d in ("previews", "tmp", "logs", "plugins", "redis"):
            (self.home / d).mkdir(parents=True, exist_ok=True)
        redis = shutil.which("redis-server")
        if redis is None:
            raise RuntimeError("redis-server is missing (apt-get install redis-server)")
        self.redis = subprocess.Popen(  # noqa: S603
            [redis, "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "no",
             "--dir", str(self.home / "redis"), "--logfile", str(self.home / "logs" / "redis.log")],
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        self._zou("init-db")
        self._zou("init-data")
        self._zou("create-admin", "--password", self.admin_password, self.admin_email)
        self.gunicorn = subprocess.Popen(  # noqa: S603
            [str(self.venv / "bin" / "gunicorn"), "-w", str(self.workers), "-k", "gevent",
             "-b", f"127.0.0.1:{self.port}", "--error-logfile", str(self.home / "logs" / "gunicorn.log"),
             "zou.app:app"],
            env=self.env(), cwd=self.home, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent)
        _wait_http(self.url + "/", 120, self.gunicorn)

    def worker_pids(self) -> list[int]:
        """The gunicorn master's children (the gevent workers that serve requests)."""
        import psutil

        if self.gunicorn is None:
            return []
        return [c.pid for c in psutil.Process(self.gunicorn.pid).children()]

    def stop(self) -> None:
        for proc in (self.gunicorn, self.redis):
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.gunicorn = self.redis = None

    def __enter__(self) -> ZouServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
