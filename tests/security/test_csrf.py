"""Every write needs the CSRF token, and a write a browser says comes from another site is
refused before anything else (SECURITY.md §3, EXAMPLES 9; ASVS 3.5.1, 3.5.3).

Same walk of the URL map as the access matrix, on a stage whose app checks CSRF (the stage's
people logged in through the login form, with its hidden token)."""

import pytest

from app.error_pages import CSRF_MESSAGE
from tests.helpers import page_text
from tests.security.conftest import Case, all_routes, csrf_token_in, header_token_in

WRITES = [r for r in all_routes() if r.unsafe]
# /api/* is exempt from CSRF only because a cookie counts for nothing there.
COOKIE_WRITES = [r for r in WRITES if not r.token_authenticated]
API_WRITES = [r for r in WRITES if r.token_authenticated]


@pytest.fixture(scope="module")
def stage_config():
    return {"WTF_CSRF_ENABLED": True}


def page_token(client) -> str:
    """The token htmx sends, as a page of the logged-in person carries it."""
    return header_token_in(client.get("/compte").get_data(as_text=True))


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("role", ["buyer_lead", "anonymous"])
@pytest.mark.parametrize("route", COOKIE_WRITES, ids=str)
def test_write_without_token_is_refused_with_a_french_message(on_stage, route, role, htmx):
    """Before the login gate and the membership check: the same 400 for everyone."""
    response = on_stage.send(Case(route, role, htmx=htmx))
    where = f"{role} {route} → {response.status_code}"
    assert response.status_code == 400, where
    assert str(CSRF_MESSAGE) in page_text(response), where
    if htmx:  # shown in the page's notice area: htmx swaps nothing on a 4xx by itself
        assert response.headers["HX-Retarget"] == "#notifications", where
    assert on_stage.fingerprint() == on_stage.baseline, f"refused but wrote: {where}"


@pytest.mark.parametrize("role", ["buyer_lead", "supplier_lead", "anonymous"])
@pytest.mark.parametrize("route", API_WRITES, ids=str)
def test_an_api_write_with_a_cookie_and_no_bearer_token_gets_401(on_stage, route, role):
    """Exempt from CSRF, yet a logged-in browser's session (CSRF token or not) writes nothing."""
    client = on_stage.client(role)
    headers = {"Sec-Fetch-Site": "same-origin", "Idempotency-Key": "cle"}
    if role != "anonymous":
        headers["X-CSRFToken"] = page_token(client)
    response = on_stage.send(Case(route, role), client=client, headers=headers)
    assert response.status_code == 401, f"{role} {route} → {response.status_code}"
    assert on_stage.fingerprint() == on_stage.baseline


def test_the_api_walk_really_walked():
    assert API_WRITES, "no token-authenticated write: the API test above walked nothing"


def invite() -> Case:
    return Case(
        next(r for r in WRITES if r.endpoint == "contract.overview.invite"), "buyer_lead", htmx=True
    )


def test_htmx_write_with_the_token_of_the_page_is_accepted(on_stage):
    client = on_stage.client("buyer_lead")
    page = client.get(f"/contrats/{on_stage.own.contract_id}/").get_data(as_text=True)
    response = on_stage.send(
        invite(),
        client=client,
        headers={"X-CSRFToken": header_token_in(page), "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200
    assert "Invitation envoyée à nina@titulaire.example" in page_text(response)


def test_form_with_its_hidden_token_is_accepted(on_stage):
    client = on_stage.client("buyer_lead")
    page = client.get(f"/contrats/{on_stage.own.contract_id}/").get_data(as_text=True)
    case = Case(invite().route, "buyer_lead")
    response = client.post(
        case.url(on_stage), data={**case.body(on_stage), "csrf_token": csrf_token_in(page)}
    )
    assert response.status_code == 302
    assert on_stage.fingerprint() != on_stage.baseline  # the invitation was written


@pytest.mark.parametrize("token", ["faux", "other_person"])
def test_a_wrong_token_is_refused_with_a_visible_message(on_stage, token):
    client = on_stage.client("buyer_lead")
    page_token(client)  # the session has its own token: the one sent is not it
    if token == "other_person":  # a real token, of another person's session
        token = page_token(on_stage.client("supplier_lead"))
    response = on_stage.send(invite(), client=client, headers={"X-CSRFToken": token})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#notifications"
    assert str(CSRF_MESSAGE) in page_text(response)
    assert on_stage.fingerprint() == on_stage.baseline


@pytest.mark.parametrize("route", WRITES, ids=str)
def test_a_cross_site_write_is_refused_even_with_a_token(on_stage, route):
    client = on_stage.client("buyer_lead")
    headers = {"X-CSRFToken": page_token(client), "Sec-Fetch-Site": "cross-site"}
    response = on_stage.send(Case(route, "buyer_lead"), client=client, headers=headers)
    assert response.status_code == 403, f"{route} → {response.status_code}"
    assert on_stage.fingerprint() == on_stage.baseline, f"refused but wrote: {route}"


def test_the_walk_really_walked():
    assert len(WRITES) >= 20
