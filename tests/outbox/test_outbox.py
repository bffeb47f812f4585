"""E-mails go through the outbox: stored with the change, sent afterwards, never lost."""

import logging
import smtplib

from sqlalchemy import func, select

from app.extensions import db
from app.outbox import services as outbox
from app.outbox.models import OutboxEmail


def count_emails():
    return db.session.scalar(select(func.count()).select_from(OutboxEmail))


def test_an_email_exists_only_if_its_change_commits(app):
    outbox.queue_email("a@b.example", "Sujet", "Corps")
    db.session.rollback()
    assert count_emails() == 0
    outbox.queue_email("a@b.example", "Sujet", "Corps")
    db.session.commit()
    assert count_emails() == 1


def test_without_smtp_the_email_is_written_to_the_log_and_marked_sent(app, caplog):
    outbox.queue_email("a@b.example", "Invitation", "Ouvrez https://progres.example/x")
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="progres.outbox"):
        assert outbox.send_pending() == 1
    assert "https://progres.example/x" in caplog.text
    assert db.session.scalar(select(OutboxEmail.sent_at)) is not None
    assert outbox.send_pending() == 0  # never twice


def test_smtp_failure_keeps_the_email_for_the_next_run(app, monkeypatch):
    app.config["MAIL_SERVER"] = "127.0.0.1"

    class BrokenSMTP:
        def __init__(self, *args, **kwargs):
            raise smtplib.SMTPConnectError(421, "indisponible")

    monkeypatch.setattr(smtplib, "SMTP", BrokenSMTP)
    outbox.queue_email("a@b.example", "Sujet", "Corps")
    db.session.commit()
    assert outbox.send_pending() == 0
    email = db.session.scalar(select(OutboxEmail))
    assert email.sent_at is None and email.attempts == 1 and "indisponible" in email.last_error


def test_smtp_delivery_sends_a_proper_message(app, monkeypatch):
    app.config.update(MAIL_SERVER="smtp.example", MAIL_USE_TLS=False)
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            self.host = host

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    outbox.queue_email("a@b.example", "Réinitialisation", "Bonjour é")
    db.session.commit()
    assert outbox.send_pending() == 1
    [message] = sent
    assert message["To"] == "a@b.example" and message["Subject"] == "Réinitialisation"
    assert message["Message-ID"].startswith("<outbox-1.")  # the same on every retry


def test_flask_outbox_send_command(app):
    outbox.queue_email("a@b.example", "Sujet", "Corps")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "1 e-mail(s) envoyé(s)" in result.output


def test_a_request_delivers_what_it_queued_when_configured(app, client, world, caplog):
    app.config["OUTBOX_DELIVER_AFTER_REQUEST"] = True
    with caplog.at_level(logging.INFO, logger="progres.outbox"):
        client.post("/mot-de-passe-oublie", data={"email": world.supplier_lead.email})
    assert "/mot-de-passe/" in caplog.text
    assert db.session.scalar(select(OutboxEmail.sent_at)) is not None
