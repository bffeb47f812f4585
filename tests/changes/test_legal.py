"""app.changes.legal and legal_warnings: the figures and warnings of LEGAL.md §D-§E, without app or database."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from itertools import pairwise

import pytest

from app.changes.legal import (
    BASES,
    BASIS_LABELS,
    BUYER_TYPES,
    CATEGORIES,
    LETTER_NOTICE,
    QUESTIONS,
    R2194_7_QUESTIONS,
    THRESHOLDS,
    AmendmentFigures,
    ContractTerms,
    eur,
    history,
    money,
    pct,
    proposed_formalisation,
    ratio_pct,
    threshold_for,
    threshold_label,
)
from app.changes.legal_warnings import assess

DRAFT = date(2026, 11, 25)


def norm(s: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", s)


def terms(**changes) -> ContractTerms:
    """The docs-sample contract: supplies, Métropole de Lyon (collectivité, CAO), 400 000 € HT."""
    base = ContractTerms(
        category="fournitures",
        buyer_type="autre_pa",
        procedure="formalisee",
        awarded_by_cao=True,
        collectivite=True,
        initial_ht=D("400000.00"),
        vat_rate=D("0.20"),
        consultation_date=date(2024, 10, 7),
    )
    return replace(base, **changes)


def am(number, basis, amount, on=DRAFT, revised=None, notified_on=None) -> AmendmentFigures:
    return AmendmentFigures(
        number, basis, D(amount), on, None if revised is None else D(revised), notified_on
    )


def codes(assessment, level=None) -> list[str]:
    return [w.code for w in assessment.warnings if level is None or w.level == level]


def text_of(assessment, code, level=None) -> str:
    found = [w.text for w in assessment.warnings if w.code == code and level in (None, w.level)]
    assert len(found) == 1, (code, assessment.warnings)
    return norm(found[0])


# --- money, ratio_pct, formatting -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("48000", "48000.00"),
        ("12.344", "12.34"),
        ("12.345", "12.35"),
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        (D("57600.0000"), "57600.00"),
        (7, "7.00"),
    ],
)
def test_money_rounds_half_up_to_the_cent(value, expected):
    assert money(value) == D(expected)
    assert str(money(value)) == expected


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        ("48000", "400000", "12"),
        ("200000", "400000", "50"),
        ("-8000", "400000", "-2"),
        ("1", "0", "0"),
    ],
)
def test_ratio_pct(num, den, expected):
    assert ratio_pct(D(num), D(den)) == D(expected)


def test_ratio_pct_is_not_rounded():
    value = ratio_pct(D("48000"), D("412000"))
    assert value != D("11.65")
    assert value.quantize(D("0.000001")) == D("11.650485")


@pytest.mark.parametrize(
    "call",
    [
        lambda: money(0.1),
        lambda: ratio_pct(1.0, D("2")),
        lambda: ratio_pct(D("1"), 2.0),
        lambda: eur(48000.0),
        lambda: pct(11.65),
        lambda: history(terms(initial_ht=400000.0), [am(1, "R2194-8", "1000")]),
        lambda: history(terms(vat_rate=0.2), [am(1, "R2194-8", "1000")]),
        lambda: history(terms(), [AmendmentFigures(1, "R2194-8", 1000.0, DRAFT)]),
        lambda: history(terms(), [AmendmentFigures(1, "R2194-8", D("1"), DRAFT, 412000.0)]),
    ],
)
def test_float_input_is_refused(call):
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize(
    ("value", "signed", "expected"),
    [
        ("48000", False, "48\u202f000,00\u00a0€"),
        ("48000", True, "+\u00a048\u202f000,00\u00a0€"),
        ("-8000.5", False, "\u2212\u00a08\u202f000,50\u00a0€"),
        ("-8000.5", True, "\u2212\u00a08\u202f000,50\u00a0€"),
        ("0", True, "0,00\u00a0€"),
        ("5404000", False, "5\u202f404\u202f000,00\u00a0€"),
        ("0.005", False, "0,01\u00a0€"),
    ],
)
def test_eur(value, signed, expected):
    assert eur(D(value), signed=signed) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", "12,00\u00a0%"),
        ("11.650485436893", "11,65\u00a0%"),
        ("50.005", "50,01\u00a0%"),
        ("1234.5", "1\u202f234,50\u00a0%"),
    ],
)
def test_pct(value, expected):
    assert pct(D(value)) == expected


# --- thresholds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "buyer_type", "on", "amount", "period"),
    [
        ("travaux", "etat", date(2026, 1, 1), "5404000", "2026-2027"),
        ("travaux", "autre_pa", date(2025, 12, 31), "5538000", "2024-2025"),
        ("travaux", "entite_adjudicatrice", date(2023, 6, 1), "5382000", "2022-2023"),
        ("fournitures", "etat", date(2024, 1, 1), "143000", "2024-2025"),
        ("fournitures", "autre_pa", date(2025, 12, 31), "221000", "2024-2025"),
        ("services", "autre_pa", date(2026, 1, 1), "216000", "2026-2027"),
        ("services", "etat", date(2023, 12, 31), "140000", "2022-2023"),
        ("services", "entite_adjudicatrice", date(2027, 12, 31), "432000", "2026-2027"),
        ("fournitures", "entite_adjudicatrice", date(2022, 1, 1), "431000", "2022-2023"),
        ("fournitures", "entite_adjudicatrice", date(2025, 5, 5), "443000", "2024-2025"),
        # Outside the table: the nearest period.
        ("fournitures", "autre_pa", date(2021, 5, 1), "215000", "2022-2023"),
        ("fournitures", "autre_pa", date(2030, 5, 1), "216000", "2026-2027"),
    ],
)
def test_threshold_for(category, buyer_type, on, amount, period):
    row = threshold_for(category, buyer_type, on)
    assert row.amount == D(amount)
    assert row.period == period
    first, last = (int(y) for y in period.split("-"))
    assert (row.starts, row.ends) == (date(first, 1, 1), date(last, 12, 31))


def test_thresholds_are_dated_rows_for_every_category_and_buyer_type():
    assert set(THRESHOLDS) == {(c, b) for c in CATEGORIES for b in BUYER_TYPES}
    for rows in THRESHOLDS.values():
        assert [r.period for r in rows] == ["2022-2023", "2024-2025", "2026-2027"]
        for earlier, later in pairwise(rows):
            assert (later.starts - earlier.ends).days == 1


@pytest.mark.parametrize(("category", "buyer_type"), [("mixte", "etat"), ("travaux", "pa")])
def test_threshold_for_unknown_keys(category, buyer_type):
    with pytest.raises(ValueError):
        threshold_for(category, buyer_type, DRAFT)


def test_threshold_label():
    label = threshold_label(threshold_for("fournitures", "autre_pa", DRAFT))
    assert norm(label) == "216 000,00 € (2026-2027)"


# --- history: LEGAL.md §D 1-5 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("initial", "vat", "amounts", "ttc", "new_ht", "new_ttc"),
    [
        # §D.1 on the demo figures
        ("400000.00", "0.20", ["48000"], "57600.00", "448000.00", "537600.00"),
        # a decrease
        ("400000.00", "0.20", ["10000", "-2500.50"], "-3000.60", "407499.50", "488999.40"),
        # half-up at the cent: 10.10 × 1.055 = 10.6555
        ("1000.00", "0.055", ["10.10"], "10.66", "1010.10", "1065.66"),
    ],
)
def test_d1_ttc_and_new_amounts(initial, vat, amounts, ttc, new_ht, new_ttc):
    figures = [am(i, "R2194-8", a) for i, a in enumerate(amounts, 1)]
    last = history(terms(initial_ht=D(initial), vat_rate=D(vat)), figures)[-1]
    assert (last.amount_ttc, last.new_ht, last.new_ttc) == (D(ttc), D(new_ht), D(new_ttc))


@pytest.mark.parametrize(
    ("amount", "revised", "pct_initial", "pct_revised"),
    [
        ("48000", "412000", "12,00 %", "11,65 %"),  # §D.2 and §D.3 differ when B ≠ I
        ("48000", None, "12,00 %", "12,00 %"),  # B defaults to I
        ("-8000", "412000", "-2,00 %", "-1,94 %"),
    ],
)
def test_d2_d3_percentages(amount, revised, pct_initial, pct_revised):
    row = history(terms(), [am(1, "R2194-8", amount, revised=revised)])[0]
    assert row.pct_initial == ratio_pct(D(amount), D("400000"))
    assert row.pct_revised == ratio_pct(D(amount), D(revised or "400000"))
    assert row.revised_initial_ht == D(revised or "400000")
    assert (norm(pct(row.pct_initial)), norm(pct(row.pct_revised))) == (pct_initial, pct_revised)


MIXED = [
    am(1, "R2194-2", "20000"),
    am(2, "R2194-8", "10000"),
    am(3, "sans_incidence", "0"),
    am(4, "R2194-7", "-5000"),
    am(5, "R2194-8", "-4000"),
]


@pytest.mark.parametrize(
    ("number", "c_all", "c_all_pct", "c8", "g8", "c8_pct"),
    [
        (1, "20000", "5", "0", "0", "0"),
        (2, "30000", "7.5", "10000", "10000", "2.5"),
        (3, "30000", "7.5", "10000", "10000", "2.5"),
        (4, "25000", "6.25", "10000", "10000", "2.5"),
        # a decrease nets C8 but the gross G8 is what c8_pct tests (conservative)
        (5, "21000", "5.25", "6000", "14000", "3.5"),
    ],
)
def test_d4_d5_cumulations(number, c_all, c_all_pct, c8, g8, c8_pct):
    row = history(terms(), MIXED)[number - 1]
    assert row.number == number
    assert (row.c_all, row.c_all_pct) == (D(c_all), D(c_all_pct))
    assert (row.c8, row.g8, row.c8_pct) == (D(c8), D(g8), D(c8_pct))


def test_history_is_ordered_by_number_and_dates_pick_the_threshold():
    rows = history(
        terms(),
        [
            am(2, "R2194-8", "1000", on=date(2026, 2, 1)),
            am(1, "R2194-8", "500", on=date(2025, 3, 1)),
        ],
    )
    assert [r.number for r in rows] == [1, 2]
    assert [r.c8 for r in rows] == [D("500"), D("1500")]
    assert [r.threshold.amount for r in rows] == [D("221000"), D("216000")]


@pytest.mark.parametrize(
    "figures",
    [
        [am(1, "R2194-8", "1"), am(1, "R2194-2", "2")],
        [am(1, "R2194-4", "1")],
    ],
)
def test_history_rejects_bad_figures(figures):
    with pytest.raises(ValueError):
        history(terms(), figures)


def test_assess_unknown_number():
    with pytest.raises(ValueError):
        assess(terms(), [am(1, "R2194-8", "1000")], 2)


# --- §D.6 / W1 and W2: low-amount modifications ------------------------------------------


@pytest.mark.parametrize(
    ("category", "initial", "amounts", "on", "w1", "w2"),
    [
        # supplies: < 10 % of B
        ("fournitures", "400000", ["39999.99"], DRAFT, False, False),
        ("fournitures", "400000", ["40000"], DRAFT, True, False),
        ("services", "400000", ["40000"], DRAFT, True, False),
        # works: < 15 %
        ("travaux", "400000", ["40000"], DRAFT, False, False),
        ("travaux", "400000", ["59999.99"], DRAFT, False, False),
        ("travaux", "400000", ["60000"], DRAFT, True, False),
        # works threshold 5 404 000 € in 2026, supplies 216 000 €
        ("travaux", "40000000", ["5403999.99"], DRAFT, False, False),
        ("travaux", "40000000", ["5404000"], DRAFT, True, True),
        ("fournitures", "5000000", ["215999.99"], DRAFT, False, False),
        ("fournitures", "5000000", ["216000"], DRAFT, True, True),
        ("fournitures", "5000000", ["-216000"], DRAFT, True, True),
        # two together pass 10 % (12,50 %), neither alone does (6,25 %)
        ("fournitures", "400000", ["25000", "25000"], DRAFT, True, False),
        # 218 000 € cumulated (7,27 %): under 221 000 € in 2025, not under 216 000 € in 2026
        ("fournitures", "3000000", ["100000", "118000"], date(2025, 12, 31), False, False),
        ("fournitures", "3000000", ["100000", "118000"], date(2026, 1, 1), True, False),
    ],
)
def test_w1_w2(category, initial, amounts, on, w1, w2):
    figures = [am(i, "R2194-8", a, on=on) for i, a in enumerate(amounts, 1)]
    result = assess(terms(category=category, initial_ht=D(initial)), figures, len(figures))
    assert ("W1" in codes(result, "alerte")) is w1
    assert ("W2" in codes(result, "alerte")) is w2


def test_w1_two_amendments_separately_under_10_pct():
    figures = [am(1, "R2194-8", "25000"), am(2, "R2194-8", "25000")]
    assert "W1" not in codes(assess(terms(), figures, 1))
    second = assess(terms(), figures, 2)
    assert "W1" in codes(second)
    assert "= 50 000,00 € HT soit 12,50 % du montant initial ;" in text_of(second, "W1")


def test_w1_only_cumulates_r2194_8_amendments():
    figures = [am(1, "R2194-2", "100000"), am(2, "R2194-7", "30000"), am(3, "R2194-8", "30000")]
    result = assess(terms(), figures, 3)
    assert result.current.c8 == D("30000")
    assert "W1" not in codes(result)


def test_w1_decrease_uses_the_gross_cumulation():
    figures = [am(1, "R2194-8", "30000"), am(2, "R2194-8", "-15000")]
    result = assess(terms(), figures, 2)
    # net 15 000 € = 3,75 % would pass; gross 45 000 € = 11,25 % does not
    assert result.current.c8 == D("15000")
    assert result.current.g8 == D("45000")
    text = text_of(result, "W1", "alerte")
    assert "cumul des modifications de faible montant = 45 000,00 € HT soit 11,25 %" in text
    assert "cumul net des diminutions serait de 15 000,00 € HT" in text


def test_w1_names_the_threshold_of_the_modification_date():
    figures = [
        am(1, "R2194-8", "100000", on=date(2025, 6, 1)),
        am(2, "R2194-8", "118000", on=date(2026, 1, 1)),
    ]
    result = assess(terms(initial_ht=D("3000000")), figures, 2)
    assert "ET < seuil européen 216 000,00 € HT." in text_of(result, "W1")
    assert [r.threshold.amount for r in result.history] == [D("221000"), D("216000")]


# --- W3, W4: R2194-2 / R2194-5 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("basis", "buyer_type", "amounts", "revised", "alerte", "info"),
    [
        ("R2194-5", "autre_pa", ["200000"], None, False, False),  # exactly 50 %
        ("R2194-5", "autre_pa", ["200040"], None, True, True),  # 50,01 %
        ("R2194-2", "etat", ["200040"], None, True, True),
        ("R2194-2", "entite_adjudicatrice", ["300000"], None, False, False),  # no R2194-3 cap
        ("R2194-8", "autre_pa", ["300000"], None, False, False),  # not the basis
        # 50 % of B exactly, but 51,50 % of I cumulated: only the al. 3 reminder
        ("R2194-5", "autre_pa", ["206000"], "412000", False, True),
        # each under 50 %, together 52,50 %: only the reminder
        ("R2194-2", "autre_pa", ["150000", "60000"], None, False, True),
        ("R2194-2", "autre_pa", ["150000", "40000"], None, False, False),
    ],
)
def test_w3(basis, buyer_type, amounts, revised, alerte, info):
    figures = [am(i, basis, a, revised=revised) for i, a in enumerate(amounts, 1)]
    result = assess(terms(buyer_type=buyer_type), figures, len(figures))
    assert ("W3" in codes(result, "alerte")) is alerte
    assert ("W3" in codes(result, "info")) is info


def test_w3_texts():
    result = assess(terms(), [am(1, "R2194-5", "200040")], 1)
    assert "Dépassement de la limite de 50 % (art. R2194-3 CCP)" in text_of(result, "W3", "alerte")
    assert "200 040,00 € HT soit 50,01 % du montant initial ;" in text_of(result, "W3", "alerte")
    assert text_of(result, "W3", "info").startswith(
        "Modifications successives : elles ne doivent pas avoir pour objet de contourner les "
        "obligations de publicité et de mise en concurrence (R2194-3 al. 3)."
    )


@pytest.mark.parametrize(
    ("basis", "procedure", "present"),
    [
        ("R2194-2", "formalisee", True),
        ("R2194-5", "formalisee", True),
        ("R2194-2", "adaptee", False),
        ("R2194-5", "autre", False),
        ("R2194-8", "formalisee", False),
    ],
)
def test_w4(basis, procedure, present):
    result = assess(terms(procedure=procedure), [am(1, basis, "1000")], 1)
    assert ("W4" in codes(result, "info")) is present
    if present:
        assert text_of(result, "W4").startswith("Avis de modification à publier au JOUE")


# --- W5-W8, W11 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "alerte"),
    [
        (None, False),
        ({"concurrence": False, "equilibre": False, "objet": False, "titulaire": False}, False),
        ({"equilibre": True}, True),
        ({"titulaire": True, "objet": True}, True),
    ],
)
def test_w5(answers, alerte):
    result = assess(terms(), [am(1, "R2194-7", "1000")], 1, r2194_7_answers=answers)
    info = text_of(result, "W5", "info")
    for _, question in R2194_7_QUESTIONS:
        assert norm(question) in info
    assert ("W5" in codes(result, "alerte")) is alerte
    if alerte:
        assert text_of(result, "W5", "alerte").startswith(
            "Modification substantielle : nouvelle procédure de mise en concurrence requise, "
            "sauf autre fondement."
        )


def test_r2194_7_questions():
    assert [key for key, _ in R2194_7_QUESTIONS] == [
        "concurrence",
        "equilibre",
        "objet",
        "titulaire",
    ]
    texts = " ".join(text for _, text in R2194_7_QUESTIONS)
    for words in ("davantage d'opérateurs", "équilibre économique", "considérablement", "R2194-6"):
        assert words in texts


@pytest.mark.parametrize("basis", BASES)
def test_w6_always(basis):
    result = assess(terms(), [am(1, basis, "0" if basis == "sans_incidence" else "1000")], 1)
    assert text_of(result, "W6", "info") == (
        "Une modification ne peut changer la nature globale du marché (L2194-1)."
    )


@pytest.mark.parametrize(("review_clause", "level"), [(True, "info"), (False, "alerte")])
def test_w7(review_clause, level):
    result = assess(terms(review_clause=review_clause), [am(1, "R2194-1", "1000")], 1)
    text = text_of(result, "W7", level)
    assert text.startswith("Vérifier que la clause du marché indique le champ d'application")
    assert ("ne peut pas servir de fondement" in text) is (not review_clause)


@pytest.mark.parametrize("touches", [True, False])
def test_w8(touches):
    result = assess(terms(), [am(1, "R2194-8", "1000")], 1, touches_price_formula=touches)
    assert ("W8" in codes(result, "alerte")) is touches


@pytest.mark.parametrize(("basis", "present"), [("R2194-6", True), ("R2194-7", False)])
def test_w11(basis, present):
    result = assess(terms(), [am(1, basis, "0")], 1)
    assert ("W11" in codes(result, "info")) is present


# --- §D.8 / W9: CAO ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "amounts", "present"),
    [
        ({}, ["20000.01"], True),  # 5,000 0025 % > 5 %
        ({}, ["20000"], False),  # exactly 5 %
        ({}, ["15000", "10000"], True),  # 2,50 % alone, 6,25 % cumulated
        ({}, ["25000", "-10000"], False),  # a decrease never needs the CAO
        ({"collectivite": False}, ["48000"], False),
        ({"awarded_by_cao": False}, ["48000"], False),
    ],
)
def test_w9(changes, amounts, present):
    figures = [am(i, "R2194-2", a) for i, a in enumerate(amounts, 1)]
    result = assess(terms(**changes), figures, len(figures))
    assert ("W9" in codes(result, "info")) is present


def test_w9_shows_both_readings():
    figures = [am(1, "R2194-2", "15000"), am(2, "R2194-2", "10000")]
    text = text_of(assess(terms(), figures, 2), "W9")
    assert text.startswith(
        "Projet d'avenant > 5 % : avis préalable de la commission d'appel d'offres (CGCT L1414-4)."
    )
    assert "Avenant : 2,50 % du montant initial HT" in text
    assert "cumul des modifications : 6,25 % du montant initial HT" in text


# --- W10: essential data -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("initial", "notified", "notified_on", "present", "reminder"),
    [
        ("40000", False, None, True, True),
        ("39999.99", False, None, False, False),
        ("400000", True, None, True, False),
        ("400000", False, date(2026, 12, 1), True, False),
    ],
)
def test_w10(initial, notified, notified_on, present, reminder):
    figures = [am(1, "R2194-8", "100", notified_on=notified_on)]
    result = assess(terms(initial_ht=D(initial)), figures, 1, notified=notified)
    assert ("W10" in codes(result, "info")) is present
    if present:
        text = text_of(result, "W10")
        assert text.startswith(
            "Publier les données essentielles de la modification sur data.gouv.fr dans les "
            "deux mois (R2196-1 ; arrêté du 22 décembre 2022)."
        )
        assert ("à faire après la notification" in text) is reminder


# --- other threshold (§D.6) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("consultation", "expected"),
    [(date(2024, 10, 7), "221000"), (date(2026, 2, 1), None), (None, None)],
)
def test_other_threshold(consultation, expected):
    result = assess(terms(consultation_date=consultation), [am(1, "R2194-8", "1000")], 1)
    other = result.other_threshold
    assert (other and other.amount) == (expected and D(expected))


def test_assessment_history_stops_at_the_current_amendment():
    figures = [am(1, "R2194-8", "1000"), am(2, "R2194-8", "2000"), am(3, "R2194-8", "3000")]
    result = assess(terms(), figures, 2)
    assert [r.number for r in result.history] == [1, 2]
    assert result.current is result.history[-1]


# --- the docs-sample demo ----------------------------------------------------------------


def test_docs_sample_demo():
    result = assess(terms(), [am(1, "R2194-8", "48000", revised="412000")], 1)
    row = result.current
    assert norm(pct(row.pct_initial)) == "12,00 %"
    assert norm(pct(row.pct_revised)) == "11,65 %"
    assert norm(pct(row.c8_pct)) == "11,65 %"
    assert norm(eur(row.amount_ht, signed=True)) == "+ 48 000,00 €"
    assert norm(eur(row.amount_ttc, signed=True)) == "+ 57 600,00 €"
    assert (row.amount_ttc, row.new_ht, row.new_ttc) == (
        D("57600.00"),
        D("448000.00"),
        D("537600.00"),
    )
    assert (norm(eur(row.new_ht)), norm(eur(row.new_ttc))) == ("448 000,00 €", "537 600,00 €")
    assert norm(threshold_label(row.threshold)) == "216 000,00 € (2026-2027)"
    assert result.other_threshold.amount == D("221000")
    assert norm(threshold_label(result.other_threshold)) == "221 000,00 € (2024-2025)"
    assert codes(result) == ["W1", "W6", "W9", "W10"]
    assert codes(result, "alerte") == ["W1"]
    w1 = text_of(result, "W1")
    assert w1.startswith(
        "Dépassement du régime des modifications de faible montant (art. R2194-8 et R2194-9 "
        "CCP) : cumul des modifications de faible montant = 48 000,00 € HT soit 11,65 % du "
        "montant initial après variation des prix ; limites : < 10 % (fournitures/services) "
        "ou < 15 % (travaux) ET < seuil européen 216 000,00 € HT."
    )
    assert "R2194-7" in w1
    assert "nouvelle procédure" in w1
    assert "TA Bastia, 9 mars 2023, n° 2100488" in w1
    assert "12,00 %" in text_of(result, "W9")
    assert "à faire après la notification" in text_of(result, "W10")


# --- letter or avenant (§B), labels ------------------------------------------------------

NO = dict.fromkeys(("prix", "obligations", "paiement", "perimetre"), False)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (NO, "lettre"),
        ({**NO, "prix": True}, "avenant"),
        ({**NO, "perimetre": True}, "avenant"),
        ({**NO, "paiement": None}, "avenant"),
        ({k: v for k, v in NO.items() if k != "obligations"}, "avenant"),
        ({}, "avenant"),
    ],
)
def test_proposed_formalisation(answers, expected):
    assert proposed_formalisation(answers) == expected


def test_questions_and_letter_notice():
    assert [key for key, _ in QUESTIONS] == ["prix", "obligations", "paiement", "perimetre"]
    assert all(text.endswith("?") for _, text in QUESTIONS)
    assert LETTER_NOTICE == (
        "Un échange écrit qui modifierait une stipulation vaudrait modification du marché "
        "(CE, 17 mars 2010, n° 308676)."
    )


@pytest.mark.parametrize(
    ("basis", "label"),
    [
        (
            "R2194-8",
            "article R2194-8 du code de la commande publique (modification de faible montant)",
        ),
        (
            "R2194-7",
            "article R2194-7 du code de la commande publique (modification non substantielle)",
        ),
        ("sans_incidence", "sans incidence financière"),
    ],
)
def test_basis_labels(basis, label):
    assert set(BASIS_LABELS) == set(BASES)
    assert BASIS_LABELS[basis] == label
