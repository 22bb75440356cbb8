"""The embedded stack's ports and replica counts come from settings (no services needed).

Two stacks on one machine and replicas with the real services are tested end to end in
tests/e2e/test_stack_side_by_side.py.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from slate_common.config import (
    DEFAULT_PORTS,
    MAX_GATEWAY_REPLICAS,
    PORT_BLOCK,
    SERVICES,
    BaseServiceSettings,
    SharedSettings,
    default_ports,
    service_config,
)
from slate_common.stack import S3_PORT_SPAN, ManagedProcess, Stack, StackConfig, Supervisor


def _all_ports(config: StackConfig, stack: Stack) -> list[int]:
    """Every port a stack of ``config`` would listen on, S3's internal ones included."""
    assert stack.s3 is not None and stack.nats is not None and stack.smtp is not None
    return [
        *config.gateway_ports,
        *(config.ports[s] for s in SERVICES),
        config.ports["postgres"],
        stack.nats.port,
        stack.nats.monitor_port,
        stack.smtp.port,
        *stack.s3.ports().values(),
    ]


def test_unset_base_keeps_todays_ports(tmp_path: Path) -> None:
    assert default_ports({}) == DEFAULT_PORTS
    config = StackConfig.from_env({"SLATE_HOME": str(tmp_path)})
    assert config.ports == DEFAULT_PORTS
    assert config.ports["gateway"] == 8080 and config.ports["postgres"] == 15432 and config.ports["smtp"] == 18025
    stack = Stack(config)
    assert stack.nats is not None and stack.nats.monitor_port == 14223
    assert stack.s3 is not None and stack.s3.port == 18333
    assert config.gateway_replicas == 1 and config.worker_processes == {s: 0 for s in SERVICES}
    assert config.http_processes == {**{s: 1 for s in SERVICES}, "production": 2}


@pytest.mark.parametrize("base", [1024, 20000, 65536 - PORT_BLOCK])
def test_base_puts_every_port_in_its_block(tmp_path: Path, base: int) -> None:
    config = StackConfig.from_env(
        {"SLATE_HOME": str(tmp_path), "SLATE_PORT_BASE": str(base), "SLATE_GATEWAY_REPLICAS": str(MAX_GATEWAY_REPLICAS)}
    )
    ports = _all_ports(config, Stack(config))
    assert len(ports) == len(set(ports)) == MAX_GATEWAY_REPLICAS + len(SERVICES) + 4 + 9
    assert all(base <= p < base + PORT_BLOCK for p in ports), ports
    assert config.ports["gateway"] == base
    # a second stack one block further shares nothing
    other = StackConfig.from_env({"SLATE_HOME": str(tmp_path / "b"), "SLATE_PORT_BASE": str(base - PORT_BLOCK)}) \
        if base - PORT_BLOCK >= 1024 else StackConfig.from_env(
            {"SLATE_HOME": str(tmp_path / "b"), "SLATE_PORT_BASE": str(base + PORT_BLOCK)})
    assert not set(ports) & set(_all_ports(other, Stack(other)))


@pytest.mark.parametrize("bad", ["abc", "80", "65500", "-1"])
def test_bad_base_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="SLATE_PORT_BASE"):
        StackConfig.from_env({"SLATE_HOME": str(tmp_path), "SLATE_PORT_BASE": bad})


def test_single_settings_override_the_base(tmp_path: Path) -> None:
    env = {
        "SLATE_HOME": str(tmp_path),
        "SLATE_PORT_BASE": "30000",
        "SLATE_PORT": "31000",
        "SLATE_MEDIA_PORT": "31001",
        "SLATE_POSTGRES_URL": "postgresql+asyncpg://postgres@127.0.0.1:31002",
        "SLATE_NATS_URL": "nats://127.0.0.1:31003",
        "SLATE_NATS_MONITOR_PORT": "31004",
        "SLATE_S3_ENDPOINT": "127.0.0.1:31010",
        "SLATE_SMTP_PORT": "31005",
    }
    config = StackConfig.from_env(env)
    stack = Stack(config)
    assert config.ports["gateway"] == 31000 and config.ports["media"] == 31001
    assert config.ports["auth"] == 30021  # not overridden: from the base
    assert stack.postgres is not None and stack.postgres.port == 31002
    assert stack.nats is not None and (stack.nats.port, stack.nats.monitor_port) == (31003, 31004)
    assert stack.s3 is not None and stack.s3.ports()["master"] == 31011
    assert stack.smtp is not None and stack.smtp.port == 31005
    child = stack.env()
    assert (child["SLATE_SMTP_HOST"], child["SLATE_SMTP_PORT"]) == ("127.0.0.1", "31005")
    assert child["SLATE_MEDIA_URL"] == "http://127.0.0.1:31001" and child["SLATE_PORT"] == "31000"


