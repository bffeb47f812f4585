"""The world every security test walks: two contracts, every role, an item of each kind and a
pending invitation on each; helpers to build any route's URL with own, foreign or mixed ids."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app import create_app
from app.contracts import services as contracts
from app.extensions import db
from app.permissions import is_static
from app.plan import services as items
from app.plan import versions
from tests.helpers import logged_in_client

ROLES = ("anonymous", "buyer_lead", "buyer_contributor", "observer", "supplier_lead",
         "supplier_contributor", "outsider", "admin")  # fmt: skip
PUBLIC_ENDPOINTS = {"auth.login", "auth.forgotten_password", "auth.reset_password",
                    "auth.invitation", "auth.choose_language", "pages.accessibility"}  # fmt: skip
# Tables a denied request may still touch: the session loader refreshes last_seen_at.
NOT_FINGERPRINTED = {"user_session"}


def all_routes():
    """(endpoint, rule, method) for every route of the app, statics excepted."""
    app = create_app("test")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if is_static(rule.endpoint):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, rule.rule, method


@dataclass
class Side:
    """The ids of one contract's objects."""

    contract_id: int
    version_id: int
    item_id: int  # an objective
    invitation_id: int


def _side(contract, lead) -> Side:
    version = versions.working_version(versions.plan_of(contract))
    axis = items.create_item(version, "axe", {"kind": "technique", "title": "Axe"}, actor=lead)
    objective = items.create_item(version, "objectif", {"title": "Objectif"}, parent=axis,
                                  actor=lead)  # fmt: skip
    invitation = contracts.invite(contract, email=f"invite-{contract.id}@x.example", full_name="",
                                  side="titulaire", role="observateur", invited_by=lead)  # fmt: skip
    return Side(contract.id, version.id, objective.id, invitation.id)


@pytest.fixture
def sides(world):
    return {"own": _side(world.contract, world.buyer_lead),
            "other": _side(world.other_contract, world.outsider)}  # fmt: skip


SAMPLES = {
    # argument -> how to get its value from (own side, foreign side, which)
    "contract_id": lambda own, other, which: (other if which == "other" else own).contract_id,
    "version_id": lambda own, other, which: (own if which == "own" else other).version_id,
    "item_id": lambda own, other, which: (own if which == "own" else other).item_id,
    "invitation_id": lambda own, other, which: (own if which == "own" else other).invitation_id,
    "kind": lambda own, other, which: "objectif",
    "session_id": lambda own, other, which: "session-inconnue",
    "token": lambda own, other, which: "jeton-invente",
}


def build_url(rule: str, own: Side, other: Side, which: str) -> str:
    def value(match):
        name = match.group(1).split(":")[-1]
        return str(SAMPLES[name](own, other, which))

    return re.sub(r"<([^>]+)>", value, rule)


def fingerprint() -> str:
    """A hash of every row the app keeps (but session bookkeeping)."""
    db.session.commit()  # the test's own open transaction would hold SQLite's write lock
    digest = hashlib.sha256()
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if table.name in NOT_FINGERPRINTED:
                continue
            for row in connection.execute(select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@pytest.fixture
def clients(app, world):
    """One logged-in client per role (and an anonymous one)."""
    result = {"anonymous": app.test_client()}
    for role in ROLES[1:]:
        result[role] = logged_in_client(app, world.role(role))
    db.session.commit()
    return result
