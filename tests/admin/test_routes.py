"""The administrator creates organisations and contracts; nobody else can."""

from sqlalchemy import select

from app.contracts.models import Contract
from app.extensions import db
from app.organisations.models import Organisation
from tests.helpers import emails_to, page_text


def test_admin_creates_an_organisation(client, world, log_in):
    log_in(world.admin)
    response = client.post(
        "/admin/organisations",
        data={"name": "Tissages du Beaujolais", "siret": "912 345 678 00011", "kind": "entreprise",
              "size": "TPE", "ess": "y"},
    )  # fmt: skip
    assert response.status_code == 302
    created = db.session.scalar(select(Organisation).where(Organisation.siret == "91234567800011"))
    assert (created.name, created.size, created.ess) == ("Tissages du Beaujolais", "TPE", True)


def test_bad_siret_is_explained_and_the_form_kept(client, world, log_in):
    log_in(world.admin)
    response = client.post(
        "/admin/organisations",
        data={"name": "Tissages du Beaujolais", "siret": "91234567800012", "kind": "entreprise",
              "size": "TPE"},
    )  # fmt: skip
    page = page_text(response)
    assert response.status_code == 422
    assert "SIRET n'est pas valide" in page
    assert 'value="Tissages du Beaujolais"' in page


def test_admin_creates_a_contract_and_its_buyer_lead_is_invited(client, world, log_in):
    log_in(world.admin)
    buyer = world.contract.buyer
    supplier = world.contract.supplier
    response = client.post(
        "/admin/marches/nouveau",
        data={
            "reference": "2027-0001",
            "object": "Nettoyage des locaux",
            "category": "services",
            "buyer_organisation_id": buyer.id,
            "supplier_organisation_id": supplier.id,
            "notification_date": "2027-01-15",
            "duration_months": "36",
            "initial_amount_ht": "1 250 000,50",
            "progress_clause": "Les parties **s'engagent**.",
            "lead_email": "referente@acheteur.example",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    contract = db.session.scalar(select(Contract).where(Contract.reference == "2027-0001"))
    assert str(contract.initial_amount_ht) == "1250000.50"
    assert contract.plan_deadline.isoformat() == "2027-07-15"
    [invitation] = emails_to("referente@acheteur.example", "invitation")
    assert "Acheteur, Référent" in invitation.body


def test_contract_form_errors_are_french_and_keep_the_input(client, world, log_in):
    log_in(world.admin)
    response = client.post(
        "/admin/marches/nouveau",
        data={"reference": "2027-0002", "object": "Nettoyage", "initial_amount_ht": "beaucoup",
              "duration_months": "0", "notification_date": "31/02/2027"},
    )  # fmt: skip
    page = page_text(response)
    assert response.status_code == 422
    assert 'value="beaucoup"' in page and 'value="2027-0002"' in page
    assert "La durée va de 1 à 600 mois." in page
    assert "N'est pas une date valide." in page
    assert page.count("N'est pas une valeur décimale valide.") == 2  # summary + field, once each
    assert "Indiquez un montant positif." not in page


def test_non_finite_amount_is_refused_not_crashed(client, world, log_in):
    log_in(world.admin)
    for amount in ("NaN", "Infinity", "1e309"):
        response = client.post(
            "/admin/marches/nouveau",
            data={"reference": "2027-0003", "object": "x", "initial_amount_ht": amount},
        )
        assert response.status_code == 422


def test_non_admins_cannot_reach_administration(client, world, log_in):
    log_in(world.buyer_lead)
    assert client.get("/admin/marches").status_code == 403
    assert client.post("/admin/organisations", data={"name": "x"}).status_code == 403


def test_admin_sees_no_contract_content_without_membership(client, world, log_in):
    log_in(world.admin)
    assert client.get(f"/contrats/{world.contract.id}/").status_code == 404
