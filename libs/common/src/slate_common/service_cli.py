"""The command line every service shares: ``python -m slate_<service> serve|migrate|worker``.

``serve`` runs the API (uvicorn, uvloop, httptools) with the outbox relay and event
consumers inside the process; ``worker`` runs only the relay and consumers (the API
process can then run with ``SLATE_<SVC>_WORKERS_ENABLED=false``), from ``runtime_path``
when the service has one (its loops without its routes: ``slate_common.worker``); ``migrate`` creates the
database if needed and applies the Alembic migrations.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .config import BaseServiceSettings
from .logging import configure_logging, get_logger

Command = Callable[[argparse.Namespace, BaseServiceSettings], Awaitable[int] | int]


def run_service_cli(
    *,
    settings_factory: Callable[[], BaseServiceSettings],
    app_path: str,
    migrations_dir: Path,
    runtime_path: str | None = None,
    extra_commands: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Command]] | None = None,
    argv: list[str] | None = None,
) -> int:
    settings = settings_factory()
    parser = argparse.ArgumentParser(prog=f"slate-{settings.service_name}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    sub.add_parser("migrate", help="create the database if missing and apply migrations")
    sub.add_parser("worker", help="run the outbox relay and event consumers without HTTP")
    rev = sub.add_parser("revision", help="(development) autogenerate a migration from the models")
    rev.add_argument("-m", "--message", required=True)
    handlers: dict[str, Command] = {}
    for name, (configure, handler) in (extra_commands or {}).items():
        configure(sub.add_parser(name))
        handlers[name] = handler
    args = parser.parse_args(argv)
    configure_logging(settings.service_name, settings.shared.log_level, settings.shared.log_format)
    log = get_logger("slate.cli")

    if args.command == "serve":
        import uvicorn

        from .metrics import prepare_multiprocess

        prepare_multiprocess(settings.service_name, settings.http_processes)  # shared metrics files

        uvicorn.run(
            app_path,
            factory=True,
            host=args.host or settings.shared.host,
            port=args.port or settings.effective_port,
            loop="uvloop",
            http="httptools",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
            workers=settings.http_processes,
            proxy_headers=False,  # slate_common.forwarded applies SLATE_TRUSTED_PROXIES
        )
        return 0
    if args.command == "migrate":
        from .db import migrate_locked  # not imported by `serve`: its start is a restart's downtime

        created = asyncio.run(migrate_locked(
            settings.effective_database_url, migrations_dir,
            on_wait=lambda: log.info("migration_lock_wait", database=settings.database_name),
        ))
        if created:
            log.info("database_created", database=settings.database_name)
        log.info("migrated", database=settings.database_name)
        return 0
    if args.command == "revision":
        from .db import ensure_database, make_revision, run_migrations

        asyncio.run(ensure_database(settings.effective_database_url))
        run_migrations(settings.effective_database_url, migrations_dir)
        make_revision(settings.effective_database_url, migrations_dir, args.message)
        return 0
    if args.command == "worker":
        from .metrics import prepare_multiprocess
        from .worker import run_worker

        prepare_multiprocess(settings.service_name, 1)  # shares PROMETHEUS_MULTIPROC_DIR if set
        return asyncio.run(run_worker(settings, app_path, runtime_path=runtime_path))
    result: Any = handlers[args.command](args, settings)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return int(result or 0)


def main_for(**kwargs: Any) -> None:
    sys.exit(run_service_cli(**kwargs))
