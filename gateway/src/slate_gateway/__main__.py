"""Command line: ``python -m slate_gateway serve [--host H] [--port P]``."""

from __future__ import annotations

import argparse

from .config import Settings
from .server import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="slate-gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway (settings from SLATE_* env vars)")
    serve.add_argument("--host", help="listen address (env SLATE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (env SLATE_PORT, default 8080)")
    serve.add_argument("--workers", type=int, help="processes sharing the port (SO_REUSEPORT)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    if args.workers:
        settings.workers = args.workers
    run(settings)


if __name__ == "__main__":
    main()
