"""Route table: OpenAPI path templates compiled into a segment trie.

Each node of the trie holds its static children in a dict keyed by the raw
segment bytes, at most one ``{param}`` child (matching any single non-empty
segment) and, when a template ends there, a ``{METHOD: target}`` dict. A segment with
a parameter and a suffix (``{instance_id}.png``) is a parameter segment too: the
owner checks the suffix.

Matching walks the request path segment by segment, trying the static child
first and falling back to the parameter child (with backtracking, so
``/data/projects/open`` and ``/data/projects/{id}/tasks`` coexist).  A trailing
slash is not significant for matching; the original path is forwarded as is
and the owner decides.  Targets are opaque to this module: the gateway stores
:class:`~slate_gateway.upstream.Upstream` objects or local handlers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class Methods(dict[bytes, Any]):
    """A template's ``{METHOD: target}`` dict, which also knows the template."""

    __slots__ = ("template",)

    def __init__(self, template: str) -> None:
        super().__init__()
        self.template = template


class Node:
    __slots__ = ("methods", "param", "static")

    def __init__(self) -> None:
        self.static: dict[bytes, Node] = {}
        self.param: Node | None = None
        self.methods: Methods | None = None


def split_path(path: bytes) -> list[bytes]:
    """``b"/a/b/"`` -> ``[b"a", b"b"]`` (empty segments from a trailing slash dropped)."""
    segs = path.split(b"/")
    # segs[0] is always b"" for an absolute path.
    if segs and segs[-1] == b"":
        segs.pop()
    return segs[1:]


class RouteTable:
    """A compiled, immutable-after-build route table."""

    def __init__(self) -> None:
        self.root = Node()
        self.count = 0
        # (method, template) -> owner name, for conflict reports and the docs.
        self.owners: dict[tuple[str, str], str] = {}

    def add(self, method: str, template: str, target: Any, owner: str) -> bool:
        """Register ``method template``; returns False if it was already taken."""
        key = (method.upper(), template)
        if key in self.owners:
            return False
        node = self.root
        for seg in split_path(template.encode()):
            if b"{" in seg:  # "{id}", and "{id}.png" / "{id}.{extension}" (media's files)
                if node.param is None:
                    node.param = Node()
                node = node.param
            else:
                nxt = node.static.get(seg)
                if nxt is None:
                    nxt = node.static[seg] = Node()
                node = nxt
        if node.methods is None:
            node.methods = Methods(template)
        node.methods[method.upper().encode()] = target
        self.owners[key] = owner
        self.count += 1
        return True

    def add_openapi(self, spec: dict[str, Any], target: Any, owner: str,
                    exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
        """Register every operation of an OpenAPI document; returns conflicts."""
        skip = set(exclude)
        conflicts = []
        for template, ops in (spec.get("paths") or {}).items():
            if template in skip or not isinstance(ops, dict):
                continue
            for method in ops:
                if method.upper() in HTTP_METHODS and not self.add(method, template, target, owner):
                    conflicts.append((method.upper(), template))
        return conflicts

    def match(self, path: bytes) -> Methods | None:
        """Return the ``{METHOD: target}`` dict of the template matching ``path``
        (its ``template`` attribute names the template)."""
        return _walk(self.root, split_path(path), 0)


def _walk(node: Node, segs: list[bytes], i: int) -> Methods | None:
    n = len(segs)
    # Fast iterative descent through static segments; recurse only at forks.
    while i < n:
        seg = segs[i]
        nxt = node.static.get(seg)
        if nxt is not None:
            if node.param is not None and seg:
                found = _walk(nxt, segs, i + 1)
                if found is not None:
                    return found
                node = node.param
            else:
                node = nxt
        elif node.param is not None and seg:
            node = node.param
        else:
            return None
        i += 1
    return node.methods
