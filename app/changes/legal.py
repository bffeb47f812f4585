"""The procurement rules Progrès computes (shared/LEGAL.md §A–§D): the contract's terms, the
European thresholds, letter or avenant, and the financial history of the amendments; the
warnings of §E built on them are in `legal_warnings`.

Pure functions on Decimals: no database, no Flask. Progrès warns; the buyer's legal service
decides, so nothing here ever blocks a step."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, format_decimal

# Legal bases an amendment may record (LEGAL.md §C), in the order the form lists them.
BASES = ("R2194-1", "R2194-2", "R2194-5", "R2194-6", "R2194-7", "R2194-8", "sans_incidence")
BUYER_TYPES = ("etat", "autre_pa", "entite_adjudicatrice")  # §A.2
PROCEDURES = ("formalisee", "adaptee", "autre")  # §A.3


@dataclass(frozen=True)
class ContractTerms:
    """What the computations need to know of the contract (LEGAL.md §A)."""

    category: str  # travaux | fournitures | services
    buyer_type: str  # one of BUYER_TYPES
    procedure: str  # one of PROCEDURES
    awarded_by_cao: bool
    collectivite: bool
    initial_ht: Decimal  # I
    vat_rate: Decimal  # 0.20 for 20 %
    consultation_date: date | None = None
    review_clause: bool = False  # the clause states scope, nature, conditions (R2194-1)


@dataclass(frozen=True)
class AmendmentFigures:
    """One amendment as the computations see it."""

    number: int
    basis: str  # one of BASES
    amount_ht: Decimal  # A_n, signed: + increase, − decrease
    on: date  # the modification's date (draft date until notified, then notification date)
    revised_initial_ht: Decimal | None = None  # B at that date; None means B = I
    notified_on: date | None = None


@dataclass(frozen=True)
class Threshold:
    amount: Decimal
    period: str  # "2026-2027"
    starts: date
    ends: date


@dataclass(frozen=True)
class HistoryRow:
    """One line of « Historique financier des modifications » (LEGAL.md §F annex)."""

    number: int
    notified_on: date | None
    basis: str
    amount_ht: Decimal  # A_i
    amount_ttc: Decimal
    pct_initial: Decimal  # A_i / I × 100, unrounded (EXE10 « % d'écart »)
    pct_revised: Decimal  # A_i / B × 100, unrounded (legal %)
    c8: Decimal  # Σ A over R2194-8 amendments up to this one
    g8: Decimal  # Σ |A| over the same
    c8_pct: Decimal  # max(c8, g8) / B × 100
    c_all: Decimal  # Σ A over every amendment up to this one
    c_all_pct: Decimal  # c_all / I × 100
    new_ht: Decimal  # N_i = I + c_all
    new_ttc: Decimal
    threshold: Threshold  # European threshold in force at the modification's date
    revised_initial_ht: Decimal  # B used


# --- Constants -----------------------------------------------------------------------------

CATEGORIES = ("travaux", "fournitures", "services")  # §A.1
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
DECP_MIN = Decimal(40000)  # §A.7: essential data are published from 40 000 € HT
CAO_PCT = Decimal(5)  # §D.8, CGCT L1414-4
R2194_3_PCT = Decimal(50)  # §D.7

# §C: what the document prints after « Fondement juridique de la modification : ».
BASIS_LABELS = {
    "R2194-1": "article R2194-1 du code de la commande publique (clause de réexamen ou option)",
    "R2194-2": "article R2194-2 du code de la commande publique (prestations supplémentaires)",
    "R2194-5": "article R2194-5 du code de la commande publique (circonstances imprévues)",
    "R2194-6": "article R2194-6 du code de la commande publique (nouveau titulaire)",
    "R2194-7": "article R2194-7 du code de la commande publique (modification non substantielle)",
    "R2194-8": "article R2194-8 du code de la commande publique (modification de faible montant)",
    "sans_incidence": "sans incidence financière",
}

# §B: letter or avenant. Any "yes" (or no answer) means an avenant.
QUESTIONS = (
    (
        "prix",
        "La modification change-t-elle un prix, un montant, une quantité, un délai ou une "
        "durée, une modalité de paiement ou une pénalité ?",
    ),
    (
        "obligations",
        "Change-t-elle une obligation écrite dans l'acte d'engagement, le CCAP ou le CCTP "
        "(citer l'article) ?",
    ),
    (
        "paiement",
        "Le partage des gains crée-t-il ou modifie-t-il un paiement entre les parties ?",
    ),
    (
        "perimetre",
        "Change-t-elle le titulaire, l'objet ou le périmètre du marché ?",
    ),
)
LETTER_NOTICE = (
    "Un échange écrit qui modifierait une stipulation vaudrait modification du marché "
    "(CE, 17 mars 2010, n° 308676)."
)

# §E W5: the four conditions of R2194-7 that make a modification substantial.
R2194_7_QUESTIONS = (
    (
        "concurrence",
        "La modification introduit-elle des conditions qui, si elles avaient été incluses dans "
        "la procédure de passation initiale, auraient attiré davantage d'opérateurs "
        "économiques, permis l'admission d'autres opérateurs économiques ou permis le choix "
        "d'une offre autre que celle retenue ?",
    ),
    (
        "equilibre",
        "Modifie-t-elle l'équilibre économique du marché en faveur du titulaire d'une manière "
        "qui n'était pas prévue dans le marché initial ?",
    ),
    ("objet", "Modifie-t-elle considérablement l'objet du marché ?"),
    (
        "titulaire",
        "A-t-elle pour effet de remplacer le titulaire initial par un nouveau titulaire en "
        "dehors des hypothèses prévues à l'article R2194-6 ?",
    ),
)

# --- European thresholds (LEGAL.md table), HT --------------------------------------------

# period, works & concessions, then supplies/services per buyer type (BUYER_TYPES order).
_THRESHOLD_TABLE = (
    ("2022-2023", 5382000, {"etat": 140000, "autre_pa": 215000, "entite_adjudicatrice": 431000}),
    ("2024-2025", 5538000, {"etat": 143000, "autre_pa": 221000, "entite_adjudicatrice": 443000}),
    ("2026-2027", 5404000, {"etat": 140000, "autre_pa": 216000, "entite_adjudicatrice": 432000}),
)


def _build_thresholds() -> dict[tuple[str, str], tuple[Threshold, ...]]:
    rows: dict[tuple[str, str], list[Threshold]] = {}
    for period, works, supplies in _THRESHOLD_TABLE:
        first, last = (int(y) for y in period.split("-"))
        starts, ends = date(first, 1, 1), date(last, 12, 31)
        for category in CATEGORIES:
            for buyer_type in BUYER_TYPES:
                amount = works if category == "travaux" else supplies[buyer_type]
                row = Threshold(Decimal(amount), period, starts, ends)
                rows.setdefault((category, buyer_type), []).append(row)
    return {key: tuple(value) for key, value in rows.items()}


# (category, buyer_type) → dated rows, oldest first.
THRESHOLDS = _build_thresholds()


def threshold_for(category: str, buyer_type: str, on: date) -> Threshold:
    """The row in force on `on`. Before the first row or after the last one, the nearest row:
    the table only covers 2022-2027 and an old or far date still needs a figure to show."""
    try:
        rows = THRESHOLDS[(category, buyer_type)]
    except KeyError:
        raise ValueError(f"unknown category or buyer type: {category!r}, {buyer_type!r}") from None
    for row in rows:
        if row.starts <= on <= row.ends:
            return row
    return rows[0] if on < rows[0].starts else rows[-1]


# --- Money, percentages, French formatting -----------------------------------------------


def as_decimal(x) -> Decimal:
    """A Decimal of an int, a string or a Decimal."""
    # A float has already lost the cents (0.1 + 0.2): refuse it rather than round it.
    if isinstance(x, float):
        raise TypeError("build Decimals from strings, never from floats")
    return x if isinstance(x, Decimal) else Decimal(x)


def money(x) -> Decimal:
    """Euros to the cent, ROUND_HALF_UP (LEGAL.md §D, ours)."""
    return as_decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio_pct(num, den) -> Decimal:
    """num / den × 100, unrounded: the limits are compared with this, never with the display."""
    num, den = as_decimal(num), as_decimal(den)
    return Decimal(0) if den == 0 else num / den * HUNDRED


@functools.lru_cache(maxsize=4096)  # Babel takes 30–40 µs an amount; a page shows the same ones
def eur(x, signed: bool = False) -> str:
    """'48 000,00 €' (U+202F groups, U+00A0 before €); '+ …' if signed, '− …' if negative."""
    v = money(x)
    s = format_currency(abs(v), "EUR", locale="fr_FR")
    if v < 0:
        return "\u2212\u00a0" + s
    return "+\u00a0" + s if signed and v > 0 else s


@functools.lru_cache(maxsize=4096)
def pct(x) -> str:
    """'11,65 %' to 2 decimals, U+00A0 before % (as Babel's fr_FR percent)."""
    q = as_decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)
    return format_decimal(q, format="#,##0.00", locale="fr_FR") + "\u00a0%"


