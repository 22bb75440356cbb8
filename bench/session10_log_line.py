#!/usr/bin/env python3
"""Session 10 (issue 16): the CPU of one access log line (``log.info("request", ...)`` as
``RequestContextMiddleware`` writes it), in this process, to a file: as configured
(structlog through the standard library's handler, ``slate_common.logging``), and
through structlog alone (``WriteLoggerFactory``, the same processors and JSON; with
``--orjson`` the renderer on orjson). 20,000 lines each, ``time.process_time()`` per line,
median and mean. Tried and dropped: see bench/RESULTS.md, "Session 10".

    .venv/bin/python bench/session10_log_line.py stdlib|direct|direct-orjson
"""

from __future__ import annotations

import logging
import statistics
import sys
import time

import orjson
import structlog

from slate_common import logging as slate_logging


def main() -> None:
    mode = sys.argv[1]
    out = open("/tmp/session10-log-line.out", "w")  # noqa: SIM115 - the stream the handlers write to
    sys.stderr = out
    slate_logging.configure_logging("auth", "INFO", "json")
    if mode != "stdlib":
        renderer = structlog.processors.JSONRenderer(
            serializer=(lambda obj, **kw: orjson.dumps(obj).decode()) if mode == "direct-orjson" else None)
        if mode == "direct":
            renderer = structlog.processors.JSONRenderer()
        structlog.configure(
            processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                        structlog.processors.TimeStamper(fmt="iso", utc=True), slate_logging._add_context,
                        structlog.processors.format_exc_info, slate_logging.redact_secrets, renderer],
            logger_factory=structlog.WriteLoggerFactory(file=out),
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            cache_logger_on_first_use=True)
    log = slate_logging.get_logger("slate_common.app")
    spent = []
    for _ in range(20_000):
        started = time.process_time()
        log.info("request", method="GET", path="/data/persons", status=200, duration_ms=1.23)
        spent.append(time.process_time() - started)
    out.flush()
    print(f"{mode}: {statistics.median(spent) * 1e6:.1f} us median, {statistics.fmean(spent) * 1e6:.1f} us mean",
          file=sys.__stdout__)


if __name__ == "__main__":
    main()
