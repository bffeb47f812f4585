"""The visas of a change's documents and the two-factor authentication: the buyer lead makes it
a requirement on the contract's data page; a lead without it is refused with a way to turn it
on, a lead with it types a current code on every visa."""

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.changes import formalisation
from app.changes.models import ChangeVisa
from app.errors import DomainError
from app.extensions import db
from tests.changes.test_services import approved
from tests.factories import PASSWORD
from tests.helpers import logged_in_client, page_text
from tests.two_factor import turn_on_two_factor

TERMS = {"buyer_type": "autre_pa", "procedure": "formalisee", "vat_rate": "20",
         "price_regime": "ferme"}  # fmt: skip


def url(world, path=""):
    return f"/contrats/{world.contract.id}/modifications/{path}"


def visas() -> int:
    return db.session.scalar(select(func.count()).select_from(ChangeVisa))


@pytest.fixture
def letter(world, member, in_force):
    """A letter exchange generated, waiting for the buyer lead's visa."""
    change = approved(world, member, in_force)
    buyer = member("buyer_lead")
    formalisation.formalise(change, buyer, seen_version=change.version, choice="lettre", reason="")
    formalisation.update_terms(change, buyer, seen_version=change.version,
                               data={"signatory_name": "Claire Martin",
                                     "signatory_qualite": "Acheteuse référente"})  # fmt: skip
    formalisation.generate(change, buyer, seen_version=change.version)
    return formalisation.current_documents(change)["lettre"]


def visa_form_data(letter, **extra):
    return {"sha256": letter.sha256, "qualite": "Acheteuse référente", "password": PASSWORD,
            **extra}  # fmt: skip


def test_the_buyer_lead_requires_two_factor_on_the_contract_data_page(app, world, in_force):
    buyer = logged_in_client(app, world.buyer_lead)
    page = page_text(buyer.get(url(world, "donnees")))
    assert "Exiger la double authentification des référents" in page
    response = buyer.post(url(world, "donnees/marche"), data={**TERMS, "visa_requires_2fa": "y"})
    assert response.status_code == 302
    db.session.refresh(world.contract)
    assert world.contract.visa_requires_2fa is True
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "marche.donnees_avenants")
    )
    assert '"visa_requires_2fa":true' in event.payload.replace(" ", "")
    # The supplier lead reads it and cannot change it.
    supplier = logged_in_client(app, world.supplier_lead)
    facts = page_text(supplier.get(url(world, "donnees")))
    assert "Exiger la double authentification des référents" in facts
    assert supplier.post(url(world, "donnees/marche"), data=TERMS).status_code == 403
    # Unticked, the requirement goes.
    assert buyer.post(url(world, "donnees/marche"), data=TERMS).status_code == 302
    db.session.refresh(world.contract)
    assert world.contract.visa_requires_2fa is False


def test_a_lead_without_two_factor_is_refused_and_shown_the_way(app, world, letter):
    world.contract.visa_requires_2fa = True
    db.session.commit()
    buyer = logged_in_client(app, world.buyer_lead)
    change_url = url(world, f"{letter.change_request_id}/")
    page = page_text(buyer.get(change_url))
    assert "Ce marché exige la double authentification pour donner un visa" in page
    assert 'href="/compte/double-authentification"' in page
    assert "Viser ce document" not in page
    refused = buyer.post(url(world, f"{letter.change_request_id}/documents/{letter.id}/visa"),
                         data=visa_form_data(letter))  # fmt: skip
    assert refused.status_code == 422
    assert "Ce marché exige la double authentification" in page_text(refused)
    assert visas() == 0


def test_a_lead_with_two_factor_types_a_code_on_the_visa_form(app, world, letter, clock):
    world.contract.visa_requires_2fa = True
    db.session.commit()
    buyer = logged_in_client(app, world.buyer_lead)
    phone = turn_on_two_factor(world.buyer_lead, steps_ago=1)
    assert "Code de votre application d'authentification" in page_text(
        buyer.get(url(world, f"{letter.change_request_id}/"))
    )
    visa = url(world, f"{letter.change_request_id}/documents/{letter.id}/visa")
    wrong = buyer.post(visa, data=visa_form_data(letter, code="000000"))
    assert wrong.status_code == 422 and "Code incorrect" in page_text(wrong)
    assert 'value="Acheteuse référente"' in page_text(wrong)  # what was typed is kept
    assert buyer.post(visa, data=visa_form_data(letter, code=phone.code())).status_code == 302
    assert visas() == 1


def test_the_service_asks_the_code_of_a_lead_who_has_it_even_when_not_required(
    world, member, letter, clock
):
    phone = turn_on_two_factor(world.buyer_lead, steps_ago=1)
    buyer = member("buyer_lead")
    with pytest.raises(DomainError) as refused:
        formalisation.give_visa(letter, buyer, password=PASSWORD, qualite="Acheteuse",
                                seen_sha256=letter.sha256)  # fmt: skip
    assert refused.value.field == "code"
    db.session.rollback()
    formalisation.give_visa(letter, buyer, password=PASSWORD, qualite="Acheteuse",
                            seen_sha256=letter.sha256, code=phone.code())  # fmt: skip
    assert visas() == 1
