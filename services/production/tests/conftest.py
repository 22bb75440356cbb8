from __future__ import annotations

import pytest

from slate_common.testing.tokens import TestSigner, service_client


@pytest.fixture(scope="session")
def signer() -> TestSigner:
    return TestSigner()


@pytest.fixture(scope="session")
async def client(infra, make_database, signer):  # type: ignore[no-untyped-def]
    from slate_production.config import ProductionSettings
    from slate_production.main import create_app

    settings = ProductionSettings(database_url=make_database("production", migrate=True))
    async with service_client(create_app(settings), signer) as c:
        yield c
