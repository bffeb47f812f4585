"""SECURITY.md catalogue 36, test_every_write_is_audited: every write route of the URL map
(POST, PUT, PATCH, DELETE), called with its valid body by a role allowed to make it, must leave
its trace in the audit trail (ASVS 16.2.1, 16.2.2, 16.2.5, 16.3.1–16.3.3; SECURITY.md §8).

The walk is the one of `test_junk_input.py`: the stage of `conftest.py`, the route's valid body
(`BODIES`), its actor (`actor_for`). A success (2xx or 3xx) must add at least one audit entry,
and each entry it adds must name
- its actor (the person acting, or for a public route the person the request is about), unless
  its action is one of NO_ACTOR, which says why nobody can be named;
- the contract of the URL, for a route under /contrats/<id>, and sit on that contract's chain;
- an action name (`domaine.verbe`, lower case);
- a UTC timestamp taken during the request;
and the chains it was added to must still verify.

A route whose success writes nothing the trail keeps (a Markdown preview, a person's own
preferences) is written out in NOT_AUDITED, with the tables it may change. A write route added
tomorrow that is neither audited nor in that list fails here.

Whatever the walk does, neither the log (caplog at DEBUG, the app's `progres` loggers included)
nor any audit entry contains a password, an API token, a session id or cookie, a TOTP code or
secret, a recovery code, or a single-use link's token (`secrets_to_look_for`)."""

from __future__ import annotations

import io
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.attachments.models import Attachment
from app.audit.models import AuditEvent
from app.audit.services import chain_of, verify_chain
from app.auth import two_factor
from app.auth.models import User, UserSession
from app.contracts.models import Membership
from app.db_types import utcnow
from app.extensions import db, limiter
from app.organisations.models import Organisation
from app.plan import versions
from app.reviews import agenda as review_agenda
from app.reviews.models import Review
from tests import factories
from tests.helpers import emails_to, link_in
from tests.security.conftest import NEW_PASSWORD, Case, Stage, actor_for, all_routes
from tests.security.test_junk_input import _app_frame

WRITES = [r for r in all_routes() if r.unsafe]

# Successful writes that leave no audit entry, on purpose, and the only tables each may change.
# None of them changes the contract's data, anybody's rights or anybody's credentials.
NOT_AUDITED: dict[str, tuple[frozenset[str], str]] = {
    "contract.plan.preview": (frozenset(), "renders the Markdown being typed; stores nothing"),
    "contract.plan.editing_heartbeat": (
        frozenset(),
        "« X is editing this item »: kept by the live bus (Redis or memory) for a minute",
    ),
    "auth.choose_language": (
        frozenset({"user_account"}),
        "the language of the pages: a display preference (user_account.locale)",
    ),
    "notifications.open_one": (frozenset({"notification"}), "a read mark on one's own bell"),
    "notifications.mark_all_read": (frozenset({"notification"}), "read marks on one's own bell"),
    "notifications.preferences": (
        frozenset({"notification_preference"}),
        "how often one is told by e-mail: one's own preference, no effect on the contract",
    ),
}

# Audit actions that may name nobody, and why.
NO_ACTOR = {
    # Whoever typed a wrong password is nobody yet (and an unknown e-mail names no account):
    # the label keeps the e-mail typed.
    "connexion.echec": "not authenticated",
}

ACTION_NAME = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)*")
# As auth/recovery_codes.html shows them (a uuid has the same shape: only there do they count).
RECOVERY_CODE = re.compile(r"<code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code>")
API_SECRET = re.compile(r"prg_[A-Za-z0-9_-]{20,}")
# Answers that show a secret once: the walk must find it there, or it would look for nothing.
SHOWN_ONCE = {
    "contract.api_tokens.create": API_SECRET,
    "auth.turn_on_two_factor": RECOVERY_CODE,
    "auth.renew_recovery_codes": RECOVERY_CODE,
}
COOKIE = re.compile(r"<cookie>([^<]{16,})</cookie>")
SECRET_FIELDS = re.compile(r"password|code|setup|token|secret")
WALKED_PERSON = "nadia@titulaire.example"  # a person without two-factor authentication


# --- requests a stage body alone cannot make succeed --------------------------------------------


@dataclass
class Prepared:
    """What differs from the plain walk: the browser (one step of a login already made), the
    URL (a link only an e-mail carries, another contract), the body."""

    client: FlaskClient | None = None
    url: str | None = None
    body: dict | None = None
    # Who the entries must name, when the route is public: the person the request is about.
    actor_email: str | None = None


