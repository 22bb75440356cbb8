"""Helpers: start real upstream processes (uvicorn + a small FastAPI app) and real gateways."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).parent
SERVICES = ("auth", "production", "media", "import-export", "planning")
#: The session gateway's SLATE_GATEWAY_ANSWERED_BODY_LINGER_SECONDS (5 s by default).
ANSWERED_BODY_LINGER = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20.0, status: int = 200) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=1.0)
            if r.status_code == status:
                return
            last = r.status_code
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} not answering {status} (last: {last})")


@dataclass
class Proc:
    url: str
    port: int
    proc: subprocess.Popen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_upstream(port: int | None = None, name: str = "test-upstream") -> Proc:
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "upstream_app:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=HERE, env={**os.environ, "UPSTREAM_NAME": name})
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz")
    return Proc(url, port, proc)


def start_gateway(upstreams: dict[str, str], **env: str) -> Proc:
    port = free_port()
    full_env = {**os.environ, "SLATE_PORT": str(port), "SLATE_GATEWAY_REFRESH_SECONDS": "2",
                **env}
    for service in SERVICES:
        full_env["SLATE_" + service.upper().replace("-", "_") + "_URL"] = upstreams.get(
            service, "off")
    proc = subprocess.Popen([sys.executable, "-m", "slate_gateway", "serve"], env=full_env)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/readyz")
    return Proc(url, port, proc)


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)
