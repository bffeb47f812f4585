"""A plan in force (version 1) for contract A, and the members who act on its changes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.contracts.models import Membership
from app.extensions import db
from app.plan import versions
from tests.factories import PASSWORD


def membership_of(world, user, contract=None) -> Membership:
    contract = contract or world.contract
    return db.session.scalar(select(Membership).filter_by(contract_id=contract.id, user_id=user.id))


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "pieces")}


@pytest.fixture
def member(world):
    return lambda role: membership_of(world, world.role(role))


@pytest.fixture
def in_force(world, draft):
    """The draft fixture's plan, approved by both leads: version 1."""
    for lead in (world.buyer_lead, world.supplier_lead):
        versions.give_visa(draft.version, membership_of(world, lead), PASSWORD, lead)
    contract = world.contract
    contract.signing_place, contract.clause_article = "Lyon", "9.2"
    contract.initial_amount_ht = Decimal("400000")
    contract.buyer_is_collectivite = contract.awarded_by_cao = True
    db.session.commit()
    return draft
