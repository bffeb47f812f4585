"""The demo documents of shared/docs-sample/README.md, built by hand: contract 2025-0142 of the
Métropole de Lyon's centrale d'achat with Textiles Rhône SAS, change n° 1 by letter (20/10/2026,
accepted 27/10/2026) and change n° 2 as avenant n° 1 (draft of 25/11/2026, R2194-8).

Used by the tests and by the app's demo. The documents come back as originals (dashed pending
visa boxes); `render.stamped(doc, demo_*_visas(sha256))` gives the stamped copies. All names and
numbers are fictional except the Métropole de Lyon's public address; telephone numbers are in
Arcep's fiction block (04 65 71 xx xx) and e-mail domains are `.example` (RFC 2606)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from app.changes.documents.context import (
    AcceptanceDocument,
    AmendmentDocument,
    ContractInfo,
    DiffLine,
    LetterDocument,
    Modification,
    Party,
    Signatory,
    VisaStamp,
)
from app.changes.documents.typography import eur, pct
from app.changes.legal import HistoryRow, Threshold
from app.changes.legal_warnings import Warning

BUYER_ORGANISATION = "Métropole de Lyon — Centrale d'achat"
HOLDER_NAME = "Textiles Rhône SAS"

# Amounts of the demo (Decimals from strings, never floats).
I = Decimal("400000")  # noqa: E741 — the montant initial HT, named as in LEGAL.md §D
B = Decimal("412000")  # after the 15/03/2026 price revision, coefficient 1,0300
A = Decimal("48000")
VAT = Decimal("0.20")

THRESHOLD_2026 = Threshold(Decimal("216000"), "2026-2027", date(2026, 1, 1), date(2027, 12, 31))
THRESHOLD_2024 = Threshold(Decimal("221000"), "2024-2025", date(2024, 1, 1), date(2025, 12, 31))


def demo_contract() -> ContractInfo:
    return ContractInfo(
        reference="2025-0142",
        object="Fourniture de vêtements professionnels écoresponsables et prestations associées",
        lot="",
        notification_date=date(2025, 3, 15),
        duration_months=48,
        vat_rate=VAT,
        initial_ht=I,
        ccap_article="9.2",
        buyer_is_state=False,
        place="Lyon",
    )


def demo_buyer() -> Party:
    return Party(
        designation=BUYER_ORGANISATION,
        address="Direction de la commande publique\n20 rue du Lac — CS 33569\n69505 Lyon Cedex 03",
        email="commande-publique@centrale-achat.example",
        phone="04 65 71 20 14",
    )


def demo_holder() -> Party:
    return Party(
        designation=HOLDER_NAME,
        address="41 avenue de la Filature\n69100 Villeurbanne",
        trade_name="Textiles Rhône",
        head_office_address="8 allée des Soieries\n69190 Saint-Fons",
        email="marches-publics@textiles-rhone.example",
        phone="04 65 71 38 02",
        siret="934 817 263 00023",
        head_office_siret="934 817 263 00015",
    )


# --- Change n° 1: the exchange of letters ---------------------------------------------------------

INDICATOR_I21 = (
    "Objectif O2 « Développer la part de matière recyclée dans les achats des bénéficiaires » "
    "(obligation de moyens) — indicateur I2.1 « Part de matière recyclée dans les articles "
    "livrés, en % du poids total de fibres »"
)


def demo_letter_diff() -> list[DiffLine]:
    return [
        DiffLine(INDICATOR_I21, "modifié", "Valeur cible au 14/03/2029", "20,00 %", "35,00 %"),
        DiffLine(INDICATOR_I21, "modifié", "Jalon intermédiaire au 15/03/2027", "20,00 %",
                 "25,00 %"),
        DiffLine(INDICATOR_I21, "modifié", "Jalon intermédiaire au 15/03/2028", "20,00 %",
                 "30,00 %"),
    ]  # fmt: skip


def demo_letter() -> LetterDocument:
    """The buyer's letter of 20/10/2026 (change n° 1, version 1 → 2), before its visa."""
    return LetterDocument(
        change_number=1,
        from_label="version 1",
        to_label="version 2",
        contract=demo_contract(),
        buyer=demo_buyer(),
        holder=demo_holder(),
        letter_date=date(2026, 10, 20),
        occasion="la revue du 13/10/2026",
        diff=demo_letter_diff(),
        effective="",
        buyer_signatory=Signatory(
            "Camille Bernard",
            "Responsable de la Centrale d'achat, acheteuse référente du marché",
        ),
        pending_sides=["acheteur"],
    )


def demo_letter_visas(sha256: str) -> list[VisaStamp]:
    """The buyer lead's visa, 08:42 UTC = 10:42 in Paris (summer time)."""
    return [
        VisaStamp("Camille Bernard", "acheteuse référente", BUYER_ORGANISATION,
                  datetime(2026, 10, 20, 8, 42, tzinfo=UTC), sha256, "acheteur"),
    ]  # fmt: skip


