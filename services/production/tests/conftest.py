from __future__ import annotations

import pytest

from slate_common.testing.tokens import TestSigner, service_client


@pytest.fixture(scope="session")
def signer() -> TestSigner:
    return TestSigner()


@pytest.fixture(scope="session")
async def client(infra, make_database, signer):  # type: ignore[no-untyped-def]
    import os

    os.environ["SLATE_PRODUCTION_DATABASE_URL"] = make_database("production", migrate=True)
    from slate_production.main import create_app

    async with service_client(create_app(), signer) as c:
        yield c
