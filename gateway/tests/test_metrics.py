"""GET /metrics of a real gateway: request histograms by route template, one or several workers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from gwprocs import Proc, start_gateway


def sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if not line.startswith((name + "{", name + " ")):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit("}", 1)[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_requests_by_route_template(upstream: Proc) -> None:
    gw = start_gateway({"production": upstream.url})
    try:
        with httpx.Client(base_url=gw.url) as c:
            for i in range(3):
                assert c.get(f"/api/data/projects/p{i}").status_code == 200
            assert c.get("/data/projects/open").status_code == 200
            assert c.get("/nope/at/all").status_code == 404
            assert c.delete("/data/projects/open").status_code == 405
            assert c.get("/config").status_code == 200
            r = c.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        text = r.text
        count = "http_server_request_duration_seconds_count"
        assert sample(text, count, service="gateway", method="GET",
                      route="/data/projects/{project_id}", status="200") == 3
        assert sample(text, count, route="/data/projects/open", method="GET", status="200") == 1
        assert sample(text, count, route="/data/projects/open", method="DELETE", status="405") == 1
        assert sample(text, count, route="<unmatched>", status="404") == 1
        assert sample(text, count, route="/config", status="200") == 1
        assert "p0" not in text and "/nope" not in text  # raw paths never become labels
        assert sample(text, "slate_gateway_upstream_up", upstream="production") == 1
        assert "/metrics" not in httpx.get(gw.url + "/openapi.json").json()["paths"]
    finally:
        gw.stop()


@pytest.mark.slow
def test_workers_are_summed(upstream: Proc, tmp_path: Path) -> None:
    """Two forked workers on one port: every scrape, whichever worker answers, sums both."""
    gw = start_gateway({"production": upstream.url}, SLATE_GATEWAY_WORKERS="2",
                       PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    try:
        n = 60
        for i in range(n):  # a new connection each: SO_REUSEPORT spreads them over both workers
            assert httpx.get(gw.url + f"/data/projects/w{i}").status_code == 200
        time.sleep(1.5)  # each worker writes its counts once a second
        pids = {f.stem.rsplit("_", 1)[1] for f in (tmp_path / "gateway").glob("gateway_*.json")}
        assert len(pids) == 2, pids  # both workers served requests
        for _ in range(8):
            text = httpx.get(gw.url + "/metrics").text
            assert sample(text, "http_server_request_duration_seconds_count", service="gateway",
                          route="/data/projects/{project_id}", status="200") == n
    finally:
        gw.stop()
