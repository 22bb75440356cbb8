"""``python -m slate_auth serve|migrate|worker|create-admin``."""

from __future__ import annotations

import argparse
from pathlib import Path

from slate_common.config import BaseServiceSettings
from slate_common.db import make_engine, make_sessionmaker, transaction
from slate_common.events import outbox
from slate_common.logging import get_logger
from slate_common.service_cli import main_for

from .config import AuthSettings


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)


async def _create_admin(args: argparse.Namespace, settings: BaseServiceSettings) -> int:
    from .domain.identity import create_admin

    outbox.SERVICE = settings.service_name
    engine = make_engine(settings.effective_database_url, pool_size=1, max_overflow=0)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            person, created = await create_admin(session, email=args.email, password=args.password)
    finally:
        await engine.dispose()
    get_logger("slate.cli").info("admin_created" if created else "admin_exists", email=person.email)
    print(f"admin {'created' if created else 'already exists'}: {person.email}")
    return 0


def main() -> None:
    main_for(
        settings_factory=AuthSettings,
        app_path="slate_auth.main:create_app",
        migrations_dir=Path(__file__).parent / "migrations",
        extra_commands={"create-admin": (_configure, _create_admin)},
    )


if __name__ == "__main__":
    main()
