"""SECURITY.md catalogue 18, 31 and 37: a visa needs the password again, is bound to the
SHA-256 of the stored document, and two people acting at once never apply a change twice."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.changes import formalisation
from app.changes import stamped as stamped_copy
from app.changes.models import ChangeRequest, ChangeVisa
from app.errors import Conflict, DomainError
from app.extensions import db
from app.plan.models import PlanVersion
from tests.changes.conftest import membership_of
from tests.changes.test_services import approved
from tests.factories import PASSWORD
from tests.helpers import logged_in_client, page_text

YES = {**{k: {"answer": False, "note": ""} for k in ("prix", "obligations", "paiement", "perimetre")},
       "prix": {"answer": True, "note": "Prix nouveau"}}  # fmt: skip


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "pieces")}


@pytest.fixture
def amendment(world, in_force):
    from tests.changes.conftest import membership_of as m

    def member(role):
        return m(world, world.role(role))

    change = approved(world, member, in_force, answers=YES, impact="12000")
    buyer = member("buyer_lead")
    formalisation.formalise(change, buyer, seen_version=change.version, choice="avenant", reason="")
    formalisation.update_terms(change, buyer, seen_version=change.version,
                               data={"legal_basis": "R2194-8", "signatory_name": "Claire"})  # fmt: skip
    formalisation.generate(change, buyer, seen_version=change.version)
    return change


def _pdf(change):
    return formalisation.current_documents(change)["avenant"]


def _visas(change) -> int:
    return db.session.scalar(select(func.count()).select_from(ChangeVisa))


def test_signoff_requires_reauth(app, world, amendment):
    """No visa without the password typed again; with it, the visa is given and audited."""
    document = _pdf(amendment)
    buyer = membership_of(world, world.buyer_lead)
    for password in ("", "pas-le-bon"):
        with pytest.raises(DomainError, match="Mot de passe incorrect"):
            formalisation.give_visa(document, buyer, password=password, qualite="Acheteuse",
                                    seen_sha256=document.sha256)  # fmt: skip
        db.session.rollback()
    assert _visas(amendment) == 0
    client = logged_in_client(app, world.buyer_lead)
    url = f"/contrats/{world.contract.id}/modifications/{amendment.id}/documents/{document.id}/visa"
    assert (
        client.post(url, data={"sha256": document.sha256, "qualite": "Acheteuse"}).status_code
        == 422
    )
    assert client.post(url, data={"sha256": document.sha256, "qualite": "Acheteuse", "password": PASSWORD}).status_code == 302  # fmt: skip
    visa = db.session.scalar(select(ChangeVisa))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "modification.visa"))
    assert visa.user_id == world.buyer_lead.id and event.seq == visa.audit_seq
    assert document.sha256 in event.payload and PASSWORD not in event.payload


def test_signoff_bound_to_document_sha256(app, world, amendment):
    """The recorded hash is the stored bytes'; one flipped byte shows « Document modifié » and
    refuses the visa; a visa on a stale hash is a 409; the stamped copy carries the hash and
    the visa's place in the audit chain."""
    document = _pdf(amendment)
    stored = formalisation.read(document)
    assert hashlib.sha256(stored).hexdigest() == document.sha256
    supplier = membership_of(world, world.supplier_lead)
    with pytest.raises(Conflict):
        formalisation.give_visa(document, supplier, password=PASSWORD, qualite="Présidente", seen_sha256="0" * 64)  # fmt: skip
    db.session.rollback()
    formalisation.give_visa(document, supplier, password=PASSWORD, qualite="Présidente", seen_sha256=document.sha256)  # fmt: skip
    from tests.changes.test_routes import text_of

    stamped = text_of(stamped_copy.stamped_pdf(document))
    visa = db.session.scalar(select(ChangeVisa))
    head = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == visa.audit_seq,
                                                           AuditEvent.contract_id == world.contract.id))  # fmt: skip
    assert f"empreinte SHA-256 : {document.sha256}" in stamped
    assert f"Journal d'audit : n° {visa.audit_seq}, {head[:16]}" in stamped
    path = formalisation.storage().path(
        document.attachment.contract_id, document.attachment.storage_key
    )
    tampered = bytearray(stored)
    tampered[len(tampered) // 2] ^= 0x01
    path.write_bytes(bytes(tampered))
    assert not formalisation.is_intact(document)
    page = page_text(logged_in_client(app, world.buyer_lead).get(
        f"/contrats/{world.contract.id}/modifications/{amendment.id}/"))  # fmt: skip
    assert "Document modifié" in page
    with pytest.raises(Conflict, match="Document modifié"):
        formalisation.give_visa(document, membership_of(world, world.buyer_lead), password=PASSWORD,
                                qualite="Acheteuse", seen_sha256=document.sha256)  # fmt: skip


def test_stamped_copy_rendered_once_per_set_of_visas(world, amendment, monkeypatch):
    """The stamped copy is kept by what it is made of: downloading it again does not render it
    again, and the next visa gives a new copy that carries both stamps."""
    from tests.changes.test_routes import text_of

    document = _pdf(amendment)
    renders = []
    render = stamped_copy._render_stamped
    monkeypatch.setattr(stamped_copy, "_render_stamped",
                        lambda *args: renders.append(args) or render(*args))  # fmt: skip
    formalisation.give_visa(document, membership_of(world, world.supplier_lead), password=PASSWORD,
                            qualite="Présidente", seen_sha256=document.sha256)  # fmt: skip
    first = stamped_copy.stamped_pdf(document)
    assert stamped_copy.stamped_pdf(document) == first and len(renders) == 1
    formalisation.give_visa(document, membership_of(world, world.buyer_lead), password=PASSWORD,
                            qualite="Acheteuse", seen_sha256=document.sha256)  # fmt: skip
    both = text_of(stamped_copy.stamped_pdf(document))
    assert len(renders) == 2 and "Présidente" in both and "Acheteuse" in both


def _at_once(app, actions) -> list[str]:
    """Run each action in its own thread and session, released together; their outcomes."""
    barrier, outcomes, lock = threading.Barrier(len(actions)), [], threading.Lock()

    def run(action):
        with app.app_context():
            barrier.wait()
            try:
                action()
                outcome = "ok"
            except Conflict:
                outcome = "409"
            except Exception as error:
                outcome = repr(error)
            finally:
                db.session.rollback()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_signoff_and_apply_race(app, world, amendment):
    """Both leads give their visa at the same moment: both count, once each. The notification
    (which applies the amendment) sent twice at once: one new plan version, the other a 409,
    one audit entry."""
    change_id, document_id = amendment.id, _pdf(amendment).id
    sha, contract_id = _pdf(amendment).sha256, world.contract.id
    leads = {side: membership_of(world, user).id for side, user in
             (("acheteur", world.buyer_lead), ("titulaire", world.supplier_lead))}  # fmt: skip
    db.session.commit()

    def visa(side):
        def action():
            from app.changes.models import ChangeDocument
            from app.contracts.models import Membership

            formalisation.give_visa(db.session.get(ChangeDocument, document_id), db.session.get(Membership, leads[side]),
                                    password=PASSWORD, qualite="Référent", seen_sha256=sha)  # fmt: skip

        return action

    assert _at_once(app, [visa("acheteur"), visa("titulaire"), visa("titulaire")]) == [
        "409",
        "ok",
        "ok",
    ]
    db.session.expire_all()
    assert set(formalisation.valid_visas(_pdf(db.session.get(ChangeRequest, change_id)))) == {
        "acheteur",
        "titulaire",
    }
    change = db.session.get(ChangeRequest, change_id)
    buyer = membership_of(world, world.buyer_lead)
    formalisation.transmit(change, buyer, seen_version=change.version)
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    formalisation.record_signature(change, buyer, seen_version=change.version, kind="manuscrite",
        file=FileStorage(BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), filename="signe.pdf"),
        signatories=[{"name": "A", "qualite": "Gérant", "side": "titulaire"},
                     {"name": "B", "qualite": "VP", "side": "acheteur"}])  # fmt: skip
    seen, buyer_id = change.version, buyer.id
    db.session.commit()

    def notify():
        from app.contracts.models import Membership

        formalisation.record_notification(
            db.session.get(ChangeRequest, change_id),
            db.session.get(Membership, buyer_id),
            seen_version=seen,
            mode="recepisse",
            notified_at=datetime.now(UTC) - timedelta(hours=1),
        )

    assert _at_once(app, [notify, notify]) == ["409", "ok"]
    db.session.expire_all()
    current = db.session.scalars(
        select(PlanVersion).where(PlanVersion.status == "en_vigueur")
    ).all()
    assert [v.number for v in current if v.plan.contract_id == contract_id] == [2]
    applied = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "modification.appliquee"))  # fmt: skip
    assert applied == 1
