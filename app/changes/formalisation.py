"""From an approved change request to the plan: letter or amendment, the stored documents,
the leads' visas, then the holder's acceptance (letter) or the signed and notified
amendment, which applies the change (shared/LEGAL.md §B, §C, §H).

A document is stored as the exact PDF bytes the visas are bound to (its SHA-256). Regenerating
it voids the earlier generation and its visas. The copy shown with the visa stamps is rendered
again on download (`stamped`): its stamps cite the stored original's hash."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.attachments.models import Attachment
from app.attachments.services import store_upload
from app.attachments.storage import storage
from app.auth import two_factor
from app.auth.passwords import verify_password
from app.changes import legal
from app.changes.applying import apply
from app.changes.documents import build
from app.changes.models import (
    NOTIFICATION_MODES,
    SIGNATURE_KINDS,
    ChangeDocument,
    ChangeRequest,
    ChangeVisa,
)
from app.changes.services import (
    announce,
    audit,
    check_seen,
    claim,
    clean_amount,
    clean_text,
    needs_rebase,
    notify_other_side,
    require_buyer_lead,
    require_status,
    stale_message,
    step_done,
    touch,
)
from app.contracts.models import Membership
from app.database import flush_or_conflict
from app.db_types import utcnow
from app.difficulties.deadlines import today_in_paris
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db

PDF_KINDS = ("lettre", "acceptation", "avenant")
MODIFICATIONS_MAX = 30


def proposed(change: ChangeRequest) -> str:
    return legal.proposed_formalisation({k: v.get("answer") for k, v in change.answers.items()})


# --- choosing the formalisation ----------------------------------------------------------------


def formalise(change: ChangeRequest, membership: Membership, *, seen_version: int | None,
              choice: str, reason: str) -> None:  # fmt: skip
    """The buyer lead confirms what Progrès proposes, or overrides it and says why."""
    require_buyer_lead(membership, _("Seul le référent de l'acheteur choisit la formalisation."))
    check_seen(change, seen_version)
    require_status(change, "approuvee")
    claim(change)
    if choice not in ("lettre", "avenant"):
        raise DomainError(_("Choisissez un échange de lettres ou un avenant."), "choice")
    reason = clean_text(reason, "reason")
    if choice != proposed(change) and not reason:
        raise DomainError(_("Vous ne suivez pas la proposition de Progrès : indiquez pourquoi."), "reason")  # fmt: skip
    change.formalisation, change.formalisation_reason = choice, reason
    contract = change.contract
    if choice == "avenant":
        highest = db.session.scalar(select(func.max(ChangeRequest.amendment_number))
                                    .where(ChangeRequest.contract_id == contract.id))  # fmt: skip
        change.amendment_number = (highest or 0) + 1
        if change.revised_initial_ht is None:
            change.revised_initial_ht = contract.initial_amount_ht  # B = I until the buyer says
        if not change.modifications and change.financial_impact_ht:
            change.modifications = [{"article": "", "text": change.title,
                                     "impact_ht": str(change.financial_impact_ht)}]  # fmt: skip
    change.status = "formalisation"
    step_done(change, membership, "formalisation", {"formalisation": choice, "proposee": proposed(change),
                                                "motif": reason, "avenant": change.amendment_number}, tell=lambda: (
        _("Modification n° %(n)d : formalisée par un projet d'avenant n° %(a)d.", n=change.number, a=change.amendment_number)
        if choice == "avenant" else
        _("Modification n° %(n)d : formalisée par un échange de lettres.", n=change.number)))  # fmt: skip


def update_terms(change: ChangeRequest, membership: Membership, *, seen_version: int | None,
                 data: dict) -> None:  # fmt: skip
    """What the documents say beyond the plan: the legal basis and its justification, B, the
    lines of section D, the signatories, the effective date (buyer lead, before visas)."""
    require_buyer_lead(membership, _("Seul le référent de l'acheteur rédige les documents."))
    check_seen(change, seen_version)
    require_status(change, "formalisation")
    claim(change)
    if change.is_amendment:
        _amendment_terms(change, data)
    change.signatory_name = clean_text(data.get("signatory_name", ""), "signatory_name")[:200]
    change.signatory_qualite = clean_text(data.get("signatory_qualite", ""), "signatory_qualite")[
        :200
    ]
    change.holder_signatory_name = clean_text(
        data.get("holder_signatory_name", ""), "holder_signatory_name"
    )[:200]
    change.holder_signatory_qualite = clean_text(
        data.get("holder_signatory_qualite", ""), "holder_signatory_qualite"
    )[:200]
    change.effective_date = data.get("effective_date")
    step_done(change, membership, "documents_completes", {"fondement": change.legal_basis,
          "b": change.revised_initial_ht, "lignes": len(change.modifications)})  # fmt: skip


def _amendment_terms(change: ChangeRequest, data: dict) -> None:
    basis = data.get("legal_basis") or None
    if basis is not None and basis not in legal.BASES:
        raise DomainError(_("Choisissez un fondement juridique dans la liste."), "legal_basis")
    if basis == "R2194-1" and not change.contract.clause_is_review_clause:
        raise DomainError(_("La clause du marché a été déclarée ne pas être une clause de réexamen : "
                            "l'article R2194-1 ne peut pas fonder cet avenant."), "legal_basis")  # fmt: skip
    if basis == "sans_incidence" and change.financial_impact_ht:
        raise DomainError(_("Cet avenant a une incidence financière : choisissez un autre fondement."), "legal_basis")  # fmt: skip
    change.legal_basis = basis
    change.basis_justification = clean_text(
        data.get("basis_justification", ""), "basis_justification"
    )
    revised = clean_amount(data.get("revised_initial_ht"), "revised_initial_ht", allow_none=True)
    if revised is not None and revised <= 0:
        raise DomainError(_("Le montant après variation des prix doit être positif."), "revised_initial_ht")  # fmt: skip
    change.revised_initial_ht = revised
    change.touches_price_formula = bool(data.get("touches_price_formula"))
    change.r2194_7_answers = {k: bool(data.get(f"r7_{k}")) for k, _t in legal.R2194_7_QUESTIONS}
    lines = []
    for line in data.get("modifications", [])[:MODIFICATIONS_MAX]:
        article, text = clean_text(line.get("article", ""), "modifications")[:200], clean_text(line.get("text", ""), "modifications")  # fmt: skip
        if not article and not text:
            continue
        impact = clean_amount(line.get("impact_ht"), "modifications")
        lines.append({"article": article, "text": text, "impact_ht": str(impact)})
    change.modifications = lines


# --- documents --------------------------------------------------------------------------------


def current_documents(change: ChangeRequest) -> dict[str, ChangeDocument]:
    """The documents that count, by kind (the newest generation, unless voided)."""
    result = {}
    for document in change.documents:
        if document.voided_at is None:
            result[document.kind] = document
    return result


def valid_visas(document: ChangeDocument | None) -> dict[str, ChangeVisa]:
    if document is None or document.is_void:
        return {}
    return {v.side: v for v in document.visas if v.sha256 == document.sha256}


def _store(
    change: ChangeRequest, kind: str, data: bytes, name: str, mime: str, membership
) -> ChangeDocument:
    digest = hashlib.sha256(data).hexdigest()
    attachment = Attachment(
        contract_id=change.contract_id, storage_key=uuid.uuid4().hex, display_name=name,
        size=len(data), mime=mime, sha256=digest, uploaded_by_id=membership.user_id,
    )  # fmt: skip
    storage().save(change.contract_id, attachment.storage_key, data)
    db.session.info.setdefault("files_written", []).append(
        (change.contract_id, attachment.storage_key)
    )
    db.session.add(attachment)
    generation = 1 + max((d.generation for d in change.documents if d.kind == kind), default=0)
    document = ChangeDocument(change_request=change, kind=kind, generation=generation,
                              attachment=attachment, sha256=digest, created_by=membership.user)  # fmt: skip
    db.session.add(document)
    return document


def file_name(change: ChangeRequest, kind: str) -> str:
    ref = change.contract.reference
    return {
        "lettre": f"courrier-evolution-{change.number}-{ref}.pdf",
        "acceptation": f"accord-titulaire-evolution-{change.number}-{ref}.pdf",
        "avenant": f"projet-avenant-{change.amendment_number}-{ref}.pdf",
        "avenant_docx": f"projet-avenant-{change.amendment_number}-{ref}.docx",
    }[kind]


def _check_ready(change: ChangeRequest) -> None:
    if needs_rebase(change):
        raise DomainError(_("Le plan en vigueur a changé depuis l'ouverture du projet : mettez le projet à jour avant de générer les documents."))  # fmt: skip
    if not change.signatory_name:
        raise DomainError(_("Indiquez le nom et la qualité du signataire pour l'acheteur."), "signatory_name")  # fmt: skip
    if change.is_amendment and not change.legal_basis:
        raise DomainError(_("Choisissez le fondement juridique de l'avenant."), "legal_basis")


def generate(change: ChangeRequest, membership: Membership, *, seen_version: int | None,
             today: date | None = None) -> list[ChangeDocument]:  # fmt: skip
    """(Re)generate the formalisation's documents; earlier generations and their visas are
    voided. Letter: the buyer's letter and the holder's acceptance, which cites its hash.
    Amendment: the PDF, and the DOCX whose note cites the PDF's hash."""
    from app.changes.documents.docx import amendment_docx
    from app.changes.documents.render import acceptance_pdf, amendment_pdf, letter_pdf

    require_buyer_lead(membership, _("Seul le référent de l'acheteur génère les documents."))
    check_seen(change, seen_version)
    require_status(change, "formalisation")
    claim(change)
    _check_ready(change)
    today = today or today_in_paris()
    voided = list(current_documents(change).values())
    for document in voided:
        document.voided_at = utcnow()
    if change.is_amendment:
        pdf = amendment_pdf(build.amendment_document(change, today=today, draft_date=today))
        stored = _store(
            change, "avenant", pdf, file_name(change, "avenant"), "application/pdf", membership
        )
        docx = amendment_docx(
            build.amendment_document(
                change, today=today, draft_date=today, pdf_sha256=stored.sha256
            )
        )
        documents = [stored, _store(change, "avenant_docx", docx, file_name(change, "avenant_docx"),
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", membership)]  # fmt: skip
    else:
        letter = _store(change, "lettre", letter_pdf(build.letter_document(change, today=today)),
                        file_name(change, "lettre"), "application/pdf", membership)  # fmt: skip
        acceptance = acceptance_pdf(build.acceptance_document(
            change, letter_date=today, letter_sha256=letter.sha256, today=today))  # fmt: skip
        documents = [letter, _store(change, "acceptation", acceptance, file_name(change, "acceptation"),
                                    "application/pdf", membership)]  # fmt: skip
    step_done(change, membership, "documents_generes", {
        "documents": {d.kind: d.sha256 for d in documents}, "visas_annules": sum(len(d.visas) for d in voided)}, tell=lambda: _(
        "Modification n° %(n)d : les documents sont prêts pour les visas.", n=change.number))  # fmt: skip
    return documents


def document_in_request(change: ChangeRequest, document_id: int) -> ChangeDocument | None:
    return db.session.scalar(select(ChangeDocument).where(
        ChangeDocument.id == document_id, ChangeDocument.change_request_id == change.id))  # fmt: skip


def read(document: ChangeDocument) -> bytes:
    return storage().load(document.attachment.contract_id, document.attachment.storage_key)


def is_intact(document: ChangeDocument) -> bool:
    """The stored bytes still have the SHA-256 recorded at generation (what visas bind to)."""
    try:
        return hashlib.sha256(read(document)).hexdigest() == document.sha256
    except OSError:
        return False


# --- visas -------------------------------------------------------------------------------------

# Who gives a visa on what: the letter is the buyer's, the acceptance the holder's, the
# amendment draft both leads'.
VISA_SIDES = {
    "lettre": ("acheteur",),
    "acceptation": ("titulaire",),
    "avenant": ("acheteur", "titulaire"),
}


def give_visa(document: ChangeDocument, membership: Membership, *, password: str,
              qualite: str, seen_sha256: str, code: str = "") -> ChangeVisa:  # fmt: skip
    """« Viser »: a lead approves the stored document, after typing their password again (and a
    code of their app, when they or the contract have the two-factor authentication)."""
    change = document.change_request
    if not membership.is_lead:
        raise NotAllowed(_("Seuls les référents donnent leur visa."))
    if membership.side not in VISA_SIDES.get(document.kind, ()):
        raise NotAllowed(_("Ce document ne reçoit pas le visa de votre partie."))
    require_status(change, "formalisation")
    if document.is_void or seen_sha256 != document.sha256:
        raise Conflict(_("Ce document a été régénéré depuis que vous l'avez ouvert : relisez la nouvelle version avant de la viser."))  # fmt: skip
    if not is_intact(document):
        raise Conflict(_("Document modifié : le fichier enregistré ne correspond plus à son empreinte. Régénérez-le avant de le viser."))  # fmt: skip
    if document.kind == "acceptation" and "acheteur" not in valid_visas(
        current_documents(change).get("lettre")
    ):
        raise DomainError(_("Le courrier de l'acheteur doit d'abord recevoir son visa."))
    if membership.side in valid_visas(document):
        raise Conflict(_("Votre partie a déjà visé ce document."))
    if not verify_password(membership.user.password_hash, password):
        raise DomainError(_("Mot de passe incorrect : le visa n'a pas été donné."), "password")
    two_factor.check_for_visa(membership.user, change.contract.visa_requires_2fa, code)
    qualite = clean_text(qualite, "qualite")[:200]
    if not qualite:
        raise DomainError(
            _("Indiquez votre qualité (par exemple : acheteuse référente)."), "qualite"
        )
    membership.qualite = qualite
    organisation = change.contract.organisation_of(membership.side)
    event = audit(change, "visa", membership, {"document": document.kind, "generation": document.generation,
                                               "cote": membership.side, "sha256": document.sha256})  # fmt: skip
    visa = ChangeVisa(document=document, side=membership.side, user_id=membership.user_id,
                      full_name=membership.user.full_name, organisation_name=organisation.name,
                      qualite=qualite, sha256=document.sha256, given_at=utcnow(), audit_seq=event.seq)  # fmt: skip
    db.session.add(visa)
    _flush_visa()
    if document.kind == "acceptation" and change.contract.acceptance_by_visa:
        _accepted(change, membership)
    notify_other_side(change, membership, lambda: _(
        "Modification n° %(n)d : %(name)s a visé le document.", n=change.number, name=membership.user.full_name))  # fmt: skip
    announce(change)
    db.session.commit()
    return visa


def _flush_visa() -> None:
    """Both leads may give their visa at the same moment (the change's row is not touched, so
    neither is refused); two visas of one side collide on UNIQUE(document, side): a 409."""
    from sqlalchemy.exc import IntegrityError

    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("Votre partie a déjà visé ce document.")) from error


def _accepted(change: ChangeRequest, membership: Membership) -> None:
    touch(change)
    change.accepted_at = utcnow()
    audit(change, "acceptation_enregistree", membership)
    apply(change, membership)


def record_acceptance_letter(change: ChangeRequest, membership: Membership, *, seen_version: int | None,
                             file, received_on: date | None) -> None:  # fmt: skip
    """The holder's signed reply to the letter, uploaded by either lead: the letter exchange
    is complete and the change applies."""
    if not membership.is_lead:
        raise NotAllowed(_("Seuls les référents enregistrent l'accord du titulaire."))
    check_seen(change, seen_version)
    require_status(change, "formalisation")
    claim(change)
    if change.is_amendment:
        raise DomainError(_("Un avenant s'applique une fois signé et notifié, pas sur un accord par courrier."))  # fmt: skip
    if "acheteur" not in valid_visas(current_documents(change).get("lettre")):
        raise DomainError(_("Le courrier de l'acheteur doit d'abord recevoir son visa."))
    if file is None or not file.filename:
        raise DomainError(_("Joignez l'accord signé du titulaire."), "file")
    change.acceptance_attachment = store_upload(change.contract, file, membership.user)
    touch(change)
    _accepted(change, membership)
    if received_on:
        audit(change, "accord_recu", membership, {"recu_le": received_on})
    flush_or_conflict(stale_message())
    announce(change)
    db.session.commit()


# --- amendment: signature outside Progrès, notification ----------------------------------------


def transmit(change: ChangeRequest, membership: Membership, *, seen_version: int | None) -> None:
    """« Transmettre pour signature »: both leads' visas are on the current PDF."""
    require_buyer_lead(membership, _("Seul le référent de l'acheteur transmet l'avenant à la signature."))  # fmt: skip
    check_seen(change, seen_version)
    require_status(change, "formalisation")
    claim(change)
    if not change.is_amendment:
        raise DomainError(_("Seul un avenant se transmet pour signature."))
    if set(valid_visas(current_documents(change).get("avenant"))) != {"acheteur", "titulaire"}:
        raise DomainError(
            _("Le projet d'avenant doit d'abord recevoir le visa des deux référents.")
        )
    change.status, change.transmitted_at = "signature", utcnow()
    step_done(change, membership, "transmise_pour_signature", tell=lambda: _(
        "Avenant n° %(a)d transmis pour signature aux représentants habilités.", a=change.amendment_number))  # fmt: skip


def record_signature(change: ChangeRequest, membership: Membership, *, seen_version: int | None,
                     file, kind: str, signatories: list[dict]) -> None:  # fmt: skip
    require_buyer_lead(membership, _("Seul le référent de l'acheteur enregistre l'avenant signé."))
    check_seen(change, seen_version)
    require_status(change, "signature")
    claim(change)
    if kind not in SIGNATURE_KINDS:
        raise DomainError(_("Choisissez le type de signature."), "signature_kind")
    people = [{"name": clean_text(s.get("name", ""), "signatories")[:200],
               "qualite": clean_text(s.get("qualite", ""), "signatories")[:200],
               "side": s.get("side") if s.get("side") in ("acheteur", "titulaire") else "acheteur",
               "delegation": bool(s.get("delegation"))} for s in signatories if (s.get("name") or "").strip()]  # fmt: skip
    if {p["side"] for p in people} != {"acheteur", "titulaire"}:
        raise DomainError(_("Indiquez au moins un signataire pour chaque partie, avec sa qualité."), "signatories")  # fmt: skip
    if file is None or not file.filename:
        raise DomainError(_("Joignez l'avenant signé."), "file")
    change.signed_attachment = store_upload(change.contract, file, membership.user)
    change.signature_kind, change.signatories = kind, people
    change.status = "signee"
    step_done(change, membership, "signee", {"type": kind, "signataires": people,
                                         "sha256": change.signed_attachment.sha256}, tell=lambda: _(
        "Avenant n° %(a)d signé : reste à le notifier au titulaire.", a=change.amendment_number))  # fmt: skip


def record_notification(change: ChangeRequest, membership: Membership, *, seen_version: int | None,
                        mode: str, notified_at: datetime | None) -> bool:  # fmt: skip
    """The amendment takes effect on notification: the change applies now (True), or waits
    for the draft's update when the plan in force moved on (False)."""
    require_buyer_lead(membership, _("Seul le référent de l'acheteur enregistre la notification."))
    check_seen(change, seen_version)
    require_status(change, "signee")
    claim(change)
    if mode not in NOTIFICATION_MODES:
        raise DomainError(_("Choisissez le mode de notification."), "notification_mode")
    if notified_at is None:
        raise DomainError(_("Indiquez la date et l'heure de la notification."), "notified_at")
    if notified_at > utcnow():
        raise DomainError(_("La notification ne peut pas être datée dans le futur."), "notified_at")
    change.notification_mode, change.notified_at = mode, notified_at
    touch(change)
    audit(change, "notifiee", membership, {"mode": mode, "le": notified_at})
    applied = apply(change, membership)
    flush_or_conflict(stale_message())
    announce(change)
    db.session.commit()
    return applied
