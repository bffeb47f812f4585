"""The change documents as PDF: Jinja templates (app/changes/templates/changes/documents) and one
print stylesheet, rendered by WeasyPrint through `app.exports.pdf.render_pdf` (static-only URL
fetcher). Always in French, whatever the reader's language.

Visa flow (docs-sample/README.md): render the original with dashed *pending* boxes, store its
bytes and `sha256_hex`, then render the stamped copy (`stamped(doc, visas)`) which prints that
hash; a pending box has the height of a stamp, so stamping never moves the layout."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from app.changes.documents import typography, view
from app.changes.documents.context import (
    AcceptanceDocument,
    AmendmentDocument,
    LetterDocument,
    VisaStamp,
)
from app.exports.pdf import render_pdf

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"  # app/changes/templates
_ENV_KEY = "progres.changes.documents.jinja"

FILTERS = {
    "eur": typography.eur,
    "pct": typography.pct,
    "day": typography.day,
    "long_day": typography.long_day,
    "moment_paris": typography.moment_paris,
    "css_str": typography.css_str,
}
GLOBALS = {
    "lines": view.lines,
    "one_line": view.one_line,
    "paragraphs": view.paragraphs,
    "quoted": view.quoted,
    "head": view.head,
    "tail": view.tail,
    "the": view.the,
    "of": view.of,
    "qualite_of": view.qualite_of,
    "place_of": view.place_of,
    "versions": view.versions,
    "effective_clause": view.effective_clause,
    "threshold_label": view.threshold_label,
    "basis_label": view.basis_label,
    "basis_short": view.basis_short,
    "visa_head": view.visa_head,
    "visa_notice": view.VISA_NOTICE,
    "sections": view.SECTIONS,
    "decides": view.DECIDES,
    "dots": view.DOTS,
}


def environment() -> Environment:
    """The app's Jinja environment (autoescape, extensions) overlaid with a loader that also
    finds this package's templates, whether or not a blueprint registers the folder, and with
    our filters and globals in dicts of its own (the app's stay untouched). One per app."""
    app = current_app._get_current_object()
    env = app.extensions.get(_ENV_KEY)
    if env is None:
        base = app.jinja_env
        env = base.overlay(loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), base.loader]))
        env.filters = {**base.filters, **FILTERS}
        env.globals = {**base.globals, **GLOBALS}
        app.extensions[_ENV_KEY] = env
    return env


def _html(template: str, **context) -> str:
    with force_locale("fr"):
        html = environment().get_template(f"changes/documents/{template}").render(**context)
    return typography.fr_html(html)


def _pdf(html: str) -> bytes:
    with force_locale("fr"):
        return render_pdf(html)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stamped(doc, visas: list[VisaStamp]):
    """The same document with these visas printed in place of the matching pending boxes."""
    sides = {v.side for v in visas}
    return replace(
        doc,
        visas=[*doc.visas, *visas],
        pending_sides=[s for s in doc.pending_sides if s not in sides],
    )


# --- The amendment draft (EXE10) ------------------------------------------------------------------


def amendment_html(doc: AmendmentDocument) -> str:
    c = doc.contract
    return _html(
        "avenant.html",
        doc=doc,
        fig=view.amendment_figures(doc),
        slots=view.visa_slots(doc.visas, doc.pending_sides),
        diff_groups=view.diff_groups(doc.diff),
        bases=list(dict.fromkeys(row.basis for row in doc.history)),
        title=f"Projet d'avenant n° {doc.number} au marché n° {c.reference} — EXE10",
        header_left="PROJET — document non signé",
        header_right=f"Marché n° {c.reference} — Projet d'avenant n° {doc.number} — EXE10",
        footer=view.AMENDMENT_FOOTER,
    )


def amendment_pdf(doc: AmendmentDocument) -> bytes:
    return _pdf(amendment_html(doc))


# --- The exchange of letters ----------------------------------------------------------------------


def letter_html(doc: LetterDocument) -> str:
    c = doc.contract
    k = doc.change_number
    steps = view.versions(doc.from_label, doc.to_label)
    return _html(
        "lettre.html",
        doc=doc,
        groups=view.diff_groups(doc.diff),
        slots=view.visa_slots(doc.visas, doc.pending_sides),
        title=f"Marché n° {c.reference} — Plan de progrès : évolution n° {k} ({steps})",
        header_left="",
        header_right=f"Marché n° {c.reference} — Plan de progrès : évolution n° {k}",
        footer=(
            f"Courrier généré par Progrès — marché n° {c.reference} — plan de progrès, "
            f"évolution n° {k} ({steps})."
        ),
    )


def letter_pdf(doc: LetterDocument) -> bytes:
    return _pdf(letter_html(doc))


def acceptance_html(doc: AcceptanceDocument) -> str:
    c = doc.contract
    k = doc.change_number
    return _html(
        "acceptation.html",
        doc=doc,
        groups=view.diff_groups(doc.diff),
        slots=view.visa_slots(doc.visas, doc.pending_sides),
        title=f"Marché n° {c.reference} — Plan de progrès : évolution n° {k} — Accord du titulaire",
        header_left="",
        header_right=f"Marché n° {c.reference} — Évolution n° {k} — Accord du titulaire",
        footer=(
            f"Accord généré par Progrès — marché n° {c.reference} — réponse au courrier du "
            f"{typography.day(doc.letter_date)} (évolution n° {k})."
        ),
    )


def acceptance_pdf(doc: AcceptanceDocument) -> bytes:
    return _pdf(acceptance_html(doc))
