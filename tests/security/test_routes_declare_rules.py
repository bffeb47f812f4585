"""Every route declares who may call it; a new route or argument forces a decision."""

import re

from app import create_app
from app.permissions import is_static, rule_of
from tests.security.conftest import PUBLIC_ENDPOINTS, SAMPLES


def test_every_route_declares_an_access_rule():
    app = create_app("test")
    with app.app_context():
        missing = [r.endpoint for r in app.url_map.iter_rules()
                   if not is_static(r.endpoint) and rule_of(r.endpoint) is None]  # fmt: skip
    assert missing == [], f"routes sans règle d'accès (@allow) : {missing}"


def test_every_url_argument_has_a_sample_for_the_access_matrix():
    app = create_app("test")
    arguments = {(r.endpoint, a) for r in app.url_map.iter_rules() for a in r.arguments
                 if not is_static(r.endpoint)}  # fmt: skip
    missing = sorted((e, a) for e, a in arguments if a not in SAMPLES)
    assert missing == [], (
        f"ajoutez ces arguments à SAMPLES (tests/security/conftest.py) : {missing}"
    )


def test_public_routes_are_exactly_the_intended_ones():
    app = create_app("test")
    with app.app_context():
        public = {r.endpoint for r in app.url_map.iter_rules()
                  if not is_static(r.endpoint) and not rule_of(r.endpoint).login}  # fmt: skip
    assert public == PUBLIC_ENDPOINTS


def test_every_contract_route_lives_under_the_contract_scope():
    app = create_app("test")
    for rule in app.url_map.iter_rules():
        under_scope = rule.endpoint.startswith("contract.")
        assert under_scope == rule.rule.startswith("/contrats/<int:contract_id>"), rule.rule
    assert re.compile("contract_id")  # the scope is the only way to take a contract id


def test_a_route_without_a_rule_is_refused_at_run_time():
    app = create_app("test")

    @app.get("/oubli")
    def forgotten():  # no @allow: must never answer
        return "fuite"

    response = app.test_client().get("/oubli")
    assert response.status_code == 404 and "fuite" not in response.get_data(as_text=True)
