"""``python -m slate_auth serve|migrate|worker|create-admin``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from slate_common.config import DEFAULT_ADMIN_PASSWORD, BaseServiceSettings
from slate_common.db import make_engine, make_sessionmaker, transaction
from slate_common.events import outbox
from slate_common.logging import get_logger
from slate_common.service_cli import main_for

from .config import AuthSettings

PASSWORD_ENV = "SLATE_ADMIN_PASSWORD"


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (f"The password is read from ${PASSWORD_ENV}, else from standard input (asked twice "
                          "on a terminal), never from the command line: arguments are visible to every user "
                          "of the machine and kept in shell histories.")
    parser.add_argument("--email", default=os.environ.get("SLATE_ADMIN_EMAIL"),
                        help="the admin's email (default $SLATE_ADMIN_EMAIL)")


def read_admin_password(environ: Mapping[str, str], stdin: TextIO) -> str:
    """The password from the environment, else standard input; never an argument."""
    password = environ.get(PASSWORD_ENV)
    if password:
        return password
    if stdin.isatty():
        password = getpass.getpass("Admin password: ")
        if getpass.getpass("Again: ") != password:
            raise SystemExit("create-admin: the passwords differ")
        return password
    return stdin.readline().rstrip("\r\n")


async def _create_admin(args: argparse.Namespace, settings: BaseServiceSettings) -> int:
    from .domain.identity import create_admin
    from .domain.passwords import MIN_LENGTH

    if not args.email:
        print("create-admin: --email (or $SLATE_ADMIN_EMAIL) is required", file=sys.stderr)
        return 2
    password = read_admin_password(os.environ, sys.stdin)
    if len(password) < MIN_LENGTH:
        print(f"create-admin: give a password of at least {MIN_LENGTH} characters in ${PASSWORD_ENV} "
              "or on standard input", file=sys.stderr)
        return 2
    if settings.shared.env == "production" and password == DEFAULT_ADMIN_PASSWORD:
        print(f"create-admin: the default admin password is refused when SLATE_ENV=production; set ${PASSWORD_ENV}",
              file=sys.stderr)
        return 2
    outbox.SERVICE = settings.service_name
    engine = make_engine(settings.effective_database_url, pool_size=1, max_overflow=0)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            person, created = await create_admin(session, email=args.email, password=password)
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
