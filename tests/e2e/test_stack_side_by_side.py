"""Two embedded stacks on one machine, one of them with two of everything.

Stack A runs the defaults on ``SLATE_PORT_BASE=a`` with its SMTP sink moved by
``SLATE_SMTP_PORT``; stack B runs on ``SLATE_PORT_BASE=b`` with ``SLATE_REPLICAS=2``: two
gateways (two ports), two API processes of each service (uvicorn workers on the service's
port) and two worker processes of each service. Both are built by
``StackConfig.from_env`` as ``slate up`` builds its own, booted side by side, and driven
over HTTP through their own gateways; what each listens on is read from the kernel
(psutil), not from the configuration.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from slate_common.config import PORT_BLOCK, SERVICES
from slate_common.stack import Stack, StackConfig, free_port_block
from slate_common.stack._util import tail

# Outside the kernel's ephemeral range (32768-60999 here), where outgoing connections
# could take a port of a block between our check and the bind.
BASE_RANGE = (20000, 32000)


def _config(home: Path, base: int, **env: str) -> StackConfig:
    config = StackConfig.from_env({"SLATE_HOME": str(home), "SLATE_PORT_BASE": str(base), **env})
    config.postgres_fsync = False
    config.extra_env = {"SLATE_LOG_LEVEL": "INFO"}
    return config


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Stack]]:
    a_base = free_port_block(PORT_BLOCK, low=BASE_RANGE[0], high=BASE_RANGE[1])
    b_base = free_port_block(PORT_BLOCK, low=BASE_RANGE[0], high=BASE_RANGE[1])
    a = Stack(_config(tmp_path_factory.mktemp("stack-a"), a_base, SLATE_SMTP_PORT=str(a_base + PORT_BLOCK - 1)))
    b = Stack(_config(tmp_path_factory.mktemp("stack-b"), b_base, SLATE_REPLICAS="2"))
    errors: list[BaseException] = []

    def boot(stack: Stack) -> None:
        try:
            stack.up()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=boot, args=(s,)) for s in (a, b)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        print(f"\ntwo stacks up in {time.monotonic() - started:.1f}s (bases {a_base}, {b_base})")
        yield {"a": a, "b": b}
    finally:
        for t in threads:
            t.join()
        for s in (a, b):
            s.down()


def _token(gateway: str, stack: Stack) -> dict[str, str]:
    r = httpx.post(f"{gateway}/api/auth/login", timeout=30,
                   json={"email": stack.config.admin_email, "password": stack.config.admin_password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _write_read(gateway: str, stack: Stack, read_from: list[str] | None = None) -> str:
    """Log in, create a project through ``gateway`` and read it back through ``read_from``
    (the same gateway by default) at once."""
    headers = _token(gateway, stack)
    name = f"side-by-side {uuid.uuid4().hex[:8]}"
    r = httpx.post(f"{gateway}/api/data/projects", json={"name": name}, headers=headers, timeout=30)
    assert r.status_code in (200, 201), r.text
    project_id = r.json()["id"]
    for url in read_from or [gateway]:
        got = httpx.get(f"{url}/api/data/projects/{project_id}", headers=headers, timeout=30)
        assert got.status_code == 200, (url, got.text)
        assert got.json()["name"] == name
    return str(project_id)


def _tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _listening(stack: Stack) -> dict[tuple[str, int], str]:
    """(address, port) -> supervised process, for every TCP socket the stack's processes
    (and their children) listen on."""
    out: dict[tuple[str, int], str] = {}
    for name in stack.supervisor.names:
        for proc in _tree(stack.supervisor[name].pid):
            try:
                conns = proc.net_connections(kind="tcp")
            except psutil.NoSuchProcess:
                continue
            for c in conns:
                if c.status == psutil.CONN_LISTEN:
                    out[(c.laddr.ip, c.laddr.port)] = name
    return out


def _uvicorn_workers(stack: Stack, service: str) -> list[psutil.Process]:
    """The live API processes uvicorn runs for ``service`` (zombies and the dead left out)."""
    out = []
    for proc in _tree(stack.supervisor[service].pid)[1:]:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(proc.cmdline()):
                out.append(proc)
        except psutil.Error:
            continue
    return out


def _wait(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.2)


def test_both_stacks_serve_login_and_write_read_through_their_own_gateway(stacks: dict[str, Stack]) -> None:
    a, b = stacks["a"], stacks["b"]
    assert a.gateway_url != b.gateway_url
    ids = {}
    for key, stack in stacks.items():
        ids[key] = _write_read(stack.gateway_url, stack)
    # separate databases: A's project is not B's
    for key, other in (("a", b), ("b", a)):
        r = httpx.get(f"{other.gateway_url}/api/data/projects/{ids[key]}", headers=_token(other.gateway_url, other),
                      timeout=30)
        assert r.status_code == 404, r.text


def test_listening_ports_do_not_overlap_and_stay_in_each_block(stacks: dict[str, Stack]) -> None:
    seen = {key: _listening(stack) for key, stack in stacks.items()}
    ports = {key: {port for _, port in listening} for key, listening in seen.items()}
    assert not ports["a"] & ports["b"], sorted(ports["a"] & ports["b"])
    for key, stack in stacks.items():
        base = stack.config.ports["gateway"]
        outside = {f"{ip}:{port}": name for (ip, port), name in seen[key].items() if not base <= port < base + PORT_BLOCK}
        assert not outside, f"stack {key} (base {base}) listens outside its block: {outside}"
        public = {f"{ip}:{port}": name for (ip, port), name in seen[key].items() if ip != "127.0.0.1"}
        assert not public, f"stack {key} listens beyond 127.0.0.1: {public}"
        expected = {*stack.config.gateway_ports, *(stack.config.ports[s] for s in SERVICES)}
        assert stack.postgres is not None and stack.nats is not None and stack.s3 is not None
        expected |= {stack.postgres.port, stack.nats.port, stack.nats.monitor_port, stack.s3.port}
        assert stack.smtp is not None
        expected.add(stack.smtp.port)
        assert expected <= ports[key], sorted(expected - ports[key])
    # SLATE_SMTP_PORT moved A's sink off its default place in the block
    a = stacks["a"]
    assert a.smtp is not None and a.smtp.port == a.config.ports["gateway"] + PORT_BLOCK - 1
    assert seen["a"][("127.0.0.1", a.smtp.port)] == "smtp"
    assert a.config.ports["gateway"] + 45 not in ports["a"]


def test_mail_goes_to_the_moved_sink(stacks: dict[str, Stack]) -> None:
    a = stacks["a"]
    before = set((a.home / "mail").glob("*.eml"))
    r = httpx.post(f"{a.gateway_url}/api/auth/reset-password", json={"email": a.config.admin_email}, timeout=30)
    assert r.status_code == 200, r.text
    new = set((a.home / "mail").glob("*.eml")) - before  # sent before the answer
    assert len(new) == 1 and a.config.admin_email in new.pop().read_text()


def test_two_of_each_write_read_through_every_gateway(stacks: dict[str, Stack]) -> None:
    b = stacks["b"]
    assert b.gateway_names == ["gateway", "gateway-2"] and len(b.gateway_urls) == 2
    for svc in SERVICES:
        assert len(_uvicorn_workers(b, svc)) == 2, svc
        assert b.worker_names(svc) == [f"{svc}-worker", f"{svc}-worker-2"]
        for name in b.worker_names(svc):
            assert b.supervisor[name].running(), name
    for url in b.gateway_urls:  # written through one gateway, read through both
        _write_read(url, b, read_from=b.gateway_urls)


def _worker_runs(stack: Stack, name: str) -> int:
    return tail(stack.home / "logs" / f"{name}.log", 10_000).count("worker_running")


def test_supervisor_restarts_every_killed_replica(stacks: dict[str, Stack]) -> None:
    b = stacks["b"]
    # one API process of production dies: uvicorn replaces it on the same port
    victim = _uvicorn_workers(b, "production")[0]
    victim.kill()
    _wait(lambda: victim.pid not in {p.pid for p in _uvicorn_workers(b, "production")}
          and len(_uvicorn_workers(b, "production")) == 2, 60, "uvicorn replaces its killed worker")

    # then every supervised app process is killed alone (kill -9 of the process, not its
    # group: uvicorn's workers are left holding the port, as after an OOM kill)
    workers = [n for svc in SERVICES for n in b.worker_names(svc)]
    names = [*b.gateway_names, *SERVICES, *workers]
    before = {n: (b.supervisor[n].pid, b.supervisor[n].restarts) for n in names}
    runs = {n: _worker_runs(b, n) for n in workers}
    for name in names:
        os.kill(b.supervisor[name].pid, signal.SIGKILL)  # type: ignore[arg-type]
    for name in names:
        proc = b.supervisor[name]
        # the supervisor's thread counts the restart just after it spawns: wait for both
        _wait(lambda p=proc, n=name: p.running() and p.pid != before[n][0] and p.restarts > before[n][1],
              60, f"{name} restarted")
        assert proc.restarts == before[name][1] + 1, name
    b.wait_healthy(names=[*SERVICES, *b.gateway_names], timeout=120)
    b.wait_healthy(names=b.gateway_names, path="/readyz", timeout=60)
    for name in workers:
        _wait(lambda n=name: _worker_runs(b, n) > runs[n], 120, f"{name} running again")
    for svc in SERVICES:
        _wait(lambda s=svc: len(_uvicorn_workers(b, s)) == 2, 60, f"{svc}: two API processes again")
    for url in b.gateway_urls:
        _write_read(url, b, read_from=b.gateway_urls)
