"""Every route says who may call it, and a new route or argument forces a decision
(SECURITY.md §2: GitLab's permissions:validate, Decidim's PermissionNotSet, 18F tock)."""

import pytest

from app.permissions import AccessRule, is_static
from tests.security.conftest import (
    BODIES,
    CONTRACT_PREFIX,
    PUBLIC_ENDPOINTS,
    SAMPLES,
    all_routes,
    route_map_app,
)


def endpoints():
    return sorted(
        {r.endpoint for r in route_map_app().url_map.iter_rules() if not is_static(r.endpoint)}
    )


def test_every_route_declares_an_access_rule():
    views = route_map_app().view_functions
    missing = [
        e for e in endpoints() if not isinstance(getattr(views[e], "access_rule", None), AccessRule)
    ]
    assert missing == [], f"routes sans règle d'accès, ajoutez @allow(...) : {missing}"


def test_every_url_argument_has_a_sample_for_the_access_matrix():
    missing = sorted(
        {(r.endpoint, a) for r in all_routes() for a in r.arguments if a not in SAMPLES}
    )
    assert missing == [], (
        "arguments d'URL sans échantillon : ajoutez-les à SAMPLES dans "
        f"tests/security/conftest.py (une valeur propre et une étrangère) : {missing}"
    )


def test_every_write_route_has_a_valid_body_for_the_access_matrix():
    missing = sorted({r.endpoint for r in all_routes() if r.unsafe and r.endpoint not in BODIES})
    assert missing == [], (
        "routes d'écriture sans corps de requête valide : ajoutez-les à BODIES dans "
        f"tests/security/conftest.py : {missing}"
    )


def test_public_routes_are_exactly_the_intended_ones():
    """A new public route fails here until it is added to PUBLIC_ENDPOINTS on purpose."""
    public = {r.endpoint for r in all_routes() if r.public}
    assert public == PUBLIC_ENDPOINTS


def test_every_route_under_a_contract_belongs_to_the_contract_scope():
    """The scope blueprint is what pulls the contract id for the membership check."""
    strays = [str(r) for r in all_routes() if r.in_contract != r.endpoint.startswith("contract.")]
    assert strays == [], f"routes hors du blueprint contract_scope ou l'inverse : {strays}"


def test_a_contract_id_is_only_taken_by_the_contract_scope():
    """`contract_id` anywhere else would skip the membership check."""
    strays = [
        str(r)
        for r in all_routes()
        if "contract_id" in r.arguments and not r.rule.startswith(CONTRACT_PREFIX)
    ]
    assert strays == [], f"contract_id pris hors de {CONTRACT_PREFIX} : {strays}"


def test_a_permission_is_only_required_on_contract_routes():
    """A right belongs to a membership: outside a contract it would refuse everyone."""
    strays = [
        str(r)
        for r in all_routes()
        if r.access_rule and r.access_rule.permission and not r.in_contract
    ]
    assert strays == [], f"droit exigé hors d'un marché : {strays}"


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_a_route_without_a_rule_is_refused_at_run_time(app, client, world, log_in, who):
    """Fail closed: even if this suite were skipped, a forgotten @allow answers 404, to an
    administrator too."""

    @app.get("/oubli")
    def forgotten():  # no @allow
        return "fuite"

    if who == "admin":
        log_in(world.admin)
    response = client.get("/oubli")
    assert response.status_code == 404
    assert "fuite" not in response.get_data(as_text=True)
