"""Values as CSV and XLSX with formulas neutralised, and the plan as an isolated PDF."""

import io
import re
import socket
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from app.exports import pdf
from app.extensions import db
from app.indicators import services as values
from app.plan import services as items
from tests.exports.conftest import TODAY

NASTY = ['=HYPERLINK("http://evil.example","clic")', "+1", "@SUM(A1:A2)", '"><script>alert(1)</script>']  # fmt: skip


@pytest.fixture
def entered(world, member, indicator):
    """Four values whose comments a spreadsheet would run, and a negative number."""
    supplier = member(world.supplier_lead)
    starts = [date(2027, 1, 1), date(2027, 4, 1), date(2027, 7, 1)]
    for start, comment in zip(starts, NASTY, strict=False):
        values.enter_value(world.contract, supplier, indicator, period_start=start,
                           value="-3" if start.month == 7 else "12,5", comment=comment, today=TODAY)  # fmt: skip
    return indicator


def url(world, path):
    return f"/contrats/{world.contract.id}/donnees{path}"


def test_csv_export_neutralises_formulas(client, log_in, world, entered):
    log_in(world.observer)
    response = client.get(url(world, "/valeurs.csv"))
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Objectif;Indicateur;Identifiant de l'indicateur;Unité;Période")
    text = "\n".join(lines[1:])
    assert """'=HYPERLINK(""http://evil.example"",""clic"")""" in text
    assert ";'+1;" in text and ";'@SUM(A1:A2);" in text
    assert ";12,5;" in text and ";-3;" in text  # numbers stay numbers, with a decimal comma
    assert "01/01/2027;31/03/2027" in text


def test_xlsx_export_neutralises_formulas_and_keeps_types(client, log_in, world, entered):
    log_in(world.buyer_lead)
    response = client.get(url(world, "/valeurs.xlsx"), query_string={"indicateur": entered.uid})
    assert "valeurs-2025-0142-" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header = [c.value for c in sheet[1]]
    assert all(c.font.bold for c in sheet[1])
    rows = [
        dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    assert [r["Commentaire"] for r in rows] == ["'" + NASTY[0], "'+1", "'@SUM(A1:A2)"]
    assert [r["Valeur"] for r in rows] == [12.5, 12.5, -3]
    assert rows[0]["Début de période"].date() == date(2027, 1, 1)
    for row in sheet.iter_rows():
        assert all(c.data_type != "f" for c in row)  # no formula anywhere


def test_an_unknown_indicator_filter_is_not_found(client, log_in, world, indicator):
    log_in(world.buyer_lead)
    assert (
        client.get(url(world, "/valeurs.csv"), query_string={"indicateur": "x"}).status_code == 404
    )


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\u00a0\u202f]+", " ", " ".join(p.extract_text() for p in reader.pages))


def test_the_plan_pdf_has_its_seven_parts_charts_and_values(client, log_in, world, draft, entered):
    items.create_item(draft.version, "action", {"title": "Former les acheteurs " + NASTY[3], "owner_side": "acheteur"},
                      parent=draft.objective, actor=world.buyer_lead)  # fmt: skip
    db.session.commit()
    log_in(world.supplier_contributor)
    response = client.get(url(world, "/plan.pdf"))
    assert response.mimetype == "application/pdf"
    assert re.search(r'attachment; filename=plan-de-progres-2025-0142-\d{4}-\d\d-\d\d\.pdf', response.headers["Content-Disposition"])  # fmt: skip
    data = response.get_data()
    text = pdf_text(data)
    for expected in ("Marché n° 2025-0142", "Métropole de Lyon", "Textiles Rhône SAS",
                     "30 % de recyclé", "Part recyclée", "Sourcer du fil recyclé",
                     "Former les acheteurs", "1. Objectif", "2. Indicateurs de mesure",
                     "3. Actions du titulaire", "4. Actions de l'acheteur",
                     "5. Moyens et ressources", "6. Calendrier prévisionnel",
                     "7. Partage des gains", "Projet de plan", "Empreinte SHA-256",
                     "Parties manquantes", "les modalités de partage des gains ne sont pas définies",
                     "Page 1 sur", "12,5"):  # fmt: skip
        assert expected in text, expected
    assert "Former les acheteurs " + NASTY[3] in text  # escaped, printed as text
    assert b"/EmbeddedFiles" not in data
    for leftover in ("None", "{{", "}}", "undefined"):
        assert leftover not in text
    assert len(PdfReader(io.BytesIO(data)).pages) >= 2


