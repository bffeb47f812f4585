"""The changes pages through HTTP: proposing, the change set, the buyer's steps, documents and
visas, the signed amendment and its notification, the contract's data; refusals keep the text."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from app.changes.models import ChangeDocument, ChangeRequest
from app.extensions import db
from app.plan import versions
from tests.changes.test_services import indicator_in
from tests.factories import PASSWORD
from tests.helpers import logged_in_client, page_text

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def url(world, path=""):
    return f"/contrats/{world.contract.id}/modifications/{path}"


def text_of(pdf: bytes) -> str:
    raw = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", raw)


def download(client, path: str) -> bytes:
    response = client.get(path)
    try:
        assert response.status_code == 200, path
        return response.get_data()
    finally:
        response.close()  # send_file's file handle


def answers(**yes) -> dict:
    return {
        f"q_{k}": "oui" if yes.get(k) else "non"
        for k in ("prix", "obligations", "paiement", "perimetre")
    }


def propose(client, world, in_force, *, target="35", impact="0", **yes) -> ChangeRequest:
    """Through the pages: propose, edit the draft's indicator, answer, submit."""
    from app.plan import services as items

    response = client.post(
        url(world), data={"title": "Cible relevée", "rationale": "Objectif atteint."}
    )
    assert response.status_code == 302
    change = db.session.scalar(select(ChangeRequest).order_by(ChangeRequest.id.desc()))
    indicator = indicator_in(change.draft_version, in_force.indicator.uid)
    items.update_item(indicator, {"target_value": Decimal(target)}, base_version=indicator.version,
                      actor=world.supplier_lead)  # fmt: skip
    response = client.post(url(world, f"{change.id}/demande"), data={
        "version": change.version, "title": "Cible relevée", "rationale": "Objectif atteint.",
        "financial_impact_ht": impact, **answers(**yes)})  # fmt: skip
    assert response.status_code == 302, page_text(response)
    db.session.refresh(change)
    assert client.post(url(world, f"{change.id}/etape/soumettre"), data={"version": change.version}).status_code == 302  # fmt: skip
    db.session.refresh(change)
    return change


def test_the_list_the_proposal_and_the_change_set(app, world, in_force):
    supplier = logged_in_client(app, world.supplier_lead)
    change = propose(supplier, world, in_force)
    listing = page_text(supplier.get(url(world)))
    assert "Cible relevée" in listing and "Soumise à l'acheteur" in listing
    page = page_text(supplier.get(url(world, f"{change.id}/")))
    assert "Valeur cible" in page and "<del>30</del>" in page and "<ins>35</ins>" in page
    side_by_side = page_text(supplier.get(url(world, f"{change.id}/?vue=cote")))
    assert 'class="diff-before">30<' in side_by_side and 'class="diff-after">35<' in side_by_side
    assert "Approuver" not in page  # the supplier does not decide


def test_a_bad_proposal_is_a_422_that_keeps_the_text(app, world, in_force):
    buyer = logged_in_client(app, world.buyer_contributor)
    response = buyer.post(url(world), data={"title": "", "rationale": "Mon long texte à garder"})
    assert response.status_code == 422
    assert "Donnez un titre" in page_text(response) and "Mon long texte à garder" in page_text(
        response
    )


def test_an_observer_cannot_propose_and_a_stranger_sees_nothing(app, world, in_force):
    observer = logged_in_client(app, world.observer)
    assert observer.get(url(world)).status_code == 200
    assert observer.post(url(world), data={"title": "Non"}).status_code == 403
    outsider = logged_in_client(app, world.outsider)
    assert outsider.get(url(world)).status_code == 404


def test_a_refusal_without_reason_is_a_422_and_a_stale_step_a_409(app, world, in_force):
    change = propose(logged_in_client(app, world.supplier_lead), world, in_force)
    buyer = logged_in_client(app, world.buyer_lead)
    refused = buyer.post(
        url(world, f"{change.id}/acheteur/refuser"), data={"version": change.version, "comment": ""}
    )
    assert refused.status_code == 422 and "pourquoi" in page_text(refused)
    stale = buyer.post(
        url(world, f"{change.id}/acheteur/approuver"), data={"version": change.version - 1}
    )
    assert stale.status_code == 409 and "rechargez" in page_text(stale)
    supplier = logged_in_client(app, world.supplier_lead)
    assert supplier.post(url(world, f"{change.id}/acheteur/approuver"), data={"version": change.version}).status_code == 403  # fmt: skip


