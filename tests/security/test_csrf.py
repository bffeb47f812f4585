"""Every state-changing route refuses a request without the CSRF token (ASVS 3.5)."""

import re

import pytest

from tests.factories import PASSWORD
from tests.security.conftest import all_routes, build_url

UNSAFE = [(e, r, m) for e, r, m in all_routes() if m in ("POST", "PUT", "PATCH", "DELETE")]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"', page).group(0).split('value="')[1][:-1]  # fmt: skip


@pytest.fixture
def member(app, world):
    client = app.test_client()
    token = token_of(client.get("/connexion").get_data(as_text=True))
    response = client.post("/connexion", data={"email": world.buyer_lead.email,
                                               "password": PASSWORD, "csrf_token": token})  # fmt: skip
    assert response.status_code == 302
    return client


def test_every_unsafe_route_refuses_a_request_without_token(member, sides):
    refused = []
    for _endpoint, rule, method in UNSAFE:
        url = build_url(rule, sides["own"], sides["other"], "own")
        for headers in ({}, {"HX-Request": "true"}):
            response = member.open(url, method=method, headers=headers)
            if response.status_code != 400 or "Votre session a expiré" not in response.get_data(
                as_text=True
            ):
                refused.append(f"{method} {url} {headers} → {response.status_code}")
    assert refused == []
    assert len(UNSAFE) >= 15  # the walk really walked


def test_htmx_request_with_the_page_token_is_accepted(member, world):
    page = member.get(f"/contrats/{world.contract.id}/").get_data(as_text=True)
    header_token = re.search(r"hx-headers='\{&#34;X-CSRFToken&#34;: &#34;([^&]+)&#34;\}'", page)
    header_token = header_token or re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page)
    response = member.post(
        f"/contrats/{world.contract.id}/invitations",
        data={"email": "nina@titulaire.example", "side": "titulaire", "role": "contributeur"},
        headers={"HX-Request": "true", "X-CSRFToken": header_token.group(1)},
    )
    assert response.status_code == 200


def test_a_wrong_token_is_refused_with_a_visible_message(member, world):
    response = member.post(
        f"/contrats/{world.contract.id}/invitations",
        data={"email": "nina@titulaire.example"},
        headers={"HX-Request": "true", "X-CSRFToken": "faux"},
    )
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#notifications"
    assert "Votre session a expiré" in response.get_data(as_text=True)


def test_a_cross_site_write_is_refused_before_anything_else(app, world):
    response = app.test_client().post("/connexion", headers={"Sec-Fetch-Site": "cross-site"},
                                      data={"email": world.buyer_lead.email})  # fmt: skip
    assert response.status_code == 403
