"""Reading an import file, every row's verdict, and the all-or-nothing write."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import DomainError
from app.exports import imports
from app.extensions import db
from app.indicators import services as values
from app.indicators.models import Measurement
from tests.exports.conftest import TODAY, csv_bytes, xlsx_bytes

HEADER = "indicateur;periode;valeur;commentaire"


def verdicts(world, member, data, extension="csv", user=None):
    rows = imports.read_rows(data, extension)
    return imports.check(world.contract, member(user or world.supplier_lead), rows, TODAY)


def stored():
    return db.session.scalar(select(func.count(Measurement.id)))


# --- reading --------------------------------------------------------------------------------


def test_semicolon_csv_with_bom_french_decimals_and_dates(world, member, indicator):
    data = csv_bytes(HEADER, f"{indicator.uid};01/01/2027;12,5;Relevé de janvier",
                     f"{indicator.uid};2027-04-01;1 250,75;")  # fmt: skip
    preview = verdicts(world, member, data)
    assert [r.status for r in preview.rows] == ["ok", "ok"]
    assert [r.value for r in preview.rows] == [Decimal("12.5"), Decimal("1250.75")]
    assert [r.period.start for r in preview.rows] == [date(2027, 1, 1), date(2027, 4, 1)]
    assert preview.rows[0].comment == "Relevé de janvier"


def test_comma_csv_without_bom_names_and_labels(world, member, indicator):
    """The indicator by its exact name (case and spaces aside), the period by its label."""
    data = csv_bytes('Indicateur,Période,Valeur', 'part  recyclée,T1 2027,"13,5"',
                     "Part recyclée,t2 2027,14.5", bom=False)  # fmt: skip
    preview = verdicts(world, member, data)
    assert [r.status for r in preview.rows] == ["ok", "ok"]
    assert [r.period_text for r in preview.rows] == ["T1 2027", "T2 2027"]
    assert [r.value for r in preview.rows] == [Decimal("13.5"), Decimal("14.5")]


def test_xlsx_numbers_dates_and_text(world, member, indicator):
    data = xlsx_bytes(["indicateur", "periode", "valeur", "commentaire"],
                      [indicator.uid, datetime(2027, 1, 1), 12.5, "ok"],
                      [indicator.uid, "01/04/2027", "13,25", None],
                      ["Part recyclée", "T3 2027", 15, 42])  # fmt: skip
    preview = verdicts(world, member, data, "xlsx")
    assert [r.status for r in preview.rows] == ["ok", "ok", "ok"]
    assert [r.value for r in preview.rows] == [Decimal("12.5"), Decimal("13.25"), Decimal("15")]
    assert preview.rows[2].comment == "42"


def test_missing_columns_bad_encoding_and_empty_file_are_refused(world, member, indicator):
    with pytest.raises(imports.ImportFileError, match="Colonnes manquantes : valeur"):
        imports.read_rows(csv_bytes("indicateur;periode", "x;y"), "csv")
    with pytest.raises(imports.ImportFileError, match="UTF-8"):
        imports.read_rows("indicateur;periode;valeur\nPart recyclée;T1 2027;é".encode("latin-1"), "csv")  # fmt: skip
    with pytest.raises(imports.ImportFileError, match="aucune ligne"):
        imports.read_rows(csv_bytes(HEADER, ";;;"), "csv")
    with pytest.raises(imports.ImportFileError, match="XLSX n'a pas pu être lu"):
        imports.read_rows(b"PK\x03\x04 pas un classeur", "xlsx")


def test_row_and_column_limits(world, member, indicator):
    rows = [HEADER] + [f"{indicator.uid};01/01/2027;1;"] * (imports.MAX_ROWS + 1)
    with pytest.raises(imports.ImportFileError, match="plus de 5\u202f000 lignes"):
        imports.read_rows(csv_bytes(*rows), "csv")
    assert len(imports.read_rows(csv_bytes(*rows[:-1]), "csv")) == imports.MAX_ROWS
    wide = ";".join(["indicateur", "periode", "valeur"] + [f"c{i}" for i in range(40)])
    with pytest.raises(imports.ImportFileError, match="plus de 30 colonnes"):
        imports.read_rows(csv_bytes(wide, "a;b;c"), "csv")


def test_an_xlsx_with_an_external_entity_is_refused_without_reading_the_file(tmp_path):
    """XXE (ASVS 1.5.1): openpyxl parses with defusedxml, which refuses the DOCTYPE."""
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-XXE")
    buffer = io.BytesIO(xlsx_bytes(["indicateur", "periode", "valeur"], ["x", "T1 2027", 1]))
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"?>", f'?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'.encode(), 1)  # fmt: skip
                data = data.replace(b"<v>1</v>", b"<v>&e;</v>")
            target.writestr(entry, data)
    with pytest.raises(imports.ImportFileError):
        imports.read_rows(out.getvalue(), "xlsx")


# --- every row's verdict --------------------------------------------------------------------


def test_every_kind_of_wrong_row_is_reported_in_french(world, member, indicator):
    supplier = member(world.supplier_lead)
    values.enter_value(world.contract, supplier, indicator, period_start=date(2027, 1, 1),
                       value="12", today=TODAY)  # fmt: skip
    uid = indicator.uid
    data = csv_bytes(
        HEADER,
        "Indicateur fantôme;01/04/2027;1;",  # 2: unknown indicator
        f"{uid};15/04/2027;1;",  # 3: inside T2, not its first day
        f"{uid};01/01/2031;1;",  # 4: not a period of the indicator
        f"{uid};01/10/2027;1;",  # 5: T4 2027 has not begun
        f"{uid};01/04/2027;douze;",  # 6: not a number
        f"{uid};01/01/2027;13;",  # 7: already entered
        f"{uid};01/04/2027;14;",  # 8: ok
        f"{uid};T2 2027;15;",  # 9: same period as line 8
        f"{uid};01/07/2027;=1+1;",  # 10: a formula
        f"{uid};01/07/2027;;sans valeur",  # 11: ignored
        f"{uid};demain;1;",  # 12: unreadable period
        ";01/04/2027;1;",  # 13: no indicator
    )
    preview = verdicts(world, member, data)
    by_line = {r.line: (r.status, r.message) for r in preview.rows}
    assert by_line[2] == ("erreur", "Indicateur inconnu dans le plan de ce marché : « Indicateur fantôme ».")  # fmt: skip
    assert by_line[3] == ("erreur", "Le 15/04/2027 n'est pas le premier jour d'une période : T2 2027 commence le 01/04/2027.")  # fmt: skip
    assert by_line[4] == ("erreur", "Le 01/01/2031 n'est pas une période de mesure de cet indicateur.")  # fmt: skip
    assert by_line[5] == ("erreur", "La période T4 2027 n'a pas encore commencé.")
    assert by_line[6] == ("erreur", "Indiquez un nombre, par exemple 12,5.")
    assert by_line[7][0] == "erreur" and by_line[7][1].startswith("Une valeur est déjà saisie pour T1 2027 (12)")  # fmt: skip
    assert by_line[8] == ("ok", "")
    assert by_line[9] == ("erreur", "Ligne en double : la ligne 8 porte déjà cet indicateur et cette période.")  # fmt: skip
    assert by_line[10] == ("erreur", "Les formules ne sont pas acceptées : saisissez la valeur elle-même.")  # fmt: skip
    assert by_line[11] == ("ignoree", "Pas de valeur : ligne ignorée.")
    assert by_line[12][0] == "erreur" and by_line[12][1].startswith("Période illisible : « demain »")  # fmt: skip
    assert by_line[13] == ("erreur", "Indicateur manquant.")
    assert (len(preview.valid), len(preview.errors), len(preview.ignored)) == (1, 10, 1)


def test_a_formula_cell_of_a_workbook_is_refused_never_evaluated(world, member, indicator):
    data = xlsx_bytes(["indicateur", "periode", "valeur", "commentaire"],
                      [indicator.uid, "01/01/2027", "=1+1", ""],
                      [indicator.uid, "01/04/2027", 3, '=HYPERLINK("http://x.example","clic")'])  # fmt: skip
    preview = verdicts(world, member, data, "xlsx")
    assert [r.message for r in preview.rows] == ["Les formules ne sont pas acceptées : saisissez la valeur elle-même."] * 2  # fmt: skip


def test_the_other_side_cannot_import_the_suppliers_indicator(world, member, indicator):
    data = csv_bytes(HEADER, f"{indicator.uid};01/01/2027;12;")
    preview = verdicts(world, member, data, user=world.buyer_lead)
    assert preview.rows[0].message == "Les valeurs de cet indicateur sont renseignées par l'autre partie."  # fmt: skip


def test_a_name_two_indicators_share_needs_the_identifier(world, member, indicator, draft):
    from app.plan import services as items

    items.create_item(draft.version, "indicateur", {"name": "Part recyclée", "unit": "%"},
                      parent=draft.objective, actor=world.supplier_lead)  # fmt: skip
    preview = verdicts(world, member, csv_bytes(HEADER, "Part recyclée;01/01/2027;1;"))
    assert preview.rows[0].message.startswith("Plusieurs indicateurs portent ce nom")


# --- writing --------------------------------------------------------------------------------

MIXED = (HEADER, "{uid};01/01/2027;12,5;T1", "Inconnu;01/04/2027;1;", "{uid};01/04/2027;18;T2")


def _mixed(indicator):
    return csv_bytes(*(line.format(uid=indicator.uid) for line in MIXED))


def test_nothing_is_written_while_a_row_is_wrong(world, member, indicator):
    supplier = member(world.supplier_lead)
    preview = verdicts(world, member, _mixed(indicator))
    with pytest.raises(DomainError, match="1 ligne\\(s\\) en erreur : rien n'a été importé"):
        imports.apply(world.contract, supplier, preview, _attachment(world), valid_only=False,
                      today=TODAY)  # fmt: skip
    assert stored() == 0


def test_the_valid_rows_only_when_asked_in_one_transaction(world, member, indicator):
    supplier = member(world.supplier_lead)
    preview = verdicts(world, member, _mixed(indicator))
    count = imports.apply(world.contract, supplier, preview, _attachment(world),
                          valid_only=True, today=TODAY)  # fmt: skip
    assert count == 2
    found = values.measurements_of(world.contract, indicator.uid)
    assert [(m.period_start, m.value, m.comment, m.source) for m in found] == [
        (date(2027, 1, 1), Decimal("12.5"), "T1", "import"),
        (date(2027, 4, 1), Decimal("18"), "T2", "import"),
    ]
    assert all(m.entered_by_side == "titulaire" for m in found)


def test_a_value_entered_between_preview_and_confirm_rolls_everything_back(
    world, member, indicator
):
    supplier = member(world.supplier_lead)
    preview = verdicts(world, member, _mixed(indicator))
    values.enter_value(world.contract, supplier, indicator, period_start=date(2027, 4, 1),
                       value="17", today=TODAY)  # fmt: skip
    with pytest.raises(DomainError, match=r"Ligne 4 : .*Rien n.a été importé"):
        imports.apply(world.contract, supplier, preview, _attachment(world), valid_only=True,
                      today=TODAY)  # fmt: skip
    assert [m.value for m in values.measurements_of(world.contract)] == [Decimal("17")]


def test_the_template_lists_the_periods_to_fill(world, member, indicator):
    supplier = member(world.supplier_lead)
    values.enter_value(world.contract, supplier, indicator, period_start=date(2027, 1, 1),
                       value="12", today=TODAY)  # fmt: skip
    rows = imports.template_rows(world.contract, supplier, TODAY)
    assert [(r[0], r[1], r[5]) for r in rows] == [
        (indicator.uid, date(2027, 4, 1), "T2 2027"),
        (indicator.uid, date(2027, 7, 1), "T3 2027"),
    ]
    assert imports.template_rows(world.contract, member(world.buyer_lead), TODAY) == []


def _attachment(world):
    from app.attachments.models import Attachment

    attachment = Attachment(contract_id=world.contract.id, storage_key="k" * 32,
                            display_name="valeurs.csv", size=1, mime="text/csv", sha256="0" * 64,
                            uploaded_by_id=world.supplier_lead.id)  # fmt: skip
    db.session.add(attachment)
    db.session.flush()
    return attachment