def _to_documents(app, world, in_force, **yes):
    supplier = logged_in_client(app, world.supplier_lead)
    change = propose(supplier, world, in_force, impact="48000" if yes else "0", **yes)
    buyer = logged_in_client(app, world.buyer_lead)
    assert buyer.post(url(world, f"{change.id}/acheteur/approuver"), data={"version": change.version}).status_code == 302  # fmt: skip
    db.session.refresh(change)
    choice = "avenant" if yes else "lettre"
    assert buyer.post(url(world, f"{change.id}/formalisation"), data={"version": change.version, "choice": choice}).status_code == 302  # fmt: skip
    db.session.refresh(change)
    data = {"version": change.version, "signatory_name": "Claire Martin", "signatory_qualite": "Acheteuse référente",
            "holder_signatory_name": "Sophie Durand", "holder_signatory_qualite": "Présidente"}  # fmt: skip
    if yes:
        data.update({"legal_basis": "R2194-8", "basis_justification": "Faible montant.",
                     "modifications-0-article": "Bordereau des prix unitaires (BPU)",
                     "modifications-0-text": "Prix nouveau PN1.", "modifications-0-impact_ht": "48 000,00"})  # fmt: skip
    response = buyer.post(url(world, f"{change.id}/documents/donnees"), data=data)
    assert response.status_code == 302, page_text(response)
    db.session.refresh(change)
    assert buyer.post(url(world, f"{change.id}/acheteur/generer"), data={"version": change.version}).status_code == 302  # fmt: skip
    db.session.refresh(change)
    return change, buyer, supplier


def _document(change, kind) -> ChangeDocument:
    return next(d for d in change.documents if d.kind == kind and d.voided_at is None)


def test_the_terms_form_comes_when_unfolded_once_the_documents_exist(app, world, in_force):
    change, buyer, supplier = _to_documents(app, world, in_force, prix=True)
    page = buyer.get(url(world, f"{change.id}/"))
    html = page_text(page)
    # Folded: the page holds the box htmx fills when « Compléter les documents » is unfolded.
    assert page.status_code == 200 and "Compléter les documents" in html
    assert (
        'action="/contrats/' not in html.split("Compléter les documents")[1].split("</details>")[0]
    )
    assert 'hx-trigger="toggle once from:closest details"' in html
    part = url(world, f"{change.id}/?partie=termes")
    assert f'hx-get="{part}"' in html
    fragment = buyer.get(part, headers={"HX-Request": "true"})
    form = page_text(fragment)
    assert fragment.status_code == 200 and "<html" not in form
    assert form.lstrip().startswith('<form id="termes-formulaire"')
    assert 'value="Claire Martin"' in form and "Prix nouveau PN1." in form  # what was saved
    assert f'name="version" value="{change.version}"' in form
    # Without JavaScript, the <noscript> link gives the whole page with the form unfolded.
    whole = page_text(buyer.get(f"{part}&complet=1"))
    assert "<details open>" in whole and 'value="Claire Martin"' in whole
    # The holder's lead never gets the buyer's form, folded or asked for.
    assert "termes-formulaire" not in page_text(supplier.get(part, headers={"HX-Request": "true"}))


def test_the_letter_exchange_from_approval_to_application(app, world, in_force):
    change, buyer, supplier = _to_documents(app, world, in_force)
    letter = _document(change, "lettre")
    text = text_of(download(buyer, f"/contrats/{world.contract.id}/pieces/{letter.attachment_id}"))
    assert (
        "Plan de progrès : évolution n° 1 (version 1 → 2)" in text and "Madame, Monsieur," in text
    )
    assert "Valeur cible" in text and "Page 1 sur 1" in text
    wrong = buyer.post(url(world, f"{change.id}/documents/{letter.id}/visa"),
                       data={"sha256": letter.sha256, "qualite": "Acheteuse référente", "password": "faux"})  # fmt: skip
    assert wrong.status_code == 422 and "Mot de passe incorrect" in page_text(wrong)
    assert 'value="Acheteuse référente"' in page_text(wrong)  # what was typed is kept
    given = buyer.post(url(world, f"{change.id}/documents/{letter.id}/visa"),
                       data={"sha256": letter.sha256, "qualite": "Acheteuse référente", "password": PASSWORD})  # fmt: skip
    assert given.status_code == 302
    stamped = buyer.get(url(world, f"{change.id}/documents/{letter.id}/vise.pdf"))
    assert (
        stamped.headers["Content-Type"] == "application/pdf"
        and stamped.headers["X-Content-Type-Options"] == "nosniff"
    )
    stamped_text = text_of(stamped.get_data())
    assert (
        f"empreinte SHA-256 : {letter.sha256}" in stamped_text
        and "arrêté du 22 mars 2019" in stamped_text
    )
    acceptance = _document(change, "acceptation")
    assert letter.sha256 in text_of(download(supplier, f"/contrats/{world.contract.id}/pieces/{acceptance.attachment_id}"))  # fmt: skip
    # The contract keeps the default: the holder's signed reply is uploaded.
    db.session.refresh(change)
    response = supplier.post(url(world, f"{change.id}/accord"), content_type="multipart/form-data",
                             data={"version": change.version, "file": (io.BytesIO(PDF), "accord.pdf")})  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(change)
    assert change.status == "appliquee" and versions.plan_in_force(world.contract).number == 2


