"""Notifications leave through a real SMTP conversation (aiosmtpd on loopback)."""

import socket
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from app.outbox.services import send_pending
from tests.difficulties.conftest import raise_one as raise_one


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default))
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()


@pytest.fixture
def app_config(tmp_path):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": PORT, "MAIL_USE_TLS": False,
            "UPLOAD_FOLDER": str(tmp_path)}  # fmt: skip


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=PORT)
    controller.start()
    yield handler
    controller.stop()


def test_a_new_difficulty_reaches_the_other_side_by_smtp(app, world, raise_one, inbox):
    raise_one()
    assert send_pending() >= 4
    by_recipient = {rcpt[0]: message for rcpt, message in inbox.messages}
    assert world.buyer_lead.email in by_recipient
    assert world.supplier_lead.email not in by_recipient  # never the author
    message = by_recipient[world.buyer_lead.email]
    assert message["Subject"].startswith("[Progrès] Marché 2025-0142")
    assert "signale la difficulté n° 1" in message["Subject"]
    body = message.get_content()
    assert "Retard de livraison des tissus recyclés" in body
    assert f"http://localhost/contrats/{world.contract.id}/difficultes/" in body
    assert message["Message-ID"].startswith("<outbox-")
    assert send_pending() == 0  # each e-mail once
