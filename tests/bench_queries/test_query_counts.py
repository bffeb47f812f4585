"""The plan page, the dashboard and the portfolio (« Mes marchés ») issue the same number of
SQL queries whatever the plan's size: one objective with one indicator, action and value, or
twelve objectives with 24 indicators (and their milestones), 36 actions, 72 values, follow-ups
and difficulties. (bench/pages.py measures the same pages on a plan of 500 actions.)"""

from datetime import date
from decimal import Decimal

import pytest

from app.contracts.models import Membership
from app.difficulties import services as difficulties
from app.extensions import db
from app.indicators import services as values
from app.schedule import services as schedule
from tests.helpers import logged_in_client

PAGES = {
    "plan page": "/contrats/{id}/plan/",
    "dashboard": "/contrats/{id}/tableau-de-bord/",
    "portfolio": "/",
}
DIFFICULTY = {"title": "Retard de livraison", "category": "approvisionnement",
              "severity": "elevee", "description": "Deux semaines de retard.",
              "request": "Décaler le jalon."}  # fmt: skip


def _months_ago(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _member(world, user) -> Membership:
    return db.session.query(Membership).filter_by(contract_id=world.contract.id,
                                                  user_id=user.id).one()  # fmt: skip


def _fill(world, version, objective, indicators: list, actions: list, start: date) -> None:
    """Values (three months each), a follow-up per action, a difficulty per objective."""
    from app.plan import services as items

    supplier = _member(world, world.supplier_lead)
    for indicator in indicators:
        items.create_item(version, "jalon", {"due_date": date(2027, 6, 30), "value": Decimal("20")},
                          parent=indicator, actor=world.supplier_lead)  # fmt: skip
        for k in range(3):
            values.enter_value(world.contract, supplier, indicator,
                               period_start=_months_ago(date.today(), 4 - k),
                               value=Decimal(10 + k), comment=f"Relevé {k}")  # fmt: skip
    for action in actions:
        # Loaded first: update_follow_up reads membership.user.full_name after adding the new
        # follow-up, and a lazy load there would autoflush it half-built (NOT NULL status).
        assert supplier.user.full_name
        schedule.update_follow_up(world.contract, supplier, action.uid,
                                  {"status": "en_cours", "progress": "40", "comment": "En cours"},
                                  None)  # fmt: skip
    difficulties.raise_difficulty(world.contract, supplier, DIFFICULTY, [objective.uid])


def _grow(world, draft, objectives: int) -> None:
    """Eleven more objectives (twelve in all), each with 2 indicators and 3 actions, filled."""
    from app.plan import services as items

    start = _months_ago(date.today(), 4)
    lead, supplier_lead = world.buyer_lead, world.supplier_lead
    for n in range(objectives - 1):
        objective = items.create_item(
            draft.version, "objectif", {"title": f"Objectif {n + 2}", "obligation": "moyens"},
            parent=draft.axis, actor=lead,
        )  # fmt: skip
        indicators = [
            items.create_item(draft.version, "indicateur", {
                "name": f"Indicateur {n + 2}.{i}", "unit": "%", "periodicity": "mensuelle",
                "baseline_date": start, "baseline_value": Decimal("5"),
                "target_value": Decimal("30"), "target_date": date(2028, 12, 31),
                "reporting_side": "titulaire"}, parent=objective, actor=supplier_lead)
            for i in range(2)
        ]  # fmt: skip
        actions = [
            items.create_item(draft.version, "action", {
                "title": f"Action {n + 2}.{a}", "owner_side": "titulaire",
                "planned_start": date(2026, 1, 1), "planned_end": date(2026, 3, 31)},
                parent=objective, actor=lead)
            for a in range(3)
        ]  # fmt: skip
        _fill(world, draft.version, objective, indicators, actions, start)
    db.session.commit()


def _queries(app, client, count_queries, world) -> dict[str, int]:
    found = {}
    for name, path in PAGES.items():
        url = path.format(id=world.contract.id)
        client.get(url)  # the first request of a page may warm caches: count the second
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        found[name] = queries()
    return found


@pytest.fixture
def small_plan(world, draft):
    """The draft's single objective, with a monthly indicator, its values, a follow-up and a
    difficulty: every kind of row the big plan has, once."""
    start = _months_ago(date.today(), 4)
    draft.indicator.periodicity, draft.indicator.baseline_date = "mensuelle", start
    draft.indicator.reporting_side = "titulaire"
    db.session.commit()
    _fill(world, draft.version, draft.objective, [draft.indicator], [draft.action], start)
    db.session.commit()
    return draft


def test_plan_dashboard_and_portfolio_queries_do_not_grow_with_the_plan(
    app, world, small_plan, count_queries
):
    client = logged_in_client(app, world.buyer_lead)
    small = _queries(app, client, count_queries, world)
    _grow(world, small_plan, objectives=12)
    big = _queries(app, client, count_queries, world)
    grown = {name: (small[name], big[name]) for name in PAGES if big[name] != small[name]}
    assert not grown, "SQL queries grow with the plan (1 objective → 12 objectives): " + "; ".join(
        f"{name}: {before} → {after} queries" for name, (before, after) in grown.items()
    )
    page = client.get(PAGES["plan page"].format(id=world.contract.id)).get_data(as_text=True)
    assert "Objectif 12" in page and "Action 12.2" in page  # the big plan is on the page
