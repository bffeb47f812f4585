"""« Mon compte » : open sessions, closing them, changing the password."""

from sqlalchemy import func, select

from app.auth.models import UserSession
from app.extensions import db
from tests.helpers import logged_in_client

NEW_PASSWORD = "pivoine-lanterne-granit-63"


def test_account_lists_my_open_sessions(app, client, world, log_in):
    log_in(world.buyer_lead)
    logged_in_client(app, world.buyer_lead, **{"User-Agent": "Firefox de la salle de réunion"})
    page = client.get("/compte").get_data(as_text=True)
    assert "Firefox de la salle de réunion" in page
    assert "Cette session" in page


def test_closing_another_session_logs_that_browser_out(app, client, world, log_in):
    log_in(world.buyer_lead)
    other = logged_in_client(app, world.buyer_lead)
    [other_session] = db.session.scalars(
        select(UserSession).order_by(UserSession.created_at.desc()).limit(1)
    )
    assert client.post(f"/compte/sessions/{other_session.id}/fin").status_code == 302
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_cannot_close_someone_elses_session(app, client, world, log_in):
    log_in(world.buyer_lead)
    other = logged_in_client(app, world.supplier_lead)
    theirs = db.session.scalar(
        select(UserSession).where(UserSession.user_id == world.supplier_lead.id)
    )
    assert client.post(f"/compte/sessions/{theirs.id}/fin").status_code == 422
    assert other.get("/").status_code == 200


def test_logging_out_everywhere_closes_every_browser(app, client, world, log_in):
    log_in(world.buyer_lead)
    other = logged_in_client(app, world.buyer_lead)
    client.post("/compte/deconnexion-partout")
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_needs_the_current_one_and_closes_other_sessions(
    app, client, world, log_in
):
    log_in(world.buyer_lead)
    other = logged_in_client(app, world.buyer_lead)
    wrong = client.post(
        "/compte/mot-de-passe", data={"current_password": "pas-le-bon", "password": NEW_PASSWORD}
    )
    assert wrong.status_code == 422
    assert "mot de passe actuel est incorrect" in wrong.get_data(as_text=True)
    ok = client.post(
        "/compte/mot-de-passe",
        data={"current_password": "jonquille-brouette-orage-81", "password": NEW_PASSWORD},
    )
    assert ok.status_code == 302
    assert client.get("/").status_code == 200  # this session stays
    assert other.get("/").status_code == 302  # the other one is closed
    live = db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))
    )
    assert live == 1
