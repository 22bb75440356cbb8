"""Root test configuration: real PostgreSQL, NATS and S3 from slate_common.testing."""

pytest_plugins = ["slate_common.testing"]


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
