"""The plan's baseline visa and the two-factor authentication: a contract may require it of
its leads; a lead who turned it on types a code of their app with the password, required or
not."""

import pytest
from sqlalchemy import func, select

from app.contracts.models import Membership
from app.errors import DomainError
from app.extensions import db
from app.plan import versions
from app.plan.models import PlanVisa
from tests.factories import PASSWORD
from tests.helpers import page_text
from tests.two_factor import turn_on_two_factor


def plan_url(world, path=""):
    return f"/contrats/{world.contract.id}/plan/{path}"


def visas() -> int:
    return db.session.scalar(select(func.count()).select_from(PlanVisa))


def lead_membership(world, user) -> Membership:
    return db.session.scalar(
        select(Membership).filter_by(contract_id=world.contract.id, user_id=user.id)
    )


@pytest.fixture
def required(world):
    world.contract.visa_requires_2fa = True
    db.session.commit()


def test_a_lead_without_two_factor_is_sent_to_my_account(client, world, draft, log_in, required):
    log_in(world.buyer_lead)
    page = page_text(client.get(plan_url(world)))
    assert "Ce marché exige la double authentification pour donner un visa" in page
    assert 'href="/compte/double-authentification"' in page
    assert "Viser le plan pour la partie acheteur" not in page
    response = client.post(plan_url(world, f"versions/{draft.version.id}/visa"),
                           data={"password": PASSWORD})  # fmt: skip
    assert response.status_code == 422
    assert "Ce marché exige la double authentification" in page_text(response)
    assert visas() == 0


def test_a_lead_with_two_factor_types_a_current_code(client, world, draft, log_in, clock, required):
    log_in(world.buyer_lead)
    phone = turn_on_two_factor(world.buyer_lead, steps_ago=1)
    page = page_text(client.get(plan_url(world)))
    assert "Code de votre application d'authentification" in page
    visa = plan_url(world, f"versions/{draft.version.id}/visa")
    without = client.post(visa, data={"password": PASSWORD})
    assert without.status_code == 422 and "Indiquez le code affiché" in page_text(without)
    wrong = client.post(visa, data={"password": PASSWORD, "code": "000000"})
    assert wrong.status_code == 422 and "Code incorrect" in page_text(wrong)
    assert visas() == 0
    given = client.post(visa, data={"password": PASSWORD, "code": phone.code()})
    assert given.status_code == 302
    assert visas() == 1


def test_a_code_is_asked_of_a_lead_with_two_factor_even_when_not_required(world, draft, clock):
    lead = world.supplier_lead
    phone = turn_on_two_factor(lead, steps_ago=1)
    membership = lead_membership(world, lead)
    with pytest.raises(DomainError) as refused:
        versions.give_visa(draft.version, membership, PASSWORD, lead)
    assert refused.value.field == "code"
    db.session.rollback()
    versions.give_visa(draft.version, membership, PASSWORD, lead, code=phone.code())
    assert visas() == 1


def test_without_the_requirement_a_lead_without_two_factor_needs_the_password_only(
    client, world, draft, log_in
):
    log_in(world.buyer_lead)
    page = page_text(client.get(plan_url(world)))
    assert "Code de votre application d'authentification" not in page
    response = client.post(plan_url(world, f"versions/{draft.version.id}/visa"),
                           data={"password": PASSWORD})  # fmt: skip
    assert response.status_code == 302 and visas() == 1


def test_the_code_of_the_login_cannot_serve_again_for_the_visa(world, draft, clock, required):
    from app.auth import two_factor

    lead = world.buyer_lead
    phone = turn_on_two_factor(lead, steps_ago=1)
    code = phone.code()
    two_factor.finish_login(lead, code)
    db.session.commit()
    with pytest.raises(DomainError, match="déjà de servir"):
        versions.give_visa(draft.version, lead_membership(world, lead), PASSWORD, lead, code=code)
    db.session.rollback()
    clock.next_step()
    versions.give_visa(draft.version, lead_membership(world, lead), PASSWORD, lead,
                       code=phone.code())  # fmt: skip
    assert visas() == 1


def test_a_wrong_password_is_refused_before_the_code_is_spent(world, draft, clock, required):
    lead = world.buyer_lead
    phone = turn_on_two_factor(lead, steps_ago=1)
    code = phone.code()
    with pytest.raises(DomainError) as refused:
        versions.give_visa(draft.version, lead_membership(world, lead), "non", lead, code=code)
    assert refused.value.field == "password"
    db.session.rollback()
    versions.give_visa(draft.version, lead_membership(world, lead), PASSWORD, lead, code=code)
    assert visas() == 1
