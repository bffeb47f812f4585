"""The amendment draft as an editable DOCX (python-docx), for the buyer's legal service.

Same content as the PDF (`render.amendment_pdf`), same wording and typography pass, laid out
for Word and LibreOffice alike with the pieces of `wordml`: sections A–G are "Heading 1"
paragraphs, the boxes of F and G and the warnings are one-cell tables, and there are three
sections: portrait (EXE10), landscape (Annexe 1), portrait (Annexe 2).
There are no visa stamps: a note says that the visas cover the PDF (its SHA-256 is given) and
that editing this DOCX makes a separate document without any visa."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from flask_babel import force_locale

from app.changes.documents import view, wordml
from app.changes.documents.context import AmendmentDocument
from app.changes.documents.typography import day, eur, pct
from app.changes.documents.wordml import (
    GREY,
    LANDSCAPE_WIDTH,
    PORTRAIT_WIDTH,
    RED,
    Writer,
    add_text,
)


def amendment_docx(doc: AmendmentDocument) -> bytes:
    """The amendment draft as DOCX bytes (not byte-stable: the zip entries carry the time)."""
    with force_locale("fr"):
        document = _build(doc)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _build(doc: AmendmentDocument):
    document = Document()
    wordml.styles(document)
    core = document.core_properties
    core.title = f"Projet d'avenant n° {doc.number} au marché n° {doc.contract.reference} — EXE10"
    core.author = "Progrès"
    core.language = "fr-FR"
    header_right = f"Marché n° {doc.contract.reference} — Projet d'avenant n° {doc.number} — EXE10"
    fig = view.amendment_figures(doc)
    w = Writer(document)

    first = document.sections[0]
    wordml.page_setup(first, landscape=False)
    wordml.header_footer(first, PORTRAIT_WIDTH, header_right)
    # python-docx's template starts with no paragraph; the title block is a borderless table.
    _title_block(w, doc)
    _section_a(w, doc)
    _section_b(w, doc)
    _section_c(w, doc, fig)
    _section_d(w, doc, fig)
    _section_e(w, doc)
    _section_f(w, doc)
    _section_g(w, doc)

    wide = document.add_section(WD_SECTION.NEW_PAGE)
    wordml.page_setup(wide, landscape=True)
    wordml.header_footer(wide, LANDSCAPE_WIDTH, header_right)
    _annex_history(w, doc, fig)

    last = document.add_section(WD_SECTION.NEW_PAGE)
    wordml.page_setup(last, landscape=False)
    wordml.header_footer(last, PORTRAIT_WIDTH, header_right)
    _annex_diff(w, doc)
    return document


def _title_block(w: Writer, doc: AmendmentDocument) -> None:
    c = doc.contract

    def left(w, cell):
        w.para(cell, "PROJET — NON SIGNÉ", bold=True, size=9, color=RED, after=4)
        w.para(cell, f"PROJET D'AVENANT N° {doc.number}", bold=True, size=15, after=1)
        w.para(cell, f"au marché n° {c.reference} — EXE10", bold=True, size=11, after=4)
        w.para(cell, doc.buyer.designation, after=1)
        w.para(cell, f"Projet du {day(doc.draft_date)}", size=8, color=GREY, after=0)

    def right(w, cell):
        lines = [("MINISTÈRE DE L'ÉCONOMIE ET DES FINANCES", False),
                 ("Direction des Affaires Juridiques", False), ("MARCHÉS PUBLICS", True),
                 (f"AVENANT N° {doc.number}", True), ("EXE10", True)]  # fmt: skip
        for text, bold in lines:
            w.para(cell, text, bold=bold, size=8, align=WD_ALIGN_PARAGRAPH.RIGHT, after=0)
        w.para(cell, "Modèle DAJ — Date de mise à jour : 01/04/2019", size=8, color=GREY,
               align=WD_ALIGN_PARAGRAPH.RIGHT, after=0)  # fmt: skip

    w.table(w.document, None, [[left, right]], [104, 74], grid=False)
    w.gap(points=6)


def _section_a(w: Writer, doc: AmendmentDocument) -> None:
    w.heading(view.SECTIONS["A"])
    w.instruction(w.document, "(Reprendre le contenu de la mention figurant dans les documents "
                              "constitutifs du marché public.)")  # fmt: skip
    w.para(w.document, doc.buyer.designation, bold=True, indent=4, after=0)
    for line in view.lines(doc.buyer.address):
        w.para(w.document, line, indent=4, after=0)


def _section_b(w: Writer, doc: AmendmentDocument) -> None:
    h = doc.holder
    w.heading(view.SECTIONS["B"])
    w.instruction(w.document, "(Indiquer le nom commercial et la dénomination sociale du titulaire "
                  "individuel ou de chaque membre du groupement titulaire, les adresses de son "
                  "établissement et de son siège social, son adresse électronique, ses numéros "
                  "de téléphone et son numéro SIRET.)")  # fmt: skip
    siret = h.siret + " (établissement)" if h.siret else "—"
    if h.head_office_siret and h.head_office_siret != h.siret:
        siret += f" — siège : {h.head_office_siret}"
    rows = [
        ["Nom commercial", h.trade_name or "—"],
        ["Dénomination sociale", h.designation],
        ["Adresse de l'établissement", view.one_line(h.address) or "—"],
        ["Adresse du siège social",
         view.one_line(h.head_office_address) or view.one_line(h.address) or "—"],
        ["Adresse électronique", h.email or "—"],
        ["Téléphone", h.phone or "—"],
        ["SIRET", siret],
    ]  # fmt: skip
    w.table(w.document, None, rows, [55, 123], size=9)


def _section_c(w: Writer, doc: AmendmentDocument, fig) -> None:
    c = doc.contract
    w.heading(view.SECTIONS["C"])
    w.label(w.document, "Objet du marché public :", after=0, keep_next=True)
    w.instruction(w.document, "(Reprendre le contenu de la mention figurant dans les documents "
                  "constitutifs du marché public. En cas d'allotissement, préciser également "
                  "l'objet et la dénomination du lot concerné.)")  # fmt: skip
    w.para(w.document, c.object, indent=4, after=1)
    w.para(w.document, f"Lot : {c.lot or 'sans objet'}", indent=4, after=1)
    p = w.para(w.document, f"Référence du marché : n° {c.reference}", indent=4, after=4)
    add_text(p, " (mention ajoutée par Progrès)", italic=True, size=7.5, color=GREY)
    w.label(w.document, "Date de la notification du marché public :", day(c.notification_date),
            after=4)  # fmt: skip
    w.label(w.document, "Durée d'exécution du marché public :",
            f"{c.duration_months} mois à compter de la notification, soit jusqu'au "
            f"{day(fig.end_date)}", after=4)  # fmt: skip
    w.label(w.document, "Montant initial du marché public :", keep_next=True)
    w.table(w.document, ["Taux de la TVA", "Montant HT", "Montant TTC"],
            [[pct(fig.vat_pct), eur(fig.initial_ht), eur(fig.initial_ttc)]],
            [50, 64, 64], num_cols=(1, 2))  # fmt: skip


def _section_d(w: Writer, doc: AmendmentDocument, fig) -> None:
    w.heading(view.SECTIONS["D"])
    w.label(w.document, "Modifications introduites par le présent avenant :", after=0,
            keep_next=True)  # fmt: skip
    w.instruction(w.document, "(Détailler toutes les modifications, avec ou sans incidence "
                  "financière, introduites dans le marché public par le présent avenant. Préciser "
                  "les articles du CCAP ou du CCTP modifiés ou complétés ainsi que l'incidence "
                  "financière de chacune des modifications apportées.)")  # fmt: skip

    def text_of(m):
        def write(w, cell):
            for para in view.paragraphs(m.text):
                w.para(cell, para, size=8.5, after=2, indent=3 if view.quoted(para) else 0)

        return write

    def impact_of(m):
        def write(w, cell):
            if m.impact_ht:
                w.para(cell, eur(m.impact_ht, signed=True), size=8.5, after=0,
                       align=WD_ALIGN_PARAGRAPH.RIGHT)  # fmt: skip
            else:
                w.para(cell, "Sans incidence propre", size=8.5, after=0,
                       align=WD_ALIGN_PARAGRAPH.RIGHT)  # fmt: skip

        return write

    rows = [[str(i), m.article, text_of(m), impact_of(m)]
            for i, m in enumerate(doc.modifications, start=1)]  # fmt: skip
    rows.append(["", "", "", eur(doc.amount_ht, signed=True)])
    t = w.table(w.document, ["N°", "Pièce et article modifiés ou complétés",
                             "Modification introduite", "Incidence financière HT"],
                rows, [8, 38, 103, 29], num_cols=(3,))  # fmt: skip
    total = t.rows[-1]
    merged = total.cells[0].merge(total.cells[2])
    add_text(
        merged.paragraphs[0],
        "Total de l'incidence financière du présent avenant",
        bold=True,
        size=8.5,
    )
    for run in total.cells[-1].paragraphs[0].runs:
        run.bold = True
    w.para(w.document, "Toutes les clauses du marché public non modifiées par le présent avenant "
           "demeurent applicables. Le présent avenant prend effet à la date de sa notification "
           "au titulaire.", indent=4, before=3, after=4)  # fmt: skip

    w.label(w.document, "Fondement juridique de la modification :", doc.basis_label, after=0,
            keep_next=True)  # fmt: skip
    w.instruction(w.document, "(Mention ajoutée par Progrès, absente du formulaire EXE10 : "
                  "fondement choisi par l'acheteur ; Progrès ne le détermine pas.)", after=1)  # fmt: skip
    if doc.justification:
        w.para(w.document, f"Justification saisie par l'acheteur : « {doc.justification} »",
               indent=4, after=1)  # fmt: skip
    w.para(w.document, "Contrôles de Progrès : voir l'annexe 1 (historique financier"
           + (" et points de vigilance" if doc.warnings and doc.print_warnings else "") + ").",
           indent=4, size=8, after=4)  # fmt: skip
    if doc.cao_opinion:
        w.label(w.document, "Avis préalable de la commission d'appel d'offres (art. L1414-4 du "
                "CGCT) :", f"séance du {view.DOTS}", after=0, keep_next=True)  # fmt: skip
        w.instruction(w.document, "(Mention ajoutée par Progrès : avenant entraînant une "
                      "augmentation du montant du marché supérieure à 5 %. À compléter par "
                      "l'acheteur.)", after=4)  # fmt: skip

    w.label(w.document, "Incidence financière de l'avenant :", after=1, keep_next=True)
    p = w.para(w.document, "L'avenant a une incidence financière sur le montant du marché "
               "public : ", indent=4, after=1, keep_next=True)  # fmt: skip
    add_text(p, "(Cocher la case correspondante.)", italic=True, size=7.5, color=GREY)
    no, yes = ("☐", "☒") if fig.has_impact else ("☒", "☐")
    w.para(w.document, f"{no} Non      {yes} Oui", indent=4, size=10, after=3, keep_next=True)
    if fig.has_impact:
        w.para(w.document, "Montant de l'avenant :", bold=True, indent=4, after=1, keep_next=True)
        w.table(w.document, ["Taux de la TVA", "Montant HT", "Montant TTC",
                             "% d'écart introduit par l'avenant"],
                [[pct(fig.vat_pct), eur(fig.amount_ht, signed=True),
                  eur(fig.amount_ttc, signed=True),
                  f"{pct(fig.pct_initial)}\n\ndu montant initial HT"]],
                [34, 44, 44, 56], num_cols=(1, 2, 3))  # fmt: skip
        w.para(w.document, "Nouveau montant du marché public :", bold=True, indent=4, before=4,
               after=1, keep_next=True)  # fmt: skip
        w.table(w.document, ["Taux de la TVA", "Montant HT", "Montant TTC"],
                [[pct(fig.vat_pct), eur(fig.new_ht), eur(fig.new_ttc)]],
                [50, 64, 64], num_cols=(1, 2))  # fmt: skip
    else:
        w.para(w.document, "Montant de l'avenant et nouveau montant du marché public : sans "
               "objet.", indent=4, color=GREY)  # fmt: skip


def _section_e(w: Writer, doc: AmendmentDocument) -> None:
    w.heading(view.SECTIONS["E"], page_break=True)  # E, F and G together on one page

    def signer(w, cell):
        s = doc.holder_signatory
        if s:
            w.para(cell, s.full_name, bold=True, size=9, after=1)
            w.para(cell, view.qualite_of(s.qualite, doc.holder.designation), size=9, after=0)

    w.table(w.document, ["Nom, prénom et qualité du signataire (*)", "Lieu et date de signature",
                         "Signature"], [[signer, "", ""]], [72, 53, 53],
            row_height_mm=20)  # fmt: skip
    w.para(w.document, "(*) Le signataire doit avoir le pouvoir d'engager la personne qu'il "
           "représente.", size=8, before=2)  # fmt: skip


def _section_f(w: Writer, doc: AmendmentDocument) -> None:
    c = doc.contract
    w.heading(view.SECTIONS["F"])
    cell = w.box(w.document, PORTRAIT_WIDTH)
    p = w.para(cell, "Pour l'État et ses établissements : ", bold=True, after=1)
    add_text(p, "(Visa ou avis de l'autorité chargée du contrôle financier.)", italic=True,
             size=7.5, color=GREY)  # fmt: skip
    if c.buyer_is_state:
        for _i in range(3):
            w.para(cell, "", after=0)
    else:
        w.para(cell, "Sans objet : l'acheteur n'est ni l'État ni l'un de ses établissements.",
               after=0)  # fmt: skip
    w.para(w.document, f"A : {c.place}, le {view.DOTS}", before=5, after=2)
    p = w.para(w.document, "Signature ", bold=True, after=1)
    add_text(p, "(représentant du pouvoir adjudicateur ou de l'entité adjudicatrice)",
             italic=True, size=7.5, color=GREY)  # fmt: skip
    w.para(w.document, f"Nom, prénom et qualité du signataire habilité : {view.DOTS}", size=8,
           color=GREY, after=0)  # fmt: skip
    for _i in range(4):
        w.para(w.document, "", after=0)


def _section_g(w: Writer, doc: AmendmentDocument) -> None:
    w.heading(view.SECTIONS["G"])
    cell = w.box(w.document, PORTRAIT_WIDTH)
    w.para(cell, "En cas de remise contre récépissé :", bold=True, after=1)
    w.para(cell, "Reçue à titre de notification, la présente copie de l'avenant.", after=1)
    w.para(cell, f"A {view.DOTS}, le {view.DOTS}", after=1)
    w.para(cell, "Signature du titulaire :", after=0)
    for _i in range(3):
        w.para(cell, "", after=0)
    w.gap()
    cell = w.box(w.document, PORTRAIT_WIDTH)
    p = w.para(cell, "En cas d'envoi en lettre recommandée avec accusé de réception : ",
               bold=True, after=0)  # fmt: skip
    add_text(p, "(Coller ici l'avis de réception postal.)", italic=True, size=7.5, color=GREY)
    for _i in range(4):
        w.para(cell, "", after=0)
    w.gap()
    cell = w.box(w.document, PORTRAIT_WIDTH)
    p = w.para(cell, "En cas de notification par voie électronique : ", bold=True, after=1)
    add_text(p, "(Indiquer la date et l'heure de la première consultation de la notification "
             "par le titulaire.)", italic=True, size=7.5, color=GREY)  # fmt: skip
    w.para(cell, f"Date : {view.DOTS}      Heure : {view.DOTS}", after=0)

    # No visa stamp in the DOCX: the visas cover the PDF.
    w.gap(points=8)
    cell = w.box(w.document, PORTRAIT_WIDTH, fill="F3F7FC", border="1D4F91")
    w.para(cell, "Visas Progrès", bold=True, size=8.5, after=1)
    digest = f" (empreinte SHA-256 : {doc.pdf_sha256})" if doc.pdf_sha256 else ""
    w.para(cell, f"Les visas Progrès des référents portent sur le PDF de ce projet{digest}, "
           "non sur ce fichier DOCX. Toute modification de ce fichier DOCX produit un document "
           "distinct, sans aucun visa. Un visa Progrès ne vaut pas signature.", size=8,
           after=0)  # fmt: skip


def _annex_history(w: Writer, doc: AmendmentDocument, fig) -> None:
    c = doc.contract
    w.heading("Annexe 1 — Historique financier des modifications", level=2)
    w.para(w.document, "Annexe établie par Progrès (hors formulaire EXE10), à titre d'information "
           "de l'acheteur et de son service juridique. Montants en euros ; I = montant initial "
           "HT ; B = montant initial HT après application de la clause de variation des prix "
           "(art. R2194-4) ; C8 = cumul des seules modifications fondées sur l'article R2194-8 "
           "(art. R2194-9) ; Call = cumul de toutes les modifications.", size=8, color=GREY,
           after=4)  # fmt: skip
    b_text = f"{eur(fig.revised_initial_ht)} HT"
    if fig.revised_initial_ht == fig.initial_ht:
        b_text += " (égal au montant initial)"
    summary = [
        ["Montant initial HT (I) ; taux de TVA",
         f"{eur(fig.initial_ht)} ; {pct(fig.vat_pct)} — montant initial TTC "
         f"{eur(fig.initial_ttc)}"],
        ["Montant initial après variation des prix (B)", b_text],
        ["Seuil européen (HT) utilisé",
         f"{view.threshold_label(doc.threshold)} — période en vigueur à la date de la "
         f"modification ({day(doc.draft_date)})"],
    ]  # fmt: skip
    if doc.other_threshold:
        summary.append(["Seuil européen de la période de la consultation",
                        f"{view.threshold_label(doc.other_threshold)} — pour information (règle "
                        "de période non confirmée)"])  # fmt: skip
    w.table(w.document, None, summary, [75, 190], size=8)
    w.gap()

    header = ["N°", "Date de notification", "Fondement", "Montant HT (Ai)", "Ai / I", "Ai / B",
              "Cumul R2194-8 (C8)", "C8 / B", "Call / I", "Nouveau montant HT",
              "Nouveau montant TTC", "Seuil européen utilisé"]  # fmt: skip
    rows = [["—", day(c.notification_date), "Marché initial", "—", "—", "—", "—", "—", "—",
             eur(fig.initial_ht), eur(fig.initial_ttc), "—"]]  # fmt: skip
    for r in doc.history:
        c8 = eur(r.c8) if r.g8 == r.c8 else f"{eur(r.c8)} (brut : {eur(r.g8)})"
        rows.append([str(r.number), day(r.notified_on) if r.notified_on else "projet (non notifié)",
                     view.basis_short(r.basis), eur(r.amount_ht, signed=True),
                     pct(r.pct_initial), pct(r.pct_revised), c8, pct(r.c8_pct),
                     pct(r.c_all_pct), eur(r.new_ht), eur(r.new_ttc),
                     view.threshold_label(r.threshold)])  # fmt: skip
    w.table(w.document, header, rows, [8, 24, 20, 25, 15, 15, 25, 15, 15, 25, 25, 53],
            num_cols=(3, 4, 5, 6, 7, 8, 9, 10), size=7.5)  # fmt: skip
    bases = list(dict.fromkeys(r.basis for r in doc.history))
    if bases:
        legend = " ; ".join(f"{view.basis_short(b)} = {view.basis_label(b)}" for b in bases)
        w.para(w.document, f"Fondements : {legend}. Le fondement est choisi par l'acheteur ; "
               "Progrès ne le détermine pas.", size=7.5, color=GREY, before=2, after=6)  # fmt: skip

    w.para(w.document, "Points de vigilance signalés par Progrès", bold=True, size=10, after=3,
           keep_next=True)  # fmt: skip
    if doc.print_warnings:
        for warning in doc.warnings:
            fill = "FFF8E1" if warning.level == "alerte" else "F4F5F7"
            cell = w.box(w.document, LANDSCAPE_WIDTH, fill=fill)
            p = w.para(cell, warning.code + "  ", bold=True, size=8, after=0)
            add_text(p, warning.text, size=8)
            w.gap(points=3)
        if not doc.warnings:
            w.para(w.document, "Aucun point de vigilance n'est signalé pour cet avenant.")
    else:
        w.para(w.document, "Les points de vigilance ne sont pas imprimés sur ce document ; ils "
               "sont consultables dans Progrès.")  # fmt: skip
    w.para(w.document, view.DECIDES, bold=True, before=3)


def _annex_diff(w: Writer, doc: AmendmentDocument) -> None:
    w.heading(f"Annexe 2 — {doc.diff_title}", level=2)
    if not doc.diff:
        w.para(w.document, "Aucune modification du plan de progrès.")
        return
    rows, spans = [], []
    for group in view.diff_groups(doc.diff):
        first = len(rows) + 1  # row 0 is the header
        for i, line in enumerate(group.lines):
            rows.append([group.item if i == 0 else "", group.change.upper() if i == 0 else "",
                         line.field or "—", line.before or "—", line.after or "—"])  # fmt: skip
        spans.append((first, len(rows)))
    t = w.table(w.document, ["Élément du plan", "Changement", "Champ", "Avant", "Après"], rows,
                [44, 23, 31, 38, 42], size=8)  # fmt: skip
    for top, bottom in spans:  # the item and its change, merged down the group's rows
        if bottom > top:
            for col in (0, 1):
                t.cell(top, col).merge(t.cell(bottom, col))

    w.para(w.document, "Les éléments du plan non mentionnés ci-dessus sont inchangés.", size=8,
           color=GREY, before=3)  # fmt: skip
