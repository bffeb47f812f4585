"""Test data built through the services, as a user or an administrator would."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from app.auth.models import User
from app.auth.passwords import hash_password
from app.contracts import services as contracts
from app.extensions import db
from app.organisations.models import Organisation
from app.organisations.services import luhn_valid

PASSWORD = "jonquille-brouette-orage-81"
_counter = itertools.count(1)


def valid_siret(seed: int) -> str:
    base = f"{800000000 + seed:09d}0001"
    return next(base + str(k) for k in range(10) if luhn_valid(base + str(k)))


def make_organisation(
    name: str, kind: str = "entreprise", size: str | None = "PME"
) -> Organisation:
    organisation = Organisation(
        name=name,
        siret=valid_siret(next(_counter)),
        kind=kind,
        size=size if kind == "entreprise" else None,
        ess=False,
    )
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_user(
    email: str,
    name: str = "",
    *,
    organisation: Organisation | None = None,
    is_admin: bool = False,
    password: str = PASSWORD,
) -> User:
    user = User(
        email=email,
        full_name=name or email.split("@")[0].replace(".", " ").title(),
        organisation=organisation,
        is_admin=is_admin,
    )
    # The fixed test password passes the policy; only its tests (tests/auth) pay for zxcvbn.
    user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def make_contract(buyer: Organisation, supplier: Organisation, reference: str, **extra):
    data = contracts.ContractData(
        reference=reference,
        object=extra.pop("object", f"Objet du marché {reference}"),
        category=extra.pop("category", "fournitures"),
        notification_date=extra.pop("notification_date", date(2026, 7, 1)),
        duration_months=extra.pop("duration_months", 48),
        initial_amount_ht=extra.pop("initial_amount_ht", Decimal("1250000.00")),
        buyer_organisation_id=buyer.id,
        supplier_organisation_id=supplier.id,
        **extra,
    )
    return contracts.create_contract(data, actor=None)


def add_member(contract, user: User, side: str, role: str):
    membership = contracts.add_member(contract, user, side, role, actor=None)
    db.session.commit()
    return membership
