"""The buyer lead invites people of either side by a single-use, expiring link."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.auth.models import User
from app.contracts import services
from app.contracts.models import Invitation, Membership
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from tests.helpers import emails_to, link_in

PASSWORD = "cerisier-galopin-tempete-58"


def invite(client, contract, **fields):
    data = {"email": "nouveau@titulaire.example", "side": "titulaire", "role": "contributeur"}
    return client.post(f"/contrats/{contract.id}/invitations", data={**data, **fields})


def test_buyer_lead_invites_a_supplier_contributor(client, world, log_in):
    log_in(world.buyer_lead)
    response = invite(client, world.contract, full_name="Nina Roux")
    assert response.status_code == 302
    [email] = emails_to("nouveau@titulaire.example", "invitation")
    assert "2025-0142" in email.subject
    assert "Titulaire, Contributeur" in email.body
    page = client.get(f"/contrats/{world.contract.id}/").get_data(as_text=True)
    assert "Invitations en attente" in page and "Nina Roux" in page


def test_htmx_invitation_returns_only_the_panel(client, world, log_in):
    log_in(world.buyer_lead)
    response = client.post(
        f"/contrats/{world.contract.id}/invitations",
        data={"email": "nina@titulaire.example", "side": "titulaire", "role": "contributeur"},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="invitations"')
    assert "Invitation envoyée à nina@titulaire.example." in page
    assert "<html" not in page
    assert "HX-Request" in response.headers["Vary"]


def test_invalid_invitation_keeps_what_was_typed_and_says_what_is_wrong(client, world, log_in):
    log_in(world.buyer_lead)
    response = client.post(
        f"/contrats/{world.contract.id}/invitations",
        data={"email": "pas-une-adresse", "full_name": "Nina Roux"},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="pas-une-adresse"' in page and 'value="Nina Roux"' in page
    assert "Indiquez une adresse e-mail valide" in page
    assert "Choisissez la partie de la personne invitée." in page
    assert emails_to("pas-une-adresse") == []


@pytest.mark.parametrize("role", ["buyer_contributor", "observer", "supplier_lead"])
def test_only_the_buyer_lead_may_invite(client, world, log_in, role):
    log_in(world.role(role))
    assert invite(client, world.contract).status_code == 403
    assert db.session.scalar(select(Invitation)) is None


def test_inviting_an_existing_member_is_refused(client, world, log_in):
    log_in(world.buyer_lead)
    response = invite(client, world.contract, email=world.supplier_lead.email)
    assert response.status_code == 422
    assert "déjà membre" in response.get_data(as_text=True)


def test_new_person_creates_an_account_from_the_link_and_joins(app, world):
    services.invite(
        world.contract,
        email="Nina@Titulaire.example",
        full_name="Nina Roux",
        side="titulaire",
        role="contributeur",
        invited_by=world.buyer_lead,
    )
    link = link_in(emails_to("nina@titulaire.example")[0])
    browser = app.test_client()
    page = browser.get(link).get_data(as_text=True)
    assert "Créer votre compte" in page and "Textiles Rhône SAS" in page
    assert db.session.scalar(select(User).where(User.email == "nina@titulaire.example")) is None
    response = browser.post(link, data={"full_name": "Nina Roux", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/contrats/{world.contract.id}/"
    nina = db.session.scalar(select(User).where(User.email == "nina@titulaire.example"))
    membership = db.session.scalar(select(Membership).where(Membership.user_id == nina.id))
    assert (membership.side, membership.role) == ("titulaire", "contributeur")
    assert nina.organisation.name == "Textiles Rhône SAS"
    assert browser.get(f"/contrats/{world.contract.id}/").status_code == 200
    assert (
        app.test_client().post(link, data={"full_name": "X", "password": PASSWORD}).status_code
        == 410
    )


def test_weak_password_on_invitation_keeps_the_name(app, world):
    services.invite(
        world.contract,
        email="nina@titulaire.example",
        full_name="",
        side="titulaire",
        role="contributeur",
        invited_by=world.buyer_lead,
    )
    link = link_in(emails_to("nina@titulaire.example")[0])
    response = app.test_client().post(link, data={"full_name": "Nina Roux", "password": "court"})
    assert response.status_code == 422
    assert 'value="Nina Roux"' in response.get_data(as_text=True)


def test_existing_account_accepts_after_logging_in(app, client, world, log_in):
    services.invite(
        world.contract,
        email=world.outsider.email,
        full_name="",
        side="acheteur",
        role="observateur",
        invited_by=world.buyer_lead,
    )
    link = link_in(emails_to(world.outsider.email)[0])
    anonymous = app.test_client().get(link).get_data(as_text=True)
    assert "connectez-vous pour accepter" in anonymous
    log_in(world.outsider)
    assert client.get(f"/contrats/{world.contract.id}/").status_code == 404
    assert client.post(link).status_code == 302
    assert client.get(f"/contrats/{world.contract.id}/").status_code == 200


def test_invitation_for_another_address_is_refused(client, world, log_in):
    services.invite(
        world.contract,
        email="quelquun@ailleurs.example",
        full_name="",
        side="titulaire",
        role="observateur",
        invited_by=world.buyer_lead,
    )
    link = link_in(emails_to("quelquun@ailleurs.example")[0])
    log_in(world.outsider)
    response = client.post(link)
    assert response.status_code == 422
    assert "autre adresse" in response.get_data(as_text=True)
    assert client.get(f"/contrats/{world.contract.id}/").status_code == 404


def test_expired_or_cancelled_invitation_is_refused(app, client, world, log_in):
    invitation = services.invite(
        world.contract,
        email="nina@titulaire.example",
        full_name="",
        side="titulaire",
        role="contributeur",
        invited_by=world.buyer_lead,
    )
    link = link_in(emails_to("nina@titulaire.example")[0])
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert app.test_client().get(link).status_code == 410
    db.session.execute(update(Invitation).values(expires_at=utcnow() + timedelta(days=1)))
    db.session.commit()
    log_in(world.buyer_lead)
    cancel = client.post(f"/contrats/{world.contract.id}/invitations/{invitation.id}/annulation")
    assert cancel.status_code == 302
    assert app.test_client().get(link).status_code == 410


def test_a_new_invitation_replaces_the_pending_one(world):
    first = services.invite(
        world.contract, email="n@t.example", full_name="", side="titulaire",
        role="contributeur", invited_by=world.buyer_lead,
    )  # fmt: skip
    services.invite(
        world.contract, email="n@t.example", full_name="", side="titulaire",
        role="referent", invited_by=world.buyer_lead,
    )  # fmt: skip
    db.session.refresh(first)
    assert first.cancelled_at is not None
    assert [i.role for i in services.pending_invitations(world.contract)] == ["referent"]


def test_invitation_of_another_contract_cannot_be_cancelled_here(client, world, log_in):
    theirs = services.invite(
        world.other_contract, email="x@y.example", full_name="", side="titulaire",
        role="contributeur", invited_by=world.outsider,
    )  # fmt: skip
    log_in(world.buyer_lead)
    response = client.post(f"/contrats/{world.contract.id}/invitations/{theirs.id}/annulation")
    assert response.status_code == 410
    db.session.refresh(theirs)
    assert theirs.cancelled_at is None


def test_accepting_twice_at_once_creates_one_membership(world):
    services.invite(
        world.contract, email=world.outsider.email, full_name="", side="acheteur",
        role="observateur", invited_by=world.buyer_lead,
    )  # fmt: skip
    token = link_in(emails_to(world.outsider.email)[0]).rsplit("/", 1)[1]
    services.accept_invitation(token, world.outsider)
    with pytest.raises(DomainError):
        services.accept_invitation(token, world.outsider)
    count = db.session.scalars(
        select(Membership).where(Membership.user_id == world.outsider.id)
    ).all()
    assert len(count) == 2  # their own contract and this one, once


def test_the_invitation_is_written_in_french_whatever_the_inviters_language(client, world, log_in):
    log_in(world.buyer_lead)
    client.post("/langue", data={"locale": "en"})
    invite(client, world.contract)
    [email] = emails_to("nouveau@titulaire.example", "invitation")
    assert email.subject.startswith("Progrès : invitation au marché")
    assert "Bonjour" in email.body
