"""The stage every security test walks, and the catalogue that turns any route into a request.

The catalogue is read from `app.url_map` at collection time, so a route added tomorrow is
walked without anyone editing these tests. Filling its URL needs a sample for each of its
arguments (SAMPLES) and, for a write, a valid form body (BODIES): a new argument or a new write
route without one fails `test_routes_declare_rules.py` with a message saying what to add.

The stage is built once per test module: the two contracts of the `world` fixture with every
role, an axis with two objectives and a pending invitation on each contract, every role logged
in (twice: the first session is the « other session » of `/compte/sessions/<id>`). Each test
then takes a fresh browser carrying its role's session cookie. A test whose allowed request
changed the database leaves it dirty; the next test finds the fingerprint changed and restores
the baseline (SQLite: a backup copy; PostgreSQL: the baseline rows put back).

The token-authenticated API (`/api/*`) is walked like the rest with each role's cookie, which
counts for nothing there (401); its positive controls carry the stage's API tokens."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import io
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import MetaData, String, cast, func, literal, select, text, union_all
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from app import create_app
from app.attachments.services import store_upload
from app.auth.models import User, UserSession
from app.contracts import services as contracts
from app.contracts.models import Membership
from app.difficulties import services as difficulties
from app.extensions import db, limiter
from app.indicators import services as indicator_values
from app.permissions import AccessRule, is_static
from app.plan import services as items
from app.plan import versions
from app.reviews import agenda as review_agenda
from app.reviews import meeting as review_meeting
from app.reviews import services as reviews
from app.reviews.models import ResultAssessment, Review
from tests import factories
from tests.changes.conftest import in_force  # noqa: F401  (a fixture of test_signoff)
from tests.conftest import POSTGRES_URL, IsolatedClient, _empty_postgres, fresh_database
from tests.helpers import emails_to, link_in
from tests.security import changes_stage
from tests.security.changes_stage import ChangeSamples
from tests.snapshots import TableRows
from tests.two_factor import turn_on_two_factor

ROLES = (
    "anonymous",
    "buyer_lead",
    "buyer_contributor",
    "observer",
    "supplier_lead",
    "supplier_contributor",
    "outsider",
    "other_supplier_lead",
    "admin",
)
MEMBERS_OF_A = (
    "buyer_lead",
    "buyer_contributor",
    "observer",
    "supplier_lead",
    "supplier_contributor",
)
MEMBERS_OF_B = ("outsider", "other_supplier_lead")
# Routes anyone may call without logging in. A new public route fails the suite until it is
# added here on purpose.
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.login_code",  # the login's second step (two-factor authentication)
        "auth.forgotten_password",
        "auth.reset_password",
        "auth.invitation",
        "auth.choose_language",
        "pages.accessibility",
    }
)
CONTRACT_PREFIX = "/contrats/<int:contract_id>"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NEW_PASSWORD = "rhubarbe-lanterne-falaise-27"

# --- the routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    method: str
    arguments: tuple[str, ...]  # in the order they appear in the rule

    @property
    def in_contract(self) -> bool:
        return self.rule.startswith(CONTRACT_PREFIX)

    @property
    def unsafe(self) -> bool:
        return self.method in UNSAFE_METHODS

    @property
    def access_rule(self) -> AccessRule | None:
        return getattr(route_map_app().view_functions[self.endpoint], "access_rule", None)

    @property
    def public(self) -> bool:
        rule = self.access_rule
        return rule is not None and not rule.login and not rule.token

    @property
    def token_authenticated(self) -> bool:
        """/api/*: a bearer token, never a cookie, authenticates the caller."""
        return self.access_rule is not None and self.access_rule.token

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


@functools.cache
def route_map_app():
    """An app built only to read its URL map and its views' rules (no database is touched)."""
    return create_app("test")


def argument_names(rule: str) -> tuple[str, ...]:
    return tuple(m.rsplit(":", 1)[-1] for m in re.findall(r"<([^>]+)>", rule))


@functools.cache
def all_routes() -> tuple[Route, ...]:
    """Every (endpoint, method) of the app but static files, HEAD and OPTIONS."""
    routes = []
    for rule in route_map_app().url_map.iter_rules():
        if is_static(rule.endpoint):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(Route(rule.endpoint, rule.rule, method, argument_names(rule.rule)))
    return tuple(sorted(routes, key=lambda r: (r.rule, r.method)))


# --- samples for URL arguments, bodies for writes -------------------------------------------


@dataclass(frozen=True)
class Side:
    """The sample objects of one contract."""

    contract_id: int
    version_id: int  # the working draft of its plan
    axis_id: int
    objective_id: int  # the first of the axis's two objectives
    objective_version: int
    invitation_id: int  # pending, sent by the contract's buyer lead
    invitation_token: str
    buyer_organisation_id: int
    supplier_organisation_id: int
    attachment_id: int  # a small PDF, uploaded by the contract's buyer lead
    difficulty_id: int  # raised by the buyer lead, acknowledged by the supplier lead
    difficulty_version: int
    action_uid: str = ""  # an action of the draft, never followed yet
    # An indicator both sides report, a value entered by each side, a period still without one.
    indicator_uid: str = ""
    value_by_supplier: tuple[int, int] = (0, 0)  # (id, version)
    value_by_buyer: tuple[int, int] = (0, 0)
    free_period: str = ""
    # A review in session (minutes: the buyer's turn), one agenda item, one assessment.
    review_id: int = 0
    point: tuple[int, int] = (0, 0)  # (id, version)
    assessment: tuple[int, int] = (0, 0)
    # Change requests in each state a changes route needs (the plan is in force: version 1).
    changes: ChangeSamples = field(default_factory=ChangeSamples)

    def value_to_judge(self, role: str) -> tuple[int, int]:
        """A value a role may validate: one entered by the other side."""
        return self.value_by_buyer if role.startswith("supplier") else self.value_by_supplier


@dataclass(frozen=True)
class Sample:
    """How to fill one URL argument: `value(stage, role, foreign)`. A `scoped` argument names
    an object of one contract or one person, so it has an own and a foreign value."""

    value: Callable[..., object]
    scoped: bool = True
    by_endpoint: bool = (
        False  # value(stage, role, foreign, endpoint): the object depends on the route
    )


SAMPLES: dict[str, Sample] = {
    "contract_id": Sample(lambda stage, role, foreign: stage.side(foreign).contract_id),
    "version_id": Sample(lambda stage, role, foreign: stage.side(foreign).version_id),
    "item_id": Sample(lambda stage, role, foreign: stage.side(foreign).objective_id),
    "invitation_id": Sample(lambda stage, role, foreign: stage.side(foreign).invitation_id),
    "attachment_id": Sample(lambda stage, role, foreign: stage.side(foreign).attachment_id),
    "difficulty_id": Sample(lambda stage, role, foreign: stage.side(foreign).difficulty_id),
    "action": Sample(lambda stage, role, foreign: "traiter", scoped=False),  # a step all may take
    "action_uid": Sample(lambda stage, role, foreign: stage.side(foreign).action_uid),
    "uid": Sample(lambda stage, role, foreign: stage.side(foreign).indicator_uid),
    "measurement_id": Sample(
        lambda stage, role, foreign: stage.side(foreign).value_to_judge(role)[0]
    ),
    "period": Sample(lambda stage, role, foreign: stage.own.free_period, scoped=False),
    "review_id": Sample(lambda stage, role, foreign: stage.side(foreign).review_id),
    "point_id": Sample(lambda stage, role, foreign: stage.side(foreign).point[0]),
    "assessment_id": Sample(lambda stage, role, foreign: stage.side(foreign).assessment[0]),
    "meeting_step": Sample(lambda stage, role, foreign: "clore", scoped=False),
    "minutes_step": Sample(lambda stage, role, foreign: "synthese", scoped=False),
    # Own: another live session of the same person; foreign: a session of someone else.
    "session_id": Sample(lambda stage, role, foreign: stage.session_of(role, foreign)),
    "kind": Sample(lambda stage, role, foreign: "objectif", scoped=False),  # item_id's kind
    # Own: the role's own API token on contract A; foreign: a token of contract B's buyer lead.
    "token_id": Sample(lambda stage, role, foreign: stage.api_token_of(role, foreign)),
    "token": Sample(lambda stage, role, foreign: stage.own.invitation_token, scoped=False),
    "change_id": Sample(
        lambda stage, role, foreign, endpoint: stage.side(foreign).changes.change_for(endpoint),
        by_endpoint=True,
    ),
    "document_id": Sample(lambda stage, role, foreign: stage.side(foreign).changes.letter[0]),
    "step": Sample(lambda stage, role, foreign: "soumettre", scoped=False),
    "buyer_step": Sample(lambda stage, role, foreign: "approuver", scoped=False),
}


@dataclass(frozen=True)
class Fill:
    """What a body builder may use: the side each URL argument was taken from."""

    stage: Stage
    case: Case

    def side(self, argument: str) -> Side:
        return self.stage.side(self.case.foreign(argument))


def _objective_fields(prefix: str) -> dict:
    return {
        f"{prefix}-title": "Réduire les chutes de tissu",
        f"{prefix}-obligation": "moyens",
        f"{prefix}-accountable_side": "titulaire",
    }


# A valid body for every write, so that an allowed call really succeeds and a refused one would
# really have written something if the refusal were missing.
BODIES: dict[str, Callable[[Fill], dict]] = {
    "auth.login": lambda f: {"email": f.stage.email("buyer_lead"), "password": factories.PASSWORD},
    "auth.forgotten_password": lambda f: {"email": f.stage.email("buyer_lead")},
    "auth.reset_password": lambda f: {"password": NEW_PASSWORD},
    "auth.invitation": lambda f: {"full_name": "Nina Petit", "password": NEW_PASSWORD},
    "auth.choose_language": lambda f: {"locale": "en", "next": "/"},
    "auth.logout": lambda f: {},
    "auth.log_out_everywhere": lambda f: {},
    "auth.change_password": lambda f: {
        "current_password": factories.PASSWORD,
        "password": NEW_PASSWORD,
    },
    "auth.end_other_session": lambda f: {},
    # Every person of the stage has the two-factor authentication (Stage.phones).
    "auth.login_code": lambda f: {"code": f.stage.code("buyer_lead")},
    "auth.turn_on_two_factor": lambda f: _new_phone(f),
    "auth.renew_recovery_codes": lambda f: {"codes-code": f.stage.code(_person(f)),
                                            "codes-password": factories.PASSWORD},
    "auth.turn_off_two_factor": lambda f: {"desactivation-code": f.stage.code(_person(f)),
                                           "desactivation-password": factories.PASSWORD},
    "admin.organisation_create": lambda f: {
        "name": "Filatures de l'Ain",
        "kind": "entreprise",
        "siret": factories.valid_siret(9_999),
        "size": "PME",
    },
    "admin.contract_create": lambda f: {
        "reference": "2027-0001",
        "object": "Vêtements de travail",
        "category": "fournitures",
        "buyer_organisation_id": f.stage.own.buyer_organisation_id,
        "supplier_organisation_id": f.stage.own.supplier_organisation_id,
        "notification_date": "2027-01-15",
        "duration_months": "36",
        "initial_amount_ht": "250000",
        "min_reviews_per_year": "2",
        "lead_email": "marc@acheteur.example",
    },
    "contract.overview.invite": lambda f: {
        "email": "nina@titulaire.example",
        "side": "titulaire",
        "role": "contributeur",
    },
    "contract.overview.cancel_invitation": lambda f: {},
    "contract.plan.create": lambda f: {
        "parent_id": f.side("version_id").axis_id,
        **_objective_fields(f"nouveau-objectif-{f.side('version_id').axis_id}"),
    },
    "contract.plan.save": lambda f: {
        **_objective_fields(f"objectif-{f.side('item_id').objective_id}"),
        f"objectif-{f.side('item_id').objective_id}-base_version": f.side(
            "item_id"
        ).objective_version,
    },
    "contract.plan.delete": lambda f: {"base_version": f.side("item_id").objective_version},
    "contract.plan.move": lambda f: {"direction": "1"},
    "contract.plan.editing_heartbeat": lambda f: {},
    "contract.plan.preview": lambda f: {"texte": "**Objectif** : -20 % de chutes"},
    "contract.plan.give_visa": lambda f: {"password": factories.PASSWORD,
                                          "code": f.stage.code(_person(f))},
    "contract.difficulties.create": lambda f: {
        "title": "Retard de livraison",
        "category": "delais",
        "severity": "moyenne",
        "items": [],
    },
    "contract.difficulties.transition": lambda f: {
        "version": f.side("difficulty_id").difficulty_version,
        "note": "On s'en occupe",
    },
    "contract.difficulties.post_message": lambda f: {"body": "Nous regardons."},
    "contract.plan.post_in_discussion": lambda f: {"body": "Et le coût des chutes ?"},
    "contract.schedule.update": lambda f: {
        "status": "en_cours",
        "progress": "40",
        "comment": "Lancée",
    },
    "contract.indicators.enter": lambda f: {
        "period_start": f.side("uid").free_period,
        "value": "12,5",
        "comment": "Relevé mensuel",
    },
    "contract.reviews.new": lambda f: {
        "kind": "comite_pilotage",
        "day": "2027-03-10",
        "at": "14:00",
        "duration": "90",
        "place": "Salle 3",
    },
    "contract.reviews.propose_topic": lambda f: {"title": "Livraisons d'été"},
    "contract.reviews.build_agenda": lambda f: {},
    "contract.reviews.add_point": lambda f: {"title": "Point divers", "duration_minutes": "5"},
    "contract.reviews.edit_point": lambda f: {
        "title": "Tenues d'hiver",
        "duration_minutes": "15",
        "version": f.side("point_id").point[1],
    },
    "contract.reviews.move_point": lambda f: {"direction": "1"},
    "contract.reviews.remove_point": lambda f: {},
    "contract.reviews.save_notes": lambda f: {
        "notes": "Prototypes présentés.",
        "version": f.side("point_id").point[1],
    },
    "contract.reviews.record_outcome": lambda f: {
        "outcome_kind": "information",
        "outcome_text": "Pour information.",
        "version": f.side("point_id").point[1],
    },
    "contract.reviews.assess": lambda f: (
        {"justification": "Matière manquante.", "version": f.side("assessment_id").assessment[1]}
        if f.case.role.startswith("supplier")
        else {"met": "oui", "version": f.side("assessment_id").assessment[1]}
    ),
    "contract.reviews.meeting": lambda f: {},
    "contract.reviews.cancel": lambda f: {"reason": "Report demandé par le titulaire."},
    "contract.reviews.minutes": lambda f: {"summary": "Synthèse.", "version": _review_version(f)},
    "contract.indicators.validate": lambda f: {
        "decision": "validee",
        "version": f.side("measurement_id").value_to_judge(f.case.role)[1],
    },
    "contract.exports.upload": lambda f: {
        "file": (io.BytesIO(b"indicateur;periode;valeur\r\nInconnu;T1 2027;1\r\n"), "valeurs.csv")
    },
    # The stage's attachment is a PDF: the confirm answers « déposez-le à nouveau » (303).
    "contract.exports.confirm": lambda f: {
        "attachment_id": f.side("contract_id").attachment_id,
        "expected": "0",
        "mode": "tout",
    },
    "notifications.open_one": lambda f: {"notification": "1"},
    "notifications.mark_all_read": lambda f: {},
    "notifications.preferences": lambda f: {"mode-message": "aucun"},
    "contract.api_tokens.create": lambda f: {"name": "ERP", "scope": "lecture", "days": "30"},
    "contract.api_tokens.revoke": lambda f: {},
    # Sent as a form with a cookie by the walk (401 before anything else); as JSON with a token
    # by test_access_matrix.test_api_route_is_served_with_a_token_of_its_contract.
    "api.push": lambda f: {"period_start": f.side("uid").free_period, "value": "12.5"},
    "contract.changes.create": lambda f: {"title": "Nouvelle évolution", "rationale": ""},
    "contract.changes.from_review": lambda f: {"title": "Évolution décidée en revue"},
    "contract.changes.update": lambda f: {
        "version": _change_version(f), "title": "Évolution", "rationale": "", "financial_impact_ht": "0",
        **{f"q_{k}": "non" for k in ("prix", "obligations", "paiement", "perimetre")}},
    "contract.changes.step": lambda f: {"version": _change_version(f)},
    "contract.changes.buyer_step": lambda f: {"version": _change_version(f), "comment": ""},
    "contract.changes.formalise": lambda f: {"version": _change_version(f), "choice": "lettre", "reason": ""},
    "contract.changes.terms": lambda f: {"version": _change_version(f), "signatory_name": "Claire Martin",
                                         "signatory_qualite": "Acheteuse référente"},
    "contract.changes.visa": lambda f: {"sha256": f.side("document_id").changes.letter[1],
                                        "qualite": "Référent", "password": factories.PASSWORD,
                                        "code": f.stage.code(_person(f))},
    "contract.changes.acceptance": lambda f: {"version": _change_version(f),
                                              "file": (io.BytesIO(changes_stage.PDF), "accord-signe.pdf")},
    "contract.changes.signature": lambda f: {
        "version": _change_version(f), "signature_kind": "manuscrite",
        "file": (io.BytesIO(changes_stage.PDF), "avenant-signe.pdf"),
        "signatories-0-name": "Sophie Durand", "signatories-0-qualite": "Présidente", "signatories-0-side": "titulaire",
        "signatories-1-name": "Claire Martin", "signatories-1-qualite": "Vice-présidente", "signatories-1-side": "acheteur"},
    "contract.changes.notification": lambda f: {"version": _change_version(f), "mode": "recepisse",
                                                "day": (date.today() - timedelta(days=1)).isoformat(), "at": "09:00"},
    "contract.changes.contract_terms": lambda f: {"buyer_type": "autre_pa", "procedure": "formalisee",
                                                  "vat_rate": "20", "price_regime": "ferme"},
    "contract.changes.holder": lambda f: {"trade_name": "Textiles Rhône", "phone": "04 65 71 42 17"},
}  # fmt: skip


def _person(f: Fill) -> str:
    """Whose account a body is for: the case's role (the buyer lead's for an anonymous one)."""
    return f.case.role if f.case.role in f.stage.phones else "buyer_lead"


def _new_phone(f: Fill) -> dict:
    """Moving the two-factor authentication to a new app: its first code, and one of the
    current app."""
    import pyotp

    from app.auth import two_factor

    person = _person(f)
    secret = two_factor.new_secret()
    user = db.session.get(User, f.stage.people[person][0])
    return {"setup": two_factor.setup_token(user, secret), "code": pyotp.TOTP(secret).now(),
            "current_code": f.stage.code(person), "password": factories.PASSWORD}  # fmt: skip


def _change_version(f: Fill) -> int:
    from app.changes.models import ChangeRequest

    change_id = f.side("change_id").changes.change_for(f.case.route.endpoint)
    return db.session.get(ChangeRequest, change_id).version


def _review_version(f: Fill) -> int:
    return db.session.get(Review, f.side("review_id").review_id).version


# Query strings a GET needs to find its object (not an access matter: a missing one is a 400).
QUERIES: dict[str, Callable[[Fill], dict]] = {
    "contract.plan.new_items": lambda f: {"parent_id": f.side("version_id").axis_id},
}


# --- one request of the walk ----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One request: a route called by a role with own, foreign (`other`) or `mixed` ids (the
    own contract with a foreign object in it), as a plain or an htmx request."""

    route: Route
    role: str
    which: str = "own"
    htmx: bool = False

    def foreign(self, argument: str) -> bool:
        if self.which == "mixed":
            return argument != "contract_id"
        return self.which == "other"

    def url(self, stage: Stage) -> str:
        def fill(match):
            name = match.group(1).rsplit(":", 1)[-1]
            if name not in SAMPLES:
                pytest.fail(
                    f"pas d'échantillon pour l'argument {name!r} de {self.route}: "
                    "ajoutez-le à SAMPLES dans tests/security/conftest.py"
                )
            sample = SAMPLES[name]
            extra = (self.route.endpoint,) if sample.by_endpoint else ()
            return str(sample.value(stage, self.role, self.foreign(name), *extra))

        return re.sub(r"<([^>]+)>", fill, self.route.rule)

    def body(self, stage: Stage) -> dict | None:
        if not self.route.unsafe:
            return None
        if self.route.endpoint not in BODIES:
            pytest.fail(
                f"pas de corps de requête pour {self.route} ({self.route.endpoint}): "
                "ajoutez-le à BODIES dans tests/security/conftest.py"
            )
        return BODIES[self.route.endpoint](Fill(stage, self))

    def query(self, stage: Stage) -> dict | None:
        builder = QUERIES.get(self.route.endpoint)
        return builder(Fill(stage, self)) if builder else None

    @property
    def id(self) -> str:
        return f"{self.route}-{self.role}-{self.which}-{'htmx' if self.htmx else 'plain'}"


def walks(route: Route, role: str) -> tuple[str, ...]:
    """Which ids to try: `other` when an argument names an object of one contract or person,
    `mixed` when a contract route also names a child object. The members of contract B are
    only walked through A's ids (B is their own contract)."""
    scoped = [a for a in route.arguments if a not in SAMPLES or SAMPLES[a].scoped]
    result = ["own"]
    if scoped and not (route.in_contract and role in MEMBERS_OF_B):
        result.append("other")
    if route.in_contract and len(scoped) > 1:
        result.append("mixed")
    return tuple(result)


def all_cases(routes=None, roles=ROLES) -> list[Case]:
    return [
        Case(route, role, which, htmx)
        for route in routes or all_routes()
        for role in roles
        for which in walks(route, role)
        for htmx in (False, True)
    ]


HTMX_HEADERS = {"HX-Request": "true", "HX-Current-URL": "http://localhost/contrats/"}


def is_login_redirect(response, htmx: bool) -> bool:
    """The answer to a visitor who must log in first: a redirect to the login page that
    brings them back (`next`), or for htmx a 401 telling the page to go there."""
    if htmx:
        response_status, target = response.status_code, response.headers.get("HX-Redirect", "")
        return response_status == 401 and urlsplit(target).path == "/connexion"
    target = urlsplit(response.headers.get("Location", ""))
    return (
        response.status_code == 302
        and target.path == "/connexion"
        and "next" in parse_qs(target.query)
    )


# --- the stage --------------------------------------------------------------------------------

IGNORED_COLUMNS = {
    ("user_session", "last_seen_at"),
    ("api_token", "last_used_at"),
}  # see Stage.fingerprint


SEPARATOR = "\u241f"  # ␟, a character no sample contains
NULL = "\u2400"  # ␀


def _rows_as_text(table):
    row = literal(table.name, String)
    for column in table.columns:
        if (table.name, column.name) not in IGNORED_COLUMNS:
            row = row + SEPARATOR + func.coalesce(cast(column, String), NULL)
    return select(row)


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite itself (the WAL is included)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def csrf_token_in(page: str) -> str | None:
    """The token of the page's first form (its hidden `csrf_token` input)."""
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
    return match.group(1) if match else None


def header_token_in(page: str) -> str:
    """The token htmx sends with every request, from `<body hx-headers='{"X-CSRFToken": …}'>`."""
    match = re.search(r"<body[^>]*\shx-headers='([^']*)'", page)
    assert match, "no hx-headers on <body>"
    return json.loads(html.unescape(match.group(1)))["X-CSRFToken"]


def log_in(client, email: str, password: str = factories.PASSWORD, **kwargs):
    """Log in through the login form, with its CSRF token when the app checks it."""
    token = csrf_token_in(client.get("/connexion", **kwargs).get_data(as_text=True))
    data = {"email": email, "password": password, **({"csrf_token": token} if token else {})}
    response = client.post("/connexion", data=data, **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def _populate() -> tuple[dict[str, tuple[int, str]], dict[str, Side]]:
    """The `world` fixture's two contracts and people, and each contract's sample objects."""
    buyer = factories.make_organisation("Métropole de Lyon", "acheteur_public")
    supplier = factories.make_organisation("Textiles Rhône SAS")
    other_buyer = factories.make_organisation("Ville de Villeurbanne", "acheteur_public")
    other_supplier = factories.make_organisation("Jardins du Rhône SCOP", size="TPE")
    contract = factories.make_contract(buyer, supplier, "2025-0142")
    other = factories.make_contract(other_buyer, other_supplier, "2026-0057")
    people = {
        "buyer_lead": factories.make_user("claire@acheteur.example", organisation=buyer),
        "buyer_contributor": factories.make_user("hugo@acheteur.example", organisation=buyer),
        "observer": factories.make_user("ines@acheteur.example", organisation=buyer),
        "supplier_lead": factories.make_user("sophie@titulaire.example", organisation=supplier),
        "supplier_contributor": factories.make_user(
            "karim@titulaire.example", organisation=supplier
        ),
        "outsider": factories.make_user("paul@autre-acheteur.example", organisation=other_buyer),
        "other_supplier_lead": factories.make_user(
            "lea@autre-titulaire.example", organisation=other_supplier
        ),
        "admin": factories.make_user("admin@progres.example", is_admin=True),
    }
    for role, (side, kind) in {
        "buyer_lead": ("acheteur", "referent"),
        "buyer_contributor": ("acheteur", "contributeur"),
        "observer": ("acheteur", "observateur"),
        "supplier_lead": ("titulaire", "referent"),
        "supplier_contributor": ("titulaire", "contributeur"),
    }.items():
        factories.add_member(contract, people[role], side, kind)
    factories.add_member(other, people["outsider"], "acheteur", "referent")
    factories.add_member(other, people["other_supplier_lead"], "titulaire", "referent")
    sides = {
        "own": _side(contract, people["buyer_lead"]),
        "other": _side(other, people["outsider"]),
    }
    return {role: (user.id, user.email) for role, user in people.items()}, sides


def _side(contract, lead) -> Side:
    version = versions.working_version(versions.plan_of(contract))
    axis = items.create_item(version, "axe", {"kind": "technique", "title": "Qualité"}, actor=lead)
    objective = items.create_item(
        version, "objectif", {"title": "Moins de retouches"}, parent=axis, actor=lead
    )
    items.create_item(version, "objectif", {"title": "Livrer à l'heure"}, parent=axis, actor=lead)
    action = items.create_item(
        version, "action", {"title": "Former l'atelier", "planned_start": date(2026, 1, 5),
                            "planned_end": date(2026, 6, 30)},
        parent=objective, actor=lead,
    )  # fmt: skip
    email = f"invitee-{contract.id}@titulaire.example"
    invitation = contracts.invite(
        contract, email=email, full_name="", side="titulaire", role="observateur", invited_by=lead
    )
    token = link_in(emails_to(email, "invitation")[-1]).rsplit("/", 1)[-1]
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    attachment = store_upload(
        contract, FileStorage(io.BytesIO(pdf), filename="compte-rendu.pdf"), lead
    )
    supplier_lead = db.session.scalar(
        select(Membership).where(Membership.contract_id == contract.id,
                                 Membership.side == "titulaire", Membership.role == "referent")
    )  # fmt: skip
    buyer = db.session.scalar(select(Membership).where(Membership.contract_id == contract.id,
                                                       Membership.user_id == lead.id))  # fmt: skip
    difficulty = difficulties.raise_difficulty(
        contract, buyer, {"title": "Badges d'accès au site", "category": "organisationnel",
                          "severity": "faible"})  # fmt: skip
    difficulties.apply_transition(difficulty, supplier_lead, "prendre_en_compte",
                                  seen_version=difficulty.version)  # fmt: skip
    today = date.today()
    indicator = items.create_item(
        version, "indicateur", {"name": "Retouches", "unit": "%", "periodicity": "trimestrielle",
                                "reporting_side": "les_deux", "baseline_value": Decimal("10"),
                                "baseline_date": date(today.year - 1, 1, 1)},
        parent=objective, actor=lead,
    )  # fmt: skip
    by_supplier = indicator_values.enter_value(
        contract, supplier_lead, indicator, period_start=date(today.year - 1, 1, 1), value="9"
    )
    by_buyer = indicator_values.enter_value(
        contract, buyer, indicator, period_start=date(today.year - 1, 4, 1), value="8"
    )
    free = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)  # the quarter under way
    review = reviews.schedule_review(
        contract, buyer, kind="revue_performance", day=today, at=time(14, 0), duration_minutes=90,
        place="Salle 3", member_ids=[buyer.user_id],
    )  # fmt: skip
    point = review_agenda.add_item(review, buyer, "Tenues d'hiver", 15)
    review_meeting.start_meeting(review, buyer)
    review.assessments.append(
        ResultAssessment(objective_uid=objective.uid, objective_title=objective.title)
    )
    db.session.commit()
    assessment = review.assessments[0]
    db.session.commit()
    samples, draft = changes_stage.build(contract, buyer, supplier_lead, objective.uid)
    copies = {i.uid: i for found in versions.items_of(draft).values() for i in found}
    version, axis, objective = draft, copies[axis.uid], copies[objective.uid]
    return Side(
        contract.id,
        version.id,
        axis.id,
        objective.id,
        objective.version,
        invitation.id,
        token,
        contract.buyer_organisation_id,
        contract.supplier_organisation_id,
        attachment.id,
        difficulty.id,
        difficulty.version,
        action_uid=action.uid,
        indicator_uid=indicator.uid,
        value_by_supplier=(by_supplier.id, by_supplier.version),
        value_by_buyer=(by_buyer.id, by_buyer.version),
        free_period=free.isoformat(),
        review_id=review.id,
        point=(point.id, point.version),
        assessment=(assessment.id, assessment.version),
        changes=samples,
    )


def _issue_api_tokens(people) -> tuple[dict[str, int], dict[str, str]]:
    """A read token of each member of A (each revokes their own) and one of B's buyer lead; the
    secrets of write tokens of both supplier leads, for the API's positive controls."""
    from app.api import services as api

    def member(role):
        return db.session.scalar(select(Membership).where(Membership.user_id == people[role][0]))

    ids = {}
    for role in (*MEMBERS_OF_A, "outsider"):
        m = member(role)
        ids[role] = api.create_token(m.contract, m, name="ERP", scope="lecture", days=30).token.id
    secrets = {}
    for role in ("supplier_lead", "other_supplier_lead"):
        m = member(role)
        secrets[role] = api.create_token(m.contract, m, name="ERP", scope="ecriture",
                                         days=30).secret  # fmt: skip
    return ids, secrets


class StageClient(IsolatedClient):
    """Notes that a request was made, so the next test checks the stage is at its baseline."""

    stage: Stage

    def open(self, *args, **kwargs):
        self.stage.unchecked = True
        return super().open(*args, **kwargs)


class Stage:
    """The world, its sample objects and every role's session, on one app and database."""

    def __init__(self, url: str, config: dict):
        self.url = url
        self.app = create_app("test", SQLALCHEMY_DATABASE_URI=url, **config)
        self.app.test_client_class = type("StageClient", (StageClient,), {"stage": self})
        self.dirty = self.unchecked = False
        self.cookie_name = self.app.config["SESSION_COOKIE_NAME"]
        with self.app.app_context():
            self.people, sides = _populate()
            self.own, self.other = sides["own"], sides["other"]
            self.api_tokens, self.api_secrets = _issue_api_tokens(self.people)
            self.cookies: dict[str, str] = {}
            self.spare_sessions: dict[str, str] = {}
            for role, (user_id, email) in self.people.items():
                log_in(self.app.test_client(), email)  # the person's « other session »
                self.spare_sessions[role] = db.session.scalar(
                    select(UserSession.id).where(UserSession.user_id == user_id)
                )
                client = self.app.test_client()
                log_in(client, email)
                self.cookies[role] = client.get_cookie(self.cookie_name).value
            # Then everyone turns the two-factor authentication on (their sessions stay): the
            # account's routes and the visas are walked with a code of their app.
            self.phones = {
                role: turn_on_two_factor(db.session.get(User, user_id), steps_ago=1)
                for role, (user_id, _email) in self.people.items()
            }
            db.session.remove()
            metadata = MetaData()
            metadata.reflect(bind=db.engine)
            self.tables = [
                t for _, t in sorted(metadata.tables.items()) if t.name != "alembic_version"
            ]
            self._all_rows = union_all(*(_rows_as_text(t) for t in self.tables))
            self._save_baseline()
            self._baseline_rows = self.current_rows()
            self.baseline = self.fingerprint()  # from the rows just read

    # ids and people
    def side(self, foreign: bool) -> Side:
        return self.other if foreign else self.own

    def api_token_of(self, role: str, foreign: bool) -> int:
        if foreign:
            return self.api_tokens["outsider"]
        return self.api_tokens.get(role, self.api_tokens["buyer_lead"])

    def email(self, role: str) -> str:
        return self.people[role][1]

    def code(self, role: str) -> str:
        """What the person's authenticator app shows now."""
        return self.phones[role].code()

    def session_of(self, role: str, foreign: bool) -> str:
        if role == "anonymous" or not foreign:
            return self.spare_sessions["buyer_lead" if role == "anonymous" else role]
        stranger = "supplier_lead" if role == "buyer_lead" else "buyer_lead"
        return self.spare_sessions[stranger]

    def client(self, role: str):
        """A new browser; logged in as `role` (its stage session) unless anonymous."""
        client = self.app.test_client()
        if role != "anonymous":
            client.set_cookie(self.cookie_name, self.cookies[role])
        return client

    def send(self, case: Case, client=None, headers=None, **kwargs):
        """Make the case's request (its body for a write); a live stream is read then closed."""
        client = client or self.client(case.role)
        headers = {**(HTMX_HEADERS if case.htmx else {}), **(headers or {})}
        response = client.open(
            case.url(self),
            method=case.route.method,
            headers=headers,
            data=case.body(self),
            query_string=case.query(self),
            **kwargs,
        )
        if response.is_streamed and response.mimetype == "text/event-stream":
            next(iter(response.response), None)  # start it, so that closing runs its clean-up
        response.close()
        return response

    # the database
    def rows(self) -> list[str]:
        """Every row of every table as text, « table␟value␟value… », in one query."""
        db.session.commit()  # the test's own transaction would hold SQLite's write lock
        with db.engine.connect() as connection:
            return sorted(connection.scalars(self._all_rows))

    def fingerprint(self) -> str:
        """A hash of every row of every table but `alembic_version`, all columns but
        IGNORED_COLUMNS.

        audit_event, outbox_email and user_session are included on purpose: a refused request
        must leave no trace at all, no audit row, no queued e-mail (an invitation sent by
        someone refused would be a leak), no session revoked. Only user_session.last_seen_at
        is left out: the session loader refreshes it (at most once a minute) on any
        authenticated request, refused or not, and that is no effect of the request."""
        rows = self.current_rows()
        if self._digest is None:
            self._digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        digest = self._digest
        self.unchecked, self.dirty = False, digest != getattr(self, "baseline", digest)
        return digest

    _rows_mark = _rows = _digest = _watcher = None

    def current_rows(self) -> list[str]:
        """`rows()`, read again only if something was written since they were last read."""
        mark = self._write_mark()  # before reading: a write during the read is not missed
        if mark is None or mark != self._rows_mark:
            self._rows, self._rows_mark, self._digest = self.rows(), mark, None
        return self._rows

    def _write_mark(self):
        """A value that moves whenever a write was committed (or tried) since it was last read,
        so that the digest of every row is only recomputed then: PostgreSQL assigns a
        transaction id to any transaction that writes (the snapshot's xmax passes it), SQLite
        bumps `data_version` for a connection when another one commits. A false alarm costs
        one full digest, never a wrong answer."""
        if self._sqlite_path:
            if self._watcher is None:
                self._watcher = sqlite3.connect(self._sqlite_path, isolation_level=None)
            return self._watcher.execute("PRAGMA data_version").fetchone()[0]
        db.session.commit()
        with db.engine.connect() as connection:
            return connection.scalar(text("SELECT pg_snapshot_xmax(pg_current_snapshot())"))

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
        with self.app.app_context():
            db.engine.dispose()

    def changed_tables(self) -> list[str]:
        """For failure messages: the tables whose rows differ from the baseline."""
        now, then = set(self.current_rows()), set(self._baseline_rows)
        return sorted({row.split(SEPARATOR, 1)[0] for row in now ^ then})

    def _save_baseline(self) -> None:
        if self._sqlite_path:
            db.engine.dispose()
            _sqlite_copy(self._sqlite_path, self._sqlite_path.with_suffix(".baseline"))
            return
        self._snapshot = TableRows(db.engine)

    @property
    def _sqlite_path(self) -> Path | None:
        url = make_url(self.url)
        return Path(url.database) if url.get_backend_name() == "sqlite" else None

    def restore(self) -> None:
        """Put the baseline back (after an allowed write, or anything else that changed it)."""
        db.session.remove()
        if self._sqlite_path:
            db.engine.dispose()
            _sqlite_copy(self._sqlite_path.with_suffix(".baseline"), self._sqlite_path)
            return
        self._snapshot.restore(db.engine, only=set(self.changed_tables()))

    def ensure_baseline(self) -> None:
        """Restore the baseline if a request since the last fingerprint may have changed it."""
        if (self.unchecked or self.dirty) and self.fingerprint() != self.baseline:
            self.restore()
            assert self.fingerprint() == self.baseline, "the stage could not be restored"


@pytest.fixture(scope="module")
def stage_config():
    """Override in a module to build its stage with another configuration."""
    return {}


@pytest.fixture(scope="module")
def stage(migrated_database, tmp_path_factory, stage_config):
    url = fresh_database(migrated_database, tmp_path_factory.mktemp("stage"), "stage.db")
    stage = Stage(url, stage_config)
    yield stage
    stage.close()
    if POSTGRES_URL:
        _empty_postgres(POSTGRES_URL)  # the next module's tests expect an empty database


@pytest.fixture
def on_stage(stage):
    """The stage at its baseline, with fresh rate-limit counters, for one test."""
    with stage.app.app_context():
        limiter.reset()
        stage.ensure_baseline()
        yield stage
        db.session.remove()


# --- who makes a walk's write (test_junk_input.py, test_write_audit.py) -----------------------

ACTOR_PREFERENCE = ("buyer_lead", "supplier_lead", "buyer_contributor", "supplier_contributor",
                    "observer")  # fmt: skip


@functools.cache
def actor_for(route: Route) -> str:
    """A role whose request on own ids goes through: the access matrix's positive control
    (anonymous for a public route, the administrator for /admin, otherwise the first member
    of A the route's rule lets in and no domain rule refuses on the stage's objects)."""
    from tests.security.test_access_matrix import DOMAIN_REFUSALS, permitted

    if route.public:
        return "anonymous"
    if route.token_authenticated:
        return "supplier_lead"  # the holder of the stage's write token
    rule = route.access_rule
    if rule is not None and rule.admin:
        return "admin"
    refused = DOMAIN_REFUSALS.get(route.endpoint, set())
    return next(r for r in ACTOR_PREFERENCE if permitted(route, r) and r not in refused)
