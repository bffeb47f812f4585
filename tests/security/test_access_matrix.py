"""Every route × every role × own, foreign and mixed ids × plain and htmx requests.

A foreign contract answers 404 (never 403: its existence is not told); a member without the
right gets 403; an allowed member is never refused; an anonymous visitor goes to the login
page; and no refused request changes anything in the database."""

import pytest

from app.permissions import GRANTS, Permission
from tests.helpers import logged_in_client
from tests.security.conftest import (
    PUBLIC_ENDPOINTS,
    ROLES,
    all_routes,
    build_url,
    fingerprint,
)

ROUTES = list(all_routes())
SESSION_ENDING = {"auth.logout", "auth.log_out_everywhere"}  # an allowed call logs out
ROLE_MEMBERSHIP = {"buyer_lead": ("acheteur", "referent"),
                   "buyer_contributor": ("acheteur", "contributeur"),
                   "observer": ("acheteur", "observateur"),
                   "supplier_lead": ("titulaire", "referent"),
                   "supplier_contributor": ("titulaire", "contributeur")}  # fmt: skip


def allowed(app, endpoint, role) -> bool:
    rule = app.view_functions[endpoint].access_rule
    if role == "anonymous":
        return not rule.login
    if rule.admin:
        return role == "admin"
    if rule.permission is None:
        return True
    if role in ("outsider", "admin"):  # the administrator is a member of no contract
        return False
    return rule.permission in GRANTS[ROLE_MEMBERSHIP[role]]


def is_login_redirect(response, htmx: bool) -> bool:
    if htmx:
        return response.status_code == 401 and "/connexion" in response.headers["HX-Redirect"]
    return response.status_code == 302 and "/connexion" in response.headers["Location"]


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), ROUTES, ids=[f"{m} {r}" for _, r, m in ROUTES]
)
def test_access_matrix(app, world, sides, clients, endpoint, rule, method):
    if endpoint in PUBLIC_ENDPOINTS:
        for role in ROLES:
            url = build_url(rule, sides["own"], sides["other"], "own")
            assert clients[role].open(url, method=method).status_code < 500
        return
    contract_route = "contract_id" in rule
    outcomes = []
    # Refusals first: an allowed call may change state (log out, cancel an invitation).
    ordered = sorted(ROLES, key=lambda role: allowed(app, endpoint, role))
    for role in ordered:
        # The outsider's own contract is B: they are only walked through A's ids.
        walks = ("own", "other", "mixed") if contract_route and role != "outsider" else ("own",)
        for which in walks:
            for htmx in (False, True):
                headers = (
                    {"HX-Request": "true", "HX-Current-URL": "http://localhost/"} if htmx else {}
                )
                url = build_url(rule, sides["own"], sides["other"], which)
                if endpoint in SESSION_ENDING and role != "anonymous":
                    clients[role] = logged_in_client(app, world.role(role))
                before = fingerprint()
                response = clients[role].open(url, method=method, headers=headers)
                response.close()  # a live stream would stay open otherwise
                status = response.status_code
                where = f"{role} {which} {'htmx' if htmx else 'plain'} {method} {url} → {status}"
                assert status < 500, where
                if role == "anonymous":
                    assert is_login_redirect(response, htmx), where
                elif contract_route and (role in ("outsider", "admin") or which == "other"):
                    assert status == 404, where
                elif which == "mixed" and any(
                    a in rule for a in ("version_id", "item_id", "invitation_id")
                ):
                    # a foreign child id: never found (or refused before looking, the same
                    # answer as with an own id, so nothing is told about the foreign object)
                    expected = (404, 410) if allowed(app, endpoint, role) else (403,)
                    assert status in expected, where
                elif not allowed(app, endpoint, role):
                    assert status in (403, 404), where
                else:
                    assert status not in (401, 403, 404), where
                    outcomes.append(status)
                refused = status >= 400 or (
                    role == "anonymous" and is_login_redirect(response, htmx)
                )
                if refused:
                    assert fingerprint() == before, f"refused but wrote: {where}"
    rule_obj = app.view_functions[endpoint].access_rule
    if rule_obj.permission in (None, Permission.VIEW_CONTRACT, Permission.EDIT_PLAN):
        assert outcomes, f"positive control: nobody was allowed {method} {rule}"
