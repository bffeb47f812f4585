"""Security headers on every answer, personal pages never cached, and a GET never changes
anything (SECURITY.md §3; ASVS 3.4, 14.3.2, 3.5.3), for every GET route of the URL map as
every role, on its own ids, as a plain and as an htmx request."""

from contextlib import contextmanager

import pytest
from flask import template_rendered
from jinja2_fragments.flask import template_block_rendered, template_blocks_rendered

from tests.security.conftest import ROLES, Case, all_routes

GETS = [r for r in all_routes() if r.method == "GET"]
TEMPLATE_SIGNALS = (template_rendered, template_block_rendered, template_blocks_rendered)


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers.get("Content-Security-Policy", "").split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@contextmanager
def templates_rendered():
    """The templates rendered while inside (pages, fragments and error pages alike)."""
    names = []

    def record(sender, template=None, template_name=None, **extra):
        names.append(template_name or getattr(template, "name", "?"))

    for signal in TEMPLATE_SIGNALS:
        signal.connect(record)
    try:
        yield names
    finally:
        for signal in TEMPLATE_SIGNALS:
            signal.disconnect(record)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", GETS, ids=str)
def test_every_get_sends_the_security_headers_and_changes_nothing(on_stage, route, role, htmx):
    case = Case(route, role, htmx=htmx)
    with templates_rendered() as rendered:
        response = on_stage.send(case)
    where = (
        f"{role} GET {case.url(on_stage)} {'htmx' if htmx else 'plain'} → {response.status_code}"
    )
    csp = policy(response)
    assert csp.get("object-src") == ["'none'"], where
    assert csp.get("base-uri") == ["'none'"], where
    assert csp.get("frame-ancestors") == ["'none'"], where
    assert "'self'" in csp.get("script-src", []), where
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(
        csp["script-src"]
    ), where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    if role != "anonymous":  # a personal page stays out of shared and back-button caches
        assert response.headers.get("Cache-Control") == "no-store", where
    if rendered:  # page or fragment from the same URL: caches and history must tell them apart
        assert "HX-Request" in response.headers.get("Vary", ""), f"{where} {rendered}"
    assert on_stage.fingerprint() == on_stage.baseline, f"a GET changed the database: {where}"


def test_the_walk_reaches_pages_and_fragments(on_stage):
    """The walk really renders templates (else the Vary check above would never run)."""
    with templates_rendered() as rendered:
        on_stage.send(Case(next(r for r in GETS if r.endpoint == "contract.plan.show"), "observer"))
    assert "plan/page.html" in rendered


def test_https_answers_ask_for_https_for_a_year(on_stage):
    response = on_stage.client("anonymous").get("/connexion", base_url="https://localhost")
    hsts = response.headers["Strict-Transport-Security"]
    assert "includeSubDomains" in hsts
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 31_536_000


@pytest.mark.parametrize("role", ["anonymous", "buyer_lead"])
def test_trace_is_not_allowed(on_stage, role):
    assert on_stage.client(role).open("/", method="TRACE").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/static/",
        "/static",
        "/static/../config.py",
        "/static/%2e%2e/config.py",
        "/.git/HEAD",
        "/instance/",
    ],
)
def test_static_files_have_no_listing_and_no_way_out(on_stage, path):
    response = on_stage.client("anonymous").get(path)
    assert response.status_code == 404, path
