"""The gateway's Prometheus metrics (``GET /metrics``, not in the public spec).

- ``http_server_request_duration_seconds`` (histogram; ``service="gateway"``,
  ``method``, ``route``, ``status``): every request the gateway answered or proxied,
  by route *template* (the one the trie matched; ``<unmatched>`` otherwise), the same
  series the services export, so one dashboard reads both. 499 is a client that went
  away before the answer. Probes and scrapes are not counted.
- ``slate_gateway_upstream_up`` (per upstream) and ``slate_gateway_client_connections``,
  read at scrape time in the process that answers it.

Why not prometheus-client's ``Histogram`` on the hot path: its ``observe()`` costs
~3 us (a lock, a bucket loop, exemplar checks; more in its multiprocess mode, which
writes memory-mapped files), several percent of a proxied request's CPU here. A
request costs this module one dict lookup, one ``bisect`` and two additions
(~0.4 us); prometheus-client only formats the exposition text at scrape time.

Several workers on one port (``SLATE_GATEWAY_WORKERS`` > 1, forked, SO_REUSEPORT): a
scrape lands on any of them, so each worker writes its cumulative counts to
``<dir>/gateway_<pid>.json`` once a second (atomically, by rename) and the worker that
answers a scrape adds the others' files to its own live counts. ``<dir>`` is the
``gateway`` subdirectory of ``PROMETHEUS_MULTIPROC_DIR`` when set, else a temporary
directory; it is emptied when the gateway starts. A worker that exits leaves its
file, so counts never go backwards while the gateway runs.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from bisect import bisect_left
from collections.abc import Mapping
from typing import Any

import orjson

UNMATCHED = "<unmatched>"
#: Probes and the scrape itself are not measured (as in the services).
UNMEASURED = frozenset(("/healthz", "/readyz", "/metrics"))
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_LE = [repr(b) for b in BUCKETS] + ["+Inf"]

#: (method, route template, status) -> [sum of seconds, count per bucket..., count above the last]
Series = dict[tuple[str, str, int], list[float]]


def metrics_dir(workers: int, root: str = "") -> str | None:
    """Before forking workers: the directory they share (emptied), or None for one process.
    ``root``: the operator's ``PROMETHEUS_MULTIPROC_DIR`` (Settings.metrics_root), if any."""
    if workers <= 1:
        return None
    if root:
        path = os.path.join(root, "gateway")
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)
        return path
    path = tempfile.mkdtemp(prefix="slate-gateway-metrics-")
    parent = os.getpid()

    def remove() -> None:  # by the parent only (forked workers inherit atexit)
        if os.getpid() == parent:
            shutil.rmtree(path, True)

    atexit.register(remove)
    return path


class GatewayMetrics:
    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory
        self.series: Series = {}
        self._keys: dict[tuple[bytes, str, int], list[float]] = {}

    def observe(self, method: bytes, route: str, status: int, seconds: float) -> None:
        counts = self._keys.get((method, route, status))
        if counts is None:
            counts = [0.0] * (len(BUCKETS) + 2)
            self._keys[(method, route, status)] = counts
            self.series[(method.decode("latin-1"), route, status)] = counts
        counts[0] += seconds
        counts[1 + bisect_left(BUCKETS, seconds)] += 1

    def flush(self) -> None:
        """Write this worker's counts for the others' scrapes (several workers only)."""
        if self.directory is None or not self.series:
            return
        path = os.path.join(self.directory, f"gateway_{os.getpid()}.json")
        data = orjson.dumps([[m, r, s, c] for (m, r, s), c in self.series.items()])
        try:
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
        except OSError:  # a full or vanished directory must not stop the proxy
            pass

    def _merged(self) -> Series:
        merged: Series = {key: list(counts) for key, counts in self.series.items()}
        if self.directory is None:
            return merged
        own = f"gateway_{os.getpid()}.json"
        for name in os.listdir(self.directory):
            if name == own or not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(self.directory, name), "rb") as f:
                    rows = orjson.loads(f.read())
            except (OSError, ValueError):
                continue
            for method, route, status, counts in rows:
                have = merged.setdefault((method, route, status), [0.0] * len(counts))
                for i, value in enumerate(counts):
                    have[i] += value
        return merged

    def render(self, upstreams: Mapping[str, Any], connections: int) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

        duration = HistogramMetricFamily(
            "http_server_request_duration_seconds",
            "Duration of HTTP requests served, by route template and status.",
            labels=["service", "method", "route", "status"])
        for (method, route, status), counts in sorted(self._merged().items()):
            cumulative, buckets = 0.0, []
            for le, n in zip(_LE, counts[1:]):
                cumulative += n
                buckets.append((le, cumulative))
            duration.add_metric(["gateway", method, route, str(status)], buckets, counts[0])
        up = GaugeMetricFamily("slate_gateway_upstream_up",
                               "Whether the upstream answered the last attempt (1) or not (0).",
                               labels=["upstream"])
        for name, upstream in upstreams.items():
            up.add_metric([name], 1.0 if upstream.up else 0.0)
        conns = GaugeMetricFamily("slate_gateway_client_connections",
                                  "Open client connections of the process that answered.")
        conns.add_metric([], float(connections))
        registry = CollectorRegistry()
        registry.register(_Collect([duration, up, conns]))
        return generate_latest(registry)


class _Collect:
    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families
