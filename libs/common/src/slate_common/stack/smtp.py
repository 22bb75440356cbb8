"""A local SMTP sink (aiosmtpd, a real SMTP server) for the embedded stack and tests.

Every message it receives is written to ``<mail_dir>/<timestamp>-<n>.eml`` (the raw
RFC 5322 bytes), so a developer or a test can read the mail a service really sent.
Nothing is relayed anywhere.

    python -m slate_common.stack.smtp --port 18025 --dir ./var/mail
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import signal
import sys
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from slate_common.stack._util import tail, tcp_open, wait_until
from slate_common.stack.process import ManagedProcess

_counter = itertools.count()


class _DirectoryHandler:
    """aiosmtpd handler: one .eml file per accepted message."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{next(_counter):06d}.eml"
        tmp = self.mail_dir / (name + ".part")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.mail_dir / name)  # readers never see half a message
        return "250 Message accepted for delivery"


class SmtpSink:
    """An in-process sink on 127.0.0.1:``port`` (0: a free port) writing to ``mail_dir``."""

    def __init__(self, mail_dir: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        from aiosmtpd.controller import Controller

        self.mail_dir = Path(mail_dir)
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self._controller = Controller(_DirectoryHandler(self.mail_dir), hostname=host, port=port or _free())
        self.port: int = self._controller.port

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free() -> int:
    from slate_common.stack._util import free_port

    return free_port()


@dataclass
class Mailbox:
    """Reading what a sink wrote: parsed messages, oldest first."""

    mail_dir: Path

    def messages(self) -> list[EmailMessage]:
        if not self.mail_dir.exists():
            return []
        out = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            out.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        return out

    def to(self, address: str) -> list[EmailMessage]:
        address = address.lower()
        return [m for m in self.messages() if address in str(m.get("To", "")).lower()]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages to ``address`` once there are at least ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.to(address)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} mail(s) to {address} not received within {timeout}s (got {len(found)})")
            time.sleep(0.05)

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The plain-text body (or the first text part)."""
        part = message.get_body(preferencelist=("plain", "html"))
        return str((part or message).get_content())


class EmbeddedSmtp:
    """The sink as a supervised process of the embedded stack (mail under ``<home>/mail``)."""

    name = "smtp"

    def __init__(self, home: Path, port: int) -> None:
        self.home = Path(home).resolve()
        self.port = port
        self.mail_dir = self.home / "mail"
        self.process = ManagedProcess(
            name=self.name,
            argv=[sys.executable, "-m", "slate_common.stack.smtp", "--port", str(port), "--dir", str(self.mail_dir)],
            log_path=self.home / "logs" / "smtp.log",
            stop_timeout=5.0,
            group="infra",
        )

    def prepare(self) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self.prepare()
        self.process.start()

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_until(lambda: tcp_open(self.port), timeout, f"smtp sink on port {self.port}", alive=self.process.running)

    def stop(self, timeout: float | None = None) -> None:
        self.process.stop(timeout)

    def log_tail(self) -> str:
        return tail(self.process.log_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slate-smtp-sink", description="Local SMTP sink writing .eml files")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    sink = SmtpSink(args.dir, args.port, args.host).start()
    print(f"smtp sink on {args.host}:{sink.port}, mail in {args.dir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    sink.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
