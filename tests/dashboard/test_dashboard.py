"""The contract dashboard and the portfolio (« Mes marchés »): what they show, to whom, and a
number of SQL queries that does not grow with contracts, indicators, actions or values."""

from datetime import date, timedelta
from decimal import Decimal

from app.dashboard.services import portfolio, summaries
from app.extensions import db
from app.plan import services as items
from app.plan import versions
from tests import factories
from tests.difficulties.conftest import VALUES, membership_of
from tests.helpers import logged_in_client, page_text

TODAY = date(2027, 8, 15)


def _grow(world, n_contracts: int, n_items: int) -> None:
    """More contracts for the buyer lead, each with indicators, actions and a difficulty."""
    from app.difficulties import services as difficulties

    buyer, supplier = world.contract.buyer, world.contract.supplier
    for k in range(n_contracts):
        contract = factories.make_contract(buyer, supplier, f"2030-{k:04d}")
        member = factories.add_member(contract, world.buyer_lead, "acheteur", "referent")
        version = versions.working_version(versions.plan_of(contract))
        axis = items.create_item(
            version, "axe", {"kind": "technique", "title": "Qualité"}, actor=world.buyer_lead
        )
        objective = items.create_item(
            version,
            "objectif",
            {"title": "Moins de retouches"},
            parent=axis,
            actor=world.buyer_lead,
        )
        for i in range(n_items):
            items.create_item(version, "indicateur", {"name": f"Ind {i}", "unit": "%", "baseline_date": date(2027, 1, 1),
                                                      "baseline_value": Decimal(1), "target_value": Decimal(5),
                                                      "target_date": date(2028, 1, 1)}, parent=objective, actor=world.buyer_lead)  # fmt: skip
            items.create_item(version, "action", {"title": f"Action {i}", "planned_end": date(2027, 1, 31)},
                              parent=objective, actor=world.buyer_lead)  # fmt: skip
        membership = member if member is not None else membership_of(world.buyer_lead, contract)
        difficulties.raise_difficulty(contract, membership, VALUES)
    db.session.commit()


def test_portfolio_and_dashboard_queries_do_not_grow(app, world, draft, count_queries):
    def measure(fn):
        db.session.commit()
        db.session.expire_all()
        with app.test_request_context(), count_queries() as queries:
            fn()
            return queries()

    small_portfolio = measure(lambda: portfolio(world.buyer_lead, TODAY))
    small_dashboard = measure(lambda: summaries([world.contract], TODAY))
    _grow(world, n_contracts=6, n_items=5)
    assert measure(lambda: portfolio(world.buyer_lead, TODAY)) == small_portfolio
    assert measure(lambda: summaries([world.contract], TODAY)) == small_dashboard
    lines = portfolio(world.buyer_lead, TODAY)
    assert len(lines) == 7
    grown = next(line for line in lines if line.contract.reference == "2030-0000")
    assert (
        len(grown.indicators) == 5 and len(grown.late_actions) == 5 and grown.open_difficulties == 1
    )


def test_the_dashboard_shows_statuses_late_actions_difficulties_and_gains(app, world, draft):
    draft.action.planned_start = date.today() - timedelta(days=30)
    draft.action.planned_end = date.today() - timedelta(days=3)
    items.create_item(draft.version, "partage", {"buyer_share": Decimal("40"), "supplier_share": Decimal("60"),
                                                  "financial_terms": "Remise annuelle"}, actor=world.buyer_lead)  # fmt: skip
    db.session.commit()
    page = logged_in_client(app, world.supplier_contributor).get(
        f"/contrats/{world.contract.id}/tableau-de-bord/"
    )
    text = page_text(page)
    assert page.status_code == 200
    assert "Part recyclée" in text and "Non renseigné" in text
    assert "Sourcer du fil recyclé" in text and "fin prévue le" in text
    assert "40 %" in text and "60 %" in text and "Remise annuelle" in text
    assert (
        logged_in_client(app, world.outsider)
        .get(f"/contrats/{world.contract.id}/tableau-de-bord/")
        .status_code
        == 404
    )


def test_my_contracts_is_the_portfolio_and_shows_only_mine(app, world, draft):
    page = page_text(logged_in_client(app, world.supplier_lead).get("/"))
    assert "2025-0142" in page and "2026-0057" not in page
    assert "non renseigné" in page
    other = page_text(logged_in_client(app, world.outsider).get("/"))
    assert "2026-0057" in other and "2025-0142" not in other
