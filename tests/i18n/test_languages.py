"""French first, English on request; French formats for amounts and dates."""

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.formatting import day, day_short, money
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def test_french_is_the_default(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert '<html lang="fr">' in page and "Connexion" in page


def test_a_visitor_switches_to_english_and_it_sticks(client):
    response = client.post("/langue", data={"locale": "en", "next": "/connexion"})
    assert response.headers["Location"] == "/connexion"
    page = client.get("/connexion").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page and "Email address" in page
    assert "Version française" in page


def test_an_unknown_language_is_ignored(client):
    client.post("/langue", data={"locale": "de"})
    assert '<html lang="fr">' in client.get("/connexion").get_data(as_text=True)


def test_a_members_choice_is_kept_on_the_account(app, client, world, log_in):
    log_in(world.supplier_lead)
    client.post("/langue", data={"locale": "en"})
    assert db.session.scalar(select(User.locale).where(User.id == world.supplier_lead.id)) == "en"
    other_browser = app.test_client()
    other_browser.post(
        "/connexion", data={"email": world.supplier_lead.email, "password": PASSWORD}
    )
    page = other_browser.get(f"/contrats/{world.contract.id}/").get_data(as_text=True)
    assert "The contract and its members" in page and "Contract holder" in page


def test_french_formats(app):
    with app.test_request_context():
        assert money(Decimal("1250000.00")) == "1\u202f250\u202f000,00\u00a0€"
        assert day(date(2026, 7, 1)) == "1 juillet 2026"
        assert day_short(date(2026, 7, 1)) == "1 juil. 2026"


def test_english_amounts(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        assert money(Decimal("1250000.00")) == "€1,250,000.00"


def test_every_message_is_extracted_and_translated(tmp_path):
    """A new French text without its English translation fails here: run
    `make extract-messages`, then translate the new entries of messages.po."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "--no-location",
         "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as source:
        in_code = {m.id for m in read_po(source) if m.id}
    with PO.open("rb") as source:
        catalog = read_po(source)
    translated = {m.id for m in catalog if m.id and m.string and all(m.string)}
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert sorted(in_code - translated, key=str) == [], "run make extract-messages and translate"
    assert fuzzy == []
