"""Contracts, their members and invitations."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit import services as audit
from app.auth import services as accounts
from app.auth.models import User
from app.contracts.models import Contract, Invitation, Membership
from app.db_types import utcnow
from app.errors import DomainError, InvalidLink
from app.extensions import db
from app.links import external_url
from app.organisations.models import Organisation
from app.outbox.services import queue_email
from app.plan.versions import add_plan
from app.tokens import claim_once, new_token, token_hash

NOTIFIED_FROM, NOTIFIED_UNTIL = date(1990, 1, 1), date(2100, 12, 31)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Aug + 6 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def contracts_of(user: User) -> list[Membership]:
    """The user's memberships with their contracts and parties, by contract reference."""
    return list(
        db.session.scalars(
            select(Membership)
            .join(Membership.contract)
            .where(Membership.user_id == user.id)
            .options(
                selectinload(Membership.contract).selectinload(Contract.buyer),
                selectinload(Membership.contract).selectinload(Contract.supplier),
            )
            .order_by(Contract.reference)
        )
    )


def members(contract: Contract) -> list[Membership]:
    side_order = {"acheteur": 0, "titulaire": 1}
    role_order = {"referent": 0, "contributeur": 1, "observateur": 2}
    rows = db.session.scalars(
        select(Membership)
        .where(Membership.contract_id == contract.id)
        .options(selectinload(Membership.user))
    )
    return sorted(rows, key=lambda m: (side_order[m.side], role_order[m.role], m.user.full_name))


def pending_invitations(contract: Contract) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.contract_id == contract.id,
                Invitation.accepted_at.is_(None),
                Invitation.cancelled_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at)
        )
    )


@dataclass
class ContractData:
    reference: str
    object: str
    category: str
    notification_date: date
    duration_months: int
    initial_amount_ht: Decimal
    buyer_organisation_id: int
    supplier_organisation_id: int
    buyer_service: str = ""
    progress_clause: str = ""
    plan_deadline: date | None = None
    min_reviews_per_year: int | None = None


def create_contract(data: ContractData, *, actor: User | None) -> Contract:
    """Create a contract between a public buyer and a company, then commit."""
    contract = add_contract(data, actor=actor)
    db.session.commit()
    return contract


def add_contract(data: ContractData, *, actor: User | None) -> Contract:
    buyer = db.session.get(Organisation, data.buyer_organisation_id)
    supplier = db.session.get(Organisation, data.supplier_organisation_id)
    if buyer is None or not buyer.is_public_buyer:
        raise DomainError(_("Choisissez un acheteur public."), field="buyer_organisation_id")
    if supplier is None or supplier.is_public_buyer:
        raise DomainError(
            _("Choisissez une entreprise titulaire."), field="supplier_organisation_id"
        )
    if db.session.scalar(select(Contract.id).where(Contract.reference == data.reference.strip())):
        raise DomainError(_("Un marché porte déjà cette référence."), field="reference")
    # Deadlines, review windows and documents are counted from this date: 31/12/9999 made
    # the plan's deadline fall in year 10000 (a 500).
    if not NOTIFIED_FROM <= data.notification_date <= NOTIFIED_UNTIL:
        raise DomainError(_("Indiquez une date de notification entre 1990 et 2100."),
                          field="notification_date")  # fmt: skip
    config = current_app.config
    contract = Contract(
        reference=data.reference.strip(),
        object=data.object.strip(),
        category=data.category,
        notification_date=data.notification_date,
        duration_months=data.duration_months,
        initial_amount_ht=data.initial_amount_ht,
        buyer=buyer,
        supplier=supplier,
        buyer_service=data.buyer_service.strip(),
        progress_clause=data.progress_clause,
        plan_deadline=data.plan_deadline
        or add_months(data.notification_date, config["PLAN_DEADLINE_MONTHS"]),
        min_reviews_per_year=data.min_reviews_per_year or config["MIN_REVIEWS_PER_YEAR"],
    )
    db.session.add(contract)
    db.session.flush()
    add_plan(contract, actor)
    audit.record(
        "marche.cree",
        actor=actor,
        contract_id=contract.id,
        object_type="contract",
        object_id=contract.id,
        after=contract_snapshot(contract),
    )
    return contract


def contract_snapshot(contract: Contract) -> dict:
    return {
        "reference": contract.reference,
        "object": contract.object,
        "category": contract.category,
        "notification_date": contract.notification_date,
        "duration_months": contract.duration_months,
        "initial_amount_ht": contract.initial_amount_ht,
        "buyer": contract.buyer.name,
        "supplier": contract.supplier.name,
        "plan_deadline": contract.plan_deadline,
        "min_reviews_per_year": contract.min_reviews_per_year,
    }


def add_member(contract: Contract, user: User, side: str, role: str, *, actor: User | None):
    """Make `user` a member without committing (used by invitations and the demo data)."""
    membership = Membership(contract=contract, user=user, side=side, role=role)
    db.session.add(membership)
    db.session.flush()
    audit.record(
        "membre.ajoute",
        actor=actor,
        contract_id=contract.id,
        object_type="membership",
        object_id=membership.id,
        after={"user": user.email, "side": side, "role": role},
    )
    return membership


