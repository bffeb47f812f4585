"""A change request's life up to its formalisation: opened from the plan in force (or by a
review), co-edited as a draft version, submitted, approved or refused by the buyer lead, or
withdrawn by its author (DESIGN §3.5). Formalisation, visas and application are in
`formalisation.py` and `applying.py`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased, joinedload

from app.audit.services import record
from app.changes.legal import QUESTIONS
from app.changes.models import PENDING, STATUSES, ChangeDocument, ChangeRequest
from app.contracts.models import Contract, Membership
from app.database import built_once, flush_or_conflict
from app.db_types import utcnow
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.live import channel, publish_after_commit
from app.permissions import Permission
from app.plan import versions
from app.plan.models import Plan, PlanVersion

TITLE_MAX = 200
TEXT_MAX = 20_000


def stale_message() -> str:
    return _("Cette demande a changé entre-temps (une autre personne l'a fait avancer) : "
             "rechargez la page pour voir où elle en est.")  # fmt: skip


# --- reading --------------------------------------------------------------------------------


def requests_of(contract: Contract) -> list[ChangeRequest]:
    return list(
        db.session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.contract_id == contract.id)
            .order_by(ChangeRequest.number.desc())
        )
    )


def pending_of(contract: Contract) -> list[ChangeRequest]:
    return [r for r in requests_of(contract) if r.status in PENDING]


def request_shown(contract: Contract, request_id: int) -> ChangeRequest | None:
    """The request with what its page shows of it, read with it rather than one query each
    when the template reaches it (bench/'s amendment: 17 queries → 4 for the whole page): its
    author (most often the other side), its draft and base, its documents with their files and
    visas, and the contract's plan in force (the band's, and the rebase check's: told to
    versions.plan_in_force_shown), all in one statement (its few documents and visas joined:
    a second statement for them cost more than the rows it spared). Its decider, most often
    the buyer's lead reading it, is left to the identity map."""
    found = db.session.execute(_request_shown(), {"contract_id": contract.id, "id": request_id})
    row = found.unique().one_or_none()
    if row is None:
        return None
    change, in_force = row
    versions.remember_plan_in_force(contract, in_force)
    return change


@built_once
def _request_shown():
    in_force = aliased(PlanVersion)
    return (
        select(ChangeRequest, in_force)
        .outerjoin(Plan, Plan.contract_id == ChangeRequest.contract_id)
        .outerjoin(in_force, (in_force.plan_id == Plan.id) & (in_force.status == "en_vigueur"))
        .where(
            ChangeRequest.id == bindparam("id"),
            ChangeRequest.contract_id == bindparam("contract_id"),
        )
        .options(
            joinedload(ChangeRequest.author),
            joinedload(ChangeRequest.draft_version).joinedload(PlanVersion.base),
            joinedload(ChangeRequest.documents).options(
                joinedload(ChangeDocument.attachment), joinedload(ChangeDocument.visas)
            ),
        )
    )


def request_in_contract(contract: Contract, request_id: int) -> ChangeRequest | None:
    return db.session.scalar(
        select(ChangeRequest).where(
            ChangeRequest.id == request_id, ChangeRequest.contract_id == contract.id
        )
    )


def request_for_draft(version: PlanVersion) -> ChangeRequest | None:
    return db.session.scalar(
        select(ChangeRequest).where(ChangeRequest.draft_version_id == version.id)
    )


def base_of(change: ChangeRequest) -> PlanVersion | None:
    """What the change is compared with: the version it replaced once applied, else its base."""
    if change.replaced_version_id is not None:
        return change.replaced_version
    return change.draft_version.base


def change_set(change: ChangeRequest) -> list[versions.ItemDiff]:
    base = base_of(change)
    return versions.diff(base, change.draft_version) if base is not None else []


def needs_rebase(change: ChangeRequest, in_force=versions.plan_in_force) -> bool:
    """The version in force moved on since the draft was copied from it (`in_force` reads
    it: a page passes the reading it shows in its band)."""
    if change.status in ("appliquee", "refusee", "retiree"):
        return False
    current = in_force(change.contract)
    return current is not None and change.draft_version.base_id != current.id


# --- shared checks ---------------------------------------------------------------------------


def check_seen(change: ChangeRequest, seen_version: int | None) -> None:
    if seen_version is None or change.version != seen_version:
        raise Conflict(stale_message())


def require(membership: Membership, permission: Permission, message: str) -> None:
    if not membership.may(permission):
        raise NotAllowed(message)


def require_buyer_lead(membership: Membership, message: str) -> None:
    if membership.side != "acheteur" or not membership.is_lead:
        raise NotAllowed(message)


