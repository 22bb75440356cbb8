"""``python -m slate_auth create-admin``: the password from the environment or standard
input, never the command line, and never in its output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # see pytest.ini


def _create_admin(database: str, *args: str, env: dict[str, str] | None = None,
                  stdin: str = "") -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SLATE_ADMIN")}
    environ.update({"SLATE_AUTH_DATABASE_URL": database, "SLATE_LOG_FORMAT": "json", **(env or {})})
    return subprocess.run([sys.executable, "-m", "slate_auth", "create-admin", *args], env=environ, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def database(infra, make_database) -> str:  # type: ignore[no-untyped-def]
    return make_database("auth", migrate=True)  # type: ignore[no-any-return]


async def _can_log_in(database: str, email: str, password: str) -> bool:
    from slate_common.db import make_engine, make_sessionmaker, transaction

    from slate_auth.domain.identity import find_login_person
    from slate_auth.domain.passwords import verify_password

    engine = make_engine(database, pool_size=1, max_overflow=0)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            person = await find_login_person(session, login=email)
            return person is not None and person.role == "admin" and verify_password(person.password, password=password)
    finally:
        await engine.dispose()


async def test_the_password_comes_from_the_environment(database: str) -> None:
    res = _create_admin(database, "--email", "env-admin@studio.test", env={"SLATE_ADMIN_PASSWORD": "env pass word 1"})
    assert res.returncode == 0, res.stderr
    assert "env pass word 1" not in res.stdout + res.stderr
    assert await _can_log_in(database, "env-admin@studio.test", "env pass word 1")


async def test_the_password_comes_from_standard_input(database: str) -> None:
    res = _create_admin(database, env={"SLATE_ADMIN_EMAIL": "stdin-admin@studio.test"}, stdin="stdin pass word 2\n")
    assert res.returncode == 0, res.stderr
    assert "stdin pass word 2" not in res.stdout + res.stderr
    assert await _can_log_in(database, "stdin-admin@studio.test", "stdin pass word 2")


def test_the_command_line_is_refused_and_so_are_short_or_default_passwords(database: str) -> None:
    res = _create_admin(database, "--email", "argv@studio.test", "--password", "argv pass word")
    assert res.returncode == 2 and "unrecognized arguments" in res.stderr
    res = _create_admin(database, "--email", "short@studio.test", stdin="short\n")
    assert res.returncode == 2 and "at least 8 characters" in res.stderr
    res = _create_admin(database, "--email", "prod@studio.test",
                        env={"SLATE_ENV": "production", "SLATE_ADMIN_PASSWORD": "slate-admin-password"})
    assert res.returncode == 2 and "default admin password" in res.stderr
