"""The production configuration: host-only secure session cookies, and no start without a
real secret (SECURITY.md §7; ASVS 3.3.1–3.3.4, 13.3.1).

A module of its own: Flask-Talisman and Flask-Limiter keep their settings on the one extension
object, so building a production app in the same process retunes the apps built before it (see
test_headers.py, whose stage must keep the test settings)."""

import pytest

from app import create_app
from app.config import DEV_SECRET_KEY
from app.extensions import db
from tests.factories import PASSWORD
from tests.security.conftest import csrf_token_in

SITE = "https://progres.example"


def set_cookie_headers(response, name: str) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]


@pytest.mark.parametrize("remember", [False, True], ids=["session", "remember_me"])
def test_production_login_sets_a_secure_host_only_cookie(make_app, world, remember):
    email = world.buyer_lead.email
    db.session.commit()  # release SQLite's write lock for the production app
    app = make_app("production", SECRET_KEY="x" * 40)
    client = app.test_client()
    login_page = client.get("/connexion", base_url=SITE)
    assert login_page.status_code == 200
    response = client.post(
        "/connexion",
        base_url=SITE,
        headers={"Referer": f"{SITE}/connexion"},  # checked on HTTPS (WTF_CSRF_SSL_STRICT)
        data={
            "email": email,
            "password": PASSWORD,
            "remember": "y" if remember else "",
            "csrf_token": csrf_token_in(login_page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    [cookie] = set_cookie_headers(response, "__Host-progres")
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= set(attributes), cookie
    assert attributes["samesite"] == "SameSite=Lax", cookie
    assert attributes["path"] == "Path=/", cookie
    assert "domain" not in attributes, cookie
    if remember:
        [token] = set_cookie_headers(response, "remember_token")
        assert "Secure" in token and "HttpOnly" in token and "SameSite=Lax" in token, token
    else:
        assert set_cookie_headers(response, "remember_token") == []


def test_production_sends_plain_http_to_https(make_app):
    app = make_app("production", SECRET_KEY="x" * 40)
    response = app.test_client().get("/connexion")
    assert response.status_code in (301, 302)
    assert response.headers["Location"].startswith("https://")


@pytest.mark.parametrize(
    "secret",
    [DEV_SECRET_KEY, "x" * 31, "", None],
    ids=["development_key", "31_characters", "empty", "missing"],
)
def test_production_refuses_to_start_without_a_real_secret(database_url, secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=secret, SQLALCHEMY_DATABASE_URI=database_url)
