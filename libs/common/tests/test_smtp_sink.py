"""The local SMTP sink: a real SMTP server process writing each message to a directory."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from slate_common.stack import free_port
from slate_common.stack.smtp import EmbeddedSmtp, Mailbox


def _send(port: int, to: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "slate@studio.test", to, "hello"
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def test_embedded_sink_process_keeps_every_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sink = EmbeddedSmtp(tmp_path, free_port())
    sink.start()
    try:
        sink.wait_ready(30)
        _send(sink.port, "ada@studio.test", "first body")
        _send(sink.port, "bob@studio.test", "second body")
        mailbox = Mailbox(sink.mail_dir)
        (ada,) = mailbox.wait_for("ada@studio.test")
        assert ada["Subject"] == "hello" and mailbox.text(ada).strip() == "first body"
        assert [mailbox.text(m).strip() for m in mailbox.wait_for("bob@studio.test")] == ["second body"]
        assert len(mailbox.messages()) == 2
    finally:
        sink.stop()
    assert not sink.process.running()


def test_fixture_sink_receives_mail(smtp_sink) -> None:  # type: ignore[no-untyped-def]
    _send(smtp_sink.port, "fixture@studio.test", "via the fixture")
    (message,) = smtp_sink.wait_for("fixture@studio.test")
    assert smtp_sink.text(message).strip() == "via the fixture"
