"""Each service's migrations build exactly the schema its models describe, and downgrade."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from slate_common.config import SERVICES
from slate_common.db import EVENTS_METADATA
from slate_common.testing import migrate_in_process


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models_and_downgrade(service: str, make_database) -> None:  # type: ignore[no-untyped-def]
    pkg = "slate_" + service.replace("-", "_")
    url = make_database(service)  # not a copy of the session's migrated template: migrated here
    migrate_in_process(service, url)
    metadata = MetaData()
    for source in (importlib.import_module(f"{pkg}.models").Base.metadata, EVENTS_METADATA):
        for table in source.tables.values():
            table.to_metadata(metadata)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    assert diff == [], f"{service}: models and migrations differ: {diff}"
    code = (
        "import sys; from pathlib import Path; from alembic import command; "
        "from slate_common.db import _alembic_config; "
        f"import {pkg} as p; cfg = _alembic_config(sys.argv[1], Path(p.__file__).parent / 'migrations'); "
        "command.downgrade(cfg, 'base')"
    )
    subprocess.run([sys.executable, "-c", code, url], check=True)


def test_no_migration_keeps_alembics_template_comments() -> None:
    """`python -m slate_<service> revision` strips them; a migration written another way
    must not bring them back."""
    from pathlib import Path

    from slate_common.db import TEMPLATE_COMMENT

    root = Path(__file__).resolve().parents[1]
    migrations = sorted(root.glob("services/*/src/*/migrations/versions/*.py"))
    assert len(migrations) >= 5  # every service has at least its initial schema
    kept = [f"{path.relative_to(root)}:{n}" for path in migrations
            for n, line in enumerate(path.read_text().splitlines(), 1) if TEMPLATE_COMMENT.match(line)]
    assert kept == []
