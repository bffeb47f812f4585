"""The indicator pages through HTTP: the chart and table, entering in place, validating."""

import re
from datetime import date

from app.extensions import db
from app.indicators.models import Measurement
from tests.helpers import logged_in_client, page_text

HTMX = {"HX-Request": "true"}


def url(world, indicator, path=""):
    return f"/contrats/{world.contract.id}/indicateurs/{indicator.uid}/{path}"


def test_the_page_draws_the_chart_and_lists_the_periods(app, world, indicator):
    page = logged_in_client(app, world.observer).get(url(world, indicator))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<svg class="chart"' in html and 'role="img"' in html and "<desc" in html
    text = page_text(page)
    assert "Part recyclée" in text and "Non renseigné" in text
    assert "T1 2027" in text or "Aucune période" in text
    listing = page_text(
        logged_in_client(app, world.observer).get(f"/contrats/{world.contract.id}/indicateurs/")
    )
    assert "Part recyclée" in listing


def _period(app, world, indicator):
    """The first period of the fixture's indicator whose start has passed."""
    from app.indicators import services

    with app.test_request_context():
        rows = services.rows(indicator, world.contract, [], date.today())
    return rows[-1].period if rows else None


def test_enter_in_place_then_422_and_409_keep_the_typed_text(app, world, indicator):
    period = _period(app, world, indicator)
    if period is None:  # the fixture's periods start in 2027
        indicator.baseline_date = date(2025, 12, 31)
        db.session.commit()
        period = _period(app, world, indicator)
    supplier = logged_in_client(app, world.supplier_lead)
    editor = supplier.get(
        url(world, indicator, f"valeurs/{period.start.isoformat()}/saisie"), headers=HTMX
    )
    assert editor.status_code == 200 and "Enregistrer la valeur" in page_text(editor)
    bad = supplier.post(url(world, indicator, "valeurs"), headers=HTMX,
                        data={"period_start": period.start.isoformat(), "value": "douze", "comment": "Mon commentaire"})  # fmt: skip
    assert (
        bad.status_code == 422
        and "Indiquez un nombre" in page_text(bad)
        and "Mon commentaire" in page_text(bad)
    )
    ok = supplier.post(url(world, indicator, "valeurs"), headers=HTMX,
                       data={"period_start": period.start.isoformat(), "value": "15,5"})  # fmt: skip
    assert (
        ok.status_code == 200
        and "15,5" in page_text(ok)
        and "<html" not in ok.get_data(as_text=True)
    )
    stale = logged_in_client(app, world.supplier_contributor).post(
        url(world, indicator, "valeurs"), headers=HTMX,
        data={"period_start": period.start.isoformat(), "value": "16", "comment": "Ma correction"})  # fmt: skip
    assert (
        stale.status_code == 409
        and "Ma correction" in page_text(stale)
        and "déjà été saisie" in page_text(stale)
    )
    assert db.session.scalar(db.select(Measurement.value)) == 15.5


def test_who_may_enter_and_validate(app, world, indicator):
    indicator.baseline_date = date(2025, 12, 31)
    db.session.commit()
    period = _period(app, world, indicator)
    data = {"period_start": period.start.isoformat(), "value": "15"}
    assert (
        logged_in_client(app, world.buyer_lead)
        .post(url(world, indicator, "valeurs"), data=data)
        .status_code
        == 403
    )
    assert (
        logged_in_client(app, world.observer)
        .post(url(world, indicator, "valeurs"), data=data)
        .status_code
        == 403
    )
    outsider = logged_in_client(app, world.outsider)
    assert outsider.get(url(world, indicator)).status_code == 404
    supplier = logged_in_client(app, world.supplier_lead)
    assert supplier.post(url(world, indicator, "valeurs"), data=data).status_code == 302
    measurement = db.session.scalar(db.select(Measurement))
    buyer = logged_in_client(app, world.buyer_lead)
    form = buyer.get(
        url(world, indicator, f"valeurs/{measurement.id}/avis"), headers=HTMX
    ).get_data(as_text=True)
    version = re.search(
        r'name="version" type="hidden" value="(\d+)"|name="version" value="(\d+)"', form
    )
    assert version
    questioned = buyer.post(url(world, indicator, f"valeurs/{measurement.id}/avis"), headers=HTMX,
                            data={"decision": "questionnee", "note": "", "version": str(measurement.version)})  # fmt: skip
    assert questioned.status_code == 422 and "Dites ce qui vous interroge" in page_text(questioned)
    done = buyer.post(url(world, indicator, f"valeurs/{measurement.id}/avis"), headers=HTMX,
                      data={"decision": "validee", "version": str(measurement.version)})  # fmt: skip
    assert done.status_code == 200 and "Validée" in page_text(done)
    assert supplier.post(url(world, indicator, f"valeurs/{measurement.id}/avis"),
                         data={"decision": "validee", "version": "2"}).status_code == 403  # fmt: skip
    assert buyer.get(url(world, indicator, "valeurs/pas-une-date/saisie")).status_code in (403, 404)


def test_a_value_with_its_evidence_file(app, world, indicator, tmp_path):
    import io

    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    indicator.baseline_date = date(2025, 12, 31)
    db.session.commit()
    period = _period(app, world, indicator)
    supplier = logged_in_client(app, world.supplier_lead)
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    bad = supplier.post(url(world, indicator, "valeurs"), headers=HTMX, content_type="multipart/form-data",
                        data={"period_start": period.start.isoformat(), "value": "15",
                              "evidence": (io.BytesIO(b"<svg/>"), "releve.pdf")})  # fmt: skip
    assert (
        bad.status_code == 422
        and "releve.pdf" in page_text(bad)
        and 'id="evidence-erreur"' in bad.get_data(as_text=True)
    )
    ok = supplier.post(url(world, indicator, "valeurs"), headers=HTMX, content_type="multipart/form-data",
                       data={"period_start": period.start.isoformat(), "value": "15",
                             "evidence": (io.BytesIO(pdf), "releve.pdf")})  # fmt: skip
    assert ok.status_code == 200 and "Justificatif : releve.pdf" in page_text(ok)
