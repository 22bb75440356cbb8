"""The Gateway API routing generated from routes.tsv (tools/gen_routing.py) sends every
public route, at the root and under /api, to its owner.

The HTTPRoutes are evaluated here the way proxies do: Exact first, then (Envoy Gateway)
regular expressions longest first and prefixes longest first, or (Istio) prefixes before
regular expressions. Regular expressions are full matches in RE2 (google-re2, the
library Envoy and Istio use).
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import gen_routing  # noqa: E402
import re2  # noqa: E402  (google-re2, a test dependency: the RE2 of Envoy and Istio)

SAMPLE_ID = "0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b"
OWNERS = gen_routing.load_owners()
BY_SERVICE = {name: owner for owner, (name, _) in gen_routing.BACKENDS.items()}


def sample_path(template: str) -> str:
    """A concrete path of a template: each parameter becomes an id (suffixes kept)."""
    return re.sub(r"\{[^}]*\}", SAMPLE_ID, template)


def rules_of(routes: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(match type, value, owner) of every match of every rule."""
    out = []
    for route in routes:
        for rule in route["spec"]["rules"]:
            (backend,) = rule["backendRefs"]
            owner = BY_SERVICE[backend["name"]]
            out += [(m["path"]["type"], m["path"]["value"], owner) for m in rule["matches"]]
    return out


def matches(kind: str, value: str, path: str) -> bool:
    if kind == "Exact":
        return path == value
    if kind == "PathPrefix":  # whole segments: /auth matches /auth and /auth/x, not /authx
        return value == "/" or path == value or path.startswith(value.rstrip("/") + "/")
    return _compiled(value).fullmatch(path) is not None


@functools.cache
def _compiled(regex: str) -> Any:
    return re2.compile(regex)


def resolve(rules: list[tuple[str, str, str]], path: str, model: str) -> str:
    """The owner a proxy sends ``path`` to, by the precedence of ``model``."""
    rank = ({"Exact": 0, "RegularExpression": 1, "PathPrefix": 2} if model == "envoy-gateway"
            else {"Exact": 0, "PathPrefix": 1, "RegularExpression": 2})
    hits = [(rank[k], -len(v), o) for k, v, o in rules if matches(k, v, path)]
    assert hits, f"{path}: no rule matches (the default should)"
    return min(hits)[2]


@pytest.fixture(scope="module")
def committed() -> list[tuple[str, str, str]]:
    docs = [d for d in yaml.safe_load_all(gen_routing.OUT.read_text()) if d]
    return rules_of(docs)


@pytest.fixture(scope="module")
def istio_variant() -> list[tuple[str, str, str]]:
    return rules_of(gen_routing.build_routes(OWNERS, default_match="RegularExpression"))


def test_committed_routing_is_up_to_date() -> None:
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_routing.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


@pytest.mark.slow
def test_every_public_route_reaches_its_owner(committed, istio_variant) -> None:  # type: ignore[no-untyped-def]
    assert len(OWNERS) > 500  # the whole table, not an empty file
    for template, owner in OWNERS.items():
        for path in (sample_path(template), "/api" + sample_path(template)):
            assert resolve(committed, path, "envoy-gateway") == owner, (path, owner)
            assert resolve(istio_variant, path, "istio") == owner, (path, owner)
            # Istio with the PathPrefix default: the owner, or the gateway that forwards to it
            assert resolve(committed, path, "istio") in (owner, "gateway"), path


@pytest.mark.slow
def test_no_two_owners_share_a_path_except_through_exact_matches(committed) -> None:  # type: ignore[no-untyped-def]
    """So the outcome does not hang on how an implementation ranks regular expressions."""
    for template, owner in OWNERS.items():
        for path in (sample_path(template), "/api" + sample_path(template)):
            hits = [(k, o) for k, v, o in committed if matches(k, v, path) and not (k == "PathPrefix" and v == "/")]
            exact = [o for k, o in hits if k == "Exact"]
            if exact:
                assert exact == [owner], path
            else:
                assert {o for _, o in hits} <= {owner}, (path, hits)


@pytest.mark.parametrize(("literal", "owner", "beside", "beside_owner"), [
    ("/data/persons/task-dates", "production", "/data/persons/{instance_id}", "auth"),
    ("/data/departments/hardware-items", "planning", "/data/departments/{instance_id}", "auth"),
    ("/data/departments/software-licenses", "planning", "/data/departments/{instance_id}", "auth"),
])
def test_literal_paths_beside_another_owners_parameter_path(  # type: ignore[no-untyped-def]
    committed, istio_variant, literal, owner, beside, beside_owner,
) -> None:
    assert OWNERS[literal] == owner and OWNERS[beside] == beside_owner
    for prefix in ("", "/api"):
        path = prefix + literal
        # the other owner's parameter route does match this path ...
        assert any(o == beside_owner and matches(k, v, path) for k, v, o in committed), path
        # ... and the literal wins, by an Exact match, whatever the implementation
        assert ("Exact", path, owner) in committed
        assert resolve(committed, path, "envoy-gateway") == owner
        assert resolve(committed, path, "istio") == owner
        assert resolve(istio_variant, path, "istio") == owner
        # the parameter route keeps its own paths
        assert resolve(committed, prefix + sample_path(beside), "envoy-gateway") == beside_owner


def test_everything_else_goes_to_the_slate_gateway(committed) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/api", "/socket.io/", "/api/config", "/status", "/healthz", "/no/such/path",
                 "/data/persons/task-dates/", "/api/openapi.json"):
        assert resolve(committed, path, "envoy-gateway") == "gateway", path
    assert ("PathPrefix", "/", "gateway") in committed


def test_routes_fit_the_crd_limits_and_envoy_regex_limits() -> None:
    docs = [d for d in yaml.safe_load_all(gen_routing.OUT.read_text()) if d]
    kinds = {"Exact": 0, "PathPrefix": 0, "RegularExpression": 0}
    for route in docs:
        rules = route["spec"]["rules"]
        assert len(rules) <= 16
        assert sum(len(r["matches"]) for r in rules) <= gen_routing.MAX_MATCHES_PER_ROUTE
        for rule in rules:
            assert len(rule["matches"]) <= 64
            for m in rule["matches"]:
                kinds[m["path"]["type"]] += 1
                if m["path"]["type"] == "RegularExpression":
                    assert re2.compile(m["path"]["value"]).programsize <= 100, m
    assert all(kinds.values()), kinds  # each kind of match is used


def test_media_routes_allow_long_uploads() -> None:
    docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(gen_routing.OUT.read_text()) if d}
    for rule in docs["slate-media-1"]["spec"]["rules"]:
        assert rule["timeouts"]["request"] == "1h"
    assert docs["slate-default"]["spec"]["rules"][0]["timeouts"]["request"] == "0s"  # the realtime socket