def test_the_amendment_from_visas_to_notification(app, world, in_force):
    change, buyer, supplier = _to_documents(app, world, in_force, prix=True)
    pdf = _document(change, "avenant")
    assert change.amendment_number == 1 and _document(change, "avenant_docx")
    text = text_of(download(buyer, f"/contrats/{world.contract.id}/pieces/{pdf.attachment_id}"))
    assert "PROJET D'AVENANT N° 1 au marché n° 2025-0142 — EXE10" in text
    assert "Fondement juridique" in text and "R2194-8" in text and "+ 48 000,00 €" in text
    early = buyer.post(
        url(world, f"{change.id}/acheteur/transmettre"), data={"version": change.version}
    )
    assert early.status_code == 422 and "visa des deux référents" in page_text(early)
    for client, qualite in ((supplier, "Présidente"), (buyer, "Acheteuse référente")):
        assert client.post(url(world, f"{change.id}/documents/{pdf.id}/visa"),
                           data={"sha256": pdf.sha256, "qualite": qualite, "password": PASSWORD}).status_code == 302  # fmt: skip
    db.session.refresh(change)
    assert buyer.post(url(world, f"{change.id}/acheteur/transmettre"), data={"version": change.version}).status_code == 302  # fmt: skip
    db.session.refresh(change)
    signature = {"version": change.version, "signature_kind": "manuscrite",
                 "signatories-0-name": "Sophie Durand", "signatories-0-qualite": "Présidente", "signatories-0-side": "titulaire",
                 "signatories-1-name": "Marc Petit", "signatories-1-qualite": "Vice-président", "signatories-1-side": "acheteur",
                 "signatories-1-delegation": "y"}  # fmt: skip
    missing = buyer.post(
        url(world, f"{change.id}/signature"), data=signature, content_type="multipart/form-data"
    )
    assert missing.status_code == 422 and "Joignez l'avenant signé" in page_text(missing)
    assert "Marc Petit" in page_text(missing)
    signed = buyer.post(url(world, f"{change.id}/signature"), content_type="multipart/form-data",
                        data={**signature, "file": (io.BytesIO(PDF), "avenant-signe.pdf")})  # fmt: skip
    assert signed.status_code == 302
    db.session.refresh(change)
    assert versions.plan_in_force(world.contract).number == 1  # not applied before notification
    future = buyer.post(url(world, f"{change.id}/notification"), data={
        "version": change.version, "mode": "electronique", "day": (date.today() + timedelta(days=2)).isoformat(), "at": "10:00"})  # fmt: skip
    assert future.status_code == 422 and "futur" in page_text(future)
    notified = buyer.post(url(world, f"{change.id}/notification"), data={
        "version": change.version, "mode": "electronique", "day": (date.today() - timedelta(days=1)).isoformat(), "at": "10:00"})  # fmt: skip
    assert notified.status_code == 302
    db.session.refresh(change)
    assert change.status == "appliquee" and versions.plan_in_force(world.contract).number == 2
    history = re.sub(r"[\s\u00a0\u202f]+", " ", page_text(buyer.get(url(world))))
    assert "Historique financier des avenants" in history and "+ 48 000,00 €" in history


