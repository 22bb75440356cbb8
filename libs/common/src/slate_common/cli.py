"""``slate``: run the embedded stack and each service's commands.

The CLI never imports a service package: service commands are ``python -m slate_<pkg>``
run as subprocesses (or exec'd), so one broken service cannot break the others' CLI.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence

from slate_common.config import SERVICES

TARGETS = (*SERVICES, "gateway")


def _module(target: str) -> str:
    return "slate_" + target.replace("-", "_")


def _exec(target: str, *args: str) -> int:
    argv = [sys.executable, "-m", _module(target), *args]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process
    return 0  # pragma: no cover


def _configure_logging() -> None:
    try:
        from slate_common.logging import configure_logging

        configure_logging(
            "slate", level=os.environ.get("SLATE_LOG_LEVEL", "INFO"), fmt=os.environ.get("SLATE_LOG_FORMAT", "console")
        )
    except Exception:  # noqa: BLE001 - plain logging is fine
        import logging

        logging.basicConfig(level=logging.INFO, stream=sys.stderr)


def cmd_up(args: argparse.Namespace) -> int:
    from slate_common.stack import Stack, StackConfig

    if args.home:
        os.environ["SLATE_HOME"] = args.home
    _configure_logging()
    config = StackConfig.from_env()
    if args.no_gateway:
        config.gateway = False
    if args.workers:
        config.workers = tuple(args.workers)
    return Stack(config).run()


def cmd_infra(args: argparse.Namespace) -> int:
    """Only PostgreSQL, NATS and S3 (for running services from an IDE)."""
    import signal
    import threading

    from slate_common.stack import Stack, StackConfig, StackError

    _configure_logging()
    stack = Stack(StackConfig.from_env())
    stop = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stop.set())
    try:
        stack.start_infra()
        for k, v in stack.infra.env().items():
            print(f"{k}={v}", flush=True)
        while not stop.wait(1.0):
            pass
        return 0
    except StackError as exc:
        print(f"slate infra failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.down()


def cmd_migrate(args: argparse.Namespace) -> int:
    targets = args.services or list(SERVICES)
    for svc in targets:
        print(f"slate: migrating {svc}", file=sys.stderr, flush=True)
        code = subprocess.call([sys.executable, "-m", _module(svc), "migrate"])  # noqa: S603
        if code != 0:
            print(f"slate: migrate {svc} failed with exit code {code}", file=sys.stderr)
            return code
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    """The password goes through the environment or standard input, which the exec'd
    command inherits: never through arguments, which every user of the machine sees."""
    return _exec("auth", "create-admin", *(["--email", args.email] if args.email else []))


def cmd_serve(args: argparse.Namespace) -> int:
    return _exec(args.target, "serve", *args.rest)


def cmd_worker(args: argparse.Namespace) -> int:
    return _exec(args.service, "worker", *args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slate", description="Slate production tracker")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the whole suite on this machine (embedded PostgreSQL, NATS, S3)")
    up.add_argument("--home", help="data directory (default $SLATE_HOME or ./var)")
    up.add_argument("--no-gateway", action="store_true", help="do not start the gateway")
    up.add_argument("--worker", dest="workers", action="append", choices=SERVICES, help="also run a worker process")
    up.set_defaults(func=cmd_up)

    infra = sub.add_parser("infra", help="run only the embedded PostgreSQL, NATS and S3")
    infra.set_defaults(func=cmd_infra)

    mig = sub.add_parser("migrate", help="create and migrate the databases of services")
    mig.add_argument("services", nargs="*", metavar="service", help=", ".join(SERVICES))
    mig.set_defaults(func=cmd_migrate)

    adm = sub.add_parser(
        "create-admin", help="create an admin account (idempotent)",
        description="The password is read from $SLATE_ADMIN_PASSWORD, else from standard input; never from "
                    "the command line.",
    )
    adm.add_argument("--email", help="the admin's email (default $SLATE_ADMIN_EMAIL)")
    adm.set_defaults(func=cmd_create_admin)

    serve = sub.add_parser("serve", help="run one service's or the gateway's HTTP server")
    serve.add_argument("target", choices=TARGETS)
    serve.add_argument("rest", nargs=argparse.REMAINDER)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run one service's background worker")
    worker.add_argument("service", choices=SERVICES)
    worker.add_argument("rest", nargs=argparse.REMAINDER)
    worker.set_defaults(func=cmd_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "migrate":
        unknown = [s for s in args.services if s not in SERVICES]
        if unknown:
            build_parser().error(f"unknown service(s): {', '.join(unknown)}; choose from {', '.join(SERVICES)}")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
