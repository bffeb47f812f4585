from datetime import date

import pytest
from sqlalchemy import select

from app.contracts.models import Membership
from app.extensions import db
from app.plan import services as items

TODAY = date(2027, 3, 15)


def membership_of(user, contract):
    return db.session.scalar(
        select(Membership).where(Membership.user_id == user.id,
                                 Membership.contract_id == contract.id)
    )  # fmt: skip


@pytest.fixture
def add_action(world, draft):
    """Add an action under the draft's objective (the draft's own action comes first)."""

    def adding(title, start=None, end=None, side="titulaire", status="proposee"):
        return items.create_item(
            draft.version, "action",
            {"title": title, "owner_side": side, "planned_start": start, "planned_end": end,
             "status": status},
            parent=draft.objective, actor=world.buyer_lead,
        )  # fmt: skip

    return adding