def demo_acceptance(letter_sha256: str | None = None) -> AcceptanceDocument:
    """The holder's acceptance of 27/10/2026, before its visa. Without `letter_sha256`, the
    demo letter is rendered (app context needed) and its original's hash is cited."""
    if letter_sha256 is None:
        from app.changes.documents.render import letter_pdf, sha256_hex

        letter_sha256 = sha256_hex(letter_pdf(demo_letter()))
    return AcceptanceDocument(
        change_number=1,
        contract=demo_contract(),
        buyer=demo_buyer(),
        holder=demo_holder(),
        letter_date=date(2026, 10, 20),
        letter_sha256=letter_sha256,
        acceptance_date=date(2026, 10, 27),
        diff=demo_letter_diff(),
        holder_signatory=Signatory("Claire Dumont", "Présidente"),
        pending_sides=["titulaire"],
    )


def demo_acceptance_visas(sha256: str) -> list[VisaStamp]:
    """The holder's visa, 15:05 UTC = 16:05 in Paris (winter time, after 25/10/2026)."""
    return [
        VisaStamp("Claire Dumont", "Présidente", HOLDER_NAME,
                  datetime(2026, 10, 27, 15, 5, tzinfo=UTC), sha256, "titulaire"),
    ]  # fmt: skip


# --- Change n° 2: avenant n° 1 --------------------------------------------------------------------


def demo_modifications() -> list[Modification]:
    return [
        Modification(
            "CCTP, article 4.2 « Composition des articles » (complété)",
            "L'article 4.2 du CCTP est complété par un alinéa 4.2.3 ainsi rédigé :\n\n"
            "« 4.2.3 — À compter de la notification de l'avenant n° 1, les articles des familles "
            "1 (pantalons et vestes de travail) et 3 (polos et tee-shirts) sont fabriqués en fil "
            "polyester recyclé certifié Global Recycled Standard (GRS) ou titulaire d'un label "
            "équivalent. Le titulaire transmet à l'acheteur, chaque semestre, les certificats de "
            "transaction correspondant aux articles livrés. »",
            Decimal("0"),
        ),
        Modification(
            "Bordereau des prix unitaires (BPU), prix nouveau PN1 (complété)",
            "Le bordereau des prix unitaires est complété par le prix nouveau suivant :\n\n"
            "« PN1 — Plus-value pour fabrication en fil polyester recyclé certifié (articles des "
            "familles 1 et 3) : 3,00 € HT par article livré. Ce prix est établi aux conditions "
            "économiques de novembre 2026 et varie selon les modalités de l'article 5.3 du CCAP, "
            "qui demeurent inchangées. »\n\n"
            "Incidence estimée : 16 000 articles × 3,00 € HT = 48 000,00 € HT.",
            A,
        ),
        Modification(
            "CCAP, article 4.1 « Montant du marché » (modifié)",
            "L'article 4.1 du CCAP est remplacé par les stipulations suivantes :\n\n"
            "« Le montant du marché est porté de 400 000,00 € HT (480 000,00 € TTC) à "
            "448 000,00 € HT (537 600,00 € TTC). »",
            Decimal("0"),
        ),
    ]


def demo_history() -> list[HistoryRow]:
    """Avenant n° 1's row, by hand (LEGAL.md §D): A/I = 12 %, A/B = 11,65… %."""
    pct_revised = A / B * 100
    return [
        HistoryRow(
            number=1,
            notified_on=None,
            basis="R2194-8",
            amount_ht=A,
            amount_ttc=Decimal("57600.00"),
            pct_initial=A / I * 100,
            pct_revised=pct_revised,
            c8=A,
            g8=A,
            c8_pct=pct_revised,
            c_all=A,
            c_all_pct=A / I * 100,
            new_ht=Decimal("448000.00"),
            new_ttc=Decimal("537600.00"),
            threshold=THRESHOLD_2026,
            revised_initial_ht=B,
        )
    ]


def demo_warnings() -> list[Warning]:
    """W1, W6, W9 and W10 of LEGAL.md §E with the demo's values (docs-sample/README.md)."""
    legal_pct, exe10_pct = pct(A / B * 100), pct(A / I * 100)
    return [
        Warning(
            "W1",
            "alerte",
            "Dépassement du régime des modifications de faible montant (art. R2194-8 et "
            f"R2194-9 CCP) : cumul des modifications de faible montant = {eur(A)} HT soit "
            f"{legal_pct} du montant initial après variation des prix ({exe10_pct} du montant "
            "initial HT) ; limites : < 10 % (fournitures/services) ou < 15 % (travaux) ET < "
            f"seuil européen {eur(THRESHOLD_2026.amount)} HT. Un autre fondement est nécessaire "
            "(examen au regard de l'article R2194-7 ou nouvelle procédure) ; le dépassement ne "
            "rend pas à lui seul l'avenant illégal (TA Bastia, 9 mars 2023, n° 2100488).",
        ),
        Warning("W6", "info", "Une modification ne peut changer la nature globale du marché "
                "(L2194-1)."),
        Warning(
            "W9",
            "alerte",
            "Projet d'avenant > 5 % : avis préalable de la commission d'appel d'offres (CGCT "
            f"L1414-4). Avenant : {exe10_pct} du montant initial HT ; cumul de tous les "
            f"avenants : {exe10_pct} (lecture par avenant ou cumulée non confirmée : les deux "
            "valeurs sont affichées).",
        ),
        Warning(
            "W10",
            "info",
            "Après notification : publier les données essentielles de la modification sur "
            "data.gouv.fr dans les deux mois (R2196-1 ; arrêté du 22 décembre 2022).",
        ),
    ]  # fmt: skip