def _membership(stage: Stage, role: str) -> Membership:
    """The role's membership of contract A."""
    return db.session.scalar(select(Membership).where(
        Membership.user_id == stage.people[role][0],
        Membership.contract_id == stage.own.contract_id))  # fmt: skip


def _log_in_without_two_factor(stage, case):
    """Everyone of the stage has two-factor authentication, so their password step only
    remembers them in the session (the login is audited at the code, below): a person without
    it is logged in, and audited, at the password."""
    factories.make_user(WALKED_PERSON)
    return Prepared(body={"email": WALKED_PERSON, "password": factories.PASSWORD},
                    actor_email=WALKED_PERSON)  # fmt: skip


def _password_step_made(stage, case):
    client = stage.client("anonymous")
    first = client.post("/connexion", data={"email": stage.email("buyer_lead"),
                                            "password": factories.PASSWORD})  # fmt: skip
    assert first.headers.get("Location") == "/connexion/code", first.status_code
    return Prepared(client=client, actor_email=stage.email("buyer_lead"))


def _reset_link(stage, case):
    email = stage.email("buyer_lead")
    asked = stage.client("anonymous").post("/mot-de-passe-oublie", data={"email": email})
    assert asked.status_code == 302, asked.status_code
    return Prepared(url=link_in(emails_to(email, "reinitialisation")[-1]), actor_email=email)


def _file_uploaded(stage, case):
    """An import to confirm: a file with one value the buyer lead may enter, already previewed."""
    csv = f"indicateur;periode;valeur\r\nRetouches;{stage.own.free_period};7\r\n".encode()
    response = stage.client(case.role).post(
        f"/contrats/{stage.own.contract_id}/donnees/import",
        data={"file": (io.BytesIO(csv), "valeurs.csv")},
    )
    assert response.status_code == 200, response.status_code
    attachment_id = db.session.scalar(select(func.max(Attachment.id)))
    return Prepared(body={"attachment_id": attachment_id, "expected": "1", "mode": "tout"})


def _first_draft(stage, case):
    """The stage's plan is in force (its draft goes through a change request): a plan visa is
    given on a new contract's first draft, by its buyer lead."""
    buyer, supplier = (db.session.get(Organisation, i) for i in (
        stage.own.buyer_organisation_id, stage.own.supplier_organisation_id))  # fmt: skip
    contract = factories.make_contract(buyer, supplier, "2027-0990")
    factories.add_member(contract, db.session.get(User, stage.people["buyer_lead"][0]),
                         "acheteur", "referent")  # fmt: skip
    draft = versions.working_version(versions.plan_of(contract))
    db.session.commit()
    return Prepared(url=f"/contrats/{contract.id}/plan/versions/{draft.id}/visa")


def _second_point(stage, case):
    """The stage's review has one agenda point, which cannot move: a second one is added."""
    review = db.session.get(Review, stage.own.review_id)
    review_agenda.add_item(review, _membership(stage, "buyer_lead"), "Point ajouté", 5)
    return Prepared()


PREPARE = {
    "auth.login": _log_in_without_two_factor,
    "auth.login_code": _password_step_made,
    "auth.reset_password": _reset_link,
    "contract.exports.confirm": _file_uploaded,
    "contract.plan.give_visa": _first_draft,
    "contract.reviews.move_point": _second_point,
}


def send(stage, case, prepared: Prepared):
    """The request; the API with the stage's write token (a cookie counts for nothing there)."""
    limiter.reset()  # the limits have their own tests
    body = prepared.body if prepared.body is not None else case.body(stage)
    client = prepared.client or stage.client(case.role)
    if case.route.token_authenticated:
        token = stage.api_secrets[case.role]
        kwargs = {"json": body, "headers": {"Authorization": f"Bearer {token}",
                                            "Idempotency-Key": str(uuid.uuid4())}}  # fmt: skip
    else:
        kwargs = {"data": body}
    try:
        response = client.open(prepared.url or case.url(stage), method=case.route.method,
                               query_string=case.query(stage), **kwargs)  # fmt: skip
    except Exception as error:  # the test app lets exceptions through: in production, a 500
        pytest.fail(f"500 ({type(error).__name__}: {error}) on {case.route}, "
                    f"raised at {_app_frame(error)}")  # fmt: skip
    text = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
    # The cookies it sets (a new session's) count as secrets shown by the answer.
    text += "\n".join(f"<cookie>{c.split(';', 1)[0].split('=', 1)[-1]}</cookie>"
                       for c in response.headers.getlist("Set-Cookie"))  # fmt: skip
    response.close()
    return response, body, text


