"""Who may call what: every route of the URL map × every role × own, foreign and mixed ids ×
plain and htmx requests, generated at collection time (SECURITY.md §2).

Each request is one story below. An anonymous visitor is sent to the login page; a contract
one is not a member of answers 404, as if it did not exist (never 403, never 200); a foreign
object inside one's own contract is not found either; a member without the right gets 403; an
allowed role is served. A refused request, and any GET, leaves the database exactly as it was
(the stage's fingerprint, see conftest.py).

The matrix runs with CSRF off (the test configuration), else every write would answer 400 and
the refusals would pass for the wrong reason; `test_csrf.py` checks CSRF on the same walk."""

import pytest

from app.permissions import Permission
from tests.security.conftest import (
    HTMX_HEADERS,
    MEMBERS_OF_A,
    PUBLIC_ENDPOINTS,
    Case,
    all_cases,
    all_routes,
    is_login_redirect,
)

# The table of app/permissions.py written out again, on purpose: giving a right to another
# role must be done in both places.
HOLDERS = {
    Permission.VIEW_CONTRACT: set(MEMBERS_OF_A),
    Permission.INVITE_MEMBERS: {"buyer_lead"},
    Permission.EDIT_PLAN: {
        "buyer_lead",
        "buyer_contributor",
        "supplier_lead",
        "supplier_contributor",
    },
    Permission.APPROVE_PLAN: {"buyer_lead", "supplier_lead"},
    Permission.HANDLE_DIFFICULTIES: {
        "buyer_lead",
        "buyer_contributor",
        "supplier_lead",
        "supplier_contributor",
    },
    Permission.COMMENT: set(MEMBERS_OF_A),
    Permission.ORGANISE_REVIEWS: {
        "buyer_lead",
        "buyer_contributor",
        "supplier_lead",
        "supplier_contributor",
    },
    Permission.ENTER_VALUES: {
        "buyer_lead",
        "buyer_contributor",
        "supplier_lead",
        "supplier_contributor",
    },
}


# Routes whose rule lets a role in but whose domain rule refuses it on the stage's objects, by
# design (403 from the service, nothing written): written out so that the positive control of
# every other (route, role) stays strict.
DOMAIN_REFUSALS = {
    # The minutes are written by the side whose turn it is: the buyer's, on the stage's review.
    "contract.reviews.minutes": {"supplier_lead", "supplier_contributor"},
    # A change request is decided, formalised and completed by the buyer lead only; the
    # stage's letter receives the buyer's visa; the holder's identification is the holder's.
    "contract.changes.buyer_step": {"supplier_lead"},
    "contract.changes.formalise": {"supplier_lead"},
    "contract.changes.terms": {"supplier_lead"},
    "contract.changes.visa": {"supplier_lead"},
    "contract.changes.signature": {"supplier_lead"},
    "contract.changes.notification": {"supplier_lead"},
    "contract.changes.contract_terms": {"supplier_lead"},
    "contract.changes.holder": {"buyer_lead"},
}
# The stage's plan is in force, its draft belongs to a change request: a plan visa there is
# refused by the domain (422; the baseline visa is tested in tests/plan).
DOMAIN_STATES = {"contract.plan.give_visa": 422}


def permitted(route, role) -> bool:
    """May `role` do this on its own contract (A), by the route's declared rule?"""
    rule = route.access_rule
    if rule is None or role == "anonymous":
        return rule is not None and not rule.login
    if rule.admin:
        return role == "admin"
    if rule.permission is None:
        return True
    return role in HOLDERS.get(rule.permission, set())


def story(case) -> str:
    route, role, which = case.route, case.role, case.which
    if route.token_authenticated:
        return "cookie_on_the_api"
    if route.public:
        return "public"
    if role == "anonymous":
        return "anonymous"
    # The URL names contract A, or B with `other` ids (the members of B, whose own contract it
    # is, are only walked through A's ids: see `walks`).
    member_of_the_urls_contract = which != "other" and role in MEMBERS_OF_A
    if route.in_contract and not member_of_the_urls_contract:
        return "not_a_member"
    if not permitted(route, role):
        return "forbidden"  # the right is checked before any object is looked up
    if which == "mixed":
        return "foreign_child"
    if which == "other":
        return "someone_elses"
    return "allowed"


CASES = all_cases()
STORIES = {}
for _case in CASES:
    STORIES.setdefault(story(_case), []).append(_case)


def cases(name):
    return pytest.mark.parametrize("case", STORIES.get(name, []), ids=lambda c: c.id)


def call(stage, case):
    before = stage.baseline
    response = stage.send(case)
    where = (
        f"{case.role} {case.route.method} {case.url(stage)} ({case.id}) → {response.status_code}"
    )
    assert response.status_code < 500, where
    written = stage.fingerprint() != before
    if written:
        where += f" (changed: {', '.join(stage.changed_tables())})"
    if case.route.method == "GET":
        assert not written, f"a GET changed the database: {where}"
    return response, where, written


@cases("anonymous")
def test_anonymous_visitor_is_sent_to_the_login_page(on_stage, case):
    response, where, written = call(on_stage, case)
    assert is_login_redirect(response, case.htmx), where
    assert not written, f"refused but wrote: {where}"


@cases("public")
def test_public_route_is_open_to_everyone(on_stage, case):
    response, where, _ = call(on_stage, case)
    assert response.status_code not in (401, 403, 404), where
    assert not is_login_redirect(response, case.htmx), where


