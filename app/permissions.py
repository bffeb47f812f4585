"""The one answer to « may this person do this here? ».

Every view declares an access rule with `@allow(...)`; an app-wide `before_request` enforces it
and refuses any endpoint that declares none (fail closed). Every route under
`/contrats/<contract_id>` also requires membership of that contract, whatever its rule: a
non-member gets 404, the same answer as a contract that does not exist.

| droit (Permission)   | référent acheteur | contributeur acheteur | observateur | référent titulaire | contributeur titulaire |
|----------------------|:-:|:-:|:-:|:-:|:-:|
| VIEW_CONTRACT        | ✓ | ✓ | ✓ | ✓ | ✓ |
| INVITE_MEMBERS       | ✓ |   |   |   |   |
| EDIT_PLAN            | ✓ | ✓ |   | ✓ | ✓ |
| APPROVE_PLAN (visa)  | ✓ |   |   | ✓ |   |
| HANDLE_DIFFICULTIES  | ✓ | ✓ |   | ✓ | ✓ |
| COMMENT              | ✓ | ✓ | ✓ | ✓ | ✓ |
| ENTER_VALUES         | ✓ | ✓ |   | ✓ | ✓ |
| ORGANISE_REVIEWS     | ✓ | ✓ |   | ✓ | ✓ |

HANDLE_DIFFICULTIES: raise a difficulty and move it through its lifecycle. COMMENT: write in a
thread (messages to the other side, internal notes to one's own). ENTER_VALUES: enter an
indicator's values (the side that reports it) and validate the other side's. ORGANISE_REVIEWS:
schedule a review, build and edit its agenda, record outcomes (the minutes' own rules, whose
turn and who approves, live in app/reviews/services.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import select

from app.database import built_once
from app.extensions import db, login_manager

if TYPE_CHECKING:
    from app.contracts.models import Membership

log = logging.getLogger("progres.authz")


class Permission(StrEnum):
    VIEW_CONTRACT = "voir_le_marche"
    INVITE_MEMBERS = "inviter_des_membres"
    EDIT_PLAN = "modifier_le_plan"
    APPROVE_PLAN = "viser_le_plan"
    HANDLE_DIFFICULTIES = "traiter_les_difficultes"
    COMMENT = "commenter"
    ENTER_VALUES = "saisir_les_valeurs"
    ORGANISE_REVIEWS = "organiser_les_revues"


# (side, role) -> permissions. Absent means refused.
_VIEW = {Permission.VIEW_CONTRACT, Permission.COMMENT}
_EDIT = _VIEW | {
    Permission.EDIT_PLAN,
    Permission.HANDLE_DIFFICULTIES,
    Permission.ENTER_VALUES,
    Permission.ORGANISE_REVIEWS,
}
_LEAD = _EDIT | {Permission.APPROVE_PLAN}
GRANTS: dict[tuple[str, str], frozenset[Permission]] = {
    ("acheteur", "referent"): frozenset(_LEAD | {Permission.INVITE_MEMBERS}),
    ("acheteur", "contributeur"): frozenset(_EDIT),
    ("acheteur", "observateur"): frozenset(_VIEW),
    ("titulaire", "referent"): frozenset(_LEAD),
    ("titulaire", "contributeur"): frozenset(_EDIT),
    ("titulaire", "observateur"): frozenset(_VIEW),
}


def membership_may(membership: Membership, permission: Permission) -> bool:
    return permission in GRANTS.get((membership.side, membership.role), frozenset())


@dataclass(frozen=True)
class AccessRule:
    name: str
    login: bool = True
    admin: bool = False
    permission: Permission | None = None
    token: bool = False  # the view authenticates an API token itself (app/api/routes.py)


PUBLIC = AccessRule("public", login=False)
LOGGED_IN = AccessRule("connecte")
ADMIN = AccessRule("administrateur", admin=True)
MEMBER = AccessRule("membre", permission=Permission.VIEW_CONTRACT)
# /api/*: no cookie counts there (a session alone gets 401); the view checks the bearer token,
# the membership behind it and its scope (`app.api.routes.token_required`).
API_TOKEN = AccessRule("jeton_api", login=False, token=True)


def allow(rule: AccessRule | Permission) -> Callable:
    """Declare who may call a view: a rule, or a permission on the route's contract."""
    if isinstance(rule, Permission):
        rule = AccessRule(f"droit:{rule.value}", permission=rule)

    def decorator(view: Callable) -> Callable:
        view.access_rule = rule
        return view

    return decorator


def rule_of(endpoint: str) -> AccessRule | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def is_static(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def denied(status: int, reason: str):
    log.info(
        "authz.denied status=%s reason=%s endpoint=%s user=%s",
        status,
        reason,
        request.endpoint,
        getattr(current_user, "id", None),
    )
    abort(status)


def with_contract_and_parties() -> tuple:
    """Loader options of a membership for a contract page: its contract and both parties,
    which the band shows (here and where the session reads it, auth.services)."""
    from sqlalchemy.orm import joinedload

    from app.contracts.models import Contract, Membership

    contract = joinedload(Membership.contract)
    return contract.joinedload(Contract.buyer), contract.joinedload(Contract.supplier)


@built_once
def _membership_with_contract():
    from sqlalchemy import bindparam

    from app.contracts.models import Membership

    return (
        select(Membership)
        .where(
            Membership.contract_id == bindparam("contract_id"),
            Membership.user_id == bindparam("user_id"),
        )
        .options(*with_contract_and_parties())
    )


def load_membership(contract_id: int) -> Membership | None:
    """The person's membership of the contract, with the contract and both parties that every
    contract page shows in its band (one query; on a read request, read with the session)."""
    read = g.get("read_with_session")
    if (
        read is not None
        and read["contract_id"] == contract_id
        and read["user_id"] == current_user.id
    ):
        return read["membership"]
    return db.session.scalar(
        _membership_with_contract(), {"contract_id": contract_id, "user_id": current_user.id}
    )


def enforce_access_rule():
    """App-wide `before_request`: apply the view's rule, membership first on contract routes."""
    endpoint = request.endpoint
    if endpoint is None or is_static(endpoint):
        return None  # routing already answers 404/405; static files are public
    rule = rule_of(endpoint)
    if rule is None:
        log.error("route sans règle d'accès : %s", endpoint)
        abort(404)
    if not rule.login:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if "contract_id" in g:
        membership = load_membership(g.contract_id)
        if membership is None:
            denied(404, "not_a_member")
        g.membership, g.contract = membership, membership.contract
    if rule.admin and not current_user.is_admin:
        denied(403, "not_admin")
    if rule.permission is not None:
        if "membership" not in g:  # a permission only means something on a contract route
            denied(404, "permission_outside_contract")
        if not g.membership.may(rule.permission):
            denied(403, f"missing:{rule.permission.value}")
    return None
