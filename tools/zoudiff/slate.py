"""Boot a private Slate for a live run: the embedded stack on free ports under a home
directory of one's own, so it never clashes with another ``slate up`` on the machine."""

from __future__ import annotations

import signal
import time
from pathlib import Path

#: The differential run logs in as seven roles many times from 127.0.0.1.
STACK_ENV = {"SLATE_AUTH_LOGIN_RATE_PER_MINUTE": "100000", "SLATE_LOG_LEVEL": "WARNING"}


def serve(home: Path, url_file: Path | None = None) -> None:
    """Run the stack until SIGINT/SIGTERM; write ``<gateway url> <email> <password>``."""
    from slate_common.stack import Stack, StackConfig

    config = StackConfig.on_free_ports(home, extra_env=dict(STACK_ENV))
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with Stack(config) as stack:
        line = f"{stack.gateway_url} {config.admin_email} {config.admin_password}"
        print(f"Slate is up at {line}", flush=True)
        if url_file is not None:
            url_file.write_text(line + "\n")
        while not stop:
            time.sleep(0.5)