def require_status(change: ChangeRequest, *allowed: str) -> None:
    if change.status not in allowed:
        raise Conflict(
            _("Cette étape n'est pas possible : la demande est « %(status)s ».",
              status=STATUSES[change.status])
        )  # fmt: skip


def other_side(side: str) -> str:
    return "titulaire" if side == "acheteur" else "acheteur"


def claim(change: ChangeRequest) -> None:
    """Take the request for this step now: its version moves at once, so a concurrent step
    fails here with a 409 (and, on PostgreSQL, waits for this one's commit) before anything
    else is written or a query flushes a stale row."""
    touch(change)
    flush_or_conflict(stale_message())


def touch(change: ChangeRequest) -> None:
    change.updated_at = utcnow()


def announce(change: ChangeRequest) -> None:
    """After the commit, open pages of the contract's changes pull what moved."""
    publish_after_commit(channel(change.contract_id), "modifications", {"id": change.id})


def audit(change: ChangeRequest, action: str, membership: Membership, after: dict | None = None):
    return record(
        f"modification.{action}", actor=membership.user, contract_id=change.contract_id,
        object_type="demande_de_modification", object_id=change.id,
        after={"numero": change.number, "statut": change.status, **(after or {})},
    )  # fmt: skip


def notify_other_side(change: ChangeRequest, membership: Membership, describe) -> None:
    """Every step tells the other side (and, for steps of the buyer, the author's side too)."""
    from app.contracts.services import members
    from app.notifications.services import notify

    sides = {other_side(membership.side), change.author_side}
    recipients = [m.user for m in members(change.contract) if m.side in sides]
    path = f"/contrats/{change.contract_id}/modifications/{change.id}/"
    notify(recipients, change.contract, "modification", describe, path, exclude=membership.user)


# --- validation of what a person typed -------------------------------------------------------


def step_done(change: ChangeRequest, membership: Membership, action: str,
              details: dict | None = None, *, tell=None) -> None:  # fmt: skip
    """How a step of a request ends once its changes are made: the version check at flush (a
    lost race is a 409), its audit event, the other side told (`tell()` gives the text, in each
    reader's language), the open pages refreshed, the commit."""
    touch(change)
    flush_or_conflict(stale_message())
    audit(change, action, membership, details)
    if tell is not None:
        notify_other_side(change, membership, tell)
    announce(change)
    db.session.commit()


def clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Donnez un titre à la demande de modification."), "title")
    if len(title) > TITLE_MAX:
        raise DomainError(_("Le titre ne peut dépasser %(n)d caractères.", n=TITLE_MAX), "title")
    return title


def clean_text(text: str, field: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > TEXT_MAX:
        raise DomainError(_("Ce texte ne peut dépasser %(n)d caractères.", n=TEXT_MAX), field)
    return text


def clean_amount(value, field: str, *, allow_none: bool = False) -> Decimal | None:
    if value in (None, ""):
        if allow_none:
            return None
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).replace("\u202f", "").replace("\xa0", "").replace(" ", "")
                         .replace(",", "."))  # fmt: skip
    except InvalidOperation:
        raise DomainError(
            _("Saisissez un montant en euros, par exemple 48 000,00."), field
        ) from None
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        raise DomainError(_("Ce montant n'est pas plausible."), field)
    return amount.quantize(Decimal("0.01"))


def clean_answers(answers: dict) -> dict:
    """The four questions of LEGAL.md §B: {key: {"answer": True/False/None, "note": text}}."""
    result = {}
    for key, _text in QUESTIONS:
        given = answers.get(key) or {}
        answer = given.get("answer")
        if answer not in (True, False, None):
            raise DomainError(_("Répondez par oui ou par non."), f"q_{key}")
        result[key] = {"answer": answer, "note": clean_text(given.get("note", ""), f"q_{key}_note")}
    return result


# --- opening ---------------------------------------------------------------------------------


def _next_number(contract: Contract) -> int:
    highest = db.session.scalar(
        select(func.max(ChangeRequest.number)).where(ChangeRequest.contract_id == contract.id)
    )
    return (highest or 0) + 1


def _new_request(contract, membership, title, rationale, draft, review_id=None) -> ChangeRequest:
    change = ChangeRequest(
        contract=contract, number=_next_number(contract), title=title, rationale=rationale,
        author=membership.user, author_side=membership.side, draft_version=draft,
        review_id=review_id, answers=clean_answers({}),
    )  # fmt: skip
    db.session.add(change)
    flush_or_conflict(stale_message())
    audit(change, "ouverte", membership, {"titre": title, "projet": draft.id})
    notify_other_side(change, membership, lambda: _(
        "%(name)s propose une modification du plan (n° %(n)d) : %(title)s",
        name=membership.user.full_name, n=change.number, title=change.title))  # fmt: skip
    announce(change)
    return change