def test_regenerating_voids_the_visas(app, world, in_force):
    change, buyer, _supplier = _to_documents(app, world, in_force)
    letter = _document(change, "lettre")
    buyer.post(url(world, f"{change.id}/documents/{letter.id}/visa"),
               data={"sha256": letter.sha256, "qualite": "Acheteuse", "password": PASSWORD})  # fmt: skip
    db.session.refresh(change)
    assert buyer.post(url(world, f"{change.id}/acheteur/generer"), data={"version": change.version}).status_code == 302  # fmt: skip
    db.session.refresh(letter)
    assert letter.voided_at is not None
    page = page_text(buyer.get(url(world, f"{change.id}/")))
    assert "ses visas ne comptent plus" in page
    late = buyer.post(url(world, f"{change.id}/documents/{letter.id}/visa"),
                      data={"sha256": letter.sha256, "qualite": "Acheteuse", "password": PASSWORD})  # fmt: skip
    assert late.status_code == 409 and "régénéré" in page_text(late)


def test_the_contract_data_page(app, world, in_force):
    buyer = logged_in_client(app, world.buyer_lead)
    bad = buyer.post(url(world, "donnees/marche"), data={"buyer_type": "autre_pa", "procedure": "formalisee",
                                                         "vat_rate": "abc", "price_regime": "ferme", "lot": "Lot 2 — vestes"})  # fmt: skip
    assert bad.status_code == 422 and "Lot 2 — vestes" in page_text(bad)
    good = buyer.post(url(world, "donnees/marche"), data={"buyer_type": "etat", "procedure": "adaptee",
                                                          "vat_rate": "5,5", "price_regime": "revisable", "clause_article": "9.2"})  # fmt: skip
    assert good.status_code == 302
    db.session.refresh(world.contract)
    assert world.contract.vat_rate == Decimal("0.055") and world.contract.buyer_type == "etat"
    assert buyer.post(url(world, "donnees/titulaire"), data={"trade_name": "X"}).status_code == 403
    supplier = logged_in_client(app, world.supplier_lead)
    assert supplier.post(url(world, "donnees/titulaire"), data={"trade_name": "Textiles Rhône", "head_office_siret": "123"}).status_code == 422  # fmt: skip
    assert (
        supplier.post(
            url(world, "donnees/titulaire"), data={"trade_name": "Textiles Rhône"}
        ).status_code
        == 302
    )
    assert world.contract.supplier.trade_name == "Textiles Rhône"


def test_a_review_turns_its_plan_draft_into_a_change_request(app, world, in_force, member):
    from datetime import time

    from app.reviews import meeting
    from app.reviews import services as reviews

    buyer = member("buyer_lead")
    review = reviews.schedule_review(world.contract, buyer, kind="comite_pilotage", day=date.today(),
                                     at=time(9, 0), duration_minutes=60, place="Salle 3", member_ids=[buyer.user_id])  # fmt: skip
    meeting.start_meeting(review, buyer)
    meeting.open_meeting_draft(review, buyer)
    supplier = logged_in_client(app, world.supplier_contributor)
    page = page_text(supplier.get(f"/contrats/{world.contract.id}/revues/{review.id}/"))
    assert "En faire une demande de modification" in page
    response = supplier.post(url(world, f"revue/{review.id}"), data={"title": "Décidé en comité"})
    assert response.status_code == 302
    change = db.session.scalar(select(ChangeRequest))
    assert change.review_id == review.id and change.draft_version_id == review.draft_version_id
    assert "Demande de modification n° 1" in page_text(
        supplier.get(f"/contrats/{world.contract.id}/revues/{review.id}/")
    )


def test_a_request_page_reads_the_plan_in_force_with_the_request(app, world, member, in_force):
    """The band and the rebase warning both follow the plan in force, read in the request's
    own statement (services.request_shown), not in one of their own."""
    from tests.changes.test_services import _apply_directly, approved
    from tests.helpers import statements_run

    first = approved(world, member, in_force)
    second = approved(world, member, in_force, target="32")  # on the same base as the first
    client = logged_in_client(app, world.buyer_lead)
    rebase = "Le plan en vigueur a changé depuis l'ouverture de ce projet"
    with statements_run() as statements:
        page = page_text(client.get(url(world, f"{second.id}/")))
    assert "Version 1" in page.split('class="contract-band"')[1] and rebase not in page
    assert not [s for s in statements if s.startswith("SELECT plan_version")], statements
    _apply_directly(first, member("buyer_lead"))
    db.session.commit()
    page = page_text(client.get(url(world, f"{second.id}/")))
    assert "Version 2" in page.split('class="contract-band"')[1] and rebase in page
