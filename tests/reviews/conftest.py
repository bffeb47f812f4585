from datetime import date, time

import pytest

from app.plan import versions
from app.reviews import services
from tests import factories
from tests.difficulties.conftest import membership_of


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "pieces")}


@pytest.fixture
def member(world):
    return lambda user: membership_of(user, world.contract)


@pytest.fixture
def in_force(world, draft, member):
    """The draft plan given both visas: version 1 in force."""
    for lead in (world.buyer_lead, world.supplier_lead):
        versions.give_visa(draft.version, member(lead), factories.PASSWORD, lead)
    return draft


@pytest.fixture
def plan_review(world, member):
    """Schedule a review as the buyer lead, every member invited, plus a guest."""

    def scheduling(day=date(2027, 3, 10), at=time(14, 0), **values):
        everyone = [m.user_id for m in world.contract.memberships]
        return services.schedule_review(
            world.contract, member(world.buyer_lead), kind=values.pop("kind", "revue_performance"),
            day=day, at=at, duration_minutes=values.pop("duration", 120),
            place=values.pop("place", "Hôtel de la Métropole, salle 3"), member_ids=everyone,
            guests=[("Marie Roux", "marie.roux@ville.example", "Service propreté")], **values,
        )  # fmt: skip

    return scheduling