ACTION_A23 = (
    "Action A2.3 « Approvisionnement en fil polyester recyclé certifié GRS ou équivalent "
    "(familles 1 et 3) »"
)
ACTION_A24 = (
    "Action A2.4 « Signalement des articles en fil recyclé dans le catalogue de la Centrale "
    "d'achat »"
)
INDICATOR_I22 = (
    "Indicateur I2.2 « Part des articles des familles 1 et 3 livrés avec certificat de "
    "transaction GRS ou équivalent »"
)
OBJECTIVE_O2 = (
    "Objectif O2 « Développer la part de matière recyclée dans les achats des bénéficiaires »"
)
COMMITTEE = "Validée (comité de pilotage du 10/11/2026)"


def demo_amendment_diff() -> list[DiffLine]:
    return [
        DiffLine(ACTION_A23, "ajoutée", "Objectif rattaché", "",
                 "O2 — Développer la part de matière recyclée"),
        DiffLine(ACTION_A23, "ajoutée", "Porteur", "", "Titulaire"),
        DiffLine(ACTION_A23, "ajoutée", "Moyens et ressources", "",
                 "Contrat d'approvisionnement avec une filature certifiée ; surcoût matière "
                 "couvert par le prix nouveau PN1 (avenant n° 1)"),
        DiffLine(ACTION_A23, "ajoutée", "Coût estimé", "", f"{eur(A)} HT"),
        DiffLine(ACTION_A23, "ajoutée", "Calendrier", "",
                 "De la notification de l'avenant n° 1 au 14/03/2029"),
        DiffLine(ACTION_A23, "ajoutée", "Statut", "", COMMITTEE),
        DiffLine(ACTION_A24, "ajoutée", "Porteur", "", "Acheteur (Centrale d'achat)"),
        DiffLine(ACTION_A24, "ajoutée", "Calendrier", "", "1er trimestre 2027"),
        DiffLine(ACTION_A24, "ajoutée", "Statut", "", COMMITTEE),
        DiffLine(INDICATOR_I22, "ajouté", "Unité ; valeur de référence", "", "% ; 0,00 %"),
        DiffLine(INDICATOR_I22, "ajouté", "Valeur cible", "", "100,00 % au 31/12/2027"),
        DiffLine(INDICATOR_I22, "ajouté", "Périodicité ; renseigné par", "",
                 "Semestrielle ; titulaire"),
        DiffLine(OBJECTIVE_O2, "modifié", "Moyens et ressources du titulaire",
                 "Équipe achats (0,2 ETP) ; suivi trimestriel des fournisseurs de fibres",
                 "Équipe achats (0,2 ETP) ; suivi trimestriel des fournisseurs de fibres ; "
                 "approvisionnement en fil recyclé certifié (action A2.3)"),
    ]  # fmt: skip


def demo_amendment() -> AmendmentDocument:
    """The draft of avenant n° 1 (25/11/2026), before the visas of the two leads."""
    return AmendmentDocument(
        number=1,
        contract=demo_contract(),
        buyer=demo_buyer(),
        holder=demo_holder(),
        draft_date=date(2026, 11, 25),
        modifications=demo_modifications(),
        basis="R2194-8",
        basis_label=(
            "article R2194-8 du code de la commande publique (modification de faible montant)"
        ),
        justification=(
            "Modification de faible montant finançant l'approvisionnement en fil recyclé "
            "certifié nécessaire à l'objectif de matière recyclée du plan de progrès, dont la "
            "cible a été portée de 20,00 % à 35,00 % par l'évolution n° 1."
        ),
        amount_ht=A,
        history=demo_history(),
        threshold=THRESHOLD_2026,
        other_threshold=THRESHOLD_2024,
        warnings=demo_warnings(),
        cao_opinion=True,
        diff_title="Évolution du plan de progrès : version 2 → version 3",
        diff=demo_amendment_diff(),
        holder_signatory=Signatory("Claire Dumont", "Présidente"),
        pending_sides=["acheteur", "titulaire"],
    )


def demo_amendment_visas(sha256: str) -> list[VisaStamp]:
    """The two leads' visas on the draft, in Paris 10:15 and 14:40 (winter time)."""
    return [
        VisaStamp("Camille Bernard", "acheteuse référente", BUYER_ORGANISATION,
                  datetime(2026, 11, 25, 9, 15, tzinfo=UTC), sha256, "acheteur"),
        VisaStamp("Nicolas Faure", "responsable RSE, titulaire référent", HOLDER_NAME,
                  datetime(2026, 11, 25, 13, 40, tzinfo=UTC), sha256, "titulaire"),
    ]  # fmt: skip
