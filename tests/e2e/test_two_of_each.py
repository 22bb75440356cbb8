"""Two of each, as Kubernetes runs Slate: every row of the consistency matrix, and the
requests really spread over the gateways and over the processes of each service.

The stack: two gateways, two API processes of each service (uvicorn workers on its port)
and two ``worker`` processes of each service (relays, consumers, RPC, media's jobs). When
the session's stack already runs two of each (``SLATE_REPLICAS=2``, ``make
test-replicas``) the tests run on it; otherwise (``make test``) this module boots a second
stack with two of each for itself, beside the session's, and stops it at the end.

Every client here sends each request to the next gateway in turn (``gateway_client``), so a
write and the very next read go through different gateways and, as often as not,
different processes.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import psutil
import pytest

from slate_common.config import SERVICES
from slate_common.stack import StackConfig
from slate_common.testing import booted_stack

from .conftest import gateway_client, login
from .test_consistency_matrix import ROWS, World, check_concurrently, check_in_a_row, make_world

TWO = 2
#: A cheap call of each service for the spreading test: a listing through the gateways,
#: or, for the services that serve no public route yet, their own API document, called
#: directly as a pipeline team would.
THROUGH_GATEWAYS = {"auth": "/auth/authenticated", "production": "/data/projects", "media": "/data/preview-files"}
DIRECT = {"planning": "/openapi.json", "import-export": "/openapi.json"}
CALLS = 64
ROUNDS = 3


def _session_stack_has_two_of_each() -> bool:
    """Whether the session's stack runs two of each (its counts come from the environment)."""
    counts = StackConfig.counts_from_env()
    return counts["gateway_replicas"] >= TWO and all(
        counts["http_processes"][svc] >= TWO and counts["worker_processes"][svc] >= TWO for svc in SERVICES)


@pytest.fixture(scope="module")
def two(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A stack with two of each: the session's when it is one, else a second one."""
    if _session_stack_has_two_of_each():
        yield request.getfixturevalue("stack")
        return
    counts = {"gateway_replicas": TWO, "http_processes": dict.fromkeys(SERVICES, TWO),
              "worker_processes": dict.fromkeys(SERVICES, TWO)}
    with booted_stack(tmp_path_factory.mktemp("two-of-each"), **counts) as handle:
        yield handle


@pytest.fixture(scope="module")
async def world(two: Any) -> AsyncIterator[World]:
    world = await make_world(two)
    yield world
    await world.api.aclose()


def _api_processes(stack: Any, service: str) -> list[psutil.Process]:
    """The live uvicorn workers of ``service`` (children of its supervised process)."""
    root = psutil.Process(stack.stack.supervisor[service].pid)
    return [p for p in root.children(recursive=True)
            if p.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(p.cmdline())]


def test_the_stack_runs_two_of_each(two: Any) -> None:
    assert len(two.gateway_urls) == TWO and len(set(two.gateway_urls)) == TWO
    for svc in SERVICES:
        assert len(_api_processes(two, svc)) == TWO, svc
        workers = two.stack.worker_names(svc)
        assert len(workers) == TWO and all(two.stack.supervisor[w].running() for w in workers), svc


@pytest.mark.parametrize("row", ROWS, ids=[r.__name__ for r in ROWS])
async def test_row_with_zero_delay(world: World, row: Callable[[World], Awaitable[None]]) -> None:
    await check_in_a_row(world, row)


async def test_every_row_under_32_concurrent_clients(world: World) -> None:
    await check_concurrently(world)


async def _gateway_requests(client: httpx.AsyncClient, url: str) -> float:
    """Requests this gateway replica has answered (its /metrics, probes left out)."""
    text = (await client.get(url + "/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("http_server_request_duration_seconds_count{"))


async def _process_requests(client: httpx.AsyncClient, url: str) -> dict[str, float]:
    """pid -> requests served, per API process of the service at ``url`` (its /metrics)."""
    text = (await client.get(url + "/metrics")).text
    return {pid: float(value) for pid, value in
            re.findall(r'^slate_process_http_requests_total\{pid="(\d+)",service="[^"]+"\} (\S+)$', text, re.M)}


async def test_requests_spread_over_both_gateways_and_both_processes_of_each_service(two: Any) -> None:
    """64 calls of each service, 16 at once: both gateways answer, and both API processes
    of every service serve requests (the connections to a service are accepted by either
    process, as a Kubernetes Service spreads connections over pods)."""
    async with httpx.AsyncClient(timeout=30) as scrape:
        gateways_before = [await _gateway_requests(scrape, url) for url in two.gateway_urls]
        before = {svc: await _process_requests(scrape, two.url(svc)) for svc in SERVICES}
        # direct calls: a new connection each, as many short-lived pipeline scripts make
        direct = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_keepalive_connections=0))
        async with gateway_client(two, timeout=60) as api, direct:
            token = (await login(api, two.admin_email, two.admin_password))["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            lanes = asyncio.Semaphore(16)

            async def call(path: str) -> int:
                async with lanes:
                    client = direct if path.startswith("http") else api
                    return (await client.get(path, headers=headers)).status_code

            # Which process accepts a connection is the kernel's choice: a round in which
            # one process took every new connection is followed by another once the
            # gateways' idle connections have closed (4 s), up to ROUNDS rounds.
            for round_ in range(ROUNDS):
                if round_:
                    await asyncio.sleep(5)
                for svc, path in {**THROUGH_GATEWAYS, **{s: two.url(s) + p for s, p in DIRECT.items()}}.items():
                    codes = await asyncio.gather(*(call(path) for _ in range(CALLS)))
                    assert Counter(codes) == Counter({200: CALLS}), (svc, Counter(codes))
                after = {svc: await _process_requests(scrape, two.url(svc)) for svc in SERVICES}
                if all(_busy(before[svc], after[svc]) >= {str(p.pid) for p in _api_processes(two, svc)}
                       for svc in SERVICES):
                    break
        gateways_after = [await _gateway_requests(scrape, url) for url in two.gateway_urls]
    # each gateway answered its half (the client alternates between them)
    answered = [a - b for a, b in zip(gateways_after, gateways_before, strict=True)]
    assert all(n >= len(THROUGH_GATEWAYS) * CALLS // 2 for n in answered), answered  # every other request each
    for svc in SERVICES:
        served = {pid: n - before[svc].get(pid, 0.0) for pid, n in after[svc].items()}
        live = {str(p.pid) for p in _api_processes(two, svc)}
        print(f"{svc}: requests per API process {served} (rounds: {round_ + 1})")
        assert live <= _busy(before[svc], after[svc]), f"{svc}: API processes {sorted(live)} served {served}"


def _busy(before: dict[str, float], after: dict[str, float]) -> set[str]:
    """The processes that served requests between two scrapes."""
    return {pid for pid, n in after.items() if n > before.get(pid, 0.0)}
