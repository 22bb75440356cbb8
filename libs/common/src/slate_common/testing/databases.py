"""Create, drop and migrate test databases (sync API; safe inside a running event loop)."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from slate_common.stack import InfraEndpoints, module_name

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh loop in a thread, so callers may already be in a loop."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]  # type: ignore[no-any-return]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _admin(infra: InfraEndpoints, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(infra.postgres_dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(infra: InfraEndpoints, name: str | None = None, *, prefix: str = "slate_test",
                    template: str | None = None) -> str:
    """Create a database (unique name by default), a copy of ``template`` (a database's
    URL or name, which nobody may be connected to) if given; return its SQLAlchemy
    asyncpg URL."""
    name = name or f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f" TEMPLATE {_quote(template.rsplit('/', 1)[-1])}" if template else ""
    _run(_admin(infra, f"CREATE DATABASE {_quote(name)}{copy}"))
    return f"{infra.postgres_url.rstrip('/')}/{name}"


def drop_database(infra: InfraEndpoints, url_or_name: str) -> None:
    name = url_or_name.rsplit("/", 1)[-1]
    _run(_admin(infra, f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)"))


def migrate_in_process(service: str, database_url: str) -> None:
    """What ``python -m slate_<service> migrate`` does (create if missing, lock, upgrade
    to head), run from this process: the tests' databases, without a new interpreter
    importing the service again for each (seconds of CPU each)."""
    from slate_common.db import migrate_locked

    package = importlib.import_module(module_name(service))
    if package.__file__ is None:
        raise RuntimeError(f"{package.__name__} has no location")
    _run(migrate_locked(database_url, Path(package.__file__).parent / "migrations"))


def migrate_database(service: str, database_url: str, *, env: dict[str, str] | None = None) -> None:
    """``python -m slate_<service> migrate`` against ``database_url`` (the command itself)."""
    key = "SLATE_" + service.upper().replace("-", "_") + "_DATABASE_URL"
    full_env = {**os.environ, **(env or {}), key: database_url}
    res = subprocess.run(  # noqa: S603
        [sys.executable, "-m", module_name(service), "migrate"],
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(f"migrate {service} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
