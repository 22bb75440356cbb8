from __future__ import annotations

import pytest

from slate_common.testing.tokens import TestSigner, service_client


@pytest.fixture(scope="session")
def signer() -> TestSigner:
    return TestSigner()


@pytest.fixture(scope="session")
async def production_app(infra, make_database, signer):  # type: ignore[no-untyped-def]
    """The production app with its lifespan running, and an in-process client to it."""
    from slate_production.config import ProductionSettings
    from slate_production.main import create_app

    settings = ProductionSettings(database_url=make_database("production", migrate=True))
    app = create_app(settings)
    async with service_client(app, signer) as c:
        yield app, c


@pytest.fixture(scope="session")
async def client(production_app):  # type: ignore[no-untyped-def]
    return production_app[1]


@pytest.fixture(scope="session")
def sessionmaker(production_app):  # type: ignore[no-untyped-def]
    """The app's own sessionmaker (commits wake its outbox relay)."""
    return production_app[0].state.runtime.sessionmaker