def test_smtp_host_elsewhere_runs_no_sink_and_keeps_its_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLATE_SMTP_HOST", "mail.studio.example")
    monkeypatch.setenv("SLATE_SMTP_PORT", "587")
    config = StackConfig.from_env({**os.environ, "SLATE_HOME": str(tmp_path)})
    stack = Stack(config)
    assert not config.smtp_sink and stack.smtp is None
    assert (stack.env()["SLATE_SMTP_HOST"], stack.env()["SLATE_SMTP_PORT"]) == ("mail.studio.example", "587")


def test_service_defaults_follow_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    # the test session points these at its own infrastructure (slate_common.testing)
    for name in ("SLATE_POSTGRES_URL", "SLATE_NATS_URL", "SLATE_S3_ENDPOINT", "SLATE_AUTH_URL", "SLATE_PORT_BASE",
                 "SLATE_MEDIA_PORT"):
        monkeypatch.delenv(name, raising=False)

    class Media(BaseServiceSettings):
        service_name = "media"
        model_config = service_config("media")

    assert Media().effective_port == 8103
    assert SharedSettings().nats_url == "nats://127.0.0.1:14222"
    monkeypatch.setenv("SLATE_PORT_BASE", "40000")
    assert Media().effective_port == 40023
    shared = SharedSettings()
    assert shared.postgres_url.endswith("@127.0.0.1:40032")
    assert shared.nats_url == "nats://127.0.0.1:40042"
    assert shared.s3_endpoint == "127.0.0.1:40050"
    assert shared.auth_url == "http://127.0.0.1:40021"
    monkeypatch.setenv("SLATE_MEDIA_PORT", "40099")
    assert Media().effective_port == 40099


def test_replica_counts(tmp_path: Path) -> None:
    env = {"SLATE_HOME": str(tmp_path), "SLATE_REPLICAS": "2", "SLATE_MEDIA_WORKER_PROCESSES": "3",
           "SLATE_AUTH_HTTP_PROCESSES": "1", "SLATE_PORT_BASE": "30000"}
    config = StackConfig.from_env(env)
    stack = Stack(config)
    assert config.gateway_replicas == 2 and config.gateway_ports == [30000, 30001]
    assert stack.gateway_urls == ["http://127.0.0.1:30000", "http://127.0.0.1:30001"]
    assert stack.gateway_names == ["gateway", "gateway-2"]
    assert stack.port_of("gateway-2") == 30001 and stack.port_of("media-worker") is None
    assert config.http_processes == {**{s: 2 for s in SERVICES}, "auth": 1}
    assert config.worker_processes == {**{s: 2 for s in SERVICES}, "media": 3}
    assert stack.worker_names("media") == ["media-worker", "media-worker-2", "media-worker-3"]
    child = stack.env()
    assert child["SLATE_AUTH_HTTP_PROCESSES"] == "1" and child["SLATE_PLANNING_HTTP_PROCESSES"] == "2"
    # `slate up --worker media` adds one more
    config.workers = ("media",)
    assert len(Stack(config).worker_names("media")) == 4
    with pytest.raises(ValueError, match="SLATE_GATEWAY_REPLICAS"):
        StackConfig.from_env({**env, "SLATE_GATEWAY_REPLICAS": str(MAX_GATEWAY_REPLICAS + 1)})
    with pytest.raises(ValueError, match="SLATE_REPLICAS"):
        StackConfig.from_env({**env, "SLATE_REPLICAS": "two"})


def test_postgres_settings_reach_the_embedded_server(tmp_path: Path) -> None:
    env = {"SLATE_HOME": str(tmp_path), "SLATE_POSTGRES_SETTINGS": "shared_buffers=128MB; pg_stat_statements.track = all;"}
    config = StackConfig.from_env(env)
    assert config.postgres_settings == {"shared_buffers": "128MB", "pg_stat_statements.track": "all"}
    assert Stack(config).postgres.extra_settings == config.postgres_settings  # over its -c defaults
    assert StackConfig.from_env({"SLATE_HOME": str(tmp_path)}).postgres_settings == {}
    with pytest.raises(ValueError, match="'shared_buffers' is not name=value"):
        StackConfig.from_env({**env, "SLATE_POSTGRES_SETTINGS": "shared_buffers"})