# --- what must never be written down ------------------------------------------------------------


def secrets_to_look_for(stage, body: dict, page: str) -> dict[str, str]:
    """Secret value → what it is: those of the stage, the ones the request carried, the ones its
    answer showed once (a new API token, new recovery codes)."""
    found = {factories.PASSWORD: "password", NEW_PASSWORD: "new password"}
    found |= dict.fromkeys(stage.api_secrets.values(), "API token")
    found |= dict.fromkeys(API_SECRET.findall(page), "API token")
    found |= dict.fromkeys(stage.cookies.values(), "session cookie")
    found |= dict.fromkeys(COOKIE.findall(page), "cookie set by the answer")
    found |= dict.fromkeys(db.session.scalars(select(UserSession.id)), "session id")
    seeds = db.session.scalars(select(User.totp_secret).where(User.totp_secret.is_not(None)))
    found |= dict.fromkeys(seeds, "TOTP secret")
    now = two_factor.clock()
    for phone in stage.phones.values():
        found[phone.secret] = "TOTP secret"
        found |= {
            phone.code(now + steps * two_factor.INTERVAL): "TOTP code" for steps in (-1, 0, 1)
        }
        for code in phone.recovery_codes:
            found |= {code: "recovery code", code.replace("-", ""): "recovery code"}
    for code in RECOVERY_CODE.findall(page):
        found |= {code: "recovery code", code.replace("-", ""): "recovery code"}
    found[stage.own.invitation_token] = "invitation link token"
    for email in emails_to(stage.email("buyer_lead"), "reinitialisation"):
        found[link_in(email).rsplit("/", 1)[-1]] = "reset link token"
    for name, value in (body or {}).items():
        if SECRET_FIELDS.search(name) and isinstance(value, str) and value:
            found.setdefault(value, f"the {name!r} field")
    return found


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    """What of `secrets` appears in `text`. A 6-digit code counts when it stands alone, not as
    the digits of a longer number or of a timestamp's microseconds."""
    leaks = []
    for secret, what in secrets.items():
        pattern = (
            rf"(?<![\d.:]){re.escape(secret)}(?!\d)" if secret.isdigit() else re.escape(secret)
        )
        if re.search(pattern, text):
            leaks.append(f"{what} ({secret[:4]}…)")
    return leaks


def log_text(caplog) -> str:
    """Every captured record: its message, its arguments and its traceback."""
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )


# --- the walk -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", WRITES, ids=str)
def test_every_write_is_audited(on_stage, caplog, route):
    stage = on_stage
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="progres")  # the app's loggers stop at INFO otherwise
    case = Case(route, actor_for(route))
    prepared = PREPARE.get(route.endpoint, lambda *_: Prepared())(stage, case)
    db.session.commit()
    head = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    started = utcnow()
    response, body, page = send(stage, case, prepared)
    finished = utcnow()
    where = f"{case.role} {route} → {response.status_code}"
    assert 200 <= response.status_code < 400, (
        f"the walk's request failed: {where}; give it a valid body (conftest.BODIES) "
        f"or a preparation (PREPARE)"
    )
    entries = db.session.scalars(
        select(AuditEvent).where(AuditEvent.id > head).order_by(AuditEvent.id)
    ).all()
    changed = stage.changed_tables() if stage.fingerprint() != stage.baseline else []

    if route.endpoint in SHOWN_ONCE:
        assert SHOWN_ONCE[route.endpoint].search(page), f"no secret shown once: {where}"
    secrets = secrets_to_look_for(stage, body, page)
    assert not leaked(log_text(caplog), secrets), (
        f"in the log: {leaked(log_text(caplog), secrets)} ({where})"
    )
    for entry in entries:
        written = " ".join((entry.payload, entry.object_id, entry.actor_label, entry.action))
        assert not leaked(written, secrets), (
            f"in audit entry {entry.action}: {leaked(written, secrets)} ({where})"
        )

    if route.endpoint in NOT_AUDITED:
        tables, _why = NOT_AUDITED[route.endpoint]
        assert not entries, f"audited after all: take {route.endpoint} out of NOT_AUDITED"
        assert set(changed) <= tables, (
            f"{where} is in NOT_AUDITED but changed {sorted(set(changed) - tables)}"
        )
        return

    assert entries, (
        f"{where} changed {', '.join(changed) or 'nothing'} and wrote no audit entry: call "
        f"app.audit.services.record in its service, or say why not in NOT_AUDITED"
    )
    assert "audit_event" in changed, where
    contract_id = None
    if route.in_contract:
        contract_id = int(re.match(r"/contrats/(\d+)/", prepared.url or case.url(stage))[1])
    expected_actor = (
        db.session.scalar(select(User.id).where(User.email == prepared.actor_email))
        if prepared.actor_email
        else stage.people[case.role][0]
        if case.role != "anonymous"
        else None
    )
    for entry in entries:
        what = f"{entry.action} after {where}"
        assert ACTION_NAME.fullmatch(entry.action), f"action name: {what}"
        if entry.actor_id is None:
            assert entry.action in NO_ACTOR, f"no actor: {what}"
        elif expected_actor is not None:
            assert entry.actor_id == expected_actor, f"not the acting person: {what}"
        else:  # a public route: someone real, named by their e-mail
            actor = db.session.get(User, entry.actor_id)
            assert actor is not None and entry.actor_label == actor.email, f"actor: {what}"
        if contract_id is not None:
            assert entry.contract_id == contract_id, f"contract {entry.contract_id}: {what}"
            assert entry.chain == chain_of(contract_id), what
        assert entry.ts.utcoffset() == timedelta(0), f"not UTC: {what}"
        slack = timedelta(seconds=1)  # SQLite keeps microseconds; a clock never goes back
        assert started - slack <= entry.ts <= finished + slack, f"time {entry.ts}: {what}"
    for chain in {e.chain for e in entries}:
        assert verify_chain(chain).ok, f"chain {chain} broken after {where}"


