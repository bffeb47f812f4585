"""From the database to the documents' plain data (context.py) and to the legal computations'
inputs (legal.py, legal_warnings.py): the one place that knows both."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import wraps

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from app.changes import legal, legal_warnings
from app.changes.documents.context import (
    AcceptanceDocument,
    AmendmentDocument,
    ContractInfo,
    DiffLine,
    LetterDocument,
    Modification,
    Party,
    Signatory,
    VisaStamp,
)
from app.changes.models import ChangeRequest, ChangeVisa
from app.contracts.models import Contract
from app.database import built_once
from app.difficulties.deadlines import PARIS, today_in_paris
from app.extensions import db
from app.plan import versions
from app.plan.forms import display_value, field_label


def contract_terms(contract: Contract) -> legal.ContractTerms:
    return legal.ContractTerms(
        category=contract.category, buyer_type=contract.buyer_type, procedure=contract.procedure,
        awarded_by_cao=contract.awarded_by_cao, collectivite=contract.buyer_is_collectivite,
        initial_ht=Decimal(contract.initial_amount_ht), vat_rate=Decimal(contract.vat_rate),
        consultation_date=contract.consultation_date,
        review_clause=contract.clause_is_review_clause,
    )  # fmt: skip


def amendments_of(contract: Contract) -> list[ChangeRequest]:
    """Every amendment numbered for the contract and still alive, in number order."""
    return list(db.session.scalars(_amendments_of(), {"contract_id": contract.id}))


@built_once
def _amendments_of():
    return (
        select(ChangeRequest)
        .where(
            ChangeRequest.contract_id == bindparam("contract_id"),
            ChangeRequest.amendment_number.is_not(None),
            ChangeRequest.status.not_in(("refusee", "retiree")),
        )
        .order_by(ChangeRequest.amendment_number)
    )


def modification_date(change: ChangeRequest, today: date) -> date:
    return change.notified_at.astimezone(PARIS).date() if change.notified_at else today


def figures(change: ChangeRequest, today: date) -> legal.AmendmentFigures:
    notified = change.notified_at.astimezone(PARIS).date() if change.notified_at else None
    return legal.AmendmentFigures(
        number=change.amendment_number, basis=change.legal_basis or "sans_incidence",
        amount_ht=Decimal(change.financial_impact_ht), on=modification_date(change, today),
        revised_initial_ht=(Decimal(change.revised_initial_ht)
                            if change.revised_initial_ht is not None else None),
        notified_on=notified,
    )  # fmt: skip


def assessment(change: ChangeRequest, today: date | None = None) -> legal_warnings.Assessment:
    today = today or today_in_paris()
    answers = {k: bool(v) for k, v in (change.r2194_7_answers or {}).items()}
    return legal_warnings.assess(
        contract_terms(change.contract),
        [figures(a, today) for a in amendments_of(change.contract)],
        change.amendment_number,
        r2194_7_answers=answers or None,
        touches_price_formula=change.touches_price_formula,
        notified=change.notified_at is not None,
    )


def contract_info(contract: Contract) -> ContractInfo:
    return ContractInfo(
        reference=contract.reference, object=contract.object, lot=contract.lot,
        notification_date=contract.notification_date, duration_months=contract.duration_months,
        vat_rate=Decimal(contract.vat_rate), initial_ht=Decimal(contract.initial_amount_ht),
        ccap_article=contract.clause_article, buyer_is_state=contract.buyer_type == "etat",
        place=contract.signing_place,
    )  # fmt: skip


def buyer_party(contract: Contract) -> Party:
    buyer = contract.buyer
    designation = buyer.name + (f" — {contract.buyer_service}" if contract.buyer_service else "")
    return Party(designation=designation, address=contract.buyer_address or buyer.address,
                 email=buyer.email, phone=buyer.phone, siret=buyer.siret)  # fmt: skip


def holder_party(contract: Contract) -> Party:
    holder = contract.supplier
    return Party(
        designation=holder.name, trade_name=holder.trade_name, address=holder.address,
        head_office_address=holder.head_office_address, email=holder.email, phone=holder.phone,
        siret=holder.siret, head_office_siret=holder.head_office_siret,
    )  # fmt: skip


def diff_lines(change: ChangeRequest) -> list[DiffLine]:
    from app.changes.services import change_set

    lines = []
    for entry in change_set(change):
        item = f"{versions.KIND_LABELS[entry.kind]} « {entry.label} »"
        status = str(versions.DIFF_STATUSES[entry.status])
        if not entry.fields:
            lines.append(DiffLine(item=item, change=status))
        for name, before, after in entry.fields:
            lines.append(DiffLine(
                item=item, change=status, field=field_label(name, entry.kind),
                before=display_value(before, name, entry.kind),
                after=display_value(after, name, entry.kind),
            ))  # fmt: skip
    return lines


def stamps(visas: list[ChangeVisa]) -> list[VisaStamp]:
    return [VisaStamp(full_name=v.full_name, qualite=v.qualite, organisation=v.organisation_name,
                      given_at=v.given_at, sha256=v.sha256, side=v.side, audit=_audit_ref(v))
            for v in visas]  # fmt: skip


def _audit_ref(visa: ChangeVisa) -> str:
    """Where the visa sits in the contract's audit chain: its number and the start of its hash,
    which `flask audit verify` recomputes (the stamp anchors the PDF to the chain)."""
    from app.audit.models import AuditEvent
    from app.audit.services import chain_of

    if visa.audit_seq is None:
        return ""
    contract_id = visa.document.change_request.contract_id
    digest = db.session.scalar(select(AuditEvent.hash).where(
        AuditEvent.chain == chain_of(contract_id), AuditEvent.seq == visa.audit_seq))  # fmt: skip
    return f"n° {visa.audit_seq}, {digest[:16]}" if digest else ""


def in_french(build):
    """A document is French whatever the language of the person generating it: its labels,
    field names and values are read in French (the rendering is French too)."""

    @wraps(build)
    def building(*args, **kwargs):
        with force_locale("fr"):
            return build(*args, **kwargs)

    return building


def _diff_title(change: ChangeRequest) -> tuple[str, str]:
    from app.changes.services import base_of

    base = base_of(change)
    old = base.number if base is not None else 0
    return _("version %(n)d", n=old), _("version %(n)d", n=old + 1)


@in_french
def amendment_document(change: ChangeRequest, *, today: date | None = None,
                       visas: list[ChangeVisa] | None = None, pdf_sha256: str = "",
                       draft_date: date | None = None) -> AmendmentDocument:  # fmt: skip
    today = today or today_in_paris()
    result = assessment(change, today)
    contract = change.contract
    old, new = _diff_title(change)
    holder_signatory = (Signatory(change.holder_signatory_name, change.holder_signatory_qualite)
                        if change.holder_signatory_name else None)  # fmt: skip
    cao = any(w.code == "W9" for w in result.warnings)
    return AmendmentDocument(
        number=change.amendment_number, contract=contract_info(contract),
        buyer=buyer_party(contract), holder=holder_party(contract),
        draft_date=draft_date or today,
        modifications=[Modification(m["article"], m["text"], Decimal(str(m["impact_ht"])))
                       for m in change.modifications],
        basis=change.legal_basis or "sans_incidence",
        basis_label=legal.BASIS_LABELS[change.legal_basis or "sans_incidence"],
        justification=change.basis_justification,
        amount_ht=Decimal(change.financial_impact_ht), history=result.history,
        threshold=result.current.threshold, other_threshold=result.other_threshold,
        warnings=result.warnings, cao_opinion=cao,
        diff_title=_("Évolution du plan de progrès : %(old)s → %(new)s", old=old, new=new),
        diff=diff_lines(change), holder_signatory=holder_signatory,
        visas=stamps(visas or []),
        pending_sides=[] if visas else ["titulaire", "acheteur"],
        print_warnings=contract.print_vigilance, pdf_sha256=pdf_sha256,
    )  # fmt: skip


def occasion(change: ChangeRequest) -> str:
    if change.review_id is not None:
        from app.reviews.models import Review

        review = db.session.get(Review, change.review_id)
        return _("la revue du %(day)s", day=review.starts_at.astimezone(PARIS).strftime("%d/%m/%Y"))
    return _("la demande de modification n° %(n)d", n=change.number)


@in_french
def letter_document(change: ChangeRequest, *, today: date | None = None,
                    visas: list[ChangeVisa] | None = None, letter_date: date | None = None) -> LetterDocument:  # fmt: skip
    contract = change.contract
    old, new = _diff_title(change)
    return LetterDocument(
        change_number=change.number, from_label=old, to_label=new,
        contract=contract_info(contract), buyer=buyer_party(contract),
        holder=holder_party(contract), letter_date=letter_date or today or today_in_paris(),
        occasion=occasion(change), diff=diff_lines(change),
        effective=change.effective_date.strftime("%d/%m/%Y") if change.effective_date else "",
        buyer_signatory=Signatory(change.signatory_name, change.signatory_qualite),
        visas=stamps(visas or []), pending_sides=[] if visas else ["acheteur"],
    )  # fmt: skip


@in_french
def acceptance_document(change: ChangeRequest, *, letter_date: date, letter_sha256: str,
                        today: date | None = None, visas: list[ChangeVisa] | None = None,
                        acceptance_date: date | None = None) -> AcceptanceDocument:  # fmt: skip
    contract = change.contract
    return AcceptanceDocument(
        change_number=change.number, contract=contract_info(contract),
        buyer=buyer_party(contract), holder=holder_party(contract), letter_date=letter_date,
        letter_sha256=letter_sha256,
        acceptance_date=acceptance_date or today or today_in_paris(), diff=diff_lines(change),
        holder_signatory=Signatory(change.holder_signatory_name, change.holder_signatory_qualite),
        visas=stamps(visas or []), pending_sides=[] if visas else ["titulaire"],
    )  # fmt: skip