def invite(
    contract: Contract, *, email: str, full_name: str, side: str, role: str, invited_by: User
) -> Invitation:
    """Send a single-use invitation link to `email` for this contract, then commit."""
    invitation = add_invitation(
        contract, email=email, full_name=full_name, side=side, role=role, invited_by=invited_by
    )
    db.session.commit()
    return invitation


def add_invitation(
    contract: Contract, *, email: str, full_name: str, side: str, role: str, invited_by: User
) -> Invitation:
    email = accounts.normalize_email(email)
    existing = accounts.user_by_email(email)
    if existing is not None and db.session.scalar(
        select(Membership.id).where(
            Membership.contract_id == contract.id, Membership.user_id == existing.id
        )
    ):
        raise DomainError(_("Cette personne est déjà membre du marché."), field="email")
    now = utcnow()
    for earlier in pending_invitations(contract):
        if earlier.email == email:  # the newest link replaces the older one
            earlier.cancelled_at = now
    token, hashed = new_token()
    invitation = Invitation(
        token_hash=hashed,
        contract=contract,
        email=email,
        full_name=full_name.strip(),
        side=side,
        role=role,
        invited_by=invited_by,
        expires_at=now + current_app.config["INVITATION_LIFETIME"],
    )
    db.session.add(invitation)
    db.session.flush()
    link = external_url("auth.invitation", token=token)
    # The invited person's language is unknown: French, the interface's first language.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        queue_email(
            email,
            _("Progrès : invitation au marché %(reference)s", reference=contract.reference),
            render_template(
                "contracts/emails/invitation.txt",
                invitation=invitation,
                contract=contract,
                link=link,
                has_account=existing is not None,
            ),
            kind="invitation",
        )
    audit.record(
        "invitation.envoyee",
        actor=invited_by,
        contract_id=contract.id,
        object_type="invitation",
        object_id=invitation.id,
        after={"email": email, "side": side, "role": role},
    )
    return invitation


def cancel_invitation(contract: Contract, invitation_id: int, *, actor: User) -> None:
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.contract_id == contract.id
        )
    )
    if invitation is None or not invitation.is_pending(utcnow()):
        raise InvalidLink(_("Cette invitation n'est plus en attente."))
    invitation.cancelled_at = utcnow()
    audit.record(
        "invitation.annulee",
        actor=actor,
        contract_id=contract.id,
        object_type="invitation",
        object_id=invitation.id,
    )
    db.session.commit()


def valid_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None or not invitation.is_pending(utcnow()):
        raise InvalidLink(
            _(
                "Cette invitation n'est plus valable : demandez à l'acheteur de vous en renvoyer une."
            )
        )
    return invitation


def _join(invitation: Invitation, user: User) -> Membership:
    if not claim_once(Invitation, invitation.id, "accepted_at"):
        raise InvalidLink(_("Cette invitation a déjà été utilisée."))
    audit.record(
        "invitation.acceptee",
        actor=user,
        contract_id=invitation.contract_id,
        object_type="invitation",
        object_id=invitation.id,
    )
    already = db.session.scalar(
        select(Membership).where(
            Membership.contract_id == invitation.contract_id, Membership.user_id == user.id
        )
    )
    if already is not None:
        return already
    return add_member(invitation.contract, user, invitation.side, invitation.role, actor=user)


def accept_invitation(token: str, user: User) -> Membership:
    """An existing account joins the contract; the link was sent to its own address."""
    invitation = valid_invitation(token)
    if invitation.email != user.email:
        raise DomainError(
            _(
                "Cette invitation a été envoyée à une autre adresse : connectez-vous avec le "
                "compte %(email)s.",
                email=invitation.email,
            )
        )
    membership = _join(invitation, user)
    db.session.commit()
    return membership


def accept_invitation_with_new_account(token: str, *, full_name: str, password: str) -> User:
    """Create the invited person's account (their organisation is the invited side's) and join."""
    invitation = valid_invitation(token)
    if accounts.user_by_email(invitation.email) is not None:
        raise DomainError(_("Un compte existe déjà pour cette adresse : connectez-vous."))
    user = User(
        email=invitation.email,
        full_name=full_name.strip(),
        organisation=invitation.contract.organisation_of(invitation.side),
    )
    accounts.set_password(user, password)
    db.session.add(user)
    db.session.flush()
    audit.record("compte.cree", actor=user, object_type="user", object_id=user.id)
    _join(invitation, user)
    db.session.commit()
    return user


def all_contracts() -> list[Contract]:
    return list(
        db.session.scalars(
            select(Contract)
            .options(selectinload(Contract.buyer), selectinload(Contract.supplier))
            .order_by(Contract.reference)
        )
    )


def create_contract_with_lead(
    data: ContractData, *, lead_email: str, lead_name: str, actor: User
) -> Contract:
    """Create the contract and invite its buyer lead, who then invites everyone else."""
    contract = add_contract(data, actor=actor)
    add_invitation(
        contract,
        email=lead_email,
        full_name=lead_name,
        side="acheteur",
        role="referent",
        invited_by=actor,
    )
    db.session.commit()
    return contract
