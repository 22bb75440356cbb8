"""Boot the whole suite: infrastructure, migrations, first admin, services, gateway.

``slate up`` and the ``slate_stack`` test fixture both use :class:`Stack`; every port
comes from :class:`StackConfig`, so a test stack runs on free ports beside a running
``slate up``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from slate_common.config import DEFAULT_PORTS, SERVICES
from slate_common.stack._util import (
    free_port,
    free_port_block,
    get_logger,
    http_ok,
    port_is_free,
    tail,
    wait_until,
)
from slate_common.stack.nats import EmbeddedNats
from slate_common.stack.postgres import EmbeddedPostgres
from slate_common.stack.process import ManagedProcess, Supervisor
from slate_common.stack.s3 import S3_PORT_SPAN, EmbeddedS3
from slate_common.stack.smtp import EmbeddedSmtp

log = get_logger("slate.stack")

DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "slate-admin-password"
GATEWAY = "gateway"


class StackError(RuntimeError):
    """A step of booting the stack failed; the message carries the log tail."""


def module_name(service: str) -> str:
    """``import-export`` -> ``slate_import_export``; ``gateway`` -> ``slate_gateway``."""
    return "slate_" + service.replace("-", "_")


def env_key(service: str) -> str:
    return service.upper().replace("-", "_")


@dataclass(frozen=True)
class InfraEndpoints:
    """Where PostgreSQL, NATS and S3 are (embedded, containers or external)."""

    postgres_url: str  # postgresql+asyncpg://postgres@host:port, no database name
    nats_url: str
    s3_endpoint: str  # host:port
    s3_access_key: str = "slate"
    s3_secret_key: str = "slate-secret-key"

    @property
    def postgres_dsn(self) -> str:
        """asyncpg/libpq DSN of the ``postgres`` maintenance database."""
        return self.postgres_url.replace("postgresql+asyncpg://", "postgresql://", 1).rstrip("/") + "/postgres"

    def env(self) -> dict[str, str]:
        return {
            "SLATE_POSTGRES_URL": self.postgres_url,
            "SLATE_NATS_URL": self.nats_url,
            "SLATE_S3_ENDPOINT": self.s3_endpoint,
            "SLATE_S3_ACCESS_KEY": self.s3_access_key,
            "SLATE_S3_SECRET_KEY": self.s3_secret_key,
        }


def _port_from_url(url: str | None, default: int) -> int:
    if not url:
        return default
    if "://" not in url:
        url = "tcp://" + url
    try:
        return urlsplit(url).port or default
    except ValueError:
        return default


@dataclass
class StackConfig:
    home: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    admin_email: str = DEFAULT_ADMIN_EMAIL
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    s3_access_key: str = "slate"
    s3_secret_key: str = "slate-secret-key"
    services: tuple[str, ...] = SERVICES
    gateway: bool = True
    workers: tuple[str, ...] = ()  # extra `python -m slate_<svc> worker` processes
    #: API processes per service (SLATE_<SVC>_HTTP_PROCESSES, unless the environment sets
    #: it): production, the busiest, gets two so a heavy listing does not hold up the
    #: light requests behind it, and the service can use more than one core.
    http_processes: dict[str, int] = field(default_factory=lambda: {"production": 2})
    python: str = sys.executable
    extra_env: dict[str, str] = field(default_factory=dict)
    infra: InfraEndpoints | None = None  # use these instead of launching embedded infra
    postgres_fsync: bool = True
    boot_timeout: float = 180.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        """The configuration of ``slate up``: SLATE_* variables over DEFAULT_PORTS."""
        env = os.environ if environ is None else environ
        ports = dict(DEFAULT_PORTS)
        ports["postgres"] = _port_from_url(env.get("SLATE_POSTGRES_URL"), ports["postgres"])
        ports["nats"] = _port_from_url(env.get("SLATE_NATS_URL"), ports["nats"])
        ports["s3"] = _port_from_url(env.get("SLATE_S3_ENDPOINT"), ports["s3"])
        ports[GATEWAY] = int(env.get("SLATE_PORT", ports[GATEWAY]))
        for svc in SERVICES:
            ports[svc] = int(env.get(f"SLATE_{env_key(svc)}_PORT", ports[svc]))
        return cls(
            home=Path(env.get("SLATE_HOME", "./var")).resolve(),
            ports=ports,
            admin_email=env.get("SLATE_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL),
            admin_password=env.get("SLATE_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD),
            s3_access_key=env.get("SLATE_S3_ACCESS_KEY", "slate"),
            s3_secret_key=env.get("SLATE_S3_SECRET_KEY", "slate-secret-key"),
        )

    @classmethod
    def on_free_ports(cls, home: Path, **kwargs: Any) -> StackConfig:
        """Every port free (tests beside a running ``slate up``); fsync off for speed."""
        ports = {name: free_port() for name in (*SERVICES, GATEWAY, "smtp", "postgres")}
        ports["nats"] = free_port_block(2)
        ports["s3"] = free_port_block(S3_PORT_SPAN)
        kwargs.setdefault("postgres_fsync", False)
        return cls(home=Path(home).resolve(), ports=ports, **kwargs)


class Stack:
    """The suite as supervised processes. ``with Stack(cfg) as s: ...`` boots and stops it."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.home = config.home
        self.supervisor = Supervisor()
        self.postgres: EmbeddedPostgres | None = None
        self.nats: EmbeddedNats | None = None
        self.s3: EmbeddedS3 | None = None
        self.smtp: EmbeddedSmtp | None = None
        if config.infra is None:
            # a local SMTP sink: mail the services send lands in <home>/mail as .eml files
            if importlib.util.find_spec("aiosmtpd") is not None:
                self.smtp = EmbeddedSmtp(self.home, config.ports.get("smtp", DEFAULT_PORTS["smtp"]))
            else:
                log.warning("smtp_sink_unavailable", reason="aiosmtpd is not installed (make install)")
            self.postgres = EmbeddedPostgres(self.home, config.ports["postgres"], fsync=config.postgres_fsync)
            self.nats = EmbeddedNats(self.home, config.ports["nats"])
            self.s3 = EmbeddedS3(
                self.home,
                config.ports["s3"],
                access_key=config.s3_access_key,
                secret_key=config.s3_secret_key,
            )
            self.infra = InfraEndpoints(
                self.postgres.url, self.nats.url, self.s3.endpoint, config.s3_access_key, config.s3_secret_key
            )
        else:
            self.infra = config.infra
        self.admin_created = False

    # -- addresses ----------------------------------------------------------------------
    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.config.ports[GATEWAY]}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.config.ports[service]}"

    @property
    def service_urls(self) -> dict[str, str]:
        return {svc: self.service_url(svc) for svc in self.config.services}

    def env(self) -> dict[str, str]:
        """Environment of every child process."""
        env = dict(os.environ)
        env.update(self.infra.env())
        env["SLATE_HOME"] = str(self.home)
        env["SLATE_PORT"] = str(self.config.ports[GATEWAY])
        env["SLATE_GATEWAY_PORT"] = str(self.config.ports[GATEWAY])
        env["SLATE_SMTP_PORT"] = str(self.config.ports.get("smtp", DEFAULT_PORTS["smtp"]))
        for svc in SERVICES:
            env[f"SLATE_{env_key(svc)}_PORT"] = str(self.config.ports[svc])
            env[f"SLATE_{env_key(svc)}_URL"] = self.service_url(svc)
        env["PYTHONUNBUFFERED"] = "1"
        for svc, n in self.config.http_processes.items():
            env.setdefault(f"SLATE_{env_key(svc)}_HTTP_PROCESSES", str(n))
        env.update(self.config.extra_env)
        return env

    def _command(self, target: str, *args: str) -> list[str]:
        return [self.config.python, "-m", module_name(target), *args]

    # -- steps --------------------------------------------------------------------------
    def check_ports(self, names: Iterable[str] | None = None) -> None:
        """Fail fast, naming the culprit, when a port this stack needs is taken."""
        wanted: dict[int, str] = {}
        if self.postgres is not None:
            wanted[self.postgres.port] = "postgres"
        if self.nats is not None:
            wanted[self.nats.port] = "nats"
            wanted[self.nats.monitor_port] = "nats monitoring"
        if self.smtp is not None:
            wanted[self.smtp.port] = "smtp"
        if self.s3 is not None:
            wanted.update({port: f"s3 ({role})" for role, port in self.s3.ports().items()})
        for svc in (*self.config.services, *([GATEWAY] if self.config.gateway else [])):
            wanted[self.config.ports[svc]] = svc
        if names is not None:
            keep = set(names)
            wanted = {p: n for p, n in wanted.items() if n.split(" ")[0] in keep}
        busy = [f"{port} ({name})" for port, name in sorted(wanted.items()) if not port_is_free(port)]
        if busy:
            raise StackError(
                "ports already in use: " + ", ".join(busy) + " — is another Slate running? "
                "Set SLATE_PORT, SLATE_<SERVICE>_PORT, SLATE_POSTGRES_URL, SLATE_NATS_URL, SLATE_S3_ENDPOINT to move it."
            )

    def start_infra(self, timeout: float = 90.0) -> None:
        launchers = [x for x in (self.postgres, self.nats, self.s3, self.smtp) if x is not None]
        self.check_ports(["postgres", "nats", "s3", "smtp"])
        for launcher in launchers:
            launcher.prepare()
            if launcher.process.name not in self.supervisor:
                self.supervisor.add(launcher.process)
            self.supervisor.start(launcher.process.name)
        for launcher in launchers:
            try:
                launcher.wait_ready(timeout)
            except (TimeoutError, RuntimeError) as exc:
                raise StackError(f"{exc}\n--- {launcher.process.log_path}\n{launcher.log_tail()}") from exc
        log.info("infra_ready", **self.infra.env() | {"SLATE_S3_SECRET_KEY": "***"})

    def run_step(self, name: str, argv: list[str], timeout: float = 300.0) -> None:
        """Run a one-shot command (migrate, create-admin); its output goes to logs/<name>.log."""
        self._run_steps({name: argv}, timeout)

    def _run_steps(self, steps: Mapping[str, list[str]], timeout: float) -> None:
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        env = self.env()
        for name, argv in steps.items():
            path = logs / f"{name}.log"
            with open(path, "ab") as out:
                out.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} slate: {' '.join(argv)}\n".encode())
                out.flush()
                running[name] = (
                    subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL),  # noqa: S603
                    path,
                )
        failures = []
        deadline = time.monotonic() + timeout
        for name, (popen, path) in running.items():
            try:
                code = popen.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                popen.kill()
                code = -9
            if code != 0:
                failures.append(f"{name} exited with {code}\n--- {path}\n{tail(path)}")
        if failures:
            raise StackError("\n".join(failures))

    def migrate(self, services: Iterable[str] | None = None, timeout: float = 300.0) -> None:
        """``python -m slate_<svc> migrate`` for each service, in parallel."""
        targets = tuple(services) if services is not None else self.config.services
        self._run_steps({f"migrate-{s}": self._command(s, "migrate") for s in targets}, timeout)
        log.info("migrations_applied", services=list(targets))

    @property
    def _admin_marker(self) -> Path:
        return self.home / "state" / "admin-created"

    def create_admin(self, *, force: bool = False) -> bool:
        """Create the first admin on a first start (idempotent); True when it ran."""
        if "auth" not in self.config.services:
            return False
        if self._admin_marker.exists() and not force:
            return False
        c = self.config
        self.run_step(
            "create-admin",
            self._command("auth", "create-admin", "--email", c.admin_email, "--password", c.admin_password),
        )
        self._admin_marker.parent.mkdir(parents=True, exist_ok=True)
        self._admin_marker.write_text(c.admin_email + "\n")
        self.admin_created = True
        log.info("admin_created", email=c.admin_email, password=c.admin_password)
        return True

    def _add_app(self, name: str, target: str, *args: str) -> None:
        if name in self.supervisor:
            return
        self.supervisor.add(
            ManagedProcess(
                name=name,
                argv=self._command(target, *args),
                log_path=self.home / "logs" / f"{name}.log",
                env=self.env(),
                cwd=self.home,
                stop_timeout=15.0,
            )
        )

    def start_services(self) -> None:
        """Start every service (and worker) process; the gateway has its own step."""
        names = []
        for svc in self.config.services:
            self._add_app(svc, svc, "serve")
            names.append(svc)
        for svc in self.config.workers:
            self._add_app(f"{svc}-worker", svc, "worker")
            names.append(f"{svc}-worker")
        for name in names:
            self.supervisor.start(name)

    def start_gateway(self) -> None:
        """Start the gateway (after the services, so its first route discovery finds them)."""
        if self.config.gateway:
            self._add_app(GATEWAY, GATEWAY, "serve")
            self.supervisor.start(GATEWAY)

    def wait_healthy(
        self, timeout: float | None = None, names: Iterable[str] | None = None, path: str = "/healthz"
    ) -> None:
        """Poll ``path`` of every service and the gateway (or of ``names``) until all answer 200."""
        timeout = self.config.boot_timeout if timeout is None else timeout
        targets = list(names) if names is not None else [*self.config.services, *([GATEWAY] if self.config.gateway else [])]
        deadline = time.monotonic() + timeout
        for name in targets:
            url = f"http://127.0.0.1:{self.config.ports[name]}{path}"
            try:
                wait_until(lambda u=url: http_ok(u), max(1.0, deadline - time.monotonic()), f"{name} {url}", interval=0.3)  # type: ignore[misc]
            except TimeoutError as exc:
                path = self.home / "logs" / f"{name}.log"
                raise StackError(f"{exc}\n--- {path}\n{tail(path)}") from exc

    def up(self) -> str:
        """Boot everything; return the gateway URL (or the first service's)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.start_infra()
        self.migrate()
        self.create_admin()
        self.check_ports([*self.config.services, GATEWAY])
        self.start_services()
        self.wait_healthy(names=self.config.services, path="/readyz")  # backlogs applied
        if self.config.gateway:
            self.start_gateway()
            self.wait_healthy(names=[GATEWAY])
            # ready = every service's routes are in the gateway's table
            self.wait_healthy(names=[GATEWAY], path="/readyz", timeout=60)
            return self.gateway_url
        return self.service_url(self.config.services[0])

    def down(self) -> None:
        self.supervisor.stop_all()

    # -- per-process control (tests) ----------------------------------------------------
    def kill(self, name: str) -> None:
        """kill -9 one process; the supervisor restarts it like any crash."""
        self.supervisor.kill(name)

    def stop_service(self, name: str) -> None:
        self.supervisor.stop(name)

    def start_service(self, name: str, extra_env: Mapping[str, str] | None = None, *, wait: bool = True) -> None:
        env = self.env()
        env.update(extra_env or {})
        self.supervisor.start(name, env=env)
        if wait and name in self.config.ports:
            self.wait_healthy(names=[name])

    def restart_service(
        self, name: str, extra_env: Mapping[str, str] | None = None, *, hard: bool = True, wait: bool = True
    ) -> None:
        """kill -9 (``hard``) or stop ``name``, then start it with the stack env plus ``extra_env``."""
        env = self.env()
        env.update(extra_env or {})
        self.supervisor.restart(name, env=env, hard=hard)
        if wait and name in self.config.ports:
            self.wait_healthy(names=[name])

    def __enter__(self) -> Stack:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- slate up -------------------------------------------------------------------------
    def run(self) -> int:
        """Boot, print the one ready line, block until SIGINT/SIGTERM, stop everything."""
        stop = threading.Event()
        booting = True

        class _Interrupted(Exception):
            pass

        def handler(signum: int, frame: FrameType | None) -> None:
            stop.set()
            if booting:
                raise _Interrupted

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        c = self.config
        try:
            print(
                f"Slate: data in {self.home}; admin {c.admin_email} / {c.admin_password} "
                "(set SLATE_ADMIN_EMAIL / SLATE_ADMIN_PASSWORD before the first start to change)",
                file=sys.stderr,
                flush=True,
            )
            try:
                url = self.up()
            except _Interrupted:
                return 130
            except StackError as exc:
                print(f"slate up failed: {exc}", file=sys.stderr, flush=True)
                return 1
            booting = False
            print(f"Slate is up at {url}", flush=True)
            while not stop.wait(1.0):
                pass
            return 0
        finally:
            booting = False
            self.down()
            for s, h in old.items():
                signal.signal(s, h)


def with_infra(config: StackConfig, infra: InfraEndpoints) -> StackConfig:
    """A copy of ``config`` that reuses already running infrastructure."""
    return replace(config, infra=infra)
