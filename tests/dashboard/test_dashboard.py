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
            counted = queries()
            db.session.rollback()  # a read request's transaction ends with it
            return counted

    small_portfolio = measure(lambda: portfolio(world.buyer_lead, TODAY))
    small_dashboard = measure(lambda: summaries([world.contract], TODAY))
    _grow(world, n_contracts=6, n_items=5)
    assert measure(lambda: portfolio(world.buyer_lead, TODAY)) == small_portfolio
    assert measure(lambda: summaries([world.contract], TODAY)) == small_dashboard
    lines = portfolio(world.buyer_lead, TODAY).lines
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


def test_an_action_is_late_by_its_follow_up_status_when_it_has_one(app, world, draft):
    """What happens (the follow-up) overrides what was agreed (the plan's status), and only
    the follow-up of the contract whose plan holds the action counts."""
    from app.schedule.models import ActionFollowUp

    agreed_done = items.create_item(draft.version, "action", {"title": "Former les équipes", "status": "realisee",
                                    "planned_end": date(2027, 3, 31)}, parent=draft.objective, actor=world.buyer_lead)  # fmt: skip
    db.session.commit()

    def late():
        db.session.expire_all()
        (summary,) = summaries([world.contract], TODAY)
        return summary.actions, [(action.title, status) for action, status in summary.late_actions]

    assert late() == (2, [("Sourcer du fil recyclé", "proposee")])  # ended on 30 June
    db.session.add_all([
        ActionFollowUp(contract_id=world.contract.id, action_uid=draft.action.uid, status="realisee"),
        ActionFollowUp(contract_id=world.contract.id, action_uid=agreed_done.uid, status="en_cours"),
        ActionFollowUp(contract_id=world.other_contract.id, action_uid=draft.action.uid,
                       status="en_cours"),
    ])  # fmt: skip
    db.session.commit()
    assert late() == (2, [("Former les équipes", "en_cours")])


def test_my_contracts_is_the_portfolio_and_shows_only_mine(app, world, draft):
    page = page_text(logged_in_client(app, world.supplier_lead).get("/"))
    assert "2025-0142" in page and "2026-0057" not in page
    assert "non renseigné" in page
    other = page_text(logged_in_client(app, world.outsider).get("/"))
    assert "2026-0057" in other and "2025-0142" not in other


def _contracts_of_the_buyer_lead(world, n: int) -> None:
    buyer, supplier = world.contract.buyer, world.contract.supplier
    for k in range(n):
        contract = factories.make_contract(
            buyer, supplier, f"2031-{k:04d}", object=f"Lot {k} 50%_x"
        )
        factories.add_member(contract, world.buyer_lead, "acheteur", "referent")
    db.session.commit()


def test_a_long_portfolio_comes_a_page_at_a_time(app, world):
    _contracts_of_the_buyer_lead(world, 5)  # 6 contracts with the world's own
    app.config["PORTFOLIO_PAGE"] = 4
    client = logged_in_client(app, world.buyer_lead)
    first = page_text(client.get("/"))
    assert "Les 6 marchés dont vous êtes membre — page 1 sur 2" in first
    assert "2025-0142" in first and "2031-0002" in first and "2031-0003" not in first
    assert 'aria-current="page" href="/?page=1"' in first and 'rel="next"' in first
    second = page_text(client.get("/?page=2"))
    assert "2031-0003" in second and "2031-0004" in second and "2025-0142" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "page 2 sur 2" in page_text(client.get("/?page=99"))  # past the end: the last page


def test_the_portfolio_search_matches_reference_object_and_parties(app, world):
    _contracts_of_the_buyer_lead(world, 3)
    app.config["PORTFOLIO_PAGE"] = 2
    client = logged_in_client(app, world.buyer_lead)
    found = page_text(client.get("/?q=2031-0001"))
    assert "1 marché trouvé pour « 2031-0001 »" in found and "2031-0002" not in found
    assert "4 marchés trouvés" in page_text(client.get(f"/?q={world.contract.supplier.name[:8]}"))
    # % and _ are letters here, not wildcards
    assert "3 marchés trouvés pour « 50%_x »" in page_text(client.get("/?q=50%25_x"))
    assert "Aucun de vos marchés ne correspond à « 50%x »" in page_text(client.get("/?q=50%25x"))
    other = page_text(client.get("/?q=2026-0057"))  # contract B: not the buyer lead's
    assert "Aucun de vos marchés" in other and "Villeurbanne" not in other
