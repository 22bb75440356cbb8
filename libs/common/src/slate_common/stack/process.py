"""Supervised child processes.

A :class:`ManagedProcess` is one named command (argv, env, log file). A
:class:`Supervisor` watches a set of them from a background thread, restarts any that
crash (with exponential backoff, logging a structured line each time; what the dead
process left in its process group is killed first), and stops them in reverse start
order: services first, infrastructure last.

Children get ``PR_SET_PDEATHSIG`` so they die with the supervisor even after a
``kill -9`` of the supervisor itself. That signal fires when the *thread* that forked the
child ends, not the process, so the supervisor forks every child from one thread of its
own that lives as long as it does: a stack booted from a short-lived thread (two stacks
booted side by side) keeps its processes when that thread returns.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from slate_common.stack._util import get_logger

log = get_logger("slate.supervisor")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # pragma: no cover - non-Linux
        pass


@dataclass
class ManagedProcess:
    """One named command run as a child process, output appended to ``log_path``."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None  # full environment; None inherits os.environ
    cwd: Path | None = None
    user: str | int | None = None  # run as this user (needs root)
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 10.0
    signal_group: bool = True  # deliver stop_signal to the whole process group
    pre_start: Callable[[], None] | None = None
    restart: bool = True  # the supervisor restarts it when it exits on its own
    group: str = "service"  # "infra" processes are stopped last

    popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    started_at: float = field(default=0.0, init=False)
    restarts: int = field(default=0, init=False)
    _log_file: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def start(self) -> None:
        if self.running():
            return
        if self.pre_start is not None:
            self.pre_start()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._close_log()
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        self._log_file.write(f"--- {stamp} slate: starting {' '.join(self.argv)}\n".encode())
        self._log_file.flush()
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs["user"] = self.user
        self.popen = subprocess.Popen(  # noqa: S603 - argv built by us
            list(self.argv),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=dict(self.env) if self.env is not None else None,
            cwd=str(self.cwd) if self.cwd else None,
            start_new_session=True,  # terminal Ctrl-C goes to the supervisor only
            preexec_fn=_die_with_parent,  # noqa: PLW1509
            **kwargs,
        )
        self.started_at = time.monotonic()

    def _signal(self, sig: int, group: bool) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            if group:
                os.killpg(self.popen.pid, sig)
            else:
                self.popen.send_signal(sig)
        except ProcessLookupError:
            pass

    def send_stop(self) -> None:
        self._signal(self.stop_signal, self.signal_group)

    def wait_stopped(self, timeout: float | None = None) -> None:
        """Wait for exit after :meth:`send_stop`; SIGKILL the group after the timeout."""
        if self.popen is None:
            return
        try:
            self.popen.wait(timeout=self.stop_timeout if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            log.warning("process_stop_timeout", process=self.name, pid=self.popen.pid)
            self.kill()
        self._reap_group()
        self._close_log()

    def stop(self, timeout: float | None = None) -> None:
        self.send_stop()
        self.wait_stopped(timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash, as far as the child can tell)."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass

    def _reap_group(self) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)  # stragglers left in the group
        except (ProcessLookupError, PermissionError):
            pass

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class Supervisor:
    """Runs named processes, restarts crashed ones with backoff, stops all cleanly."""

    def __init__(
        self,
        *,
        poll_interval: float = 0.3,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        stable_after: float = 30.0,
    ) -> None:
        self._procs: dict[str, ManagedProcess] = {}
        self._order: list[str] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff: dict[str, float] = {}
        self._next_start: dict[str, float] = {}
        self._held: set[str] = set()  # stopped on purpose: not restarted
        self._spawner: ThreadPoolExecutor | None = None  # the one thread that forks children
        self.poll_interval = poll_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stable_after = stable_after
        self.on_restart: Callable[[ManagedProcess], None] | None = None

    # -- registry -----------------------------------------------------------------
    def add(self, proc: ManagedProcess, *, start: bool = False) -> ManagedProcess:
        with self._lock:
            if proc.name in self._procs:
                raise ValueError(f"process {proc.name!r} already supervised")
            self._procs[proc.name] = proc
            self._order.append(proc.name)
        if start:
            self.start(proc.name)
        return proc

    def __getitem__(self, name: str) -> ManagedProcess:
        return self._procs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._procs

    @property
    def names(self) -> list[str]:
        return list(self._order)

    # -- lifecycle of one process ----------------------------------------------------
    def _spawn(self, proc: ManagedProcess) -> None:
        """``proc.start()`` on the supervisor's spawner thread (see the module docstring)."""
        with self._lock:
            if self._spawner is None:
                self._spawner = ThreadPoolExecutor(1, thread_name_prefix="slate-spawner")
            spawner = self._spawner
        if threading.current_thread().name.startswith("slate-spawner"):
            proc.start()
        else:
            spawner.submit(proc.start).result()

    def start(self, name: str, *, env: Mapping[str, str] | None = None) -> ManagedProcess:
        """Start (or restart after :meth:`stop`) ``name``; ``env`` replaces its environment."""
        with self._lock:
            proc = self._procs[name]
            if env is not None:
                proc.env = dict(env)
            self._held.discard(name)
            self._backoff.pop(name, None)
            self._next_start.pop(name, None)
            self._spawn(proc)
        self._ensure_monitor()
        log.info("process_started", process=name, pid=proc.pid)
        return proc

    def stop(self, name: str, timeout: float | None = None) -> None:
        """Stop ``name`` gracefully and keep it stopped (no automatic restart)."""
        self.stop_together([name], timeout)

    def stop_together(self, names: list[str], timeout: float | None = None) -> None:
        """Stop several processes gracefully at once (all signalled, then all awaited)
        and keep them stopped."""
        with self._lock:
            self._held.update(names)
            procs = [self._procs[name] for name in names]
        for proc in procs:
            proc.send_stop()
        for proc in procs:
            proc.wait_stopped(timeout)
            log.info("process_stopped", process=proc.name, returncode=proc.returncode)

    def kill(self, name: str) -> None:
        """``kill -9`` the process group of ``name``; the monitor restarts it as a crash."""
        proc = self._procs[name]
        log.info("process_killed", process=name, pid=proc.pid)
        proc.kill()

    def restart(
        self,
        name: str,
        *,
        env: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
        hard: bool = True,
    ) -> ManagedProcess:
        """Kill -9 (``hard``) or stop ``name`` then start it again, optionally with a new env."""
        with self._lock:
            self._held.add(name)
            proc = self._procs[name]
        if hard:
            proc.kill()
        else:
            proc.stop()
        new_env = dict(env) if env is not None else dict(proc.env or os.environ)
        if extra_env:
            new_env.update(extra_env)
        return self.start(name, env=new_env)

    # -- whole set --------------------------------------------------------------------
    def start_all(self) -> None:
        for name in self.names:
            self.start(name)

    def stop_all(self, timeout: float | None = None) -> None:
        """SIGTERM services (in parallel), then infrastructure; SIGKILL after timeouts."""
        self._stopping.set()
        with self._lock:
            procs = [self._procs[n] for n in reversed(self._order)]
            self._held.update(self._order)
        for group in ("service", "infra"):
            batch = [p for p in procs if (p.group == "infra") == (group == "infra")]
            for p in batch:
                p.send_stop()
            for p in batch:
                p.wait_stopped(timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        with self._lock:
            spawner, self._spawner = self._spawner, None
        if spawner is not None:
            spawner.shutdown(wait=False)
        log.info("supervisor_stopped")

    # -- monitor ----------------------------------------------------------------------
    def _ensure_monitor(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._thread = threading.Thread(target=self._monitor, name="slate-supervisor", daemon=True)
            self._thread.start()

    def _monitor(self) -> None:
        while not self._stopping.wait(self.poll_interval):
            now = time.monotonic()
            with self._lock:
                for name in list(self._order):
                    if self._stopping.is_set():
                        return
                    self._check(name, now)

    def _check(self, name: str, now: float) -> None:
        proc = self._procs[name]
        if name in self._held or proc.popen is None or not proc.restart:
            return
        if proc.running():
            if now - proc.started_at > self.stable_after:
                self._backoff.pop(name, None)
            return
        due = self._next_start.get(name)
        if due is None:
            # Children the dead process left in its group (uvicorn's workers when only the
            # parent was killed) still hold its port: end them before the restart.
            proc._reap_group()
            delay = self._backoff.get(name, 0.0)
            delay = self.backoff_initial if delay == 0 else min(delay * 2, self.backoff_max)
            if now - proc.started_at > self.stable_after:
                delay = self.backoff_initial
            self._backoff[name] = delay
            self._next_start[name] = now + delay
            log.warning(
                "process_crashed",
                process=name,
                pid=proc.pid,
                returncode=proc.returncode,
                restart_in_seconds=delay,
                log_file=str(proc.log_path),
            )
            return
        if now < due:
            return
        self._next_start.pop(name, None)
        try:
            self._spawn(proc)
        except Exception as exc:  # noqa: BLE001 - keep supervising the rest
            log.error("process_restart_failed", process=name, error=str(exc))
            proc.started_at = now
            return
        proc.restarts += 1
        log.warning("process_restarted", process=name, pid=proc.pid, restarts=proc.restarts)
        if self.on_restart is not None:
            self.on_restart(proc)
