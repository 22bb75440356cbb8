"""Boot the whole suite: infrastructure, migrations, first admin, services, gateway.

``slate up`` and the ``slate_stack`` test fixture both use :class:`Stack`; every port
comes from :class:`StackConfig`, so a test stack runs on free ports beside a running
``slate up``, and ``SLATE_PORT_BASE`` moves a whole ``slate up`` (see
:func:`slate_common.config.default_ports`).

Replicas, as Kubernetes would run them: ``SLATE_GATEWAY_REPLICAS=N`` gateways on the ports
``gateway .. gateway+N-1`` (processes ``gateway``, ``gateway-2`` ...; a client picks any,
:attr:`Stack.gateway_urls`), ``SLATE_<SVC>_HTTP_PROCESSES=N`` API processes of a service
on its one port (uvicorn workers, which uvicorn restarts when one dies), and
``SLATE_<SVC>_WORKER_PROCESSES=N`` ``python -m slate_<svc> worker`` processes (``<svc>-worker``,
``<svc>-worker-2`` ...). ``SLATE_REPLICAS=N`` is the default of all three.
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

from slate_common.config import DEFAULT_ADMIN_PASSWORD, DEFAULT_PORTS, MAX_GATEWAY_REPLICAS, SERVICES, default_ports
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
GATEWAY = "gateway"
#: API processes per service in the embedded stack (others: 1); see StackConfig.http_processes.
DEFAULT_HTTP_PROCESSES: dict[str, int] = {"production": 2}


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


_LOCAL_HOSTS = frozenset({"", "127.0.0.1", "localhost", "::1"})


def _count(key: str, env: Mapping[str, str], default: int, *, service: str = "", low: int = 0, high: int = 64) -> int:
    """An integer setting from ``env[key]`` (``<SERVICE>`` in ``key`` replaced by
    ``service``'s prefix), else ``SLATE_REPLICAS``, else ``default``."""
    key = key.replace("<SERVICE>", env_key(service))
    raw = env.get(key, "").strip() or env.get("SLATE_REPLICAS", "").strip()  # default of every replica count
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{key} (or SLATE_REPLICAS) must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{key} (or SLATE_REPLICAS) must be between {low} and {high}, not {value}")
    return value


def postgres_settings(raw: str) -> dict[str, str]:
    """``SLATE_POSTGRES_SETTINGS`` ("name=value;name=value") as a dict; a part without
    ``=`` is an error that names it."""
    settings: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"SLATE_POSTGRES_SETTINGS: {part!r} is not name=value")
        settings[name.strip()] = value.strip()
    return settings


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
    #: Gateway processes (SLATE_GATEWAY_REPLICAS), each its own supervised process on the
    #: ports ``ports["gateway"] .. + N-1``, like gateway pods behind a Kubernetes Service.
    gateway_replicas: int = 1
    workers: tuple[str, ...] = ()  # one more `python -m slate_<svc> worker` per entry (slate up --worker)
    #: API processes per service (SLATE_<SVC>_HTTP_PROCESSES): production, the busiest,
    #: gets two so a heavy listing does not hold up the light requests behind it, and the
    #: service can use more than one core. Unlisted services run one.
    http_processes: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_HTTP_PROCESSES))
    #: ``python -m slate_<svc> worker`` processes per service (SLATE_<SVC>_WORKER_PROCESSES,
    #: default 0): the outbox relay, event consumers, RPC handlers and media's jobs without
    #: HTTP. The API processes keep their own relay and consumers (see env()).
    worker_processes: dict[str, int] = field(default_factory=dict)
    #: Run the local SMTP sink (on ports["smtp"]); off when SLATE_SMTP_HOST names a real server.
    smtp_sink: bool = True
    python: str = sys.executable
    extra_env: dict[str, str] = field(default_factory=dict)
    infra: InfraEndpoints | None = None  # use these instead of launching embedded infra
    postgres_fsync: bool = True
    #: More settings of the embedded PostgreSQL (SLATE_POSTGRES_SETTINGS="name=value;..."),
    #: over its defaults: e.g. shared_buffers, or pg_stat_statements for a profile.
    postgres_settings: dict[str, str] = field(default_factory=dict)
    boot_timeout: float = 180.0

    @staticmethod
    def counts_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Replica settings as StackConfig keyword arguments: SLATE_GATEWAY_REPLICAS,
        SLATE_<SVC>_HTTP_PROCESSES and SLATE_<SVC>_WORKER_PROCESSES, each defaulting to
        SLATE_REPLICAS when that is set (else 1, the defaults of :attr:`http_processes`, 0)."""
        env = os.environ if environ is None else environ
        return {
            "gateway_replicas": _count(  # gateways (default 1), ports gateway..+N-1
                "SLATE_GATEWAY_REPLICAS", env, 1, low=1, high=MAX_GATEWAY_REPLICAS),
            "http_processes": {
                svc: _count("SLATE_<SERVICE>_HTTP_PROCESSES", env, DEFAULT_HTTP_PROCESSES.get(svc, 1), service=svc, low=1)  # production: 2
                for svc in SERVICES
            },
            "worker_processes": {
                svc: _count("SLATE_<SERVICE>_WORKER_PROCESSES", env, 0, service=svc)  # `worker` processes (default 0)
                for svc in SERVICES
            },
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        """The configuration of ``slate up``: SLATE_* variables over the default ports
        (SLATE_PORT_BASE's block, else DEFAULT_PORTS)."""
        env = os.environ if environ is None else environ
        base = env.get("SLATE_PORT_BASE", "")  # first of the stack's 100 ports (unset: 8080, 8101-8105, 15432, ...)
        ports = default_ports({"SLATE_PORT_BASE": base})
        ports["postgres"] = _port_from_url(env.get("SLATE_POSTGRES_URL"), ports["postgres"])
        ports["nats"] = _port_from_url(env.get("SLATE_NATS_URL"), ports["nats"])
        ports["nats_monitor"] = int(env.get("SLATE_NATS_MONITOR_PORT") or ports["nats_monitor"])  # default: NATS + 1
        ports["s3"] = _port_from_url(env.get("SLATE_S3_ENDPOINT"), ports["s3"])
        ports["smtp"] = int(env.get("SLATE_SMTP_PORT") or ports["smtp"])  # the sink's port (default 18025)
        ports[GATEWAY] = int(env.get("SLATE_PORT") or ports[GATEWAY])
        for svc in SERVICES:
            ports[svc] = int(env.get(f"SLATE_{env_key(svc)}_PORT") or ports[svc])
        return cls(
            home=Path(env.get("SLATE_HOME", "./var")).resolve(),
            ports=ports,
            admin_email=env.get("SLATE_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL),
            admin_password=env.get("SLATE_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD),
            s3_access_key=env.get("SLATE_S3_ACCESS_KEY", "slate"),
            s3_secret_key=env.get("SLATE_S3_SECRET_KEY", "slate-secret-key"),
            smtp_sink=env.get("SLATE_SMTP_HOST", "").strip().lower() in _LOCAL_HOSTS,  # another host: no sink
            postgres_settings=postgres_settings(env.get("SLATE_POSTGRES_SETTINGS", "")),  # "name=value;..." for the embedded PostgreSQL
            **cls.counts_from_env(env),
        )

    @classmethod
    def on_free_ports(cls, home: Path, **kwargs: Any) -> StackConfig:
        """Every port free (tests beside a running ``slate up``); fsync off for speed.
        Replica counts come from the environment (:meth:`counts_from_env`) unless given,
        so ``SLATE_REPLICAS=2`` runs a test suite on two of everything."""
        counts = cls.counts_from_env()
        for key, value in counts.items():
            kwargs.setdefault(key, value)
        ports = {name: free_port() for name in (*SERVICES, "smtp", "postgres")}
        ports[GATEWAY] = free_port_block(kwargs["gateway_replicas"])
        ports["nats"] = free_port_block(2)
        ports["nats_monitor"] = ports["nats"] + 1
        ports["s3"] = free_port_block(S3_PORT_SPAN)
        kwargs.setdefault("postgres_fsync", False)
        return cls(home=Path(home).resolve(), ports=ports, **kwargs)

    @property
    def gateway_ports(self) -> list[int]:
        """The port of each gateway replica: ``ports["gateway"]`` and the ones after it."""
        return [self.ports[GATEWAY] + i for i in range(self.gateway_replicas)] if self.gateway else []

    def worker_count(self, service: str) -> int:
        return self.worker_processes.get(service, 0) + self.workers.count(service)


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
        #: per-process environment on top of env(): a gateway replica's port, a worker's switch
        self._process_env: dict[str, dict[str, str]] = {}
        if config.infra is None:
            # a local SMTP sink: mail the services send lands in <home>/mail as .eml files
            if not config.smtp_sink:
                log.info("smtp_sink_off", reason="SLATE_SMTP_HOST names another server")
            elif importlib.util.find_spec("aiosmtpd") is not None:
                self.smtp = EmbeddedSmtp(self.home, config.ports.get("smtp", DEFAULT_PORTS["smtp"]))
            else:
                log.warning("smtp_sink_unavailable", reason="aiosmtpd is not installed (make install)")
            self.postgres = EmbeddedPostgres(self.home, config.ports["postgres"], fsync=config.postgres_fsync,
                                             extra_settings=config.postgres_settings)
            self.nats = EmbeddedNats(
                self.home, config.ports["nats"], monitor_port=config.ports.get("nats_monitor", config.ports["nats"] + 1)
            )
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

    @property
    def gateway_urls(self) -> list[str]:
        """One URL per gateway replica; any of them serves every route."""
        return [f"http://127.0.0.1:{port}" for port in self.config.gateway_ports]

    @property
    def gateway_names(self) -> list[str]:
        """Supervised process names of the gateway replicas: gateway, gateway-2, ..."""
        return [_replica_name(GATEWAY, i) for i in range(len(self.config.gateway_ports))]

    def worker_names(self, service: str) -> list[str]:
        """Supervised process names of a service's workers: <svc>-worker, <svc>-worker-2, ..."""
        return [_replica_name(f"{service}-worker", i) for i in range(self.config.worker_count(service))]

    def port_of(self, name: str) -> int | None:
        """The port a supervised process listens on (None for workers and unknown names)."""
        if name in self.gateway_names:
            return self.config.gateway_ports[self.gateway_names.index(name)]
        if name in SERVICES or name in ("postgres", "nats", "s3", "smtp"):
            return self.config.ports.get(name)
        return None

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
        if self.smtp is not None:  # else SLATE_SMTP_HOST/PORT name a real server: keep them
            env["SLATE_SMTP_HOST"] = "127.0.0.1"
            env["SLATE_SMTP_PORT"] = str(self.smtp.port)
        for svc in SERVICES:
            env[f"SLATE_{env_key(svc)}_PORT"] = str(self.config.ports[svc])
            env[f"SLATE_{env_key(svc)}_URL"] = self.service_url(svc)
            env[f"SLATE_{env_key(svc)}_HTTP_PROCESSES"] = str(self.config.http_processes.get(svc, 1))
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.config.extra_env)
        return env

    def process_env(self, name: str) -> dict[str, str]:
        """Environment of one supervised process: :meth:`env` plus its own settings."""
        return {**self.env(), **self._process_env.get(name, {})}

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
        for svc in self.config.services:
            wanted[self.config.ports[svc]] = svc
        for port in self.config.gateway_ports:
            wanted[port] = GATEWAY
        if names is not None:
            keep = set(names)
            wanted = {p: n for p, n in wanted.items() if n.split(" ")[0] in keep}
        busy = [f"{port} ({name})" for port, name in sorted(wanted.items()) if not port_is_free(port)]
        if busy:
            raise StackError(
                "ports already in use: " + ", ".join(busy) + " — is another Slate running? "
                "Set SLATE_PORT_BASE to move the whole stack (it uses 100 ports from there), or SLATE_PORT, "
                "SLATE_<SERVICE>_PORT, SLATE_POSTGRES_URL, SLATE_NATS_URL, SLATE_S3_ENDPOINT, SLATE_SMTP_PORT one by one."
            )

    def start_infra(self, timeout: float = 90.0) -> None:
        # S3 first: weed takes seconds of its own to answer, and PostgreSQL's first
        # prepare (initdb) would hold its start back.
        launchers = [x for x in (self.s3, self.nats, self.smtp, self.postgres) if x is not None]
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

    def run_step(self, name: str, argv: list[str], timeout: float = 300.0,
                 extra_env: Mapping[str, str] | None = None) -> None:
        """Run a one-shot command (migrate, create-admin); its output goes to logs/<name>.log
        (with ``argv``: secrets go in ``extra_env``)."""
        self._run_steps({name: argv}, timeout, extra_env)

    def _run_steps(self, steps: Mapping[str, list[str]], timeout: float,
                   extra_env: Mapping[str, str] | None = None) -> None:
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        env = {**self.env(), **(extra_env or {})}
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
        self.run_step(  # the password through the environment: never in argv, logs or ps
            "create-admin", self._command("auth", "create-admin", "--email", c.admin_email),
            extra_env={"SLATE_ADMIN_PASSWORD": c.admin_password},
        )
        self._admin_marker.parent.mkdir(parents=True, exist_ok=True)
        self._admin_marker.write_text(c.admin_email + "\n")
        self.admin_created = True
        log.info("admin_created", email=c.admin_email)
        return True

    def admin_notice(self, *, tty: bool) -> str:
        """The line ``slate up`` shows once, after the start that created the admin. The
        password only on a terminal: a redirected stderr is a log (containers, CI)."""
        c = self.config
        secret = c.admin_password if tty else "the value of SLATE_ADMIN_PASSWORD (or the README's default)"
        return (f"Slate: admin account {c.admin_email}, password {secret} (shown once, at this first start; "
                "set SLATE_ADMIN_EMAIL / SLATE_ADMIN_PASSWORD before it to choose them)")

    def _add_app(self, name: str, target: str, *args: str, env: Mapping[str, str] | None = None) -> None:
        if name in self.supervisor:
            return
        self._process_env[name] = dict(env or {})
        self.supervisor.add(
            ManagedProcess(
                name=name,
                argv=self._command(target, *args),
                log_path=self.home / "logs" / f"{name}.log",
                env=self.process_env(name),
                cwd=self.home,
                stop_timeout=15.0,
            )
        )

    def start_services(self) -> None:
        """Start every service (API and worker processes); the gateway has its own step.

        Each service's API processes (SLATE_<SVC>_HTTP_PROCESSES on its port) keep their
        own relay and consumers: the relay is woken in-process right after a commit made
        outside a request, and another process's relay would only find those rows on its
        next poll (SLATE_OUTBOX_POLL_SECONDS). Worker processes (SLATE_<SVC>_WORKER_PROCESSES) add
        relays (outbox claimed FOR UPDATE SKIP LOCKED), pullers on the same durable
        consumers, RPC responders (a queue group) and media job workers. As in the
        Kubernetes deployment, SLATE_<SVC>_WORKERS_ENABLED=false and
        SLATE_MEDIA_JOBS_ENABLED=false (media's API without transcodes) apply to the API
        processes only: worker processes always run their loops and jobs."""
        names = []
        for svc in self.config.services:
            self._add_app(svc, svc, "serve")
            names.append(svc)
        for svc in self.config.services:
            for name in self.worker_names(svc):
                worker_env = {f"SLATE_{env_key(svc)}_WORKERS_ENABLED": "true"}
                if svc == "media":
                    worker_env["SLATE_MEDIA_JOBS_ENABLED"] = "true"
                self._add_app(name, svc, "worker", env=worker_env)
                names.append(name)
        for name in names:
            self.supervisor.start(name)

    def start_gateway(self) -> None:
        """Start the gateway replicas (after the services, so their first route discovery
        finds them), each on its own port (SLATE_PORT), all with the same upstreams."""
        for name, port in zip(self.gateway_names, self.config.gateway_ports, strict=True):
            self._add_app(name, GATEWAY, "serve", env={"SLATE_PORT": str(port), "SLATE_GATEWAY_PORT": str(port)})
            self.supervisor.start(name)

    def wait_healthy(
        self, timeout: float | None = None, names: Iterable[str] | None = None, path: str = "/healthz"
    ) -> None:
        """Poll ``path`` of every service and the gateway (or of ``names``) until all answer 200."""
        timeout = self.config.boot_timeout if timeout is None else timeout
        targets = list(names) if names is not None else [*self.config.services, *self.gateway_names]
        deadline = time.monotonic() + timeout
        for name in targets:
            url = f"http://127.0.0.1:{self.port_of(name)}{path}"
            try:
                wait_until(lambda u=url: http_ok(u), max(1.0, deadline - time.monotonic()), f"{name} {url}", interval=0.3)  # type: ignore[misc]
            except TimeoutError as exc:
                log = self.home / "logs" / f"{name}.log"
                raise StackError(f"{exc}\n--- {log}\n{tail(log)}") from exc

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
            self.wait_healthy(names=self.gateway_names)
            # ready = every service's routes are in the gateway's table
            self.wait_healthy(names=self.gateway_names, path="/readyz", timeout=60)
            return self.gateway_url
        return self.service_url(self.config.services[0])

    def down(self) -> None:
        self.supervisor.stop_all()

    # -- per-process control (tests) ----------------------------------------------------
    def processes(self, name: str) -> list[str]:
        """The supervised processes ``name`` stands for: a service's name is all of its
        processes (its API process, whose uvicorn workers are its children, and its
        ``worker`` processes), ``gateway`` every gateway replica, as a Kubernetes rollout
        of a service replaces all its pods; any other name is that one process
        (``production-worker-2``; ``supervisor`` addresses one process alone)."""
        if name in self.config.services:
            return [name, *self.worker_names(name)]
        if name == GATEWAY and self.config.gateway:
            return self.gateway_names
        if name not in self.supervisor:
            raise KeyError(f"no process or service named {name!r}")
        return [name]

    def kill(self, name: str) -> None:
        """kill -9 ``name`` (every process of a service); the supervisor restarts them like any crash."""
        for process in self.processes(name):
            self.supervisor.kill(process)

    def stop_service(self, name: str) -> None:
        """Stop ``name`` (every process of a service) and keep it stopped."""
        self.supervisor.stop_together(self.processes(name))

    def start_service(self, name: str, extra_env: Mapping[str, str] | None = None, *, wait: bool = True) -> None:
        """Start ``name`` (every process of a service) with its environment plus ``extra_env``:
        a fault injected this way reaches the API processes and the workers alike."""
        names = self.processes(name)
        for process in names:
            self.supervisor.start(process, env={**self.process_env(process), **(extra_env or {})})
        if wait:
            self._wait_listening(names)

    def restart_service(
        self, name: str, extra_env: Mapping[str, str] | None = None, *, hard: bool = True, wait: bool = True
    ) -> None:
        """kill -9 (``hard``) or stop ``name`` (every process of a service), then start it
        with the stack env plus ``extra_env``."""
        names = self.processes(name)
        if not hard:
            self.supervisor.stop_together(names)
        for process in names:
            env = {**self.process_env(process), **(extra_env or {})}
            self.supervisor.restart(process, env=env, hard=hard)  # held while killed: no crash restart
        if wait:
            self._wait_listening(names)

    def _wait_listening(self, names: list[str]) -> None:
        listening = [n for n in names if self.port_of(n) is not None]
        if listening:
            self.wait_healthy(names=listening)

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
        try:
            print(f"Slate: data in {self.home}", file=sys.stderr, flush=True)
            try:
                url = self.up()
            except _Interrupted:
                return 130
            except StackError as exc:
                print(f"slate up failed: {exc}", file=sys.stderr, flush=True)
                return 1
            booting = False
            if self.admin_created:
                print(self.admin_notice(tty=sys.stderr.isatty()), file=sys.stderr, flush=True)
            print(f"Slate is up at {url}", flush=True)
            if len(self.gateway_urls) > 1:
                print("Gateway replicas (any of them serves every route): " + ", ".join(self.gateway_urls), flush=True)
            while not stop.wait(1.0):
                pass
            return 0
        finally:
            booting = False
            self.down()
            for s, h in old.items():
                signal.signal(s, h)


def _replica_name(name: str, index: int) -> str:
    """The first replica keeps the plain name (``gateway``), the others are numbered from 2."""
    return name if index == 0 else f"{name}-{index + 1}"


def with_infra(config: StackConfig, infra: InfraEndpoints) -> StackConfig:
    """A copy of ``config`` that reuses already running infrastructure."""
    return replace(config, infra=infra)