def open_request(contract: Contract, membership: Membership, *, title: str,
                 rationale: str = "") -> ChangeRequest:  # fmt: skip
    """« Proposer une modification »: a draft copy of the plan in force, co-edited by both."""
    require(membership, Permission.EDIT_PLAN, _("Votre rôle ne permet pas de proposer une modification."))  # fmt: skip
    title, rationale = clean_title(title), clean_text(rationale, "rationale")
    plan = versions.plan_of(contract)
    if versions.current_version(plan) is None:
        raise DomainError(_("Le plan n'est pas encore en vigueur : modifiez directement son projet."))  # fmt: skip
    draft = versions.open_draft(
        plan, label=_("Demande n° %(n)d", n=_next_number(contract)), actor=membership.user,
        commit=False,
    )  # fmt: skip
    change = _new_request(contract, membership, title, rationale, draft)
    db.session.commit()
    return change


def open_from_review(review, membership: Membership, *, title: str) -> ChangeRequest:
    """A review meeting turns its draft (opened on the first plan edit in the meeting) into a
    change request, which then follows the same path."""
    from app.reviews.meeting import meeting_draft

    require(membership, Permission.EDIT_PLAN, _("Votre rôle ne permet pas de proposer une modification."))  # fmt: skip
    title = clean_title(title)
    if review.status != "en_seance":
        raise Conflict(_("Une revue ouvre une demande de modification pendant sa séance."))
    draft = meeting_draft(review, membership)
    existing = request_for_draft(draft)
    if existing is not None:
        return existing
    change = _new_request(review.contract, membership, title, "", draft, review_id=review.id)
    db.session.commit()
    return change


# --- editing and submitting ------------------------------------------------------------------


def update_request(change: ChangeRequest, membership: Membership, *, seen_version: int | None,
                   title: str, rationale: str, answers: dict, financial_impact_ht) -> None:  # fmt: skip
    """Title, rationale, the four questions and the financial impact, while not yet decided."""
    require(membership, Permission.EDIT_PLAN, _("Votre rôle ne permet pas de modifier cette demande."))  # fmt: skip
    check_seen(change, seen_version)
    require_status(change, "brouillon", "soumise")
    claim(change)
    change.title = clean_title(title)
    change.rationale = clean_text(rationale, "rationale")
    change.answers = clean_answers(answers)
    change.financial_impact_ht = clean_amount(financial_impact_ht, "financial_impact_ht")
    step_done(change, membership, "modifiee", {"incidence_ht": change.financial_impact_ht,
                                           "questions": change.answers})  # fmt: skip


def submit(change: ChangeRequest, membership: Membership, *, seen_version: int | None) -> None:
    require(membership, Permission.EDIT_PLAN, _("Votre rôle ne permet pas de soumettre cette demande."))  # fmt: skip
    check_seen(change, seen_version)
    require_status(change, "brouillon")
    claim(change)
    if not change_set(change):
        raise DomainError(_("Le projet ne modifie encore rien du plan : modifiez-le avant de soumettre la demande."))  # fmt: skip
    unanswered = [key for key, value in change.answers.items() if value.get("answer") is None]
    if unanswered or len(change.answers) < len(QUESTIONS):
        raise DomainError(_("Répondez aux quatre questions sur l'effet de la modification avant de la soumettre."))  # fmt: skip
    change.status, change.submitted_at = "soumise", utcnow()
    step_done(change, membership, "soumise", tell=lambda: _(
        "Demande de modification n° %(n)d soumise : %(title)s", n=change.number, title=change.title))  # fmt: skip


def withdraw(change: ChangeRequest, membership: Membership, *, seen_version: int | None) -> None:
    """Only its author withdraws a request, and only before the buyer's decision."""
    if change.author_id != membership.user_id:
        raise NotAllowed(_("Seul l'auteur de la demande peut la retirer."))
    check_seen(change, seen_version)
    require_status(change, "brouillon", "soumise")
    claim(change)
    change.status = "retiree"
    change.draft_version.status = "abandonnee"
    step_done(change, membership, "retiree", tell=lambda: _(
        "Demande de modification n° %(n)d retirée par son auteur.", n=change.number))  # fmt: skip


