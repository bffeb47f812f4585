"""The change documents against shared/docs-sample/README.md's checklist: the amendment draft
(EXE10) as PDF and DOCX, the buyer's letter and the holder's acceptance, with the visa flow
(original with pending boxes → SHA-256 → stamped copy, same pages).

Each sample is rendered once per module (WeasyPrint ≈ 0.1–0.5 s a document), in an app of its
own: rendering needs an app context (static folder, Jinja environment), not a database."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from flask_babel import force_locale
from lxml import etree
from pypdf import PdfReader

from app import create_app
from app.changes.documents import render, samples, typography, view
from app.changes.documents.docx import amendment_docx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
VISA_SENTENCE = (
    "Ce visa atteste l'accord de son auteur sur le contenu de ce document dans Progrès. Il ne "
    "constitue pas une signature électronique avancée reposant sur un certificat qualifié au "
    "sens de l'arrêté du 22 mars 2019."
)
FOOTER = (
    "Projet généré par Progrès — document de travail à valider par le service juridique de "
    "l'acheteur ; il ne vaut avenant qu'une fois signé par les représentants habilités des "
    "parties et notifié au titulaire."
)
SECTIONS = [
    "A – Identification du pouvoir adjudicateur ou de l'entité adjudicatrice",
    "B – Identification du titulaire du marché public",
    "C – Objet du marché public",
    "D – Objet de l'avenant",
    "E – Signature du titulaire du marché public",
    "F – Signature du pouvoir adjudicateur ou de l'entité adjudicatrice",
    "G – Notification de l'avenant au titulaire du marché public",
]


def norm(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def html_text(html: str) -> str:
    """The text of rendered HTML, <style> left out, references decoded."""
    import html as html_module

    html = re.sub(r"<style\b.*?</style>", " ", html, flags=re.S)
    return norm(html_module.unescape(re.sub(r"<[^>]+>", " ", html)))


def missing(strings, text) -> list[str]:
    return [s for s in strings if norm(s) not in text]


@dataclass
class Rendered:
    """An original (pending boxes), its SHA-256 and the stamped copy, with the stamped copy's
    normalised text, whole and per page."""

    original: bytes
    sha256: str
    stamped: bytes
    pages: list[str]
    original_pages: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.pages)


def pages_of(pdf: bytes) -> list[str]:
    return [norm(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def visa_flow(original_doc, to_pdf, visas_for) -> Rendered:
    original = to_pdf(original_doc)
    digest = render.sha256_hex(original)
    stamped = to_pdf(render.stamped(original_doc, visas_for(digest)))
    return Rendered(original, digest, stamped, pages_of(stamped), pages_of(original))


@pytest.fixture(scope="module")
def doc_app():
    app = create_app("test", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        yield app


@pytest.fixture(scope="module")
def amendment(doc_app) -> Rendered:
    return visa_flow(samples.demo_amendment(), render.amendment_pdf, samples.demo_amendment_visas)


@pytest.fixture(scope="module")
def letter(doc_app) -> Rendered:
    return visa_flow(samples.demo_letter(), render.letter_pdf, samples.demo_letter_visas)


@pytest.fixture(scope="module")
def acceptance(doc_app, letter) -> Rendered:
    return visa_flow(
        samples.demo_acceptance(letter.sha256), render.acceptance_pdf, samples.demo_acceptance_visas
    )


@pytest.fixture(scope="module")
def docx_bytes(doc_app, amendment) -> bytes:
    return amendment_docx(replace(samples.demo_amendment(), pdf_sha256=amendment.sha256))


# --- Typography ------------------------------------------------------------------------------------


def test_french_amounts_and_percentages():
    assert typography.eur(Decimal("48000")) == "48\u202f000,00\u00a0€"
    assert typography.eur(Decimal("48000"), signed=True) == "+\u00a048\u202f000,00\u00a0€"
    assert typography.eur(Decimal("-1250.5")) == "\u2212\u00a01\u202f250,50\u00a0€"
    assert typography.eur(Decimal("0"), signed=True) == "0,00\u00a0€"
    assert typography.eur(Decimal("0.005")) == "0,01\u00a0€"  # ROUND_HALF_UP, never banker's
    assert typography.pct(Decimal(48000) / Decimal(412000) * 100) == "11,65\u00a0%"
    assert typography.pct(Decimal("12")) == "12,00\u00a0%"
    with pytest.raises(TypeError):
        typography.eur(0.1)


def test_a_signatory_qualite_names_the_organisation_once():
    assert view.qualite_of("Présidente", "Textiles Rhône SAS") == "Présidente de Textiles Rhône SAS"
    assert view.qualite_of("Président", "Alpha Services") == "Président d'Alpha Services"
    assert view.qualite_of("Présidente de Textiles Rhône SAS", "Textiles Rhône SAS") == (
        "Présidente de Textiles Rhône SAS"
    )
    assert view.qualite_of("", "Textiles Rhône SAS") == ""


def test_dates_in_paris_time():
    assert typography.day(date(2025, 3, 15)) == "15/03/2025"
    assert typography.long_day(date(2026, 10, 20)) == "20 octobre 2026"
    assert typography.long_day(date(2027, 3, 1)) == "1er mars 2027"
    summer = datetime(2026, 10, 20, 8, 42, tzinfo=UTC)
    winter = datetime(2026, 10, 27, 15, 5, tzinfo=UTC)  # after the change of 25/10/2026
    assert typography.moment_paris(summer) == "20/10/2026 à 10:42 (heure de Paris)"
    assert typography.moment_paris(winter) == "27/10/2026 à 16:05 (heure de Paris)"
    assert typography.moment_paris(datetime(2026, 10, 27, 15, 5)) == typography.moment_paris(winter)
    assert typography.add_months(date(2025, 3, 15), 48) == date(2029, 3, 15)
    assert typography.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)


def test_no_break_spaces_on_text_only():
    nb = "\u00a0"
    assert typography.fr("Objet : « oui » ; n° 12 — fin ! 20 %") == (
        f"Objet{nb}: «{nb}oui{nb}»{nb}; n°{nb}12{nb}— fin{nb}! 20{nb}%"
    )
    assert typography.fr("à 10:42 https://x.example/a?b") == "à 10:42 https://x.example/a?b"
    assert typography.fr("16 000 articles") == "16\u202f000 articles"
    html = '<style>a::before { content: "x : y" }</style><p title="a : b">c : d &#34;e&#34; ;</p>'
    out = typography.fr_html(html)
    assert '<style>a::before { content: "x : y" }</style>' in out
    assert 'title="a : b"' in out
    assert f"c{nb}: d &#34;e&#34;{nb};" in out


def test_css_strings_are_escaped():
    value = typography.css_str('Marché "A" \\ </style><b>\nfin')
    assert str(value) == '"Marché \\"A\\" \\\\ \\3c /style>\\3c b>\\a fin"'
    assert hasattr(value, "__html__")  # Markup: autoescape leaves it alone


def test_a_hostile_reference_stays_inside_its_strings(doc_app):
    letter = samples.demo_letter()
    contract = replace(letter.contract, reference='9"}</style><script>x</script>')
    hostile = replace(letter, contract=contract, occasion="<b>la revue</b>")
    html = render.letter_html(hostile)
    assert "<script>" not in html and "<b>la revue</b>" not in html
    assert "&lt;b&gt;la revue&lt;/b&gt;" in html
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert '9\\"}\\3c /style>\\3c script>x\\3c /script>' in style


def test_siret_luhn():
    def luhn(number: str) -> bool:
        digits = [int(d) for d in number.replace(" ", "")][::-1]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
                    for i, d in enumerate(digits))  # fmt: skip
        return total % 10 == 0

    holder = samples.demo_holder()
    assert luhn(holder.siret) and luhn(holder.head_office_siret)
    assert luhn(holder.siret.replace(" ", "")[:9])  # the SIREN
    assert not luhn("934 817 263 00024")


# --- The amendment draft (PDF) ---------------------------------------------------------------------


def test_amendment_pages_and_running_texts(amendment):
    reader = PdfReader(io.BytesIO(amendment.stamped))
    n = len(reader.pages)
    assert n == len(PdfReader(io.BytesIO(amendment.original)).pages)  # stamping never reflows
    assert 4 <= n <= 8
    footer = norm(FOOTER)
    for i, page in enumerate(amendment.pages, start=1):
        assert page.count(footer) == 1, i
        assert f"Page {i} sur {n}" in page
        assert "Marché n° 2025-0142 — Projet d'avenant n° 1 — EXE10" in page
    assert amendment.text.count("PROJET") >= n
    shapes = [p.mediabox.width > p.mediabox.height for p in reader.pages]
    assert shapes.count(True) == 1  # Annexe 1 alone in landscape
    wide = shapes.index(True)
    assert "Annexe 1 — Historique financier des modifications" in amendment.pages[wide]
    assert "Annexe 2 — " in amendment.pages[wide + 1]


def test_amendment_sections_in_order(amendment):
    text = amendment.text
    positions = [text.find(norm(s)) for s in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    annexes = [text.find("Annexe 1 — Historique"), text.find("Annexe 2 — Évolution")]
    assert positions[-1] < annexes[0] < annexes[1]
    assert missing([
        "PROJET D'AVENANT N° 1 au marché n° 2025-0142 — EXE10",
        "MINISTÈRE DE L'ÉCONOMIE ET DES FINANCES", "Direction des Affaires Juridiques",
        "MARCHÉS PUBLICS", "AVENANT N° 1", "Date de mise à jour : 01/04/2019",
    ], text) == []  # fmt: skip


def test_amendment_field_labels(amendment):
    assert missing([
        # A
        "(Reprendre le contenu de la mention figurant dans les documents constitutifs du marché public.)",
        "Métropole de Lyon — Centrale d'achat", "20 rue du Lac — CS 33569",
        # B
        "Nom commercial", "Dénomination sociale", "Adresse de l'établissement",
        "Adresse du siège social", "Adresse électronique", "Téléphone", "SIRET",
        "934 817 263 00023", "934 817 263 00015",
        # C
        "Objet du marché public :",
        "En cas d'allotissement, préciser également l'objet et la dénomination du lot concerné.",
        "Lot : sans objet", "Référence du marché : n° 2025-0142",
        "Date de la notification du marché public : 15/03/2025",
        "Durée d'exécution du marché public : 48 mois", "jusqu'au 14/03/2029",
        "Montant initial du marché public :", "Taux de la TVA", "Montant HT", "Montant TTC",
        # D
        "Modifications introduites par le présent avenant :",
        "Préciser les articles du CCAP ou du CCTP modifiés ou complétés ainsi que l'incidence "
        "financière de chacune des modifications apportées.",
        "Incidence financière HT", "CCTP, article 4.2", "Bordereau des prix unitaires (BPU)",
        "CCAP, article 4.1", "Global Recycled Standard (GRS)",
        "Fondement juridique de la modification : article R2194-8 du code de la commande publique",
        "Justification saisie par l'acheteur",
        "Avis préalable de la commission d'appel d'offres (art. L1414-4 du CGCT) : séance du",
        "Incidence financière de l'avenant :",
        "L'avenant a une incidence financière sur le montant du marché public :",
        "(Cocher la case correspondante.)", "☐ Non", "☒ Oui",
        "Montant de l'avenant :", "% d'écart introduit par l'avenant", "du montant initial HT",
        "Nouveau montant du marché public :",
        # E
        "Nom, prénom et qualité du signataire (*)", "Lieu et date de signature", "Signature",
        "(*) Le signataire doit avoir le pouvoir d'engager la personne qu'il représente.",
        "Claire Dumont", "Présidente de Textiles Rhône SAS",
        # F
        "Pour l'État et ses établissements :",
        "(Visa ou avis de l'autorité chargée du contrôle financier.)", "Sans objet",
        "A : Lyon, le", "(représentant du pouvoir adjudicateur ou de l'entité adjudicatrice)",
        # G
        "En cas de remise contre récépissé :",
        "Reçue à titre de notification, la présente copie de l'avenant.",
        "Signature du titulaire",
        "En cas d'envoi en lettre recommandée avec accusé de réception :",
        "(Coller ici l'avis de réception postal.)",
        "En cas de notification par voie électronique :",
        "(Indiquer la date et l'heure de la première consultation de la notification par le "
        "titulaire.)",
    ], amendment.text) == []  # fmt: skip


def test_amendment_amounts(amendment):
    text = amendment.text
    assert missing(["20,00 %", "400 000,00 €", "480 000,00 €", "+ 48 000,00 €", "+ 57 600,00 €",
                    "12,00 %", "448 000,00 €", "537 600,00 €", "11,65 %",
                    "216 000,00 € (2026-2027)", "221 000,00 €"], text) == []  # fmt: skip
    # The same figures, recomputed from Decimals.
    cent = Decimal("0.01")
    i, b, a = samples.I, samples.B, samples.A
    assert (i * Decimal("1.2")).quantize(cent, ROUND_HALF_UP) == Decimal("480000.00")
    assert (i + a) == Decimal("448000")
    assert (a / i * 100).quantize(cent, ROUND_HALF_UP) == Decimal("12.00")
    assert (a / b * 100).quantize(cent, ROUND_HALF_UP) == Decimal("11.65")
    assert norm(typography.eur((i + a) * Decimal("1.2"))) in text


def test_amendment_annexes_and_warnings(amendment):
    assert missing([
        "Annexe 1 — Historique financier des modifications",
        "Dépassement du régime des modifications de faible montant (art. R2194-8 et R2194-9 CCP) "
        ": cumul des modifications de faible montant = 48 000,00 € HT soit 11,65 % du montant "
        "initial après variation des prix",
        "limites : < 10 % (fournitures/services) ou < 15 % (travaux) ET < seuil européen "
        "216 000,00 € HT",
        "TA Bastia, 9 mars 2023, n° 2100488",
        "Une modification ne peut changer la nature globale du marché (L2194-1).",
        "avis préalable de la commission d'appel d'offres (CGCT L1414-4)",
        "R2196-1 ; arrêté du 22 décembre 2022",
        "pour information (règle de période non confirmée)",
        "projet (non notifié)",
        "Progrès signale ; le service juridique de l'acheteur décide.",
        "Annexe 2 — Évolution du plan de progrès : version 2 → version 3",
        "20,00 % à 35,00 %",
        "Action A2.3", "Indicateur I2.2", "Les éléments du plan non mentionnés ci-dessus sont inchangés.",
    ], amendment.text) == []  # fmt: skip
    for code in ("W1", "W6", "W9", "W10"):
        assert re.search(rf"\b{code}\b", amendment.text)
    assert not re.search(r"\bW(2|3|4|5|7|8|11)\b", amendment.text)


def test_no_template_leftovers(amendment, letter, acceptance):
    for rendered in (amendment, letter, acceptance):
        for text in (rendered.text, " ".join(rendered.original_pages)):
            assert not re.search(r"\b(None|nan|undefined)\b|\{\{|\}\}|\{%|%\}", text)


def test_amendment_visas(amendment):
    assert HEX64.fullmatch(amendment.sha256)
    text = amendment.text
    assert missing([
        "Visa Progrès — Camille Bernard, acheteuse référente, Métropole de Lyon — Centrale "
        "d'achat, le 25/11/2026 à 10:15 (heure de Paris) — empreinte SHA-256 : "
        f"{amendment.sha256}. {VISA_SENTENCE}",
        "Visa Progrès — Nicolas Faure, responsable RSE, titulaire référent, Textiles Rhône SAS, "
        f"le 25/11/2026 à 14:40 (heure de Paris) — empreinte SHA-256 : {amendment.sha256}.",
    ], text) == []  # fmt: skip
    assert text.count(VISA_SENTENCE) == 2
    assert "en attente" not in text
    original = " ".join(amendment.original_pages)
    assert "Visa Progrès —" not in original and HEX64.search(original) is None
    assert "Emplacement du visa Progrès de l'acheteur — en attente." in original
    assert "Emplacement du visa Progrès du titulaire — en attente." in original
    # Each box sits on the same page before and after stamping.
    stamped_at = [i for i, p in enumerate(amendment.pages) if "Visa Progrès —" in p]
    pending_at = [i for i, p in enumerate(amendment.original_pages) if "en attente" in p]
    assert stamped_at == pending_at


def test_amendment_variants_in_html(doc_app):
    """Other branches of the template, on the HTML (no PDF needed)."""
    demo = samples.demo_amendment()
    state = replace(demo.contract, buyer_is_state=True)
    quiet = replace(demo, contract=state, print_warnings=False, cao_opinion=False,
                    holder_signatory=None, other_threshold=None)  # fmt: skip
    text = html_text(render.amendment_html(quiet))
    assert "Sans objet" not in text and "Pour l'État et ses établissements :" in text
    assert "Dépassement du régime" not in text
    assert "Les points de vigilance ne sont pas imprimés" in text
    assert "Progrès signale ; le service juridique de l'acheteur décide." in text
    assert "commission d'appel d'offres" not in text
    assert "pour information (règle de période non confirmée)" not in text
    assert "Présidente de Textiles Rhône SAS" not in text

    none = replace(demo, amount_ht=Decimal("0"), history=[], warnings=[],
                   modifications=[replace(m, impact_ht=Decimal("0"))
                                  for m in demo.modifications])  # fmt: skip
    text = html_text(render.amendment_html(none))
    assert "☒ Non" in text and "☐ Oui" in text
    assert "% d'écart introduit par l'avenant" not in text
    assert "Aucun point de vigilance n'est signalé pour cet avenant." in text


def test_always_in_french(doc_app):
    with doc_app.test_request_context(), force_locale("en"):
        text = html_text(render.letter_html(samples.demo_letter()))
    assert "Madame, Monsieur," in text and "Lyon, le 20 octobre 2026" in text


# --- The exchange of letters -----------------------------------------------------------------------


def test_letter(letter):
    assert len(PdfReader(io.BytesIO(letter.original)).pages) == 1
    assert len(letter.pages) == 1
    assert missing([
        "Objet : Marché n° 2025-0142 — Fourniture de vêtements professionnels écoresponsables et "
        "prestations associées — Plan de progrès : évolution n° 1 (version 1 → 2)",
        "Madame, Monsieur,",
        "En application de l'article 9.2 du cahier des clauses administratives particulières "
        "relatif au plan de progrès, et à la suite de la revue du 13/10/2026, nous vous "
        "confirmons les évolutions suivantes du plan de progrès :",
        "Valeur cible au 14/03/2029", "20,00 %", "35,00 %",
        "Jalon intermédiaire au 15/03/2027", "25,00 %", "30,00 %",
        "Ces évolutions n'emportent aucune modification des stipulations du marché : prix, "
        "montant, quantités, délais et autres clauses du marché demeurent inchangés. "
        "Conformément à l'article précité, elles sont formalisées par le présent échange de "
        "courriers.",
        "Nous vous remercions de nous retourner votre accord écrit sur ces évolutions. Elles "
        "prendront effet à la date de réception de votre accord.",
        "Camille Bernard", "Textiles Rhône SAS", "Lyon, le 20 octobre 2026",
        "Visa Progrès — Camille Bernard, acheteuse référente, Métropole de Lyon — Centrale "
        "d'achat, le 20/10/2026 à 10:42 (heure de Paris) — empreinte SHA-256 : "
        f"{letter.sha256}. {VISA_SENTENCE}",
        "Page 1 sur 1",
    ], letter.text) == []  # fmt: skip
    assert "Emplacement du visa Progrès de l'acheteur — en attente." in letter.original_pages[0]
    assert "Page 1 sur 1" in letter.original_pages[0]


def test_letter_with_a_date_of_effect(doc_app):
    dated = replace(samples.demo_letter(), effective="01/12/2026")
    text = html_text(render.letter_html(dated))
    assert "Elles prendront effet le 01/12/2026." in text


def test_letter_renders_byte_identical(doc_app, letter):
    assert render.letter_pdf(samples.demo_letter()) == letter.original


def test_acceptance(letter, acceptance):
    assert len(PdfReader(io.BytesIO(acceptance.original)).pages) == 1
    assert len(acceptance.pages) == 1
    assert missing([
        "Objet : Marché n° 2025-0142 — Plan de progrès : évolution n° 1 — Accord du titulaire",
        "Textiles Rhône SAS, titulaire du marché n° 2025-0142, déclare accepter les évolutions "
        "du plan de progrès décrites dans le courrier de la Métropole de Lyon du 20/10/2026 "
        f"(réf. 1, empreinte SHA-256 {letter.sha256}), qui ne modifient pas les stipulations du "
        "marché.",
        "Valeur cible au 14/03/2029", "35,00 %",
        "Claire Dumont", "Présidente de Textiles Rhône SAS", "Saint-Fons, le 27/10/2026",
        "Signature :",
        "Visa Progrès — Claire Dumont, Présidente, Textiles Rhône SAS, le 27/10/2026 à 16:05 "
        f"(heure de Paris) — empreinte SHA-256 : {acceptance.sha256}. {VISA_SENTENCE}",
        "Page 1 sur 1",
    ], acceptance.text) == []  # fmt: skip
    # The hash it cites is the one printed in the letter's stamp.
    stamp = re.search(r"empreinte SHA-256 : ([0-9a-f]{64})", letter.text).group(1)
    assert stamp == letter.sha256 == samples.demo_acceptance().letter_sha256
    assert acceptance.sha256 != letter.sha256


# --- The amendment draft (DOCX) --------------------------------------------------------------------

SEQUENCES = {  # ECMA-376 Part 1 (transitional), the children our builder writes or touches
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr "
           "suppressLineNumbers pBdr shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct "
           "topLinePunct autoSpaceDE autoSpaceDN bidi adjustRightInd snapToGrid spacing ind "
           "contextualSpacing mirrorIndents suppressOverlap jc textDirection textAlignment "
           "textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "ins del moveFrom moveTo rStyle rFonts b bCs i iCs caps smallCaps strike dstrike "
           "outline shadow emboss imprint noProof snapToGrid vanish webHidden color spacing w "
           "kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs em lang "
           "eastAsianLayout specVanish oMath rPrChange",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW "
             "jc tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption "
             "tblDescription tblPrChange",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection "
            "tcFitText vAlign hideMark headers cellIns cellDel cellMerge tcPrChange",
}  # fmt: skip


def order_violations(xml: bytes) -> list[str]:
    found = []
    root = etree.fromstring(xml)
    for name, sequence in SEQUENCES.items():
        order = sequence.split()
        for parent in root.iter(f"{{{W}}}{name}"):
            last = -1
            for child in parent:
                local = etree.QName(child).localname
                if local not in order:
                    found.append(f"{name}/{local}: unknown")
                    continue
                if order.index(local) < last:
                    found.append(f"{name}/{local} after {order[last]}")
                last = max(last, order.index(local))
    return found


def test_docx_schema_order(docx_bytes):
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        parts = [n for n in z.namelist() if n.startswith("word/") and n.endswith(".xml")]
        violations = {n: order_violations(z.read(n)) for n in parts}
    assert {"word/document.xml", "word/styles.xml"} <= set(parts)
    assert {n: v for n, v in violations.items() if v} == {}
    # The checker does catch a misplaced child.
    bad = (
        f'<w:p xmlns:w="{W}"><w:pPr><w:outlineLvl w:val="0"/><w:shd w:fill="D9D9D9"/></w:pPr></w:p>'
    )
    assert order_violations(bad.encode()) == ["pPr/shd after outlineLvl"]


def test_docx_structure(docx_bytes, amendment):
    document = Document(io.BytesIO(docx_bytes))
    headings = [norm(p.text) for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [norm(s) for s in SECTIONS]
    shapes = [(s.orientation, s.page_width > s.page_height) for s in document.sections]
    assert shapes == [(WD_ORIENT.PORTRAIT, False), (WD_ORIENT.LANDSCAPE, True),
                      (WD_ORIENT.PORTRAIT, False)]  # fmt: skip
    cells = {norm(cell.text) for table in document.tables for row in table.rows
             for cell in row.cells}  # fmt: skip
    assert any("48 000,00 €" in c for c in cells)
    assert any("934 817 263 00023" in c for c in cells)
    assert any("216 000,00 € (2026-2027)" in c for c in cells)
    body = norm(" ".join(p.text for p in document.paragraphs) + " " + " ".join(cells))
    assert missing([
        "PROJET D'AVENANT N° 1", "au marché n° 2025-0142 — EXE10",
        "Date de mise à jour : 01/04/2019", "☐ Non", "☒ Oui", "A : Lyon, le",
        "Annexe 1 — Historique financier des modifications",
        "Annexe 2 — Évolution du plan de progrès : version 2 → version 3",
        "Progrès signale ; le service juridique de l'acheteur décide.",
        f"empreinte SHA-256 : {amendment.sha256}",
        "Toute modification de ce fichier DOCX produit un document distinct, sans aucun visa.",
    ], body) == []  # fmt: skip
    assert "Visa Progrès —" not in body  # no stamps in the DOCX


def test_docx_header_footer_and_language(docx_bytes):
    document = Document(io.BytesIO(docx_bytes))
    for section in document.sections:
        assert "PROJET" in section.header.paragraphs[0].text
        footer = section.footer._element
        assert norm(FOOTER) in norm("".join(footer.itertext()))
        fields = [f.get(f"{{{W}}}instr").strip() for f in footer.iter(f"{{{W}}}fldSimple")]
        assert fields == ["PAGE", "NUMPAGES"]
        for field in footer.iter(f"{{{W}}}fldSimple"):
            assert field.find(f".//{{{W}}}sz") is not None
    normal = document.styles["Normal"].element
    assert normal.find(f".//{{{W}}}lang").get(f"{{{W}}}val") == "fr-FR"
    h1 = document.styles["Heading 1"].element.find(f".//{{{W}}}rFonts")
    assert not [a for a in h1.attrib if "Theme" in a or "theme" in a]
    symbols = [r for p in document.paragraphs for r in p.runs if r.text.strip() in ("☐", "☒")]
    assert symbols and all(r.font.name == "Segoe UI Symbol" for r in symbols)


def test_docx_without_pdf_hash_still_warns(doc_app):
    document = Document(io.BytesIO(amendment_docx(samples.demo_amendment())))
    text = norm(" ".join(c.text for t in document.tables for r in t.rows for c in r.cells))
    assert "portent sur le PDF de ce projet, non sur ce fichier DOCX" in text


def test_visa_slots_keep_their_order():
    visas = samples.demo_amendment_visas("0" * 64)
    slots = view.visa_slots([visas[1]], ["acheteur"])
    assert [(s.side, s.stamp is None) for s in slots] == [("acheteur", True), ("titulaire", False)]
    doc = render.stamped(samples.demo_amendment(), [visas[0]])
    assert doc.pending_sides == ["titulaire"] and [v.side for v in doc.visas] == ["acheteur"]