def threshold_label(t: Threshold) -> str:
    """'216 000,00 € (2026-2027)': the amount with the row it comes from (§D.6: show it)."""
    return f"{eur(t.amount)} ({t.period})"


# --- Letter or avenant (§B) --------------------------------------------------------------


def proposed_formalisation(answers: dict[str, bool | None]) -> str:
    """'lettre' only when the four §B questions are all answered no; the buyer confirms."""
    all_no = all(answers.get(key) is False for key, _ in QUESTIONS)
    return "lettre" if all_no else "avenant"


# --- Financial history (§D 1-5) ----------------------------------------------------------


def history(terms: ContractTerms, amendments: list[AmendmentFigures]) -> list[HistoryRow]:
    """One row per amendment, by number, each with the cumulations up to and including it."""
    initial, vat = as_decimal(terms.initial_ht), as_decimal(terms.vat_rate)
    ordered = sorted(amendments, key=lambda a: a.number)
    _check_numbers(ordered)
    rows: list[HistoryRow] = []
    c8 = g8 = c_all = Decimal(0)
    for a in ordered:
        if a.basis not in BASES:
            raise ValueError(f"unknown legal basis: {a.basis!r}")
        amount = as_decimal(a.amount_ht)
        revised = initial if a.revised_initial_ht is None else as_decimal(a.revised_initial_ht)
        if a.basis == "R2194-8":  # R2194-9 cumulates low-amount modifications only
            c8, g8 = c8 + amount, g8 + abs(amount)
        c_all += amount
        new_ht = money(initial + c_all)
        rows.append(
            HistoryRow(
                number=a.number,
                notified_on=a.notified_on,
                basis=a.basis,
                amount_ht=amount,
                amount_ttc=money(amount * (1 + vat)),
                pct_initial=ratio_pct(amount, initial),
                pct_revised=ratio_pct(amount, revised),
                c8=c8,
                g8=g8,
                # Netting decreases is UNCONFIRMED: test the more conservative figure (ours).
                c8_pct=ratio_pct(max(c8, g8), revised),
                c_all=c_all,
                c_all_pct=ratio_pct(c_all, initial),
                new_ht=new_ht,
                new_ttc=money(new_ht * (1 + vat)),
                threshold=threshold_for(terms.category, terms.buyer_type, a.on),
                revised_initial_ht=revised,
            )
        )
    return rows


def _check_numbers(ordered: list[AmendmentFigures]) -> None:
    numbers = [a.number for a in ordered]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"duplicate amendment numbers: {numbers}")