def decide(change: ChangeRequest, membership: Membership, *, seen_version: int | None,
           approve: bool, comment: str) -> None:  # fmt: skip
    """The buyer lead approves or refuses (a refusal says why)."""
    require_buyer_lead(membership, _("Seul le référent de l'acheteur approuve ou refuse une demande de modification."))  # fmt: skip
    check_seen(change, seen_version)
    require_status(change, "soumise")
    claim(change)
    comment = clean_text(comment, "comment")
    if not approve and not comment:
        raise DomainError(_("Expliquez au demandeur pourquoi la demande est refusée."), "comment")
    change.status = "approuvee" if approve else "refusee"
    change.decided_by, change.decided_at, change.decision_comment = (
        membership.user,
        utcnow(),
        comment,
    )
    if not approve:
        change.draft_version.status = "abandonnee"
    step_done(change, membership, change.status, {"commentaire": comment}, tell=lambda: (
        _("Demande de modification n° %(n)d approuvée par l'acheteur.", n=change.number) if approve
        else _("Demande de modification n° %(n)d refusée par l'acheteur.", n=change.number)))  # fmt: skip


def reopen(change: ChangeRequest, membership: Membership, *, seen_version: int | None) -> None:
    """A submitted request goes back to draft to be edited again (its author or the buyer lead)."""
    is_buyer_lead = membership.side == "acheteur" and membership.is_lead
    if change.author_id != membership.user_id and not is_buyer_lead:
        raise NotAllowed(_("Seul l'auteur de la demande ou le référent de l'acheteur la remet en brouillon."))  # fmt: skip
    check_seen(change, seen_version)
    require_status(change, "soumise")
    claim(change)
    change.status = "brouillon"
    step_done(change, membership, "remise_en_brouillon", tell=lambda: _(
        "Demande de modification n° %(n)d remise en brouillon.", n=change.number))  # fmt: skip


# --- what the documents need of the contract and of the holder --------------------------------

TERMS_FIELDS = ("buyer_type", "buyer_is_collectivite", "procedure", "awarded_by_cao",
                "consultation_date", "lot", "vat_rate", "price_regime", "clause_article",
                "clause_is_review_clause", "buyer_address", "signing_place",
                "acceptance_by_visa", "print_vigilance", "visa_requires_2fa")  # fmt: skip
HOLDER_FIELDS = ("trade_name", "address", "head_office_address", "head_office_siret", "email", "phone")  # fmt: skip


def update_contract_terms(contract: Contract, membership: Membership, data: dict) -> None:
    """LEGAL.md §A, entered by the buyer lead; the VAT rate is typed in percent."""
    from app.changes.legal import BUYER_TYPES, PROCEDURES

    require_buyer_lead(membership, _("Seul le référent de l'acheteur renseigne les données du marché."))  # fmt: skip
    if data.get("buyer_type") not in BUYER_TYPES or data.get("procedure") not in PROCEDURES:
        raise DomainError(_("Choisissez une valeur dans la liste."))
    rate = data.get("vat_rate")
    if rate is None or not Decimal("0") <= rate <= Decimal("100"):
        raise DomainError(_("Le taux de TVA est un pourcentage entre 0 et 100."), "vat_rate")
    before = {name: getattr(contract, name) for name in TERMS_FIELDS}
    for name in TERMS_FIELDS:
        value = data.get(name)
        if name == "vat_rate":
            value = (rate / 100).quantize(Decimal("0.0001"))
        elif name in ("lot", "clause_article", "buyer_address", "signing_place"):
            value = (value or "").strip()
        elif name != "consultation_date":
            value = bool(value) if not isinstance(value, str) else value
        setattr(contract, name, value)
    record("marche.donnees_avenants", actor=membership.user, contract_id=contract.id,
           object_type="marche", object_id=contract.id, before=before,
           after={name: getattr(contract, name) for name in TERMS_FIELDS})  # fmt: skip
    db.session.commit()


def update_holder(contract: Contract, membership: Membership, data: dict) -> None:
    """EXE10 section B, entered by the supplier lead for their own company."""
    if membership.side != "titulaire" or not membership.is_lead:
        raise NotAllowed(_("Seul le référent du titulaire renseigne l'identification du titulaire."))  # fmt: skip
    holder = contract.supplier
    before = {name: getattr(holder, name) for name in HOLDER_FIELDS}
    for name in HOLDER_FIELDS:
        setattr(holder, name, (data.get(name) or "").strip())
    record("marche.identification_titulaire", actor=membership.user, contract_id=contract.id,
           object_type="organisation", object_id=holder.id, before=before,
           after={name: getattr(holder, name) for name in HOLDER_FIELDS})  # fmt: skip
    db.session.commit()
