"""Settings from environment variables, with defaults that fit the embedded stack.

Every service has one settings object, a subclass of :class:`BaseServiceSettings`.
Shared knobs use the ``SLATE_`` prefix (``SLATE_NATS_URL``); a service's own knobs
use its own prefix (``SLATE_AUTH_PORT``) so that one environment can hold them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Default ports of the embedded stack, one place for the supervisor, services and tests
#: (when SLATE_PORT_BASE is unset). S3's internal ports follow its port (see stack/s3.py).
DEFAULT_PORTS: dict[str, int] = {
    "gateway": 8080,
    "auth": 8101,
    "production": 8102,
    "media": 8103,
    "import-export": 8104,
    "planning": 8105,
    "postgres": 15432,
    "nats": 14222,
    "nats_monitor": 14223,
    "s3": 18333,
    "smtp": 18025,
}

#: ``SLATE_PORT_BASE=B`` moves a whole stack into the block ``B .. B+PORT_BLOCK-1``: each
#: port is ``B +`` its offset here. Gateway replicas take ``B .. B+19``
#: (SLATE_GATEWAY_REPLICAS), the services ``B+21 ..`` (as 8101.. sit beside 8080), S3 and
#: its internal ports ``B+50 .. B+65``. Two stacks whose bases are PORT_BLOCK apart never
#: share a port.
PORT_BLOCK = 100
PORT_OFFSETS: dict[str, int] = {
    "gateway": 0,
    "auth": 21,
    "production": 22,
    "media": 23,
    "import-export": 24,
    "planning": 25,
    "postgres": 32,
    "nats": 42,
    "nats_monitor": 43,
    "smtp": 45,
    "s3": 50,
}
MAX_GATEWAY_REPLICAS = PORT_OFFSETS["auth"] - PORT_OFFSETS["gateway"] - 1


def port_base(environ: Mapping[str, str] | None = None) -> int | None:
    """``SLATE_PORT_BASE`` (None when unset or empty); refuses a block off the port range."""
    raw = (os.environ if environ is None else environ).get("SLATE_PORT_BASE", "").strip()
    if not raw:
        return None
    try:
        base = int(raw)
    except ValueError:
        raise ValueError(f"SLATE_PORT_BASE must be a port number, not {raw!r}") from None
    if not 1024 <= base <= 65536 - PORT_BLOCK:
        raise ValueError(f"SLATE_PORT_BASE must be between 1024 and {65536 - PORT_BLOCK} (the stack uses "
                         f"{PORT_BLOCK} ports from it), not {base}")
    return base


def default_ports(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """The embedded stack's ports for this environment: the block of SLATE_PORT_BASE when
    it is set, else :data:`DEFAULT_PORTS`. Individual settings (SLATE_PORT,
    SLATE_<SERVICE>_PORT, SLATE_POSTGRES_URL, ...) still override single ports."""
    base = port_base(environ)
    if base is None:
        return dict(DEFAULT_PORTS)
    return {name: base + offset for name, offset in PORT_OFFSETS.items()}


def _local_url(scheme: str, name: str) -> str:
    return f"{scheme}127.0.0.1:{default_ports()[name]}"

SERVICES: tuple[str, ...] = ("auth", "production", "media", "import-export", "planning")

DEV_SECRET = "slate-dev-secret-change-me"
#: Credentials of the embedded stack, refused when SLATE_ENV=production.
DEFAULT_ADMIN_PASSWORD = "slate-admin-password"
DEFAULT_S3_ACCESS_KEY = "slate"
DEFAULT_S3_SECRET_KEY = "slate-secret-key"


class SharedSettings(BaseSettings):
    """Knobs every process reads (``SLATE_*``)."""

    model_config = SettingsConfigDict(env_prefix="SLATE_", extra="ignore")

    env: str = "development"  # "production" refuses default secrets
    home: Path = Path("./var")
    host: str = "127.0.0.1"
    log_level: str = "INFO"
    log_format: str = "json"  # or "console"
    # defaults follow SLATE_PORT_BASE (see default_ports)
    postgres_url: str = Field(default_factory=lambda: _local_url("postgresql+asyncpg://postgres@", "postgres"))
    nats_url: str = Field(default_factory=lambda: _local_url("nats://", "nats"))
    events_stream: str = "SLATE_EVENTS"
    s3_endpoint: str = Field(default_factory=lambda: _local_url("", "s3"))
    s3_access_key: str = DEFAULT_S3_ACCESS_KEY
    s3_secret_key: str = DEFAULT_S3_SECRET_KEY
    s3_secure: bool = False
    jwt_audience: str = "slate"
    jwt_issuer: str = "slate-auth"
    auth_url: str = Field(default_factory=lambda: _local_url("http://", "auth"))
    otlp_endpoint: str | None = Field(default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    secret_key: str = DEV_SECRET
    #: The first admin's password (create-admin, the embedded stack); services only
    #: check that production does not run with the default.
    admin_password: str | None = None
    outbox_poll_seconds: float = 1.0
    #: Beside a settler, how old an unpublished row must be before the relay takes it: the
    #: request that committed it publishes it and marks it sent within milliseconds; the
    #: relay is the safety net for the rows a crash or an unreachable NATS left.
    outbox_settled_grace_seconds: float = 5.0
    #: How long a published outbox row is kept (hours; 0: forever). The stream holds the
    #: events themselves; the row is only the record that it was published. The relay
    #: deletes older ones every few minutes (slate_common.events.relay), and the consumers'
    #: inbox records once older than the stream's own retention.
    outbox_retention_hours: float = Field(default=24.0, ge=0)
    #: Test hook: the relay waits this long before publishing (crash tests widen the
    #: window between commit and publish with it). Zero in normal operation.
    outbox_relay_delay_seconds: float = 0.0
    #: Fault injection for crash tests only ("exit-after-publish"); unset in operation.
    outbox_fault: str | None = None
    #: Proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For/-Proto are
    #: believed; the gateway reads the same variable. Loopback fits the embedded stack;
    #: on Kubernetes, the pod network of the ingress controller and the gateway.
    trusted_proxies: str = "127.0.0.1/32,::1/128"
    #: A write is answered once every replica a client can read has applied it
    #: (docs/consistency.md), or after this bound, logging ``replica_lag``.
    consistency_wait_seconds: float = Field(default=2.0, ge=0)
    #: Off only to measure what the mechanism costs (bench/); replicas then lag visibly.
    consistency_enabled: bool = True

    #: The service's own database URL (``SLATE_<SVC>_DATABASE_URL``), set by
    #: :attr:`BaseServiceSettings.shared` so that the check sees the URL in use.
    _database_url: str | None = PrivateAttr(default=None)

    def production_problems(self) -> list[str]:
        """Every default credential still in use (empty outside production)."""
        if self.env != "production":
            return []
        problems = []
        if self.secret_key == DEV_SECRET or len(self.secret_key) < 32 or _placeholder(self.secret_key):
            problems.append("SLATE_SECRET_KEY is the default, an example or shorter than 32 characters")
        if (self.s3_access_key == DEFAULT_S3_ACCESS_KEY or self.s3_secret_key == DEFAULT_S3_SECRET_KEY
                or _placeholder(self.s3_access_key) or _placeholder(self.s3_secret_key)):
            problems.append("SLATE_S3_ACCESS_KEY / SLATE_S3_SECRET_KEY are the defaults or examples")
        if self.admin_password is not None and (self.admin_password == DEFAULT_ADMIN_PASSWORD
                                                or _placeholder(self.admin_password)):
            problems.append("SLATE_ADMIN_PASSWORD is the default or an example")
        urls = (("SLATE_POSTGRES_URL", self.postgres_url), ("the service's DATABASE_URL", self._database_url))
        for name, url in urls:
            if url is not None and not _has_password(url):
                problems.append(f"{name} has no password")
            elif url is not None and _placeholder(urlsplit(url).password or ""):
                problems.append(f"{name} has the example password")
        return problems

    def check_production_ready(self) -> None:
        """Refuse to start with SLATE_ENV=production and any default credential."""
        problems = self.production_problems()
        if problems:
            raise RuntimeError("SLATE_ENV=production refuses default credentials: " + "; ".join(problems))


def _placeholder(value: str) -> bool:
    """The examples' values (deploy/k8s/base/secrets.example.env: ``change-me...``)."""
    return "change-me" in value.lower() or "changeme" in value.lower()


