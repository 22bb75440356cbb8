"""GET /metrics of a service: request histograms by route template, outbox and JetStream
figures read at scrape time, and several HTTP processes summed (multiprocess mode)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from fastapi import APIRouter
from nats.js.api import ConsumerConfig, RetentionPolicy, StreamConfig

from slate_common.app import create_service_app
from slate_common.config import BaseServiceSettings, service_config
from slate_common.db import EventsBase, make_engine, transaction
from slate_common.events import emit
from slate_common.events import outbox as outbox_module

SERVICE = "metricsvc"


class MetricSettings(BaseServiceSettings):
    service_name = SERVICE
    model_config = service_config(SERVICE)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition text (None if absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit("}", 1)[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
async def service(infra, make_database) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:  # type: ignore[no-untyped-def]
    url = make_database("metrics")
    engine = make_engine(url, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await conn.run_sync(EventsBase.metadata.create_all)
    await engine.dispose()
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    # No relay: outbox rows stay pending, as when the relay falls behind.
    app = create_service_app(MetricSettings(database_url=url, port=1, workers_enabled=False),
                             routers=[router], title="metrics test")
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as c:
            yield c, app.state.runtime


async def test_requests_by_route_template_and_status(service) -> None:  # type: ignore[no-untyped-def]
    client, _ = service
    before = await client.get("/metrics")
    assert before.status_code == 200 and before.headers["content-type"].startswith("text/plain")
    base = sample(before.text, "http_server_request_duration_seconds_count", service=SERVICE,
                  route="/things/{thing_id}", status="200") or 0
    served = sample(before.text, "slate_process_http_requests_total", service=SERVICE, pid=str(os.getpid()))
    assert served is not None
    for _i in range(3):
        assert (await client.get(f"/things/{uuid.uuid4()}")).status_code == 200
    assert (await client.get("/no/such/path")).status_code == 404
    text = (await client.get("/metrics")).text
    assert sample(text, "http_server_request_duration_seconds_count", service=SERVICE, method="GET",
                  route="/things/{thing_id}", status="200") == base + 3
    assert (sample(text, "http_server_request_duration_seconds_count", route="<unmatched>", status="404")
            or 0) >= 1
    assert sample(text, "http_server_request_duration_seconds_bucket", route="/things/{thing_id}",
                  le="+Inf") == base + 3
    # Raw paths never become labels (bounded series); probes and scrapes are not measured.
    assert "/no/such/path" not in text and 'route="/metrics"' not in text
    # one process: its own count, under its pid
    assert sample(text, "slate_process_http_requests_total", service=SERVICE, pid=str(os.getpid())) == served + 4


async def test_outbox_lag_is_read_at_scrape_time(service) -> None:  # type: ignore[no-untyped-def]
    client, runtime = service
    outbox_module.SERVICE = SERVICE
    async with transaction(runtime.sessionmaker) as session:
        emit(session, name="thing:new", data={"thing_id": "x"})
        emit(session, name="thing:new", data={"thing_id": "y"})
    await asyncio.sleep(1.1)
    text = (await client.get("/metrics")).text
    assert sample(text, "slate_outbox_pending_events", service=SERVICE) == 2
    assert (sample(text, "slate_outbox_oldest_pending_age_seconds", service=SERVICE) or 0) >= 1


async def test_consumer_lag_and_work_queue_depth(service, infra) -> None:  # type: ignore[no-untyped-def]
    client, _ = service
    nc = await nats.connect(infra.nats_url)
    js = nc.jetstream()
    events, jobs = "MT_EVENTS_" + uuid.uuid4().hex[:6].upper(), "MT_JOBS_" + uuid.uuid4().hex[:6].upper()
    try:
        await js.add_stream(StreamConfig(name=events, subjects=[f"mt.{events}.>"]))
        await js.add_stream(StreamConfig(name=jobs, subjects=[f"mt.{jobs}.>"],
                                         retention=RetentionPolicy.WORK_QUEUE))
        await js.add_consumer(events, ConsumerConfig(durable_name=f"{SERVICE}-events"))
        await js.add_consumer(events, ConsumerConfig(durable_name="other-service-events"))
        await js.add_consumer(jobs, ConsumerConfig(durable_name=f"{SERVICE}-workers"))
        for _i in range(4):
            await js.publish(f"mt.{events}.thing", b"{}")
        for _i in range(3):
            await js.publish(f"mt.{jobs}.job", b"{}")
        text = (await client.get("/metrics")).text
        assert sample(text, "slate_consumer_pending_messages", stream=events,
                      consumer=f"{SERVICE}-events") == 4
        assert sample(text, "slate_consumer_pending_messages", consumer="other-service-events") is None
        assert sample(text, "slate_consumer_pending_messages", stream=jobs, consumer=f"{SERVICE}-workers") == 3
        assert sample(text, "slate_work_queue_depth", service=SERVICE, stream=jobs) == 3
        assert sample(text, "slate_work_queue_depth", stream=events) is None  # not a work queue
    finally:
        for stream in (events, jobs):
            await js.delete_stream(stream)
        await nc.close()


@pytest.mark.slow
def test_several_http_processes_are_summed(infra, make_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A real service with two uvicorn processes on one port: every scrape, whichever
    process answers it, counts the requests both processes served."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics_dir = tmp_path / "prom"
    env = {**os.environ, "SLATE_AUTH_DATABASE_URL": make_database("auth", migrate=True),
           "SLATE_AUTH_PORT": str(port), "SLATE_AUTH_HTTP_PROCESSES": "2", "SLATE_HOME": str(tmp_path),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "slate_auth", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "auth did not start"
            time.sleep(0.2)
        n = 40
        for _ in range(n):  # a new connection each: the kernel spreads them over both processes
            assert httpx.get(url + "/auth/authenticated", timeout=10).status_code == 401
        pids = {f.stem.rsplit("_", 1)[1] for f in (metrics_dir / "auth").glob("histogram_*.db")}
        assert len(pids) == 2, pids  # both processes served requests
        for _ in range(6):
            text = httpx.get(url + "/metrics", timeout=10).text
            assert sample(text, "http_server_request_duration_seconds_count", service="auth",
                          route="/auth/authenticated", status="401") == n
            # and each process's share, under its pid, adds up to them
            shares = {pid: sample(text, "slate_process_http_requests_total", service="auth", pid=pid) for pid in pids}
            assert all(shares.values()) and sum(shares.values()) == n, shares  # type: ignore[arg-type]
    finally:
        proc.terminate()
        proc.wait(30)
