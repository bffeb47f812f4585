"""What the PDF templates and the DOCX builder share: fixed wordings, the figures derived from
an `AmendmentDocument`, the visa slots, the grouping of plan changes and a few French helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from app.changes.documents.context import (
    AmendmentDocument,
    DiffLine,
    Party,
    VisaStamp,
)
from app.changes.documents.typography import add_months, eur, moment_paris, money, ratio_pct
from app.changes.legal import HistoryRow, Threshold

# --- Fixed wordings -------------------------------------------------------------------------------

# LEGAL.md §F
AMENDMENT_FOOTER = (
    "Projet généré par Progrès — document de travail à valider par le service juridique de "
    "l'acheteur ; il ne vaut avenant qu'une fois signé par les représentants habilités des "
    "parties et notifié au titulaire."
)
# LEGAL.md §H
VISA_NOTICE = (
    "Ce visa atteste l'accord de son auteur sur le contenu de ce document dans Progrès. Il ne "
    "constitue pas une signature électronique avancée reposant sur un certificat qualifié au "
    "sens de l'arrêté du 22 mars 2019."
)
SECTIONS = {
    "A": "A – Identification du pouvoir adjudicateur ou de l'entité adjudicatrice",
    "B": "B – Identification du titulaire du marché public",
    "C": "C – Objet du marché public",
    "D": "D – Objet de l'avenant",
    "E": "E – Signature du titulaire du marché public",
    "F": "F – Signature du pouvoir adjudicateur ou de l'entité adjudicatrice",
    "G": "G – Notification de l'avenant au titulaire du marché public",
}
DECIDES = "Progrès signale ; le service juridique de l'acheteur décide."
DOTS = "……………………………"

# Used when app.changes.legal has no BASIS_LABELS (yet).
FALLBACK_BASIS_LABELS = {
    "R2194-1": "clause de réexamen ou option (R2194-1)",
    "R2194-2": "prestations supplémentaires (R2194-2)",
    "R2194-5": "circonstances imprévues (R2194-5)",
    "R2194-6": "nouveau titulaire (R2194-6)",
    "R2194-7": "modification non substantielle (R2194-7)",
    "R2194-8": "modification de faible montant (R2194-8)",
    "sans_incidence": "sans incidence financière",
}


def basis_label(code: str) -> str:
    """The label of a legal basis: legal.BASIS_LABELS when it exists, else ours."""
    from app.changes import legal

    labels = getattr(legal, "BASIS_LABELS", None) or {}
    label = labels.get(code) or FALLBACK_BASIS_LABELS.get(code) or code
    return str(label)


def basis_short(code: str) -> str:
    return "sans incidence" if code == "sans_incidence" else code


# --- Small French helpers -------------------------------------------------------------------------


def lines(text: str) -> list[str]:
    """The non-empty lines of a multi-line address."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def one_line(text: str) -> str:
    return ", ".join(lines(text))


def paragraphs(text: str) -> list[str]:
    """Paragraphs separated by blank lines, each on one line."""
    blocks = re.split(r"\n[ \t]*\n", (text or "").strip())
    return [" ".join(lines(block)) for block in blocks if block.strip()]


def quoted(paragraph: str) -> bool:
    """A paragraph that quotes a clause (« … »): printed indented."""
    return paragraph.startswith("«")


_FEMININE = {"métropole", "ville", "commune", "région", "communauté", "centrale", "direction",
             "collectivité", "préfecture", "caisse", "chambre", "société", "agence", "université",
             "association", "académie", "autorité", "école"}  # fmt: skip
_MASCULINE = {"département", "conseil", "centre", "syndicat", "ministère", "service",
              "groupement", "office", "établissement", "hôpital", "musée", "rectorat",
              "institut"}  # fmt: skip
_VOWEL = re.compile(r"^[aeiouyhàâäéèêëîïôöûüœAEIOUYHÀÂÄÉÈÊËÎÏÔÖÛÜŒ]")


def head(name: str) -> str:
    """« Métropole de Lyon » out of « Métropole de Lyon — Centrale d'achat »."""
    return (name or "").split(" — ")[0].strip()


def tail(name: str) -> str:
    """« Centrale d'achat » out of « Métropole de Lyon — Centrale d'achat »."""
    parts = (name or "").split(" — ", 1)
    return parts[1].strip() if len(parts) == 2 else ""


def _article(name: str) -> tuple[str, str]:
    """(definite article, gender) for an organisation's name: « la », « le », « l' » or ""."""
    first = name.split()[0].lower() if name.split() else ""
    if first in _FEMININE or first in _MASCULINE:
        if _VOWEL.match(first):
            return "l'", "f" if first in _FEMININE else "m"
        return ("la ", "f") if first in _FEMININE else ("le ", "m")
    return "", ""


def the(name: str) -> str:
    """« la Métropole de Lyon », « le Département du Rhône », « Textiles Rhône SAS »."""
    article, _gender = _article(name)
    return article + name


def of(name: str) -> str:
    """« de la Métropole de Lyon », « du Département du Rhône », « de Textiles Rhône SAS »,
    « d'Alpha Services »."""
    article, _gender = _article(name)
    if article == "le ":
        return "du " + name
    if article:
        return "de " + article + name
    return ("d'" if _VOWEL.match(name) else "de ") + name


def qualite_of(qualite: str, organisation: str) -> str:
    """« Présidente de Textiles Rhône SAS » from « Présidente », left as typed when the qualité
    already names the organisation (people often type it whole)."""
    if not qualite or organisation.casefold() in qualite.casefold():
        return qualite
    return f"{qualite} {of(organisation)}"


