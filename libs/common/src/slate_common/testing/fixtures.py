"""The fixtures of the plugin (see the package docstring)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slate_common.stack import (
    S3_PORT_SPAN,
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedS3,
    InfraEndpoints,
    Stack,
    StackConfig,
    free_port,
    free_port_block,
)
from slate_common.stack._util import tcp_open, wait_until
from slate_common.stack.smtp import Mailbox, SmtpSink
from slate_common.testing.databases import create_database, migrate_in_process

S3_ACCESS_KEY = "slate"
S3_SECRET_KEY = "slate-secret-key"
S3_STOP_GRACE = 0.0


def docker_available() -> bool:
    """True when a Docker engine answers a ping (and the docker SDK is installed)."""
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=3)
        client.ping()
        client.close()
        return True
    except Exception:  # noqa: BLE001 - any failure means no engine
        return False


def _infra_mode() -> str:
    mode = os.environ.get("SLATE_TEST_INFRA", "auto").lower()
    if mode == "auto":
        return "docker" if docker_available() else "embedded"
    if mode not in ("docker", "embedded"):
        raise pytest.UsageError("SLATE_TEST_INFRA must be auto, docker or embedded")
    return mode


class EmbeddedInfra:
    """PostgreSQL, NATS and S3 from the wheels, in ``home``, on free ports.

    :meth:`launch` starts them without waiting: S3 and NATS at once (weed takes seconds of
    its own to answer: its master elects itself, then its filer and S3 gateway come up),
    PostgreSQL's ``initdb`` in a thread. :meth:`wait_ready` starts PostgreSQL and waits for
    the three. So an xdist worker launches them when its session starts and collects the
    tests meanwhile (``pytest_sessionstart`` below). The processes themselves are started
    from the calling thread: they are killed when the thread that started them ends
    (``PR_SET_PDEATHSIG``)."""

    def __init__(self, home: Path) -> None:
        self.pg = EmbeddedPostgres(home, free_port(), fsync=False)
        self.nats = EmbeddedNats(home, free_port_block(2))
        self.s3 = EmbeddedS3(home, free_port_block(S3_PORT_SPAN), access_key=S3_ACCESS_KEY,
                             secret_key=S3_SECRET_KEY)
        self._initdb: threading.Thread | None = None
        self._initdb_error: BaseException | None = None
        self._stopped = False

    @property
    def launched(self) -> bool:
        return self._initdb is not None

    def launch(self) -> None:
        self.s3.start()
        self.nats.start()
        self._initdb = threading.Thread(target=self._prepare_postgres, name="slate-test-initdb", daemon=True)
        self._initdb.start()

    def _prepare_postgres(self) -> None:
        try:
            self.pg.prepare()
        except BaseException as exc:  # noqa: BLE001 - raised again by wait_ready
            self._initdb_error = exc

    def wait_ready(self, timeout: float = 90) -> InfraEndpoints:
        if self._initdb is None:
            self.launch()
        assert self._initdb is not None
        self._initdb.join()
        if self._initdb_error is not None:
            raise RuntimeError(f"initdb failed\n{self.pg.log_tail()}") from self._initdb_error
        self.pg.process.start()
        for launcher in (self.pg, self.nats, self.s3):
            try:
                launcher.wait_ready(timeout)
            except (TimeoutError, RuntimeError) as exc:
                raise RuntimeError(f"{exc}\n{launcher.log_tail()}") from exc
        return InfraEndpoints(self.pg.url, self.nats.url, self.s3.endpoint, S3_ACCESS_KEY, S3_SECRET_KEY)

    def stop(self) -> None:
        """All signalled, then all awaited; the test S3's data goes with the session, and
        weed lingers after a graceful stop however long it is given (SIGKILL after 5 s;
        after 1 s it had never exited): it is killed at once, the others stop as usual."""
        if self._stopped:
            return
        self._stopped = True
        if self._initdb is not None:
            self._initdb.join()
        self.s3.process.kill()
        self.nats.process.send_stop()
        self.pg.process.send_stop()
        self.s3.process.wait_stopped(S3_STOP_GRACE)
        self.nats.process.wait_stopped()
        self.pg.process.wait_stopped()


@contextlib.contextmanager
def running_infra(embedded: EmbeddedInfra) -> Iterator[InfraEndpoints]:
    """``embedded`` (launched already or not) for the duration of the block."""
    try:
        yield embedded.wait_ready()
    finally:
        embedded.stop()


@contextlib.contextmanager
def start_infra(home: Path, mode: str | None = None) -> Iterator[InfraEndpoints]:
    """PostgreSQL, NATS and S3 for the duration of the block (containers or embedded)."""
    mode = mode or _infra_mode()
    if mode == "docker":
        with _docker_infra() as endpoints:
            yield endpoints
        return
    with running_infra(EmbeddedInfra(home)) as endpoints:
        yield endpoints


@contextlib.contextmanager
def _docker_infra() -> Iterator[InfraEndpoints]:
    from testcontainers.core.container import DockerContainer

    pg = (
        DockerContainer("postgres:17-alpine")
        .with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
        .with_command("postgres -c max_connections=200 -c fsync=off")
        .with_exposed_ports(5432)
    )
    nats = DockerContainer("nats:2.10-alpine").with_command("-js").with_exposed_ports(4222)
    minio = (
        DockerContainer("minio/minio:latest")
        .with_env("MINIO_ROOT_USER", S3_ACCESS_KEY)
        .with_env("MINIO_ROOT_PASSWORD", S3_SECRET_KEY)
        .with_command("server /data")
        .with_exposed_ports(9000)
    )
    with pg, nats, minio:

        def addr(c: Any, port: int) -> tuple[str, int]:
            return c.get_container_host_ip(), int(c.get_exposed_port(port))

        pg_host, pg_port = addr(pg, 5432)
        nats_host, nats_port = addr(nats, 4222)
        s3_host, s3_port = addr(minio, 9000)
        endpoints = InfraEndpoints(
            f"postgresql+asyncpg://postgres@{pg_host}:{pg_port}",
            f"nats://{nats_host}:{nats_port}",
            f"{s3_host}:{s3_port}",
            S3_ACCESS_KEY,
            S3_SECRET_KEY,
        )
        wait_until(lambda: _pg_ready(endpoints), 90, "postgres container", interval=0.5)
        wait_until(lambda: tcp_open(nats_port, nats_host), 60, "nats container")
        wait_until(lambda: _s3_ready(endpoints), 90, "minio container", interval=0.5)
        yield endpoints


def _pg_ready(endpoints: InfraEndpoints) -> bool:
    from slate_common.testing.databases import _admin, _run

    try:
        _run(_admin(endpoints, "SELECT 1"))
        return True
    except Exception:  # noqa: BLE001
        return False


def _s3_ready(endpoints: InfraEndpoints) -> bool:
    from minio import Minio

    try:
        Minio(endpoints.s3_endpoint, endpoints.s3_access_key, endpoints.s3_secret_key, secure=False).list_buckets()
        return True
    except Exception:  # noqa: BLE001
        return False


#: The infrastructure an xdist worker launched when its session started.
EARLY_INFRA = pytest.StashKey[EmbeddedInfra]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """In an xdist worker (``make test-fast``: every worker's tests use ``infra``), launch
    the embedded infrastructure now, so that it boots while the worker collects the tests
    (seconds of each); the ``infra`` fixture waits for it. Elsewhere ``infra`` starts it
    when a test first needs it."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or _infra_mode() != "embedded":
        return
    factory: pytest.TempPathFactory = session.config._tmp_path_factory  # type: ignore[attr-defined]  # noqa: SLF001
    embedded = EmbeddedInfra(factory.mktemp("slate-infra"))
    session.config.stash[EARLY_INFRA] = embedded
    embedded.launch()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop what ``pytest_sessionstart`` launched when no test used it."""
    embedded = session.config.stash.get(EARLY_INFRA, None)
    if embedded is not None:
        embedded.stop()


@pytest.fixture(scope="session")
def infra(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraEndpoints]:
    """PostgreSQL, NATS and S3 for the whole test session; also exported as SLATE_* env."""
    early = request.config.stash.get(EARLY_INFRA, None)
    started = running_infra(early) if early is not None else start_infra(tmp_path_factory.mktemp("slate-infra"))
    with started as endpoints, pytest.MonkeyPatch.context() as mp:
        for key, value in endpoints.env().items():
            mp.setenv(key, value)
        yield endpoints


@pytest.fixture(scope="session")
def make_database(infra: InfraEndpoints) -> Callable[..., str]:
    """Factory: ``make_database("auth", migrate=True)`` -> URL of a fresh database, at
    its migrations' head: the session migrates one template database per service, from
    this process (``migrate_in_process``), and each database asked for is a copy of it
    (``CREATE DATABASE ... TEMPLATE``, a fraction of a migration's time). A test of the
    migrations themselves migrates a database of its own. Not dropped at the end: the
    session's PostgreSQL goes with its databases."""
    templates: dict[str, str] = {}

    def factory(service: str = "test", *, migrate: bool = False) -> str:
        prefix = "slate_" + service.replace("-", "_") + "_test"
        if not migrate:
            return create_database(infra, prefix=prefix)
        if service not in templates:
            template = create_database(infra, prefix=prefix + "_template")
            migrate_in_process(service, template)
            templates[service] = template
        return create_database(infra, prefix=prefix, template=templates[service])

    return factory


@pytest.fixture(scope="session")
def events_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a NATS server (JetStream) of its own, for tests that make their own events
    stream: every events stream takes ``slate.events.>``, and two streams of one server
    cannot share subjects, so on ``infra``'s NATS such a stream is refused as soon as a
    service app of the session has made ``SLATE_EVENTS`` (whatever order the tests run in)."""
    server = EmbeddedNats(tmp_path_factory.mktemp("events-nats"), free_port_block(2))
    server.start()
    try:
        server.wait_ready(60)
        yield server.url
    finally:
        server.stop()


@dataclass
class SlateStackHandle:
    """The booted suite: URLs, admin credentials and per-process control."""

    stack: Stack
    gateway_url: str
    service_urls: dict[str, str]
    admin_email: str
    admin_password: str
    home: Path
    infra: InfraEndpoints

    def url(self, service: str) -> str:
        return self.gateway_url if service == "gateway" else self.service_urls[service]

    @property
    def gateway_urls(self) -> list[str]:
        """Every gateway replica (SLATE_GATEWAY_REPLICAS / SLATE_REPLICAS); the first is gateway_url."""
        return self.stack.gateway_urls

    # A service's name stands for all its processes (API and workers), "gateway" for every
    # gateway replica; another name (production-worker-2, gateway-2) for that process alone
    # (Stack.processes). So a fault injected with extra_env reaches every process concerned.

    def kill(self, name: str) -> None:
        """kill -9 ``name``; the supervisor restarts it as it would any crash."""
        self.stack.kill(name)

    def stop(self, name: str) -> None:
        """Stop ``name`` and keep it stopped."""
        self.stack.stop_service(name)

    def start(self, name: str, extra_env: Mapping[str, str] | None = None, *, wait: bool = True) -> None:
        """Start a stopped ``name``, with the stack's env plus ``extra_env``; wait for /healthz."""
        self.stack.start_service(name, extra_env, wait=wait)

    def restart(
        self, name: str, extra_env: Mapping[str, str] | None = None, *, hard: bool = True, wait: bool = True
    ) -> None:
        """kill -9 (or stop, ``hard=False``) ``name`` and start it again with ``extra_env``;
        wait for /healthz."""
        self.stack.restart_service(name, extra_env, hard=hard, wait=wait)

    def restarts(self, name: str) -> int:
        return self.stack.supervisor[name].restarts

    @property
    def mailbox(self) -> Mailbox:
        """The mail the stack's services sent, as its SMTP sink received it."""
        return Mailbox(self.home / "mail")

    def log(self, name: str) -> str:
        path = self.home / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def booted_stack(home: Path, **config: Any) -> Iterator[SlateStackHandle]:
    """The whole suite on free ports in ``home`` for the duration of the block, as the
    tests run it; ``config``: StackConfig fields (replica counts default to the
    environment's, SLATE_REPLICAS and the like)."""
    extra = {
        "SLATE_LOG_LEVEL": os.environ.get("SLATE_TEST_LOG_LEVEL", "INFO"),
        # Every e2e test logs in from 127.0.0.1: failures of unrelated tests must not
        # add up to the per-address spraying limit (tested in services/auth).
        "SLATE_AUTH_LOGIN_ADDRESS_MAX_FAILURES": "100000",
        # Writes wait for the replicas (docs/consistency.md) up to this bound; a loaded CI
        # machine must not turn a slow replica into a stale read the tests count. The
        # bound itself is tested in libs/common/tests/test_consistency.py.
        "SLATE_CONSISTENCY_WAIT_SECONDS": os.environ.get("SLATE_TEST_CONSISTENCY_WAIT_SECONDS", "8"),
    }
    stack_config = StackConfig.on_free_ports(home, extra_env=extra, **config)
    stack = Stack(stack_config)
    if stack.s3 is not None:  # the test S3's data goes with the stack: killed once the services
        stack.s3.process.stop_timeout = S3_STOP_GRACE  # are stopped, not after weed's 5 s linger
    started = time.monotonic()
    with stack:
        handle = SlateStackHandle(
            stack=stack,
            gateway_url=stack.gateway_url,
            service_urls=stack.service_urls,
            admin_email=stack_config.admin_email,
            admin_password=stack_config.admin_password,
            home=stack.home,
            infra=stack.infra,
        )
        print(f"\nslate_stack up in {time.monotonic() - started:.1f}s at {stack.gateway_url} (home {home}; "
              f"{stack_config.gateway_replicas} gateways, API processes {stack_config.http_processes}, "
              f"workers {stack_config.worker_processes})")
        yield handle


@pytest.fixture(scope="session")
def slate_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlateStackHandle]:
    """The whole suite (services, gateway, own embedded infra) on free ports; as many of
    each as SLATE_REPLICAS (and the like) say."""
    with booted_stack(tmp_path_factory.mktemp("slate-stack")) as handle:
        yield handle


@dataclass
class SmtpSinkHandle(Mailbox):
    """A running SMTP sink: where to send (``host``, ``port``) and what arrived."""

    host: str = "127.0.0.1"
    port: int = 0


@pytest.fixture(scope="session")
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSinkHandle]:
    """A real SMTP server (aiosmtpd) on a free port for the session; tests read the mail
    really sent through it (``wait_for(address)``, ``messages()``, ``text(message)``)."""
    mail_dir = tmp_path_factory.mktemp("smtp-sink")
    with SmtpSink(mail_dir) as sink:
        yield SmtpSinkHandle(mail_dir=mail_dir, host=sink.host, port=sink.port)
