"""« Mot de passe oublié » : a single-use, 30-minute link that never logs in by itself."""

from datetime import timedelta

from sqlalchemy import select, update

from app.auth.models import PasswordResetToken, UserSession
from app.db_types import utcnow
from app.extensions import db
from tests.helpers import emails_to, link_in

NEW_PASSWORD = "pivoine-lanterne-granit-63"


def ask_reset(client, email):
    return client.post("/mot-de-passe-oublie", data={"email": email})


def test_reset_link_is_sent_and_works_once(client, world):
    response = ask_reset(client, world.supplier_lead.email)
    assert response.status_code == 302
    [email] = emails_to(world.supplier_lead.email, "reinitialisation")
    assert "30 minutes" in email.body
    link = link_in(email)
    assert client.get(link).status_code == 200
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 302
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 410
    assert "plus valable" in client.get(link).get_data(as_text=True)
    # The new password works; the reset itself logged nobody in.
    assert client.get("/").status_code == 302
    login = client.post(
        "/connexion", data={"email": world.supplier_lead.email, "password": NEW_PASSWORD}
    )
    assert login.status_code == 302


def test_only_the_hash_of_the_token_is_stored(client, world):
    ask_reset(client, world.supplier_lead.email)
    token = link_in(emails_to(world.supplier_lead.email)[0]).rsplit("/", 1)[1]
    stored = db.session.scalar(select(PasswordResetToken.token_hash))
    assert token not in stored and len(stored) == 64
    assert len(token) >= 43  # 256 random bits, URL-safe


def test_unknown_address_gets_the_same_answer_and_no_email(client, world):
    known = ask_reset(client, world.supplier_lead.email)
    unknown = ask_reset(client, "personne@nulle-part.example")
    assert unknown.status_code == known.status_code == 302
    assert emails_to("personne@nulle-part.example") == []


def test_expired_reset_link_is_refused(client, world):
    ask_reset(client, world.supplier_lead.email)
    link = link_in(emails_to(world.supplier_lead.email)[0])
    db.session.execute(
        update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 410


def test_weak_new_password_is_refused_and_link_stays_usable(client, world):
    ask_reset(client, world.supplier_lead.email)
    link = link_in(emails_to(world.supplier_lead.email)[0])
    response = client.post(link, data={"password": "motdepasse123"})
    assert response.status_code == 422
    assert "plus courants" in response.get_data(as_text=True)
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 302


def test_reset_ends_every_open_session(app, client, world, log_in):
    log_in(world.supplier_lead)
    ask_reset(app.test_client(), world.supplier_lead.email)
    link = link_in(emails_to(world.supplier_lead.email)[0])
    app.test_client().post(link, data={"password": NEW_PASSWORD})
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(UserSession).where(UserSession.revoked_at.is_(None))) is None


def test_made_up_token_is_refused(client):
    assert client.get("/mot-de-passe/inventé").status_code == 410