def place_of(party: Party) -> str:
    """The town of a party's head office (or establishment): « Saint-Fons » from « 69190
    Saint-Fons »; "" when no postcode line is found."""
    for line in reversed(lines(party.head_office_address) or lines(party.address)):
        m = re.search(r"\b\d{5}\s+(.+?)(?:\s+cedex\b.*)?$", line, re.I)
        if m:
            return m.group(1).strip()
    return ""


def versions(from_label: str, to_label: str) -> str:
    """« version 1 → 2 » from « version 1 » and « version 2 »."""
    a, b = from_label.strip(), to_label.strip()
    pa, pb = a.rsplit(" ", 1), b.rsplit(" ", 1)
    if len(pa) == 2 and len(pb) == 2 and pa[0] == pb[0]:
        return f"{a} → {pb[1]}"
    return f"{a} → {b}"


def effective_clause(effective: str) -> str:
    """The letter's « Elles prendront effet … » ending (LEGAL.md §G)."""
    effective = (effective or "").strip()
    if not effective:
        return "à la date de réception de votre accord"
    return effective if effective.startswith("le ") else f"le {effective}"


def threshold_label(threshold: Threshold | None) -> str:
    """« 216 000,00 € (2026-2027) »."""
    return f"{eur(threshold.amount)} ({threshold.period})" if threshold else "—"


# --- Visas ----------------------------------------------------------------------------------------

SIDE_ORDER = ("acheteur", "titulaire")
SIDE_NAMES = {"acheteur": "de l'acheteur", "titulaire": "du titulaire"}


@dataclass
class VisaSlot:
    side: str
    stamp: VisaStamp | None  # None: a dashed « pending » box of the same height

    @property
    def pending_text(self) -> str:
        who = SIDE_NAMES.get(self.side, self.side)
        return f"Emplacement du visa Progrès {who} — en attente."


def visa_head(visa: VisaStamp) -> str:
    """LEGAL.md §H, first part: « Visa Progrès — Nom, qualité, organisation, le … »."""
    return (
        f"Visa Progrès — {visa.full_name}, {visa.qualite}, {visa.organisation}, "
        f"le {moment_paris(visa.given_at)}"
    )


def visa_text(visa: VisaStamp) -> str:
    """The whole stamp, as one string (LEGAL.md §H)."""
    return f"{visa_head(visa)} — empreinte SHA-256 : {visa.sha256}. {VISA_NOTICE}"


def visa_slots(visas: list[VisaStamp], pending_sides: list[str]) -> list[VisaSlot]:
    """One slot per side, buyer first: its stamp when given, else a pending box. A stamped copy
    keeps the original's order, so stamping never moves anything."""
    order = {side: i for i, side in enumerate(SIDE_ORDER)}
    slots = [VisaSlot(v.side, v) for v in visas]
    stamped = {v.side for v in visas}
    slots += [VisaSlot(side, None) for side in pending_sides if side not in stamped]
    return sorted(slots, key=lambda s: order.get(s.side, len(order)))


# --- Plan changes ---------------------------------------------------------------------------------


@dataclass
class DiffGroup:
    item: str
    change: str
    lines: list[DiffLine]


def diff_groups(diff: list[DiffLine]) -> list[DiffGroup]:
    """Consecutive lines of the same item and change, together."""
    groups: list[DiffGroup] = []
    for line in diff:
        if groups and groups[-1].item == line.item and groups[-1].change == line.change:
            groups[-1].lines.append(line)
        else:
            groups.append(DiffGroup(line.item, line.change, [line]))
    return groups


# --- The amendment's figures ----------------------------------------------------------------------


@dataclass
class AmendmentFigures:
    vat_pct: Decimal  # 20 for 20 %
    initial_ht: Decimal
    initial_ttc: Decimal
    end_date: date  # last day of the execution period
    has_impact: bool
    amount_ht: Decimal
    amount_ttc: Decimal
    pct_initial: Decimal  # EXE10 « % d'écart » = A / I
    pct_revised: Decimal  # A / B
    new_ht: Decimal
    new_ttc: Decimal
    revised_initial_ht: Decimal  # B
    current: HistoryRow | None  # this amendment's history row


def amendment_figures(doc: AmendmentDocument) -> AmendmentFigures:
    c = doc.contract
    rate = Decimal(c.vat_rate)
    initial = money(c.initial_ht)
    current = next((r for r in doc.history if r.number == doc.number), None)
    amount = money(doc.amount_ht)
    if current is not None:
        amount_ttc, new_ht, new_ttc = current.amount_ttc, current.new_ht, current.new_ttc
        pct_initial, pct_revised = current.pct_initial, current.pct_revised
        revised = current.revised_initial_ht
    else:  # no history given: this amendment alone
        amount_ttc = money(amount * (1 + rate))
        new_ht = money(initial + amount)
        new_ttc = money(new_ht * (1 + rate))
        pct_initial = ratio_pct(amount, initial) if initial else Decimal(0)
        pct_revised, revised = pct_initial, initial
    return AmendmentFigures(
        vat_pct=rate * 100,
        initial_ht=initial,
        initial_ttc=money(initial * (1 + rate)),
        end_date=add_months(c.notification_date, c.duration_months) - timedelta(days=1),
        has_impact=amount != 0,
        amount_ht=amount,
        amount_ttc=money(amount_ttc),
        pct_initial=pct_initial,
        pct_revised=pct_revised,
        new_ht=money(new_ht),
        new_ttc=money(new_ttc),
        revised_initial_ht=money(revised),
        current=current,
    )
