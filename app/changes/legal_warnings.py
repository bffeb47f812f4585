"""The warnings of shared/LEGAL.md §E (W1–W11) on the amendment being drafted, computed from
`legal`'s financial history. Progrès warns; the buyer's legal service decides, so a warning
never blocks a step."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.changes.legal import (
    CAO_PCT,
    DECP_MIN,
    R2194_3_PCT,
    R2194_7_QUESTIONS,
    AmendmentFigures,
    ContractTerms,
    HistoryRow,
    Threshold,
    as_decimal,
    eur,
    history,
    pct,
    threshold_for,
    threshold_label,
)


@dataclass(frozen=True)
class Warning:
    code: str  # "W1"…"W11"
    level: str  # "alerte" (a legal limit is passed) or "info" (a reminder)
    text: str  # the French text of LEGAL.md §E with the values filled in


@dataclass
class Assessment:
    """Everything the amendment page and the annex show for the amendment being drafted."""

    history: list[HistoryRow]
    current: HistoryRow
    warnings: list[Warning] = field(default_factory=list)
    other_threshold: Threshold | None = None  # the consultation date's row, when it differs


def assess(
    terms: ContractTerms,
    amendments: list[AmendmentFigures],
    current_number: int,
    *,
    r2194_7_answers: dict[str, bool] | None = None,
    touches_price_formula: bool = False,
    notified: bool = False,
) -> Assessment:
    """The history up to and including amendment `current_number` (later ones do not bear on
    it), its row, the warnings that apply to it, and the consultation date's threshold row when
    it differs from the one used (§D.6: which period applies is UNCONFIRMED)."""
    rows = history(terms, amendments)
    index = next((i for i, r in enumerate(rows) if r.number == current_number), None)
    if index is None:
        raise ValueError(f"no amendment n° {current_number}")
    current = rows[index]
    figures = next(a for a in amendments if a.number == current_number)
    ctx = _Context(
        terms=terms,
        row=current,
        revised_given=figures.revised_initial_ht is not None,
        r2194_7_answers=r2194_7_answers or {},
        touches_price_formula=touches_price_formula,
        notified=notified or figures.notified_on is not None,
    )
    warnings = [w for rule in _RULES for w in rule(ctx)]
    return Assessment(
        history=rows[: index + 1],
        current=current,
        warnings=warnings,
        other_threshold=_other_threshold(terms, current.threshold),
    )


def _other_threshold(terms: ContractTerms, used: Threshold) -> Threshold | None:
    if terms.consultation_date is None:
        return None
    row = threshold_for(terms.category, terms.buyer_type, terms.consultation_date)
    return None if row.period == used.period else row


@dataclass(frozen=True)
class _Context:
    terms: ContractTerms
    row: HistoryRow
    revised_given: bool  # the buyer entered B (prices varied), so say « après variation »
    r2194_7_answers: dict[str, bool]
    touches_price_formula: bool
    notified: bool


def _of_b(c: _Context) -> str:
    # LEGAL.md brackets « après variation des prix »: only true when the buyer entered B.
    return (
        "du montant initial après variation des prix" if c.revised_given else "du montant initial"
    )


def _w1(c: _Context) -> list[Warning]:
    row = c.row
    if row.basis != "R2194-8":
        return []
    limit = Decimal(15) if c.terms.category == "travaux" else Decimal(10)
    gross = max(row.c8, row.g8)
    if gross < row.threshold.amount and row.c8_pct < limit:
        return []
    text = (
        "Dépassement du régime des modifications de faible montant (art. R2194-8 et R2194-9 "
        f"CCP) : cumul des modifications de faible montant = {eur(gross)} HT soit "
        f"{pct(row.c8_pct)} {_of_b(c)} ; limites : < 10 % (fournitures/services) ou < 15 % "
        f"(travaux) ET < seuil européen {eur(row.threshold.amount)} HT."
    )
    if row.c8 != gross:
        text += (
            f" Le cumul net des diminutions serait de {eur(row.c8)} HT ; la compensation des "
            "diminutions n'étant pas confirmée, le cumul brut est retenu."
        )
    text += (
        " Un autre fondement est nécessaire (examen au regard de l'article R2194-7 ou nouvelle "
        "procédure de mise en concurrence) ; le dépassement ne rend pas à lui seul l'avenant "
        "illégal (TA Bastia, 9 mars 2023, n° 2100488)."
    )
    return [Warning("W1", "alerte", text)]


def _w2(c: _Context) -> list[Warning]:
    row = c.row
    if row.basis != "R2194-8" or abs(row.amount_ht) < row.threshold.amount:
        return []
    text = (
        "Le montant de la modification atteint le seuil européen (R2194-8) : "
        f"{eur(abs(row.amount_ht))} HT pour un seuil de {threshold_label(row.threshold)}."
    )
    return [Warning("W2", "alerte", text)]


def _w3(c: _Context) -> list[Warning]:
    row = c.row
    if row.basis not in ("R2194-2", "R2194-5") or c.terms.buyer_type == "entite_adjudicatrice":
        return []
    found = []
    if row.pct_revised > R2194_3_PCT:  # exactly 50 % is allowed (« ne peut excéder »)
        found.append(
            Warning(
                "W3",
                "alerte",
                "Dépassement de la limite de 50 % (art. R2194-3 CCP) : montant de la "
                f"modification = {eur(row.amount_ht)} HT soit {pct(row.pct_revised)} "
                f"{_of_b(c)} ; chaque modification fondée sur l'article R2194-2 ou "
                "R2194-5 ne peut excéder 50 % du montant du marché initial.",
            )
        )
    if row.c_all_pct > R2194_3_PCT:
        found.append(
            Warning(
                "W3",
                "info",
                "Modifications successives : elles ne doivent pas avoir pour objet de "
                "contourner les obligations de publicité et de mise en concurrence (R2194-3 "
                f"al. 3). Cumul de toutes les modifications : {eur(row.c_all)} HT soit "
                f"{pct(row.c_all_pct)} du montant initial HT.",
            )
        )
    return found


def _w4(c: _Context) -> list[Warning]:
    if c.row.basis not in ("R2194-2", "R2194-5") or c.terms.procedure != "formalisee":
        return []
    text = (
        "Avis de modification à publier au JOUE (R2194-10, numérotation non confirmée ; "
        "R2131-19 et R2131-20)."
    )
    return [Warning("W4", "info", text)]


def _w5(c: _Context) -> list[Warning]:
    if c.row.basis != "R2194-7":
        return []
    questions = " ".join(f"{i}° {text}" for i, (_, text) in enumerate(R2194_7_QUESTIONS, 1))
    found = [
        Warning(
            "W5",
            "info",
            "Fondement R2194-7 : la modification est substantielle, notamment, si l'une des "
            f"conditions suivantes est remplie (répondre à chaque question). {questions}",
        )
    ]
    yes = [i for i, (key, _) in enumerate(R2194_7_QUESTIONS, 1) if c.r2194_7_answers.get(key)]
    if yes:
        cited = ", ".join(f"{i}°" for i in yes)
        found.append(
            Warning(
                "W5",
                "alerte",
                "Modification substantielle : nouvelle procédure de mise en concurrence "
                f"requise, sauf autre fondement. Réponse oui : {cited} (R2194-7).",
            )
        )
    return found


def _w6(c: _Context) -> list[Warning]:
    text = "Une modification ne peut changer la nature globale du marché (L2194-1)."
    return [Warning("W6", "info", text)]


def _w7(c: _Context) -> list[Warning]:
    if c.row.basis != "R2194-1":
        return []
    text = (
        "Vérifier que la clause du marché indique le champ d'application, la nature des "
        "modifications et leurs conditions de mise en œuvre, de façon claire, précise et sans "
        "équivoque (R2194-1)."
    )
    if c.terms.review_clause:
        return [Warning("W7", "info", text)]
    text += (
        " La clause du marché a été déclarée comme n'étant pas une clause de réexamen : "
        "l'article R2194-1 ne peut pas servir de fondement à cette modification."
    )
    return [Warning("W7", "alerte", text)]


def _w8(c: _Context) -> list[Warning]:
    if not c.touches_price_formula:
        return []
    text = (
        "Un avenant ne peut insérer ni modifier une clause de variation des prix (sauf erreur "
        "matérielle évidente)."
    )
    return [Warning("W8", "alerte", text)]


def _w9(c: _Context) -> list[Warning]:
    row, t = c.row, c.terms
    if not (t.collectivite and t.awarded_by_cao and row.amount_ht > 0):
        return []
    # Per-avenant or cumulative reading of L1414-4 is UNCONFIRMED: either triggers, both shown.
    if row.pct_initial <= CAO_PCT and row.c_all_pct <= CAO_PCT:
        return []
    text = (
        "Projet d'avenant > 5 % : avis préalable de la commission d'appel d'offres (CGCT "
        f"L1414-4). Avenant : {pct(row.pct_initial)} du montant initial HT ; cumul des "
        f"modifications : {pct(row.c_all_pct)} du montant initial HT."
    )
    return [Warning("W9", "info", text)]


def _w10(c: _Context) -> list[Warning]:
    if as_decimal(c.terms.initial_ht) < DECP_MIN:
        return []
    text = (
        "Publier les données essentielles de la modification sur data.gouv.fr dans les deux "
        "mois (R2196-1 ; arrêté du 22 décembre 2022)."
    )
    if not c.notified:
        text += " Rappel : à faire après la notification de l'avenant."
    return [Warning("W10", "info", text)]


def _w11(c: _Context) -> list[Warning]:
    if c.row.basis != "R2194-6":
        return []
    text = (
        "Changement de titulaire : possible uniquement dans les deux cas de l'article R2194-6 "
        "(clause de réexamen ou option, ou cession du marché à la suite d'une restructuration "
        "du titulaire initial) ; le nouveau titulaire doit remplir les conditions de "
        "participation fixées pour la passation du marché initial."
    )
    return [Warning("W11", "info", text)]


_RULES = (_w1, _w2, _w3, _w4, _w5, _w6, _w7, _w8, _w9, _w10, _w11)
