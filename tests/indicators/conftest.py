from datetime import date
from decimal import Decimal

import pytest

from app.plan import services as items
from tests.difficulties.conftest import membership_of


@pytest.fixture
def indicator(world, draft):
    """The draft's indicator made quarterly from a baseline of 12 % on 31 Dec 2026 to 30 % on
    31 Dec 2027, with a milestone of 20 % on 30 June 2027; reported by the supplier."""
    ind = draft.indicator
    ind.baseline_value, ind.baseline_date = Decimal("12"), date(2026, 12, 31)
    ind.target_value, ind.target_date = Decimal("30"), date(2027, 12, 31)
    ind.periodicity, ind.reporting_side, ind.direction = "trimestrielle", "titulaire", "hausse"
    items.create_item(draft.version, "jalon", {"due_date": date(2027, 6, 30), "value": Decimal("20")},
                      parent=ind, actor=world.supplier_lead)  # fmt: skip
    from app.extensions import db

    db.session.commit()
    return ind


@pytest.fixture
def member(world):
    return lambda user: membership_of(user, world.contract)
