"""Security headers on every page, no caching of personal pages, GETs change nothing."""

import pytest

from app import create_app
from app.extensions import db
from tests.factories import PASSWORD
from tests.security.conftest import all_routes, build_url, fingerprint

GETS = [(e, r) for e, r, m in all_routes() if m == "GET"]


def check_headers(response, where, logged_in):
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "script-src 'self'", "default-src 'self'"):  # fmt: skip
        assert directive in csp, where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert response.headers["X-Content-Type-Options"] == "nosniff", where
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", where
    assert response.headers["X-Frame-Options"] == "DENY", where
    if logged_in:
        assert response.headers.get("Cache-Control") == "no-store", where


def test_every_page_has_the_security_headers_and_gets_change_nothing(clients, sides):
    for role in ("anonymous", "buyer_lead", "supplier_contributor", "observer"):
        for _endpoint, rule in GETS:
            url = build_url(rule, sides["own"], sides["other"], "own")
            for headers in ({}, {"HX-Request": "true"}):
                before = fingerprint()
                response = clients[role].get(url, headers=headers)
                response.close()  # a live stream would stay open otherwise
                where = f"{role} GET {url} {headers} → {response.status_code}"
                check_headers(response, where, role != "anonymous")
                assert fingerprint() == before, f"a GET wrote: {where}"


def test_pages_that_answer_a_fragment_say_so_to_caches(clients, sides):
    response = clients["buyer_lead"].get(f"/contrats/{sides['own'].contract_id}/plan/")
    assert "HX-Request" in response.headers["Vary"]


def test_trace_is_not_allowed_and_static_has_no_listing(client):
    assert client.open("/", method="TRACE").status_code == 405
    assert client.get("/static/").status_code == 404
    assert client.get("/.git/HEAD").status_code == 404


def test_production_cookies_are_secure_host_only(make_app, world):
    app = make_app("production", SECRET_KEY="s" * 40,
                     FORCE_HTTPS=False, WTF_CSRF_ENABLED=False)  # fmt: skip
    email = world.buyer_lead.email
    db.session.commit()  # release SQLite's write lock for this second app
    client = app.test_client()
    response = client.post("/connexion", base_url="https://progres.example",
                           data={"email": email, "password": PASSWORD,
                                 "remember": "y"})  # fmt: skip
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-progres="))
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in session_cookie
    assert "Domain" not in session_cookie
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "Secure" in remember and "HttpOnly" in remember


@pytest.mark.parametrize("secret", ["dev-only-secret-key-never-in-production", "trop-courte"])
def test_production_refuses_to_start_without_a_real_secret(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY=secret)
