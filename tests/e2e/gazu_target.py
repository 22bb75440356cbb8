"""Where the gazu end-to-end tests point gazu 1.3.1: Slate's gateway (default), or the Zou
oracle they were first proven on.

    GAZU_TARGET=oracle .venv/bin/pytest tests/e2e/test_gazu_project.py   # prove the test on Zou
    .venv/bin/pytest tests/e2e/test_gazu_project.py                      # then run it on Slate

``GAZU_TARGET=http://host:port/api`` points them at a Slate already running there instead
of booting one (admin ``GAZU_SLATE_EMAIL`` / ``GAZU_SLATE_PASSWORD``, default the
embedded stack's), which is quicker while writing a test.

The oracle is Zou 1.0.97 with its API at the root of ``GAZU_ORACLE_URL`` (default
http://127.0.0.1:58090), logged in as ``GAZU_ORACLE_EMAIL`` / ``GAZU_ORACLE_PASSWORD``.
It is shared: the tests only create things, under unique names, and delete only what
they created. gazu keeps one default client per process, so tests are synchronous and
each logs in again (``gz``).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

TARGET = os.environ.get("GAZU_TARGET", "slate")
ORACLE_URL = os.environ.get("GAZU_ORACLE_URL", "http://127.0.0.1:58090")
ORACLE_EMAIL = os.environ.get("GAZU_ORACLE_EMAIL", "admin@example.com")
ORACLE_PASSWORD = os.environ.get("GAZU_ORACLE_PASSWORD", "oracle-admin-pass")


@pytest.fixture(scope="session")
def gazu_host(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    """(API URL, admin email, admin password) of the target."""
    if TARGET == "oracle":
        return ORACLE_URL, ORACLE_EMAIL, ORACLE_PASSWORD
    if TARGET.startswith("http"):
        return (TARGET, os.environ.get("GAZU_SLATE_EMAIL", "admin@example.com"),
                os.environ.get("GAZU_SLATE_PASSWORD", "slate-admin-password"))
    stack = request.getfixturevalue("stack")
    return stack.gateway_url + "/api", stack.admin_email, stack.admin_password


class AcrossGateways(requests.adapters.HTTPAdapter):
    """Sends each request for the first gateway to the next gateway replica in turn (as
    ``conftest.AcrossGateways`` does for httpx): gazu's write and its next read go
    through different gateways."""

    def __init__(self, gateway_urls: list[str]) -> None:
        super().__init__()
        self.first = urlsplit(gateway_urls[0]).netloc
        self.ports = itertools.cycle([urlsplit(url).port for url in gateway_urls])

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        if parts.netloc == self.first:
            request.url = parts._replace(netloc=f"{parts.hostname}:{next(self.ports)}").geturl()
        return super().send(request, *args, **kwargs)


@pytest.fixture
def gz(gazu_host: tuple[str, str, str], request: pytest.FixtureRequest) -> Iterator[Any]:
    """gazu, logged in as the target's admin (on the embedded stack, its requests spread
    over every gateway replica)."""
    import gazu

    host, email, password = gazu_host
    gazu.set_host(host)
    if TARGET == "slate":
        stack = request.getfixturevalue("stack")
        gazu.client.default_client.session.mount(stack.gateway_url + "/", AcrossGateways(stack.gateway_urls))
    gazu.log_in(email, password)
    yield gazu


@pytest.fixture
def tag() -> str:
    """A unique suffix for names on a shared server."""
    return uuid.uuid4().hex[:8]


def by_name(rows: list[dict[str, Any]], name: str, **match: Any) -> dict[str, Any]:
    """The one row named ``name`` (and matching ``match``)."""
    found = [r for r in rows if r["name"] == name and all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} rows named {name!r} {match}"
    return found[0]
