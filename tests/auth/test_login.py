"""Logging in and out, server-side sessions, « se souvenir de moi »."""

from datetime import timedelta

from sqlalchemy import select, update

from app.auth.models import UserSession
from app.db_types import utcnow
from app.extensions import db


def test_login_page_is_french_and_asks_for_email_and_password(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Adresse e-mail" in page and 'type="password"' in page
    assert "onpaste" not in page


def test_member_logs_in_and_lands_on_their_contracts(client, world, log_in):
    response = log_in(world.supplier_lead)
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "2025-0142" in page
    assert "2026-0057" not in page  # the other contract is not even named


def test_wrong_password_keeps_the_email_and_says_why_in_french(client, world):
    response = client.post(
        "/connexion", data={"email": world.buyer_lead.email, "password": "pas-le-bon-mot"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Adresse e-mail ou mot de passe incorrect." in page
    assert f'value="{world.buyer_lead.email}"' in page


def test_unknown_account_gets_the_same_answer_as_a_wrong_password(client, world):
    response = client.post("/connexion", data={"email": "nobody@x.example", "password": "x" * 12})
    assert response.status_code == 422
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_empty_login_form_lists_both_errors(client):
    response = client.post("/connexion", data={})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Indiquez votre adresse e-mail." in page
    assert "Indiquez votre mot de passe." in page
    assert 'aria-invalid="true"' in page


def test_login_only_follows_a_local_next(client, world):
    for target, expected in [
        ("/compte", "/compte"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
    ]:
        client.post("/deconnexion")
        response = client.post(
            "/connexion",
            data={
                "email": world.buyer_lead.email,
                "password": "jonquille-brouette-orage-81",
                "next": target,
            },
        )
        assert response.headers["Location"] == expected


def test_disabled_account_cannot_log_in(client, world):
    world.buyer_lead.active = False
    db.session.commit()
    response = client.post(
        "/connexion",
        data={"email": world.buyer_lead.email, "password": "jonquille-brouette-orage-81"},
    )
    assert response.status_code == 422


def test_login_renews_the_session_cookie(client, world, log_in):
    client.get("/connexion")
    before = client.get_cookie("progres")
    log_in(world.buyer_lead)
    after = client.get_cookie("progres")
    assert after is not None and (before is None or before.value != after.value)


def test_logout_ends_the_session_on_the_server(app, client, world, log_in):
    log_in(world.buyer_lead)
    stolen = client.get_cookie("progres").value
    response = client.post("/deconnexion")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    replay = app.test_client()
    replay.set_cookie("progres", stolen)
    assert replay.get("/").status_code == 302  # the old cookie no longer opens anything


def test_session_expires_after_30_idle_minutes(client, world, log_in):
    log_in(world.buyer_lead)
    assert client.get("/").status_code == 200
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    db.session.commit()
    assert client.get("/").status_code == 302


def test_session_expires_12_hours_after_login_even_when_active(client, world, log_in):
    log_in(world.buyer_lead)
    db.session.execute(
        update(UserSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1))
    )
    db.session.commit()
    assert client.get("/").status_code == 302


def test_remember_me_keeps_a_revocable_session_for_30_days(app, client, world, log_in):
    log_in(world.buyer_lead, remember=True)
    remember_cookie = client.get_cookie("remember_token")
    assert remember_cookie is not None
    row = db.session.scalar(select(UserSession))
    assert row.remember
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=3)))
    db.session.commit()
    browser_restarted = app.test_client()
    browser_restarted.set_cookie("remember_token", remember_cookie.value)
    assert browser_restarted.get("/").status_code == 200
    db.session.execute(update(UserSession).values(revoked_at=utcnow()))
    db.session.commit()
    again = app.test_client()
    again.set_cookie("remember_token", remember_cookie.value)
    assert again.get("/").status_code == 302


def test_anonymous_htmx_request_is_sent_to_login_without_a_swap(client, world):
    response = client.get(
        f"/contrats/{world.contract.id}/",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": f"http://localhost/contrats/{world.contract.id}/",
        },
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/connexion?next=/contrats/{world.contract.id}/"


def test_login_and_failures_are_in_the_audit_trail(client, world, log_in):
    from app.audit.models import AuditEvent

    client.post(
        "/connexion", data={"email": world.buyer_lead.email, "password": "mauvais-mot-de-passe"}
    )
    log_in(world.buyer_lead)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "connexion.echec" in actions and "connexion" in actions
    payloads = " ".join(db.session.scalars(select(AuditEvent.payload)))
    assert "mauvais-mot-de-passe" not in payloads


def test_the_header_reads_the_persons_organisation_with_the_session(app, world):
    """Every page names the person's organisation in its header: read with the session (off
    a contract, no party of the page is there to be found), not in a query of its own."""
    import re

    from tests.helpers import logged_in_client, page_text, statements_run

    for user, path in [(world.buyer_lead, "/"), (world.buyer_lead, "/compte"),
                       (world.outsider, "/notifications/")]:  # fmt: skip
        client = logged_in_client(app, user)
        with statements_run() as statements:
            page = page_text(client.get(path))
        assert user.organisation.name in page
        assert not [s for s in statements if re.search(r"WHERE organisation\.id = ", s)]
