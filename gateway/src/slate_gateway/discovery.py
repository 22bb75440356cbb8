"""Route discovery: the route table is built from the services' own OpenAPI.

One watcher task per upstream fetches ``GET /openapi.json``: with backoff
(0.1 s doubling to 5 s) until the service answers, then every
``refresh_interval`` seconds, and again at once when the proxy sees the
service fail (so a restarted service's new routes are picked up as soon as it
reappears).  When any document changes, the table is rebuilt from scratch and
swapped in with a single assignment; requests in flight keep the old one.

Routes a service declares stay routed while it is down (requests then get a
503), so a crash does not turn its paths into 404s.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from . import __version__
from .routing import HTTP_METHODS, RouteTable
from .upstream import Upstream, fetch

#: Called with each new route table and the aggregated OpenAPI document (JSON bytes).
OnChange = Callable[[RouteTable, bytes], None]

log = logging.getLogger("slate_gateway.discovery")

#: Paths every service serves for itself, never routed by the gateway.
INTERNAL_PATHS = ("/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect",
                  "/redoc", "/metrics")


class Discovery:
    """Watches the upstreams' documents; hands every rebuilt table to ``on_change``.

    ``local_routes`` are the gateway's own ``(template, handler)`` pairs (GET), added
    first; ``local_paths`` their OpenAPI path items for the aggregated document.
    """

    def __init__(self, upstreams: Mapping[str, Upstream], *, on_change: OnChange,
                 local_routes: Sequence[tuple[str, Any]] = (),
                 local_paths: dict[str, Any] | None = None,
                 refresh_interval: float = 30.0) -> None:
        self.upstreams = upstreams
        self.on_change = on_change
        self.local_routes = list(local_routes)
        self.local_paths = dict(local_paths or {})
        self.refresh_interval = refresh_interval
        self.specs: dict[str, dict[str, Any]] = {}
        self.kicks: dict[str, asyncio.Event] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.rebuild()
        for up in self.upstreams.values():
            kick = self.kicks[up.name] = asyncio.Event()
            up.on_down = kick.set
            self.tasks.append(asyncio.get_running_loop().create_task(self._watch(up, kick)))

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _watch(self, up: Upstream, kick: asyncio.Event) -> None:
        delay = 0.1
        while True:
            kick.clear()
            try:
                status, body = await fetch(up, "/openapi.json")
                if status != 200:
                    raise ValueError(f"GET /openapi.json answered {status}")
                spec = orjson.loads(body)
            except Exception as exc:  # noqa: BLE001 -- down, starting, or a bad document
                if up.up or up.name not in self.specs:
                    log.debug("upstream %s unavailable: %s", up.name, exc)
                up.up = False
                try:
                    await asyncio.wait_for(kick.wait(), delay)
                except TimeoutError:
                    pass
                delay = min(delay * 2, 5.0)
                continue
            up.up = True
            delay = 0.1
            if self.specs.get(up.name) != spec:
                self.specs[up.name] = spec
                self.rebuild()
            up.prune()
            try:
                await asyncio.wait_for(kick.wait(), self.refresh_interval)
            except TimeoutError:
                pass

    def rebuild(self) -> None:
        """Compile a new route table and aggregated spec from the known documents."""
        table = RouteTable()
        for template, handler in self.local_routes:
            table.add("GET", template, handler, "gateway")
        for name, up in self.upstreams.items():
            spec = self.specs.get(name)
            if spec is None:
                continue
            conflicts = table.add_openapi(spec, up, name, exclude=INTERNAL_PATHS)
            for method, template in conflicts:
                log.warning("%s %s declared by %s is already owned by %s", method, template,
                            name, table.owners.get((method, template)))
        self.on_change(table, orjson.dumps(aggregate_openapi(
            {n: self.specs[n] for n in self.upstreams if n in self.specs}, self.local_paths)))

    def missing(self) -> list[str]:
        """Upstreams whose document has not been read yet."""
        return [n for n in self.upstreams if n not in self.specs]


def aggregate_openapi(specs: dict[str, dict[str, Any]],
                      local_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge the services' documents into one (first declaration of an operation wins).

    Component names that two services define differently are prefixed with the
    service name in the later one (``media__Error``) and its ``$ref``s rewritten.
    """
    paths: dict[str, Any] = copy.deepcopy(local_paths or {})
    taken = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    components: dict[str, dict[str, Any]] = {}
    tags: dict[str, Any] = {"Gateway": {"name": "Gateway", "description": "Served by the gateway"}}
    for name, spec in specs.items():
        comps = spec.get("components") or {}
        renames: dict[str, str] = {}
        for kind, defs in comps.items():
            if not isinstance(defs, dict):
                continue
            have = components.get(kind, {})
            for cname, cdef in defs.items():
                if cname in have and have[cname] != cdef:
                    renames[f"#/components/{kind}/{cname}"] = f"#/components/{kind}/{name}__{cname}"
        if renames:
            spec = _rewrite_refs(copy.deepcopy(spec), renames)
            comps = spec.get("components") or {}
        for kind, defs in comps.items():
            if isinstance(defs, dict):
                target = components.setdefault(kind, {})
                for cname, cdef in defs.items():
                    target.setdefault(cname, cdef)
        for template, ops in (spec.get("paths") or {}).items():
            if template in INTERNAL_PATHS or not isinstance(ops, dict):
                continue
            for method, op in ops.items():
                if method.upper() in HTTP_METHODS:
                    if (method.upper(), template) in taken:
                        continue
                    taken.add((method.upper(), template))
                paths.setdefault(template, {})[method] = op
        for tag in spec.get("tags") or []:
            if isinstance(tag, dict) and "name" in tag:
                tags.setdefault(tag["name"], tag)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Slate API",
            "version": __version__,
            "description": "Zou 1.0.97-compatible API of Slate, aggregated by the gateway "
                           "from the services' own documents. Every path is also served "
                           "at the root, without the /api prefix.",
        },
        "servers": [{"url": "/api"}],
        "paths": paths,
        "components": components,
        "tags": list(tags.values()),
    }


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in renames:
            node["$ref"] = renames[ref]
        for key, value in list(node.items()):
            if key == "components" and isinstance(value, dict):
                for kind, defs in value.items():
                    if isinstance(defs, dict):
                        value[kind] = {
                            renames.get(f"#/components/{kind}/{c}", f"#/components/{kind}/{c}")
                            .rsplit("/", 1)[1]: _rewrite_refs(d, renames)
                            for c, d in defs.items()}
            else:
                _rewrite_refs(value, renames)
    elif isinstance(node, list):
        for item in node:
            _rewrite_refs(item, renames)
    return node
