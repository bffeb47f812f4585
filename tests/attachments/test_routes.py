"""Downloading an attachment: members only, as a download that nothing can render or cache
(SECURITY.md §5; catalogue 24 and 25)."""

import io
import logging
from urllib.parse import quote

import pytest
from flask import request

from app.attachments.services import file_path, store_upload
from app.errors import DomainError
from app.extensions import db
from app.permissions import PUBLIC, allow
from tests.attachments.fakes import EICAR, PDF, office_file, upload

NAME = 'Compte-rendu "réunion"\r\n2026.pdf'


@pytest.fixture
def attachments(world):
    own = store_upload(world.contract, upload(PDF, NAME), world.supplier_lead)
    foreign = store_upload(world.other_contract, upload(PDF, "autre.pdf"), world.outsider)
    db.session.commit()
    return own, foreign


def url(contract, attachment) -> str:
    return f"/contrats/{contract.id}/pieces/{attachment.id}"


@pytest.mark.parametrize("role", ["buyer_lead", "observer", "supplier_contributor"])
def test_member_downloads_the_file_as_an_attachment(client, log_in, world, attachments, role):
    own, _ = attachments
    log_in(world.role(role))
    response = client.get(url(world.contract, own))
    body = response.get_data()
    response.close()  # send_file's file stays open until the response is closed

    assert response.status_code == 200
    assert body == PDF
    assert response.mimetype == "application/pdf"
    shown = 'Compte-rendu "réunion"2026.pdf'
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"filename*=UTF-8''{quote(shown, safe='')}" in disposition
    assert "\r" not in disposition and "\n" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert "default-src 'none'" in csp
    assert "sandbox" in csp
    assert len(response.headers.getlist("Content-Security-Policy")) == 1
    assert "no-store" in response.headers["Cache-Control"]
    assert "max-age" not in response.headers["Cache-Control"]


def test_other_pages_keep_the_app_wide_policy(client, log_in, world, attachments):
    log_in(world.buyer_lead)
    csp = client.get(f"/contrats/{world.contract.id}/plan").headers["Content-Security-Policy"]
    assert "sandbox" not in csp
    assert "default-src 'self'" in csp


def test_outsider_gets_404(client, log_in, world, attachments):
    own, _ = attachments
    log_in(world.outsider)
    assert client.get(url(world.contract, own)).status_code == 404


def test_another_contracts_attachment_through_my_contract_is_404(
    client, log_in, world, attachments
):
    _, foreign = attachments
    log_in(world.buyer_lead)
    response = client.get(url(world.contract, foreign))
    assert response.status_code == 404
    assert PDF not in response.data


def test_unknown_attachment_is_404(client, log_in, world, attachments):
    log_in(world.buyer_lead)
    assert client.get(f"/contrats/{world.contract.id}/pieces/999999").status_code == 404


def test_anonymous_visitor_is_sent_to_the_login_page(client, world, attachments):
    own, _ = attachments
    response = client.get(url(world.contract, own))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def test_file_missing_on_disk_is_404_and_logged(client, log_in, world, attachments, caplog):
    own, _ = attachments
    file_path(own).unlink()
    log_in(world.buyer_lead)
    with caplog.at_level(logging.ERROR, logger="progres.attachments"):
        response = client.get(url(world.contract, own))
    assert response.status_code == 404
    assert any("attachment.file_missing" in r.getMessage() for r in caplog.records)


# The upload route belongs to the feature that uses attachments; this one exists only in the
# tests' app, to prove what a real form post gets.
@pytest.fixture
def upload_route(app, world):
    @allow(PUBLIC)
    def essai_envoi():
        store_upload(world.contract, request.files["file"], None)
        db.session.commit()
        return "ok"

    app.add_url_rule("/essai-envoi", view_func=essai_envoi, methods=["POST"])
    return "/essai-envoi"


def post_file(client, route, data: bytes, filename: str):
    response = client.post(
        route,
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    # Werkzeug's client spools a large body to a temporary file and, without redirects to
    # follow, never closes it.
    response.request.input_stream.close()
    return response


def test_a_body_over_20_mb_gets_a_french_413(client, upload_route):
    response = post_file(client, upload_route, PDF + bytes(21 * 1024 * 1024), "gros.pdf")
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (PDF + bytes(11 * 1024 * 1024), "gros.pdf", "dépasse la taille maximale de 10 Mo"),
        (b"<html><script>alert(1)</script></html>", "page.pdf", "n'est pas un PDF valide"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "dessin.svg", "Type de fichier non"),
        (office_file(extra_entries=1_001), "plan.docx", "trop d'éléments"),
        (EICAR, "eicar.txt", "antivirus"),
    ],
)
def test_a_refused_upload_gets_a_422_with_the_reason(client, upload_route, data, filename, message):
    response = post_file(client, upload_route, data, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).replace("&#39;", "'")


def test_attachment_rejected_is_a_domain_error():
    from app.attachments.services import AttachmentRejected

    assert issubclass(AttachmentRejected, DomainError)
    assert AttachmentRejected("x").status == 422
