"""Root test configuration: real PostgreSQL, NATS and S3 from slate_common.testing."""

import os
from pathlib import Path

import pytest

E2E = Path(__file__).parent / "tests" / "e2e"

pytest_plugins = ["slate_common.testing"]

# Every auth of the tests (in-process apps, subprocesses, the e2e stacks) hashes passwords
# at argon2id's least cost: at the default's (~0.1 s of CPU each, ~150 in `make
# test-fast`) the KDF was a fifth of the fast suite's CPU, and no test measures it
# (services/auth/tests/test_passwords.py checks the setting and production's refusal).
for _name, _value in (("TIME_COST", "1"), ("MEMORY_KIB", "1024"), ("PARALLELISM", "1")):
    os.environ.setdefault(f"SLATE_AUTH_PASSWORD_HASH_{_name}", _value)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``e2e`` on every test that boots the embedded stack: through ``slate_stack``, or
    anywhere in tests/e2e; so ``-m "not e2e"`` (``make test-fast``) never starts it."""
    for item in items:
        if "slate_stack" in getattr(item, "fixturenames", ()) or E2E in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def _dump_asyncio_tasks(signum: int, frame: object) -> None:
    """``kill -USR1 <pytest pid>``: print where every asyncio task of the running loop is
    waiting (a hung fixture teardown shows up here; py-spy sees only the loop)."""
    import asyncio
    import sys

    loop = asyncio._get_running_loop()
    if loop is None:
        print("no running event loop", file=sys.stderr, flush=True)
        return
    for task in asyncio.all_tasks(loop):
        print(f"--- {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()


import signal  # noqa: E402

signal.signal(signal.SIGUSR1, _dump_asyncio_tasks)
