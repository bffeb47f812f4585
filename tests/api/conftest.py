"""A plan with a quarterly indicator whose periods have begun (dates relative to today), the
same on the other contract, and tokens issued through the service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.api import services
from app.difficulties.deadlines import today_in_paris
from app.extensions import db
from app.plan import services as items
from app.plan import versions
from tests.difficulties.conftest import membership_of


def quarterly_indicator(contract, lead, reporter, name="Part recyclée"):
    """Reported by the supplier, quarterly from 31 December two years ago to next year's end:
    last year's four quarters are due, so values can be pushed for them."""
    year = today_in_paris().year
    version = versions.working_version(versions.plan_of(contract))
    axis = items.create_item(version, "axe", {"kind": "environnemental", "title": "Matières"},
                             actor=lead)  # fmt: skip
    objective = items.create_item(version, "objectif", {"title": "30 % de recyclé"},
                                  parent=axis, actor=lead)  # fmt: skip
    indicator = items.create_item(
        version, "indicateur",
        {"name": name, "unit": "%", "direction": "hausse", "periodicity": "trimestrielle",
         "reporting_side": "titulaire", "baseline_value": Decimal("12"),
         "baseline_date": date(year - 2, 12, 31), "target_value": Decimal("30"),
         "target_date": date(year + 1, 12, 31)},
        parent=objective, actor=reporter,
    )  # fmt: skip
    db.session.commit()
    return indicator


@pytest.fixture
def q1():
    """The first quarter of last year: begun, ended, due."""
    return date(today_in_paris().year - 1, 1, 1)


@pytest.fixture
def indicator(world):
    return quarterly_indicator(world.contract, world.buyer_lead, world.supplier_lead)


@pytest.fixture
def other_indicator(world):
    return quarterly_indicator(world.other_contract, world.outsider, world.other_supplier_lead,
                               name="Indicateur du marché B")  # fmt: skip


@pytest.fixture
def issue(world):
    """`issue(user, scope)` → the token's secret (on contract A unless told)."""

    def issuing(user=None, scope="ecriture", contract=None, days=365):
        contract = contract or world.contract
        member = membership_of(user or world.supplier_lead, contract)
        return services.create_token(contract, member, name="ERP", scope=scope, days=days).secret

    return issuing


def bearer(secret: str, **headers) -> dict:
    return {"Authorization": f"Bearer {secret}", **headers}