@cases("cookie_on_the_api")
def test_a_cookie_alone_gets_401_on_the_api(on_stage, case):
    """/api/* ignores cookies (that is why it may skip CSRF): every role's session, on any id,
    gets a JSON 401 asking for a bearer token, and nothing is written (SECURITY.md §3)."""
    response, where, written = call(on_stage, case)
    assert response.status_code == 401, where
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), where
    assert response.get_json()["erreur"]["code"] == "authentification_requise", where
    assert not written, f"refused but wrote: {where}"


API_ROUTES = [r for r in all_routes() if r.token_authenticated]


@pytest.mark.parametrize("route", API_ROUTES, ids=str)
def test_api_route_is_served_with_a_token_of_its_contract(on_stage, route):
    """The API's positive control, and its cross-contract one: the supplier lead's write token
    of A is served on A's indicator and gets 404 on B's, writing nothing there."""
    token = on_stage.api_secrets["supplier_lead"]
    walked = (("own", range(200, 300)), ("other", (404,)))
    for which, expected in walked if route.arguments else walked[:1]:
        case = Case(route, "supplier_lead", which)
        before = on_stage.fingerprint()
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"cle-{which}"}
        response = on_stage.client("anonymous").open(
            case.url(on_stage), method=route.method, headers=headers,
            json=case.body(on_stage),
        )  # fmt: skip
        where = f"{route} {which} → {response.status_code} {response.get_data(as_text=True)[:200]}"
        assert response.status_code in expected, where
        if which == "other" or route.method == "GET":
            assert on_stage.fingerprint() == before, f"wrote: {where}"


@cases("not_a_member")
def test_outsider_gets_404_on_every_contract_route(on_stage, case):
    """The outsider, the administrator and anyone calling with the other contract's ids: the
    contract does not exist for them, whatever their rights elsewhere."""
    response, where, written = call(on_stage, case)
    assert response.status_code == 404, where
    assert not written, f"refused but wrote: {where}"


@cases("forbidden")
def test_member_without_the_right_gets_403(on_stage, case):
    """An observer editing the plan, a contributor inviting, a non-administrator in /admin."""
    response, where, written = call(on_stage, case)
    assert response.status_code == 403, where
    assert not written, f"refused but wrote: {where}"


@cases("foreign_child")
def test_foreign_object_under_own_contract_is_not_found(on_stage, case):
    """Own contract id, the other contract's version, item or invitation: an unscoped lookup
    would find it. It must be 404 (or 410 for a single-use object), and nothing written."""
    response, where, written = call(on_stage, case)
    assert response.status_code in (404, 410), where
    assert not written, f"refused but wrote: {where}"


@cases("someone_elses")
def test_nobody_reaches_another_persons_object(on_stage, case):
    """Outside contracts: another person's session cannot be ended."""
    response, where, written = call(on_stage, case)
    assert response.status_code in (404, 410, 422), where
    assert not written, f"refused but wrote: {where}"


@cases("allowed")
def test_allowed_role_on_own_ids_is_served(on_stage, case):
    """The positive control: without it, a stage that 404s everything would pass."""
    response, where, written = call(on_stage, case)
    if case.role in DOMAIN_REFUSALS.get(case.route.endpoint, ()):
        assert response.status_code == 403, where
        assert not written, f"refused but wrote: {where}"
        return
    if case.route.endpoint in DOMAIN_STATES:
        assert response.status_code == DOMAIN_STATES[case.route.endpoint], where
        return
    assert response.status_code < 400, where
    assert not is_login_redirect(response, case.htmx), where


@pytest.mark.parametrize("endpoint", ["contract.plan.create", "contract.plan.new_items"])
def test_foreign_parent_named_in_the_request_is_not_found(on_stage, endpoint):
    """Own contract and version in the URL, the other contract's axis as `parent_id` in the
    form or the query string (ERPNext #54210: ids in the body are checked like ids in the URL)."""
    route = next(r for r in all_routes() if r.endpoint == endpoint)
    case = Case(route, "buyer_lead", htmx=True)
    foreign = {"parent_id": on_stage.other.axis_id}
    response = on_stage.client("buyer_lead").open(
        case.url(on_stage),
        method=route.method,
        headers=HTMX_HEADERS,
        data={**case.body(on_stage), **foreign} if route.unsafe else None,
        query_string=None if route.unsafe else foreign,
    )
    assert response.status_code == 404
    assert on_stage.fingerprint() == on_stage.baseline


def test_every_private_route_is_served_to_someone():
    served = {c.route for c in STORIES["allowed"]}
    private = {
        r for r in all_routes() if r.endpoint not in PUBLIC_ENDPOINTS and not r.token_authenticated
    }  # the API's routes are served to tokens: test_api_route_is_served_with_a_token_…
    assert private - served == set(), "routes nobody may call (no positive control)"


def test_every_permission_has_its_holders_written_out():
    assert set(HOLDERS) == set(Permission), "add the new permission's roles to HOLDERS"


def test_every_story_is_walked():
    assert {name: len(found) > 0 for name, found in STORIES.items()} == dict.fromkeys(
        (
            "anonymous",
            "public",
            "cookie_on_the_api",
            "not_a_member",
            "forbidden",
            "foreign_child",
            "someone_elses",
            "allowed",
        ),
        True,
    )
