"""The gateway's Prometheus metrics (``GET /metrics``, not in the public spec).

- ``http_server_request_duration_seconds`` (histogram; ``service="gateway"``,
  ``method``, ``route``, ``status``): every request the gateway answered or proxied,
  by route *template* (the one the trie matched; ``<unmatched>`` otherwise), the same
  series the services export, so one dashboard reads both. 499 is a client that went
  away before the answer.
- ``slate_gateway_upstream_up`` (per upstream) and ``slate_gateway_client_connections``,
  read at scrape time in the process that answers it.

With ``SLATE_GATEWAY_WORKERS`` > 1 the forked workers share one port, so a scrape
lands on any of them: prometheus-client's multiprocess mode sums their histograms
(``run()`` sets ``PROMETHEUS_MULTIPROC_DIR`` before forking; prometheus-client reads
it when first imported, which is why it is imported here lazily).

The hot path costs a dict lookup and one ``observe()`` per request: the labelled
child is cached per (method, route, status).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"
#: Probes and the scrape itself are not measured (as in the services).
UNMEASURED = frozenset(("/healthz", "/readyz", "/metrics"))
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def prepare_multiprocess(workers: int) -> None:
    """Before forking workers: where they write their samples (a ``gateway``
    subdirectory of ``PROMETHEUS_MULTIPROC_DIR`` if set, else a fresh temporary one)."""
    root = os.environ.get(MULTIPROC_ENV)
    if root:
        path = root if os.path.basename(os.path.normpath(root)) == "gateway" else os.path.join(root, "gateway")
        os.makedirs(path, exist_ok=True)
    elif workers > 1:
        path = tempfile.mkdtemp(prefix="slate-gateway-metrics-")
        parent = os.getpid()
        atexit.register(lambda: os.getpid() == parent and shutil.rmtree(path, True))
    else:
        return
    os.environ[MULTIPROC_ENV] = path


class GatewayMetrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Histogram

        # A registry of its own: several Gateway objects (tests) must not collide.
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP requests served, by route template and status.",
            ("service", "method", "route", "status"), buckets=BUCKETS, registry=self.registry)
        self._children: dict[tuple[bytes, str, int], Any] = {}

    def observe(self, method: bytes, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.duration.labels(
                "gateway", method.decode("latin-1"), route, str(status))
        child.observe(seconds)

    def render(self, upstreams: Mapping[str, Any], connections: int) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.core import GaugeMetricFamily

        registry = CollectorRegistry()
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)
        else:
            registry.register(_Collect(lambda: list(self.registry.collect())))
        up = GaugeMetricFamily("slate_gateway_upstream_up",
                               "Whether the upstream answered the last attempt (1) or not (0).",
                               labels=["upstream"])
        for name, upstream in upstreams.items():
            up.add_metric([name], 1.0 if upstream.up else 0.0)
        conns = GaugeMetricFamily("slate_gateway_client_connections",
                                  "Open client connections of the process that answered.")
        conns.add_metric([], float(connections))
        registry.register(_Collect(lambda: [up, conns]))
        return generate_latest(registry)


class _Collect:
    def __init__(self, collect: Any) -> None:
        self.collect = collect