def _has_password(url: str) -> bool:
    """A database URL with a password (``user:password@``, or ``?password=``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.password) or "password=" in parts.query


class BaseServiceSettings(BaseSettings):
    """Settings of one service: its own knobs under ``SLATE_<SERVICE>_``, shared ones
    in :attr:`shared`. Subclasses set ``service_name`` and their ``model_config``
    (use :func:`service_config`)."""

    service_name: ClassVar[str] = "service"
    model_config = SettingsConfigDict(extra="ignore")

    port: int = 0
    database_url: str | None = None  # defaults to <SLATE_POSTGRES_URL>/slate_<service>
    db_pool_size: int = 10
    db_max_overflow: int = 10
    #: PostgreSQL's plan_cache_mode for the service's connections (auto,
    #: force_generic_plan, force_custom_plan): see slate_common.db.make_engine.
    db_plan_cache_mode: Literal["auto", "force_generic_plan", "force_custom_plan"] = "auto"
    #: Requests of one API process at work at once, the others waiting their turn in
    #: arrival order (slate_common.admission); 0: no bound.
    max_active_requests: int = Field(default=0, ge=0)
    workers_enabled: bool = True  # outbox relay and consumers inside the API process
    #: API processes behind the service's port (uvicorn workers). Each runs its own relay
    #: and consumers too: the outbox is claimed with SKIP LOCKED and the consumers are
    #: durable and shared, so any number of processes (or replicas) cooperate.
    http_processes: int = Field(default=1, ge=1, le=64)

    @cached_property
    def shared(self) -> SharedSettings:
        shared = SharedSettings()
        shared._database_url = self.database_url
        return shared

    @property
    def database_name(self) -> str:
        return "slate_" + self.service_name.replace("-", "_")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"{self.shared.postgres_url.rstrip('/')}/{self.database_name}"

    @property
    def effective_port(self) -> int:
        return self.port or default_ports()[self.service_name]


def service_config(service: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=service_env_prefix(service), extra="ignore")


def service_env_prefix(service: str) -> str:
    return "SLATE_" + service.upper().replace("-", "_") + "_"