def test_pdf_render_isolated(app, world, draft, monkeypatch):
    """SECURITY.md catalogue 22: Markdown with a loopback image and a `rel=attachment` link to
    /etc/passwd in an objective → a PDF, nothing embedded, no connection; and the fetcher itself
    refuses both URLs when they reach it in raw HTML (nh3 already strips them from Markdown)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    attack = (f"![](http://127.0.0.1:{port}/x) "
              '<a rel="attachment" href="file:///etc/passwd">passwd</a> '
              f'<img src="http://127.0.0.1:{port}/y">')  # fmt: skip
    items.update_item(draft.objective, {"description": attack}, base_version=draft.objective.version,
                      actor=world.buyer_lead)  # fmt: skip
    db.session.commit()
    with app.test_request_context():
        data = pdf.plan_pdf(world.contract, TODAY)
        fetcher = pdf.static_fetcher(app.static_folder)
        raw = pdf.render_pdf(f"<p>{attack}</p><link rel=attachment href='file:///etc/passwd'>"
                             "<img src='file:///etc/passwd'>", fetcher)  # fmt: skip
    for produced in (data, raw):
        assert produced.startswith(b"%PDF") and b"/EmbeddedFiles" not in produced
        assert b"root:x:0:0" not in produced
    assert f"http://127.0.0.1:{port}/y" in fetcher.refused
    assert "file:///etc/passwd" in fetcher.refused
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody ever connected
    listener.close()


def test_the_fetcher_serves_static_files_only(app):
    from pathlib import Path

    fetcher = pdf.static_fetcher(app.static_folder)
    css = Path(app.static_folder, "css", "progres.css").resolve()
    assert fetcher.fetch(css.as_uri()).read().startswith(css.read_bytes()[:20])
    for url in ("file:///etc/passwd", css.parent.parent.parent.joinpath("config.py").as_uri(),
                "http://127.0.0.1:1/x", "data:text/plain,hello", f"{css.as_uri()}/../../../../etc/passwd"):  # fmt: skip
        with pytest.raises(ValueError, match="URL refusée"):
            fetcher.fetch(url)


def test_a_contract_with_a_plan_in_force_prints_its_version_and_hash(app, world, draft):
    from app.plan.versions import content_hash

    digest = content_hash(draft.version)
    draft.version.number, draft.version.status, draft.version.content_hash = 1, "en_vigueur", digest
    db.session.commit()
    with app.test_request_context():
        text = pdf_text(pdf.plan_pdf(world.contract, TODAY))
    assert "Version 1" in text and digest in text.replace(" ", "")
    assert "PROJET" not in text


def test_the_plan_pdf_prints_the_latest_values_and_says_where_the_others_are(
    app, world, entered, monkeypatch
):
    """A long history stays in the chart and the export; the table prints its latest values."""
    monkeypatch.setattr(pdf, "PDF_LATEST_VALUES", 2)
    with app.test_request_context():
        context = pdf.plan_context(world.contract, TODAY)
        (part,) = [p for block in context["objectives"] for p in block.indicators]
        assert [m.period_start for m in part.measurements] == [date(2027, 4, 1), date(2027, 7, 1)]
        assert part.earlier == 1
        text = pdf_text(pdf.plan_pdf(world.contract, TODAY))
    assert "Les 2 dernières valeurs ; la précédente est dans le graphique" in text
    assert (
        "01/01/2027"
        not in text.split("Les 2 dernières valeurs")[1].split("Actions du titulaire")[0]
    )


def test_a_plan_pdf_is_rendered_once_for_the_same_plan_values_and_day(
    app, world, draft, monkeypatch
):
    """WeasyPrint takes about 20 s on a large plan: the PDF is kept in the contract's storage
    by its HTML's hash, for whoever asks next; anything printed that changes (an item, a value,
    the day) makes a new one, and the contract keeps its three latest."""
    from app.attachments.storage import storage

    rendered = []
    real = pdf.render_pdf
    monkeypatch.setattr(pdf, "render_pdf", lambda html: rendered.append(html) or real(html))
    with app.test_request_context():
        first = pdf.plan_pdf(world.contract, TODAY)
        assert pdf.plan_pdf(world.contract, TODAY) == first and len(rendered) == 1
        items.update_item(draft.objective, {"title": "30 % de recyclé en 2028"},
                          base_version=draft.objective.version, actor=world.buyer_lead)  # fmt: skip
        db.session.commit()
        changed = pdf.plan_pdf(world.contract, TODAY)
        assert len(rendered) == 2 and "30 % de recyclé en 2028" in pdf_text(changed)
        for day in (date(2027, 8, 16), date(2027, 8, 17), date(2027, 8, 18)):
            pdf.plan_pdf(world.contract, day)
        assert len(rendered) == 5
        kept = storage().keys(world.contract.id, pdf.CACHED_PREFIX)
        assert len(kept) == pdf.CACHED_PLAN_PDFS
        pdf.plan_pdf(world.contract, date(2027, 8, 18))  # still there: not rendered again
        assert len(rendered) == 5
        # A file that is not a PDF (cut short, overwritten) is never served: rendered again.
        latest = storage().keys(world.contract.id, pdf.CACHED_PREFIX)[0]
        storage().save(world.contract.id, latest, b"garbage")
        assert pdf.plan_pdf(world.contract, date(2027, 8, 18)).startswith(b"%PDF-")
        assert len(rendered) == 6
        assert storage().keys(world.other_contract.id, pdf.CACHED_PREFIX) == []
