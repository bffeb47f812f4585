"""The supplier imports a CSV with one bad row, sees the error, fixes the file, imports: the
indicator's page shows the new values on its chart and in its table."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.contracts.models import Contract, Membership
from app.exports import imports
from app.extensions import db
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import screenshot

SUPPLIER = "sophie.durand@textiles-rhone.example"


def csv_file(lines):
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    return {"name": "valeurs.csv", "mimeType": "text/csv", "buffer": data}


def test_supplier_fixes_a_bad_row_then_imports(page_as, live_server):
    contract = db.session.scalar(select(Contract).where(Contract.reference == "2025-0142"))
    membership = db.session.scalar(
        select(Membership).join(User).where(Membership.contract_id == contract.id, User.email == SUPPLIER)
    )  # fmt: skip
    # Two periods that have begun and still have no value (today's date decides which).
    (uid, _start, *_rest, name, label, _unit), second = imports.template_rows(contract, membership)[
        :2
    ]
    rows = [f"{name};{label};14,5;Import de test", f"{second[0]};{second[5]};quatorze;"]
    contract_id = contract.id
    db.session.commit()  # SQLite: the test's session must not hold the write lock

    page = page_as(SUPPLIER)
    indicator_page = f"/contrats/{contract_id}/indicateurs/{uid}/"
    page.goto(indicator_page)
    points_before = page.locator("svg.chart circle.chart__point").count()

    page.goto(f"/contrats/{contract_id}/donnees/import")
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer des valeurs")
    page.get_by_label("Fichier de valeurs (CSV ou XLSX)").set_input_files(
        files=[csv_file(["indicateur;periode;valeur;commentaire", *rows])]
    )
    page.get_by_role("button", name="Voir l'aperçu").click()
    expect(page.get_by_text("1 ligne en erreur", exact=True)).to_be_visible()
    expect(page.locator("table.import-preview")).to_contain_text(
        "Indiquez un nombre, par exemple 12,5."
    )
    expect(page.get_by_role("button", name="Importer seulement la ligne valide")).to_be_visible()
    expect(page.get_by_role("button", name="Importer les")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "import-apercu-erreur")

    # Fixed file: both rows valid, one click imports them.
    page.get_by_role("link", name="Déposer un autre fichier").click()
    rows[1] = rows[1].replace("quatorze", "15")
    page.get_by_label("Fichier de valeurs (CSV ou XLSX)").set_input_files(
        files=[csv_file(["indicateur;periode;valeur;commentaire", *rows])]
    )
    page.get_by_role("button", name="Voir l'aperçu").click()
    expect(page.get_by_text("2 lignes valides", exact=True)).to_be_visible()
    page.get_by_role("button", name="Importer les 2 valeurs").click()
    expect(page.get_by_text("2 valeur(s) importée(s) depuis « valeurs.csv ».")).to_be_visible()

    page.goto(indicator_page)
    expect(page.locator("svg.chart circle.chart__point")).to_have_count(points_before + 1)
    expect(page.locator("main")).to_contain_text("14,5")
    screenshot(page, "import-indicateur-apres")