def test_free_ports_config_has_room_for_gateway_replicas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLATE_GATEWAY_REPLICAS", "3")
    monkeypatch.setenv("SLATE_PRODUCTION_WORKER_PROCESSES", "2")
    config = StackConfig.on_free_ports(tmp_path)
    stack = Stack(config)
    assert len(config.gateway_ports) == 3 and config.worker_processes["production"] == 2
    ports = _all_ports(config, stack)
    assert len(ports) == len(set(ports))
    assert S3_PORT_SPAN == 16


CHILD_HOLDER = (
    "import subprocess, sys, time;"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']);"
    "print('orphan-pid:', child.pid, flush=True); time.sleep(600)"
)


@pytest.mark.slow
def test_supervisor_ends_what_a_killed_process_left_in_its_group(tmp_path: Path) -> None:
    """uvicorn's workers outlive a parent killed alone and keep its port: a restart must
    not start beside them."""
    import psutil

    log = tmp_path / "h.log"
    sup = Supervisor(backoff_initial=0.2)
    proc = sup.add(ManagedProcess(name="holder", argv=[sys.executable, "-c", CHILD_HOLDER], log_path=log))
    sup.start("holder")
    child = 0
    try:
        deadline = time.monotonic() + 20
        while "\norphan-pid:" not in log.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child = int(log.read_text().split("\norphan-pid:")[1].split()[0])
        first = proc.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)  # the parent alone
        while not (proc.running() and proc.pid != first):
            assert time.monotonic() < deadline + 20
            time.sleep(0.05)
        assert proc.restarts == 1
        deadline = time.monotonic() + 5
        while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the orphan of the killed process is still running"
            time.sleep(0.05)
    finally:
        sup.stop_all(timeout=5)
        if child and psutil.pid_exists(child):  # this test's own orphan, when the check failed
            psutil.Process(child).kill()


@pytest.mark.slow
def test_processes_outlive_the_thread_that_started_them(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG fires when the forking *thread* ends: a stack booted from a
    short-lived thread must keep its processes (two stacks are booted side by side so)."""
    import threading

    sup = Supervisor(backoff_initial=0.2)
    proc = sup.add(ManagedProcess(name="sleeper", argv=[sys.executable, "-c", "import time; time.sleep(600)"],
                                  log_path=tmp_path / "s.log"))
    booter = threading.Thread(target=sup.start, args=("sleeper",))
    booter.start()
    booter.join()
    try:
        first = proc.pid
        time.sleep(1.5)  # the monitor would have restarted it after a death
        assert proc.running() and proc.pid == first and proc.restarts == 0
    finally:
        sup.stop_all(timeout=5)
    assert not proc.running()


CHOOSER = """
import sys
from slate_common.stack import _util
sys.stdin.readline()  # all start choosing at once
ports = [_util.free_port_block(2, low=LOW, high=HIGH) for _ in range(COUNT)]
print(" ".join(map(str, ports)), flush=True)
sys.stdin.readline()  # hold the reservations until every chooser has printed
"""


def test_stacks_choosing_ports_at_the_same_moment_never_pick_the_same(tmp_path: Path) -> None:
    """Processes choosing ports at once (two stacks booting together, as CI merges do)
    each get ports no other holds: every one is reserved on the machine (a lock file per
    port, SLATE_PORT_LOCK_DIR) before it is checked and handed out. The range is narrow
    enough that choosing at random without the reservation collides almost surely
    (6 processes × 20 blocks of 2 in 400 ports; nothing binds them meanwhile)."""
    import subprocess

    low, count, procs = 41000, 20, 6
    code = CHOOSER.replace("LOW", str(low)).replace("HIGH", str(low + 400)).replace("COUNT", str(count))
    env = {**os.environ, "SLATE_PORT_LOCK_DIR": str(tmp_path / "locks")}
    children = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603
                                 text=True, env=env) for _ in range(procs)]
    try:
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        chosen = []
        for child in children:
            assert child.stdout is not None
            bases = [int(p) for p in child.stdout.readline().split()]
            assert len(bases) == count
            chosen.append({p for base in bases for p in (base, base + 1)})
        every = [p for ports in chosen for p in ports]
        assert len(every) == len(set(every)) == procs * count * 2  # no port handed to two processes
        assert all(low <= p < low + 400 for p in every)
    finally:
        for child in children:
            child.kill()
            child.wait()
    # a process that ended left its reservations behind: its ports can be chosen again
    from slate_common.stack import _util

    before = _util.PORT_LOCK_DIR
    _util.PORT_LOCK_DIR = tmp_path / "locks"
    try:
        again = {_util.free_port_block(1, low=low, high=low + 400) for _ in range(300)}
        assert len(again) == 300 and again <= set(range(low, low + 400))
    finally:
        for port in again:
            _util._release(port)
            _util._handed_out.discard(port)
        _util.PORT_LOCK_DIR = before
