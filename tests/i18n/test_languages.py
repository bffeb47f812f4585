"""French first, English on request; French formats for amounts and dates; a catalogue that
follows the sources and translates every message."""

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from tests.factories import PASSWORD
from tests.helpers import logged_in_client, page_text

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "app" / "translations" / "messages.pot"
PO = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
RUN_MAKE = "run `make extract-messages`, then translate the new entries of messages.po"


def read_catalog(path: Path):
    with path.open("rb") as source:
        return read_po(source)


def message_ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


# --- Choosing the language ---------------------------------------------------------------


def test_french_is_the_default(client):
    page = page_text(client.get("/connexion"))
    assert '<html lang="fr">' in page
    assert "Connexion" in page and "Adresse e-mail" in page
    assert "English version" in page  # the way out, written in the language it leads to


def test_a_visitor_switches_to_english_and_it_sticks(client):
    response = client.post("/langue", data={"locale": "en", "next": "/connexion"})
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    for _request in range(2):
        page = page_text(client.get("/connexion"))
        assert '<html lang="en">' in page
        assert "Log in" in page and "Email address" in page and "Connexion" not in page
        assert "Version française" in page
    client.post("/langue", data={"locale": "fr"})
    assert '<html lang="fr">' in page_text(client.get("/connexion"))


def test_an_unknown_language_is_ignored(client):
    client.post("/langue", data={"locale": "de"})
    assert '<html lang="fr">' in page_text(client.get("/connexion"))
    client.post("/langue", data={"locale": "en"})
    client.post("/langue", data={"locale": "xx"})
    assert '<html lang="en">' in page_text(client.get("/connexion"))


def test_an_outside_next_is_not_followed(client):
    response = client.post("/langue", data={"locale": "en", "next": "//elsewhere.example/"})
    assert response.status_code == 302 and "elsewhere" not in response.headers["Location"]


def test_a_members_choice_is_kept_on_the_account(app, client, world, log_in):
    def stored_locale():
        return db.session.scalar(select(User.locale).where(User.id == world.supplier_lead.id))

    log_in(world.supplier_lead)
    client.post("/langue", data={"locale": "en"})
    assert stored_locale() == "en"
    client.post("/langue", data={"locale": "klingon"})
    assert stored_locale() == "en"

    other_browser = logged_in_client(app, world.supplier_lead, PASSWORD)
    page = page_text(other_browser.get(f"/contrats/{world.contract.id}/"))
    assert '<html lang="en">' in page
    assert "The contract and its members" in page and "Contract holder" in page


# --- Templates' _() and ngettext(), bound once per render (app.i18n.bound_gettext) --------

TRANSLATED = (
    '{{ _("Statut :") }}|{{ _("Chargement : %(what)s…", what="<b>") }}|'
    '{{ _("%% d\'écart introduit par l\'avenant") }}|{{ ngettext("%(num)d action", "%(num)d actions", n) }}'
)  # fmt: skip


def test_templates_translate_with_jinjas_rules_in_both_languages(app):
    with app.test_request_context():
        assert render_template_string(TRANSLATED, n=2) == (
            "Statut :|Chargement : &lt;b&gt;…|% d'écart introduit par l'avenant|2 actions"
        )
        with force_locale("en"):  # as e-mails and documents in the reader's language do
            assert render_template_string(TRANSLATED, n=1) == (
                "Status:|Loading &lt;b&gt;…|% change introduced by the amendment|1 action"
            )
        assert render_template_string('{{ _("Statut :") }}') == "Statut :"  # back in French


# --- Formats -------------------------------------------------------------------------------


def test_french_formats(app):
    filters = app.jinja_env.filters
    with app.test_request_context():
        assert filters["money"](Decimal("1250000.00")) == "1\u202f250\u202f000,00\u00a0€"
        assert filters["day"](date(2026, 7, 1)) == "1 juillet 2026"
        assert filters["day_short"](date(2026, 7, 1)) == "1 juil. 2026"
        assert render_template_string("{{ amount|money }}", amount=Decimal("0.5")) == "0,50\u00a0€"


