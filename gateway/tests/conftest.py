"""Fixtures: a real upstream process and a real gateway in front of it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gwprocs import ANSWERED_BODY_LINGER, Proc, start_gateway, start_upstream


@pytest.fixture(scope="session")
def upstream() -> Iterator[Proc]:
    p = start_upstream()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def gateway(upstream: Proc) -> Iterator[Proc]:
    p = start_gateway({"production": upstream.url}, SLATE_CORS_ORIGINS="http://kitsu.example",
                      SLATE_GATEWAY_ANSWERED_BODY_LINGER_SECONDS=str(ANSWERED_BODY_LINGER))
    yield p
    p.stop()


@pytest.fixture()
def client(gateway: Proc) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=60) as c:
        yield c


