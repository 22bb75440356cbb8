"""A route index in front of FastAPI's router: the same route, found without the scan.

FastAPI (>= 0.160) keeps every ``include_router`` as an ``_IncludedRouter`` and matches a
request by trying the routes one by one, depth first, in the order they were added: the
top-level loop asks each included router whether one of its routes matches (a scan of
all of them), then the chosen router scans its routes again to pick one, with scope
bookkeeping per candidate and a walk over every router to compute a routes version on
each call. In production (~800 routes) that was a fifth of the CPU of a light GET.

The index flattens the same tree once into its leaves (the routes FastAPI ends up
running, in FastAPI's order) and files each under the literal segments of its path, in
a trie: a literal segment is a key, a one-segment parameter (``{x}``, ``{x:int}``,
``{x:uuid}``, ``{x:float}``, or parameters mixed with text in one segment) is the
"any segment" branch, and anything else (``{x:path}``, a custom convertor, a mount)
accepts whatever follows, from its node on. A path reaches a superset of the leaves that
can match it; those are tried in their original order with FastAPI's own ``matches``,
and the first full match is the route FastAPI's scan would have chosen (its scan also
takes the first full match in that order: an included router answers "full" when one of
its routes does, and then runs its first full match).

Everything else goes to FastAPI's own router, unchanged: no full match among the
candidates (404, 405, the trailing-slash redirect, low-priority routes), a request that
is not HTTP, a path with a newline (``$`` in route regexes accepts one before the end),
a route kind the index does not know how to run, and a tree changed since the index was
built (each router's ``_routes_version`` is compared per request; the index is rebuilt).
The dispatch of a chosen route repeats the steps FastAPI's router takes on the way to it
(form limits of each included router, the scope keys FastAPI's route handling reads,
``scope["route"]``, the body-size wrapper of non-FastAPI routes), with FastAPI's own
helpers. ``libs/common/tests/test_route_index.py`` checks, for every route of every
service app, that the index picks the route FastAPI's matching picks, and that answers
(404, 405, redirects, mounts, path converters, first-match order) are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette import convertors
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

try:  # FastAPI's router internals the dispatch repeats; without them, no index
    from fastapi._body_limit import wrap_app_with_body_limit
    from fastapi.routing import (
        _FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY,
        _FASTAPI_INCLUDED_ROUTER_KEY,
        _SCOPE_MISSING,
        APIRoute,
        APIRouter,
        _apply_router_form_limits,
        _EffectiveRouteContext,
        _get_fastapi_scope,
        _IncludedRouter,
        _restore_fastapi_scope_key,
        _route_selected,
        _update_scope,
    )
    from starlette._utils import get_route_path

    AVAILABLE = True
except ImportError:  # pragma: no cover - another FastAPI: the plain router serves
    AVAILABLE = False

#: Convertors whose regex never crosses a "/" (their exact classes: a subclass may not).
_ONE_SEGMENT = (convertors.StringConvertor, convertors.IntegerConvertor, convertors.FloatConvertor,
                convertors.UUIDConvertor)


@dataclass(eq=False, slots=True)
class Leaf:
    """A route FastAPI may run, with the included routers leading to it (outermost first)."""

    order: int
    chain: tuple[Any, ...]  # the _IncludedRouter objects FastAPI passes through
    route: BaseRoute  # what FastAPI matches and runs: an APIRoute, or a Starlette route
    context: Any  # its _EffectiveRouteContext inside an included router, else None
    #: A top-level route after an included router: FastAPI's scan has made ``scope["fastapi"]``.
    after_included: bool = False

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FastAPI's own matching of this route, as its included router calls it."""
        context = self.context
        if context is None:
            return self.route.matches(scope)
        if isinstance(context.original_route, APIRoute):
            fastapi_scope = _get_fastapi_scope(scope)
            previous = fastapi_scope.get(_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY, _SCOPE_MISSING)
            fastapi_scope[_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY] = context
            try:
                return context.original_route.matches(scope)
            finally:
                _restore_fastapi_scope_key(scope, _FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY, previous)
        return context.matches(scope)  # type: ignore[no-any-return]


@dataclass(slots=True)
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    any_segment: _Node | None = None
    #: Leaves that end exactly here, and leaves that accept whatever follows this node.
    ends: list[int] = field(default_factory=list)
    rest: list[int] = field(default_factory=list)


def _leaves(router: Any) -> tuple[list[Leaf], list[Any]]:
    """The routes under ``router`` in FastAPI's matching order, and every router met
    (whose versions say when the index is stale)."""
    leaves: list[Leaf] = []
    routers: list[Any] = [router]

    def walk(chain: tuple[Any, ...], candidates: list[Any]) -> None:
        included_seen = False
        for candidate in candidates:
            if isinstance(candidate, _IncludedRouter):
                included_seen = True
                routers.append(candidate.original_router)
                walk((*chain, candidate), candidate.effective_candidates())
            elif isinstance(candidate, _EffectiveRouteContext):
                route = candidate.original_route if isinstance(candidate.original_route, APIRoute) else (
                    candidate.starlette_route or candidate.original_route)
                leaves.append(Leaf(len(leaves), chain, route, candidate))
            else:
                leaves.append(Leaf(len(leaves), chain, candidate, None, included_seen))

    walk((), list(router.routes))
    return leaves, routers


