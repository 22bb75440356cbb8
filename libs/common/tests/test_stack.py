"""Real tests of the embedded stack: launchers, supervisor and Stack orchestration.

Infrastructure is the real thing (PostgreSQL, NATS, SeaweedFS from the wheels); the
services are small stand-ins following the service CLI contract
(``python -m slate_<svc> serve|migrate|create-admin``), so these tests do not depend on
the services being written.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from slate_common.config import SERVICES
from slate_common.stack import (
    S3_PORT_SPAN,
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedS3,
    ManagedProcess,
    Stack,
    StackConfig,
    Supervisor,
    free_port,
    free_port_block,
)

pytestmark = pytest.mark.slow  # see pytest.ini


def _wait(check, timeout: float = 20.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


async def _pg(dsn: str, *statements: str) -> list[object]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        out: list[object] = []
        for sql in statements:
            out.append(await conn.fetch(sql))
        return out
    finally:
        await conn.close()


# --- launchers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slate-home")


@pytest.fixture(scope="module")
def postgres(home: Path) -> Iterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(home, free_port(), fsync=False)
    pg.start()
    pg.wait_ready(60)
    yield pg
    pg.stop()


def test_postgres_query_and_data_survive_restart(postgres: EmbeddedPostgres, home: Path) -> None:
    assert postgres.created
    rows = asyncio.run(
        _pg(
            postgres.dsn,
            "CREATE TABLE IF NOT EXISTS kept (id int primary key, name text)",
            "INSERT INTO kept VALUES (1, 'still here') ON CONFLICT DO NOTHING",
            "SHOW max_connections",
        )
    )
    assert rows[2][0][0] == "200"  # type: ignore[index]
    postgres.stop()
    assert not postgres.process.running()

    again = EmbeddedPostgres(home, postgres.port, fsync=False)
    again.start()
    again.wait_ready(60)
    assert not again.created  # same cluster, no initdb
    rows = asyncio.run(_pg(again.dsn, "SELECT name FROM kept WHERE id = 1"))
    assert rows[0][0]["name"] == "still here"  # type: ignore[index]
    postgres.process = again.process  # the module fixture stops the live one


def test_postgres_recovers_after_kill_9(postgres: EmbeddedPostgres, home: Path) -> None:
    asyncio.run(_pg(postgres.dsn, "CREATE TABLE IF NOT EXISTS crash (id int)", "INSERT INTO crash VALUES (7)"))
    postgres.process.kill()  # SIGKILL: postmaster.pid stays behind
    assert (postgres.data_dir / "postmaster.pid").exists()
    postgres.start()
    postgres.wait_ready(60)
    rows = asyncio.run(_pg(postgres.dsn, "SELECT count(*) AS n FROM crash"))
    assert rows[0][0]["n"] >= 1  # type: ignore[index]


def test_nats_jetstream(home: Path) -> None:
    import nats

    server = EmbeddedNats(home, free_port_block(2))
    server.start()
    try:
        server.wait_ready(30)

        async def roundtrip() -> bytes:
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            await js.add_stream(name="TEST", subjects=["test.>"])
            ack = await js.publish("test.one", b"hello", headers={"Nats-Msg-Id": "m1"})
            dup = await js.publish("test.one", b"hello", headers={"Nats-Msg-Id": "m1"})
            assert dup.duplicate and ack.seq == dup.seq
            sub = await js.pull_subscribe("test.>", durable="d1")
            msgs = await sub.fetch(1, timeout=5)
            await msgs[0].ack()
            await nc.close()
            return msgs[0].data

        assert asyncio.run(roundtrip()) == b"hello"
    finally:
        server.stop()
    assert not server.process.running()


def test_s3_put_get(home: Path) -> None:
    s3 = EmbeddedS3(home, free_port_block(S3_PORT_SPAN), access_key="k1", secret_key="s1-secret")
    s3.start()
    try:
        s3.wait_ready(60)
        client = s3.client()
        client.make_bucket("previews")
        client.put_object("previews", "a/b.txt", io.BytesIO(b"bytes"), 5)
        assert client.get_object("previews", "a/b.txt").read() == b"bytes"
        from minio import Minio
        from minio.error import S3Error

        wrong = Minio(s3.endpoint, access_key="k1", secret_key="nope", secure=False)
        with pytest.raises(S3Error):
            wrong.list_buckets()
    finally:
        s3.stop()
    assert not s3.process.running()


# --- supervisor ---------------------------------------------------------------------------

SLEEPER = "import time, os, sys; print('pid', os.getpid(), os.environ.get('MARK'), flush=True); time.sleep(600)"


def test_supervisor_restarts_crashed_process(tmp_path: Path) -> None:
    sup = Supervisor(backoff_initial=0.2)
    proc = sup.add(ManagedProcess(name="sleeper", argv=[sys.executable, "-c", SLEEPER], log_path=tmp_path / "s.log"))
    sup.start("sleeper")
    try:
        first = proc.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)  # a crash from outside
        _wait(lambda: proc.running() and proc.pid != first)
        assert proc.restarts == 1
        second = proc.pid
        sup.kill("sleeper")  # the test handle: kill -9, restarted as a crash
        _wait(lambda: proc.running() and proc.pid != second)
        assert proc.restarts == 2
        assert "starting" in (tmp_path / "s.log").read_text()
    finally:
        sup.stop_all(timeout=5)
    assert not proc.running()


def test_supervisor_backoff_grows_for_crash_loops(tmp_path: Path) -> None:
    sup = Supervisor(backoff_initial=0.1, poll_interval=0.05)
    proc = sup.add(ManagedProcess(name="crasher", argv=[sys.executable, "-c", "raise SystemExit(3)"], log_path=tmp_path / "c.log"))
    sup.start("crasher")
    try:
        _wait(lambda: proc.restarts >= 3, timeout=20)
        assert sup._backoff["crasher"] >= 0.4  # 0.1, 0.2, 0.4, ...
    finally:
        sup.stop_all(timeout=5)


def test_supervisor_stop_start_with_new_env(tmp_path: Path) -> None:
    sup = Supervisor()
    log = tmp_path / "e.log"
    proc = sup.add(ManagedProcess(name="envy", argv=[sys.executable, "-c", SLEEPER], log_path=log, env={**os.environ, "MARK": "one"}))
    sup.start("envy")
    try:
        _wait(lambda: "one" in log.read_text())
        sup.stop("envy", timeout=5)
        time.sleep(1.0)
        assert not proc.running()  # stopped on purpose: not restarted
        sup.restart("envy", extra_env={"MARK": "two"})
        _wait(lambda: "two" in log.read_text())
        assert proc.running()
    finally:
        sup.stop_all(timeout=5)


def test_supervisor_escalates_to_sigkill(tmp_path: Path) -> None:
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(600)"
    sup = Supervisor()
    log = tmp_path / "k.log"
    proc = sup.add(ManagedProcess(name="stubborn", argv=[sys.executable, "-c", stubborn], log_path=log, stop_timeout=1.0))
    sup.start("stubborn")
    _wait(lambda: "\nup\n" in log.read_text())
    started = time.monotonic()
    sup.stop_all()
    assert not proc.running()
    assert proc.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5


# --- whole stack with stand-in services ---------------------------------------------------

FAKE_MAIN = r'''
import http.server, json, os, sys
from pathlib import Path

SERVICE = {service!r}
home = Path(os.environ["SLATE_HOME"])
cmd = sys.argv[1]
marks = home / "fake"
marks.mkdir(parents=True, exist_ok=True)
if cmd == "migrate":
    (marks / f"migrated-{{SERVICE}}").write_text(os.environ["SLATE_POSTGRES_URL"])
elif cmd == "create-admin":
    with open(marks / "admins", "a") as f:
        f.write(" ".join(sys.argv[2:]) + " password=" + os.environ.get("SLATE_ADMIN_PASSWORD", sys.stdin.readline().strip()) + "\n")
elif cmd == "serve":
    key = "SLATE_PORT" if SERVICE == "gateway" else "SLATE_" + SERVICE.upper().replace("-", "_") + "_PORT"
    port = int(os.environ[key])

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({{"service": SERVICE, "pid": os.getpid(), "mark": os.environ.get("FAKE_MARK")}}).encode()
            self.send_response(200 if self.path in ("/healthz", "/readyz", "/") else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
elif cmd == "worker":
    (marks / f"worker-{{SERVICE}}-{{os.getpid()}}").write_text(os.environ.get("FAKE_MARK") or "")
    import time
    time.sleep(600)
else:
    sys.exit(2)
'''


def _fake_services(root: Path) -> Path:
    for svc in (*SERVICES, "gateway"):
        pkg = root / ("slate_" + svc.replace("-", "_"))
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "__main__.py").write_text(FAKE_MAIN.format(service=svc))
    return root


def _get_json(url: str) -> dict[str, object]:
    import json

    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310
        return json.loads(resp.read())  # type: ignore[no-any-return]


@pytest.mark.e2e
def test_stack_boots_restarts_and_stops(tmp_path: Path) -> None:
    fakes = _fake_services(tmp_path / "fakes")
    config = StackConfig.on_free_ports(tmp_path / "home", extra_env={"PYTHONPATH": str(fakes)},
                                       worker_processes={"media": 1})
    stack = Stack(config)
    with stack:
        marks = stack.home / "fake"
        assert {p.name for p in marks.glob("migrated-*")} == {f"migrated-{s}" for s in SERVICES}
        assert (marks / "migrated-auth").read_text() == stack.infra.postgres_url
        # The password reaches create-admin through its environment, not its arguments.
        assert (marks / "admins").read_text().split() == ["--email", config.admin_email,
                                                          "password=" + config.admin_password]
        assert stack.admin_created and config.admin_password in stack.admin_notice(tty=True)
        assert config.admin_password not in stack.admin_notice(tty=False)
        for log_file in (stack.home / "logs").glob("*.log"):
            assert config.admin_password not in log_file.read_text(), log_file
        assert _get_json(stack.gateway_url + "/healthz")["service"] == "gateway"
        first = _get_json(stack.service_url("media") + "/healthz")
        assert stack.processes("media") == ["media", "media-worker"]
        assert stack.processes("media-worker") == ["media-worker"] and stack.processes("gateway") == ["gateway"]
        stack.restart_service("media", {"FAKE_MARK": "second"})  # the service: API and worker
        again = _get_json(stack.service_url("media") + "/healthz")
        assert again["mark"] == "second" and again["pid"] != first["pid"]
        worker_mark = marks / f"worker-media-{stack.supervisor['media-worker'].pid}"
        _wait(lambda: worker_mark.exists() and worker_mark.read_text() == "second", timeout=20)
        stack.kill("planning")  # crash: supervisor brings it back
        _wait(lambda: stack.supervisor["planning"].restarts == 1, timeout=20)
        stack.wait_healthy(names=["planning"], timeout=20)
        procs = [stack.supervisor[n] for n in stack.supervisor.names]
    assert not any(p.running() for p in procs)

    # second start on the same home: same data, no second admin creation
    stack2 = Stack(StackConfig(**{**config.__dict__}))
    with stack2:
        assert not stack2.admin_created
        assert stack2.postgres is not None and not stack2.postgres.created
    assert len((stack.home / "fake" / "admins").read_text().splitlines()) == 1


def test_cli_runs_service_commands_without_importing_them(tmp_path: Path) -> None:
    import subprocess

    fakes = _fake_services(tmp_path / "fakes")
    env = {**os.environ, "PYTHONPATH": str(fakes), "SLATE_HOME": str(tmp_path), "SLATE_POSTGRES_URL": "pg://x"}
    cli = [sys.executable, "-m", "slate_common.cli"]
    res = subprocess.run([*cli, "migrate", "auth", "import-export"], env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "fake").glob("migrated-*")) == ["migrated-auth", "migrated-import-export"]
    res = subprocess.run([*cli, "create-admin", "--email", "a@b.c"], env={**env, "SLATE_ADMIN_PASSWORD": "from env"},
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([*cli, "create-admin", "--email", "d@e.f"], env=env, input="from stdin\n",
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "fake" / "admins").read_text().splitlines() == ["--email a@b.c password=from env",
                                                                       "--email d@e.f password=from stdin"]
    res = subprocess.run([*cli, "create-admin", "--email", "a@b.c", "--password", "pw"], env=env,
                         capture_output=True, text=True, check=False)
    assert res.returncode == 2 and "--password" in res.stderr  # never on the command line
    res = subprocess.run([*cli, "migrate", "nope"], env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 2 and "unknown service" in res.stderr
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, slate_common.cli; print(sorted(m for m in sys.modules if m.startswith("
         "('slate_auth', 'slate_production', 'slate_media', 'slate_gateway'))))"],
        env=env, capture_output=True, text=True, check=True,
    )
    assert imported.stdout.strip() == "[]"