# --- failures: audited, with no secret ----------------------------------------------------------


@pytest.mark.parametrize(
    "email, password",
    [
        ("claire@acheteur.example", "mauvais-mot-de-passe-42"),
        ("personne@nulle-part.example", "x" * 14),
    ],
    ids=["wrong_password", "unknown_account"],
)
def test_a_failed_login_is_audited_without_what_was_typed(on_stage, caplog, email, password):
    """ASVS 16.3.1: the failure is in the trail, named by the e-mail typed (an unknown one names
    nobody: NO_ACTOR); the password typed is neither there nor in the log."""
    stage = on_stage
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="progres")
    head = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    response = stage.client("anonymous").post(
        "/connexion", data={"email": email, "password": password}
    )
    assert response.status_code == 422
    entries = db.session.scalars(select(AuditEvent).where(AuditEvent.id > head)).all()
    assert [e.action for e in entries] == ["connexion.echec"]
    assert entries[0].actor_label == email and entries[0].contract_id is None
    known = db.session.scalar(select(User.id).where(User.email == email))
    assert entries[0].actor_id is None or entries[0].actor_id == known
    secrets = {**secrets_to_look_for(stage, {}, ""), password: "password typed"}
    assert not leaked(entries[0].payload + entries[0].object_id, secrets)
    assert not leaked(log_text(caplog), secrets)


def test_a_wrong_code_at_login_is_audited_without_the_code(on_stage, caplog):
    stage = on_stage
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="progres")
    client = stage.client("anonymous")
    client.post(
        "/connexion", data={"email": stage.email("buyer_lead"), "password": factories.PASSWORD}
    )
    head = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    phone, now = stage.phones["buyer_lead"], two_factor.clock()
    valid = {phone.code(now + steps * two_factor.INTERVAL) for steps in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    assert client.post("/connexion/code", data={"code": wrong}).status_code == 422
    entries = db.session.scalars(select(AuditEvent).where(AuditEvent.id > head)).all()
    assert [e.action for e in entries] == ["connexion.echec_second_facteur"]
    assert entries[0].actor_id == stage.people["buyer_lead"][0]
    secrets = {**secrets_to_look_for(stage, {}, ""), wrong: "code typed"}
    assert not leaked(entries[0].payload + entries[0].object_id, secrets)
    assert not leaked(log_text(caplog), secrets)


# --- the lists stay true ------------------------------------------------------------------------


def test_the_lists_name_only_write_routes():
    """A route renamed or removed leaves no stale entry behind."""
    endpoints = {r.endpoint for r in WRITES}
    assert set(NOT_AUDITED) - endpoints == set()
    assert set(PREPARE) - endpoints == set()


def test_the_walk_walks_writes_of_every_kind():
    kinds = {("contract" if r.in_contract else "api" if r.token_authenticated
              else "public" if r.public else "account") for r in WRITES}  # fmt: skip
    assert kinds == {"contract", "api", "public", "account"}
    assert len(WRITES) - len(NOT_AUDITED) > 50
