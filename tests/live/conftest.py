"""A draft plan with one axis, objective, indicator and action, built through the services."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from app.plan import services as items
from app.plan import versions
from app.plan.models import Action, Axis, Indicator, Objective, PlanVersion


@dataclass
class Draft:
    version: PlanVersion
    axis: Axis
    objective: Objective
    indicator: Indicator
    action: Action


@pytest.fixture
def draft(world) -> Draft:
    version = versions.working_version(versions.plan_of(world.contract))
    lead = world.buyer_lead
    axis = items.create_item(
        version, "axe", {"kind": "environnemental", "title": "Matières recyclées",
                         "priorities": ["ressources"]}, actor=lead,
    )  # fmt: skip
    objective = items.create_item(
        version, "objectif", {"title": "30 % de recyclé", "obligation": "resultats"},
        parent=axis, actor=lead,
    )  # fmt: skip
    indicator = items.create_item(
        version, "indicateur", {"name": "Part recyclée", "unit": "%", "target_value": Decimal("30")},
        parent=objective, actor=world.supplier_lead,
    )  # fmt: skip
    action = items.create_item(
        version, "action", {"title": "Sourcer du fil recyclé", "owner_side": "titulaire",
                            "description": "Premier texte", "resources": "Acheteur textile",
                            "planned_start": date(2027, 1, 1), "planned_end": date(2027, 6, 30)},
        parent=objective, actor=world.supplier_lead,
    )  # fmt: skip
    return Draft(version, axis, objective, indicator, action)
