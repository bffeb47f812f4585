"""The import pages as a supplier uses them, and who may call them."""

import html
import io
import re
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.attachments.models import Attachment
from app.attachments.services import store_upload
from app.extensions import db
from app.indicators import services as values
from app.indicators.models import Measurement
from tests.exports.conftest import csv_bytes, upload

HEADER = "indicateur;periode;valeur;commentaire"


def url(world, path):
    return f"/contrats/{world.contract.id}/donnees{path}"


def count():
    return db.session.scalar(select(func.count(Measurement.id)))


def post_file(client, world, data, name="valeurs.csv"):
    return client.post(url(world, "/import"), data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")  # fmt: skip


def confirm_data(page: str) -> dict:
    fields = dict(re.findall(r'<input[^>]*name="(attachment_id|expected)"[^>]*value="(\d+)"', page))
    assert fields, "no confirm form"
    return fields


def test_supplier_sees_the_error_fixes_the_file_and_imports(
    client, log_in, world, indicator, today
):
    log_in(world.supplier_lead)
    bad = csv_bytes(HEADER, f"{indicator.uid};01/01/2027;12,5;", f"{indicator.uid};01/04/2027;abc;")
    response = post_file(client, world, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Indiquez un nombre, par exemple 12,5." in page
    assert "1 ligne en erreur" in page and "Importer seulement la ligne valide" in page
    assert 'value="tout"' not in page  # « Importer » only when no row is wrong
    # « Importer » all rows of a file with an error is refused, nothing written
    response = client.post(
        url(world, "/import/confirmer"), data={**confirm_data(page), "mode": "tout"}
    )
    assert response.status_code == 422 and count() == 0

    good = csv_bytes(HEADER, f"{indicator.uid};01/01/2027;12,5;", f"{indicator.uid};01/04/2027;16;")
    page = post_file(client, world, good).get_data(as_text=True)
    assert "Importer les 2 valeurs" in page
    response = client.post(
        url(world, "/import/confirmer"), data={**confirm_data(page), "mode": "tout"}
    )
    assert response.status_code == 303
    assert "2 valeur(s) importée(s)" in client.get(response.location).get_data(as_text=True)
    assert [(m.period_start, m.value, m.source) for m in values.measurements_of(world.contract)] == [
        (date(2027, 1, 1), Decimal("12.5"), "import"), (date(2027, 4, 1), Decimal("16"), "import")]  # fmt: skip


def test_valid_rows_only_on_request(client, log_in, world, indicator, today):
    log_in(world.supplier_contributor)
    page = post_file(client, world, csv_bytes(HEADER, f"{indicator.uid};01/01/2027;12;",
                                              "Inconnu;01/01/2027;1;")).get_data(as_text=True)  # fmt: skip
    response = client.post(url(world, "/import/confirmer"),
                           data={**confirm_data(page), "mode": "valides"})  # fmt: skip
    assert response.status_code == 303 and count() == 1


def test_a_file_that_is_no_import_is_refused_with_its_reason(
    client, log_in, world, indicator, today
):
    log_in(world.supplier_lead)
    response = post_file(client, world, csv_bytes("nom;valeur", "a;1"))
    assert response.status_code == 422
    assert "Colonnes manquantes : indicateur, periode." in response.get_data(as_text=True)
    response = post_file(client, world, b"<html><script>x</script></html>", "valeurs.csv")
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Attachment.id))) == 0  # nothing kept


def test_a_preview_changed_since_it_was_seen_imports_nothing(client, log_in, world, member, indicator, today):  # fmt: skip
    log_in(world.supplier_lead)
    page = post_file(client, world, csv_bytes(HEADER, f"{indicator.uid};01/01/2027;12;")).get_data(as_text=True)  # fmt: skip
    values.enter_value(world.contract, member(world.supplier_contributor), indicator,
                       period_start=date(2027, 1, 1), value="11", today=today)  # fmt: skip
    response = client.post(
        url(world, "/import/confirmer"), data={**confirm_data(page), "mode": "tout"}
    )
    assert response.status_code == 409
    assert "Des valeurs ont été saisies depuis l'aperçu" in html.unescape(
        response.get_data(as_text=True)
    )
    assert [m.value for m in values.measurements_of(world.contract)] == [Decimal("11")]


def test_a_foreign_attachment_id_is_not_found(client, log_in, world, indicator, today):
    foreign = store_upload(world.other_contract, upload(csv_bytes(HEADER, "x;T1 2027;1;"), "v.csv"),
                           world.outsider)  # fmt: skip
    db.session.commit()
    log_in(world.supplier_lead)
    response = client.post(url(world, "/import/confirmer"),
                           data={"attachment_id": foreign.id, "expected": 0, "mode": "tout"})  # fmt: skip
    assert response.status_code == 404


def test_another_members_file_is_never_read(client, log_in, world, indicator, today):
    """The id comes back from the browser: a file of the contract uploaded by someone else
    (a difficulty's evidence…) is not shown or imported through this page."""
    theirs = store_upload(world.contract, upload(csv_bytes(HEADER, f"{indicator.uid};01/01/2027;9;"), "v.csv"),
                          world.supplier_contributor)  # fmt: skip
    db.session.commit()
    log_in(world.supplier_lead)
    response = client.post(url(world, "/import/confirmer"),
                           data={"attachment_id": theirs.id, "expected": 1, "mode": "tout"})  # fmt: skip
    assert response.status_code == 303 and count() == 0
    assert "Ce fichier ne peut pas être importé" in client.get(response.location).get_data(
        as_text=True
    )


def test_observer_may_export_but_not_import(client, log_in, world, indicator, today):
    log_in(world.observer)
    assert client.get(url(world, "/import")).status_code == 403
    assert (
        post_file(client, world, csv_bytes(HEADER, f"{indicator.uid};01/01/2027;1;")).status_code
        == 403
    )
    assert client.get(url(world, "/import/modele.csv")).status_code == 403
    assert client.get(url(world, "/valeurs.csv")).status_code == 200
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_templates_are_prefilled_downloads(client, log_in, world, indicator, today):
    log_in(world.supplier_lead)
    response = client.get(url(world, "/import/modele.csv"))
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "modele-import-valeurs-2025-0142.csv" in response.headers["Content-Disposition"]
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == "indicateur;periode;valeur;commentaire;nom_indicateur;libelle_periode;unite"
    assert lines[1] == f"{indicator.uid};01/01/2027;;;Part recyclée;T1 2027;%"
    response = client.get(url(world, "/import/modele.xlsx"))
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet["A2"].value == indicator.uid and sheet["B2"].value.date() == date(2027, 1, 1)
    assert sheet["A1"].font.bold
    # the template comes back in as is, once filled
    sheet["C2"] = 12.5
    out = io.BytesIO()
    sheet.parent.save(out)
    page = post_file(client, world, out.getvalue(), "modele.xlsx").get_data(as_text=True)
    assert "Importer 1 valeur" in page