def _pattern(leaf: Leaf) -> list[str | None] | None:
    """The leaf's path as trie keys: a literal segment, ``None`` for any one segment, and
    a final ``"*"`` for "anything from here on" (a mount's ``/{path}`` too); ``None``
    when the path is not known (a host route): the leaf is then tried for every path."""
    context = leaf.context
    source = context if context is not None and context.starlette_route is None else leaf.route
    path_format = getattr(source, "path_format", None)
    params = getattr(source, "param_convertors", None)
    if not isinstance(path_format, str) or not path_format.startswith("/") or not isinstance(params, dict):
        return None
    return _pattern_of(path_format, params)


def _pattern_of(path_format: str, params: dict[str, Any]) -> list[str | None] | None:
    keys: list[str | None] = []
    for segment in path_format[1:].split("/"):
        if "{" not in segment and "}" not in segment:
            keys.append(segment)
            continue
        names = [part.split("}", 1)[0] for part in segment.split("{")[1:]]
        if not names or any(name not in params for name in names):
            return None
        if all(type(params[name]) in _ONE_SEGMENT for name in names):
            keys.append(None)
        else:  # a path convertor or a custom one: whatever follows
            keys.append("*")
            return keys
    return keys


class RouteIndex:
    """An ASGI app in place of the router's own entry point (``router.middleware_stack``)."""

    def __init__(self, router: Any, fallback: ASGIApp) -> None:
        self.router = router
        self.fallback = fallback
        self._versions: list[tuple[Any, int]] = []
        self._top_count = -1
        self.leaves: list[Leaf] = []
        self._root = _Node()
        self._everywhere: list[int] = []  # built at the first request (routes are added until then)

    def build(self) -> None:
        leaves, routers = _leaves(self.router)
        root = _Node()
        everywhere: list[int] = []
        for leaf in leaves:
            pattern = _pattern(leaf)
            if pattern is None:
                everywhere.append(leaf.order)
                continue
            node = root
            for key in pattern:
                if key == "*":
                    node.rest.append(leaf.order)
                    break
                if key is None:
                    if node.any_segment is None:
                        node.any_segment = _Node()
                    node = node.any_segment
                else:
                    node = node.literal.setdefault(key, _Node())
            else:
                node.ends.append(leaf.order)
        self.leaves, self._root, self._everywhere = leaves, root, everywhere
        self._versions = [(router, router._routes_version) for router in routers]
        self._top_count = len(self.router.routes)

    def _fresh(self) -> bool:
        if len(self.router.routes) != self._top_count:
            return False
        return all(router._routes_version == version for router, version in self._versions)

    def candidates(self, route_path: str) -> list[int]:
        """The leaves that may match ``route_path``, in FastAPI's order (a superset)."""
        found = list(self._everywhere)
        segments = route_path[1:].split("/")
        count = len(segments)
        stack = [(self._root, 0)]
        while stack:
            node, depth = stack.pop()
            if node.rest:
                found += node.rest
            if depth == count:
                found += node.ends
                continue
            child = node.literal.get(segments[depth])
            if child is not None:
                stack.append((child, depth + 1))
            if node.any_segment is not None:
                stack.append((node.any_segment, depth + 1))
        found.sort()
        return found

    def resolve(self, scope: Scope) -> tuple[Leaf, Scope] | None:
        """The route FastAPI's scan would run for this HTTP scope and its child scope, or
        None when the index leaves the request to FastAPI (no full match, doubt)."""
        if not self._fresh():
            self.build()
        route_path = get_route_path(scope)
        if not route_path.startswith("/") or "\n" in route_path:
            return None
        leaves = self.leaves
        for order in self.candidates(route_path):
            leaf = leaves[order]
            match, child_scope = leaf.matches(scope)
            if match == Match.FULL:
                return leaf, child_scope
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        found = self.resolve(scope)
        if found is None:
            await self.fallback(scope, receive, send)
            return
        leaf, child_scope = found
        # What APIRouter.app, _IncludedRouter.handle and _handle_selected do on the way.
        router = self.router
        _apply_router_form_limits(scope, router.form_limits)
        if "router" not in scope:
            scope["router"] = router
        chain = leaf.chain
        if not chain:  # a route of the top router itself
            if leaf.after_included:
                _get_fastapi_scope(scope)
            _update_scope(scope, child_scope)
            _route_selected(scope=scope, path=getattr(leaf.route, "path_format", None),
                            mount=isinstance(leaf.route, Mount))
            await leaf.route.handle(scope, receive, send)
            return
        _route_selected(scope=scope, path=getattr(chain[0], "path_format", None), mount=False)
        for included in chain:
            _apply_router_form_limits(scope, included.include_context.form_limits)
            _get_fastapi_scope(scope)[_FASTAPI_INCLUDED_ROUTER_KEY] = included
        context = leaf.context
        _update_scope(scope, child_scope)
        _route_selected(scope=scope, path=getattr(context.starlette_route, "path_format", None) or context.path_format,
                        mount=isinstance(leaf.route, Mount))
        _get_fastapi_scope(scope)[_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY] = context
        original = context.original_route
        if isinstance(original, APIRoute):
            scope["route"] = original
            await original.handle(scope, receive, send)
            return
        handle = wrap_app_with_body_limit(leaf.route.handle, chain[-1].include_context.max_body_size)
        await handle(scope, receive, send)


def install(app: FastAPI) -> RouteIndex | None:
    """Put a route index in front of ``app``'s router (once; the index builds itself from
    the routes at install time and again whenever they change). None when FastAPI's
    internals are not the expected ones or the router has middleware of its own."""
    router = app.router
    if not AVAILABLE or not isinstance(router, APIRouter):
        return None
    if isinstance(router.middleware_stack, RouteIndex):
        return router.middleware_stack
    if router.middleware_stack != router.app:
        return None
    index = RouteIndex(router, router.app)
    router.middleware_stack = index
    return index