def test_english_formats(app):
    filters = app.jinja_env.filters
    with app.test_request_context(), force_locale("en"):
        assert filters["money"](Decimal("1250000.00")) == "€1,250,000.00"
        assert filters["day_short"](date(2026, 7, 1)) == "1 Jul 2026"


def test_form_messages_follow_the_language(client, world, log_in):
    """WTForms' own messages (Flask-WTF i18n) and ours, in French, then in English."""
    log_in(world.admin)
    data = {"reference": "2027-0002", "object": "Nettoyage", "initial_amount_ht": "beaucoup",
            "duration_months": "0", "notification_date": "2027-01-15"}  # fmt: skip
    page = page_text(client.post("/admin/marches/nouveau", data=data))
    assert "N'est pas une valeur décimale valide." in page
    assert "La durée va de 1 à 600 mois." in page
    assert "6 points à corriger :" in page

    client.post("/langue", data={"locale": "en"})
    page = page_text(client.post("/admin/marches/nouveau", data=data))
    assert "Not a valid decimal value." in page
    assert "The duration is between 1 and 600 months." in page
    assert "6 items to correct:" in page and "Initial amount excl. VAT (€)" in page
    assert "Fields marked with an asterisk (*) are required." in page


def test_wtforms_messages_are_read_from_their_file_once_per_language(client, world, log_in,
                                                                    monkeypatch):  # fmt: skip
    """Flask-WTF read WTForms' catalogue from its file at every request that built a form."""
    from babel.support import Translations

    from app import i18n

    i18n._wtforms_catalogue.cache_clear()
    loaded = []
    real = Translations.load.__func__
    monkeypatch.setattr(Translations, "load", classmethod(
        lambda cls, *args, **kwargs: loaded.append(args[1]) or real(cls, *args, **kwargs)))  # fmt: skip
    log_in(world.admin)
    data = {"reference": "2027-0002", "object": "Nettoyage", "initial_amount_ht": "beaucoup"}
    for _ in range(3):
        assert "N'est pas une valeur décimale valide." in page_text(
            client.post("/admin/marches/nouveau", data=data))  # fmt: skip
    client.post("/langue", data={"locale": "en"})
    for _ in range(2):
        assert "Not a valid decimal value." in page_text(
            client.post("/admin/marches/nouveau", data=data))  # fmt: skip
    assert [str(locales[0]) for locales in loaded] == ["fr", "en"]


# --- The catalogue -------------------------------------------------------------------------


def test_the_template_follows_the_sources(tmp_path):
    """A French text added (or removed) in the code or a template without a new extraction
    fails here."""
    fresh = tmp_path / "messages.pot"  # extracted as `make extract-messages` does
    extraction = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "--no-location",
         "-F", "babel.cfg", "-k", "_l", "-o", str(fresh), "."],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert extraction.returncode == 0, extraction.stderr[-2000:]  # babel.cfg: silent = false
    in_sources, committed = message_ids(read_catalog(fresh)), message_ids(read_catalog(POT))
    assert sorted(in_sources - committed, key=str) == [], f"not in messages.pot: {RUN_MAKE}"
    assert sorted(committed - in_sources, key=str) == [], f"gone from the sources: {RUN_MAKE}"


def test_every_message_is_translated():
    catalog = read_catalog(PO)
    assert message_ids(catalog) == message_ids(read_catalog(POT)), RUN_MAKE
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or not all(m.string if m.pluralizable else [m.string]))
    ]
    assert untranslated == [], f"translate these entries of messages.po ({RUN_MAKE})"
    assert [m.id for m in catalog if m.id and m.fuzzy] == [], "fuzzy entries in messages.po"
    placeholder_errors = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert placeholder_errors == []
