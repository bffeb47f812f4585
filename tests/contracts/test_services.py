"""Contract rules: dates, parties, references."""

from datetime import date
from decimal import Decimal

import pytest

from app.contracts import services
from app.errors import DomainError
from tests import factories


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 7, 1), 6, date(2027, 1, 1)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
    ],
)
def test_add_months_keeps_the_day_or_the_end_of_month(start, months, expected):
    assert services.add_months(start, months) == expected


def test_plan_deadline_defaults_to_six_months_after_notification(app):
    buyer = factories.make_organisation("Acheteur", "acheteur_public")
    supplier = factories.make_organisation("Titulaire")
    contract = factories.make_contract(
        buyer, supplier, "2026-0001", notification_date=date(2026, 8, 31)
    )
    assert contract.plan_deadline == date(2027, 2, 28)
    assert contract.min_reviews_per_year == 2
    assert contract.initial_amount_ht == Decimal("1250000.00")


def test_explicit_deadline_and_review_count_are_kept(app):
    buyer = factories.make_organisation("Acheteur", "acheteur_public")
    supplier = factories.make_organisation("Titulaire")
    contract = factories.make_contract(
        buyer, supplier, "2026-0002", plan_deadline=date(2027, 7, 1), min_reviews_per_year=3
    )
    assert (contract.plan_deadline, contract.min_reviews_per_year) == (date(2027, 7, 1), 3)


def test_parties_must_be_a_public_buyer_and_a_company(app):
    buyer = factories.make_organisation("Acheteur", "acheteur_public")
    supplier = factories.make_organisation("Titulaire")
    with pytest.raises(DomainError) as refused:
        factories.make_contract(supplier, buyer, "2026-0003")
    assert refused.value.field == "buyer_organisation_id"


def test_reference_is_unique(app):
    buyer = factories.make_organisation("Acheteur", "acheteur_public")
    supplier = factories.make_organisation("Titulaire")
    factories.make_contract(buyer, supplier, "2026-0004")
    with pytest.raises(DomainError, match="déjà cette référence"):
        factories.make_contract(buyer, supplier, "2026-0004")


def test_my_contracts_are_only_those_i_belong_to(world):
    assert [m.contract.reference for m in services.contracts_of(world.supplier_lead)] == [
        "2025-0142"
    ]
    assert [m.contract.reference for m in services.contracts_of(world.outsider)] == ["2026-0057"]
    assert services.contracts_of(world.admin) == []


def test_members_are_listed_buyer_side_first_leads_first(world):
    listed = [(m.side, m.role) for m in services.members(world.contract)]
    assert listed == [
        ("acheteur", "referent"),
        ("acheteur", "contributeur"),
        ("acheteur", "observateur"),
        ("titulaire", "referent"),
        ("titulaire", "contributeur"),
    ]
