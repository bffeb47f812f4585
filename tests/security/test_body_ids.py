"""SECURITY.md catalogue 6, test_body_ids_of_other_contract_rejected (ASVS 8.2.2, 15.3.3;
ERPNext #54210, where a portal method trusted a `supplier` named in the body).

The URL's ids are walked by the access matrix; here, the ids a write carries in its body. For
each (route, field) of BODY_IDS, a member of contract A allowed to make the request sends a
valid body twice: once with the field naming an object of A (the control: the write goes
through and changes the database, so the body is valid), then with only that field naming
the object of the same kind in contract B. The second must be refused, 404 or 422 with a
French message, and write nothing at all (the stage's fingerprint).

BODY_IDS is written out. `test_every_id_in_a_write_body_is_listed` fails when a field whose
name says it carries an id (`…_id`, `…_ids`, `…_uid`, `items`, `members`, …) reaches a write
route without being listed here or in NOT_CONTRACT_IDS: the fields of every form the app
renders (the crawl of test_junk_input.py), of every WTForms class, every name a view reads from
`request.form` itself, and the API's writable fields."""

from __future__ import annotations

import html
import importlib
import inspect
import io
import pkgutil
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from wtforms import Form

import app as app_package
from app.api.services import WRITE_FIELDS
from app.extensions import db, limiter
from app.notifications.models import Notification
from app.plan.models import Indicator, Objective
from tests.security.conftest import BODIES, HTMX_HEADERS, Case, Side, actor_for, all_routes
from tests.security.test_junk_input import _crawl, assert_french, refusal_message

ROUTES = {r.endpoint: r for r in all_routes() if r.unsafe}
APP_DIR = Path(app_package.__file__).parent

# --- what the body names, on each side ----------------------------------------------------------


def _draft_copy(model, side: Side, uid: str) -> int:
    """The id of the item's copy in the side's working draft (the version the URL names)."""
    return db.session.scalar(
        select(model.id).where(model.uid == uid, model.plan_version_id == side.version_id)
    )


def _objective_uid(side: Side) -> str:
    return db.session.get(Objective, side.objective_id).uid


def _member_user_id(stage, side: Side) -> int:
    """A person of the side's contract who is in no other contract."""
    return stage.people["supplier_lead" if side is stage.own else "outsider"][0]


def _unread_notification(stage, side: Side) -> int:
    """An unread notification of the actor (own), or of a member of B (other)."""
    person = stage.people["buyer_lead" if side is stage.own else "outsider"][0]
    found = db.session.scalar(
        select(Notification.id)
        .where(Notification.user_id == person, Notification.contract_id == side.contract_id,
               Notification.read_at.is_(None))
        .order_by(Notification.id)
    )  # fmt: skip
    assert found, "the stage gives both people an unread notification"
    return found


# --- the requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    response: object
    message: str  # what the person reads of a refusal (the page after a redirect, if any)


def _post(stage, endpoint: str, body: dict, *, url: str | None = None, htmx: bool = False,
          follow: bool = False) -> Sent:  # fmt: skip
    limiter.reset()  # the limits have their own tests: a 429 here would hide the answer
    route = ROUTES[endpoint]
    role = actor_for(route)
    client = stage.client(role)
    response = client.post(
        url or Case(route, role).url(stage), data=body, headers=HTMX_HEADERS if htmx else {}
    )
    message = refusal_message(response) if response.status_code >= 400 else ""
    if follow and 300 <= response.status_code < 400:  # the notice shown on the next page
        page = client.get(response.headers["Location"])
        message = html.unescape(" ".join(re.findall(r'class="alert[^"]*"[^>]*>\s*(?:<[^>]+>\s*)*([^<]+)',
                                      page.get_data(as_text=True))))  # fmt: skip
    return Sent(response, message)


def _valid_body(stage, endpoint: str) -> dict:
    """The stage's valid body for the route (conftest.BODIES), on A's own objects."""
    route = ROUTES[endpoint]
    return Case(route, actor_for(route)).body(stage)


PLAN_PARENTS = {  # kind created → (its parent's id on a side, a valid form)
    "objectif": (lambda s: s.axis_id,
                 {"title": "Réduire les chutes de tissu", "obligation": "moyens",
                  "accountable_side": "titulaire"}),
    "indicateur": (lambda s: s.objective_id,
                   {"name": "Chutes de tissu", "unit": "kg", "direction": "baisse",
                    "periodicity": "trimestrielle", "reporting_side": "titulaire"}),
    "action": (lambda s: s.objective_id,
               {"title": "Trier les chutes", "owner_side": "titulaire", "mode": "immediate",
                "status": "proposee"}),
    "jalon": (lambda s: _draft_copy(Indicator, s, s.indicator_uid),
              {"due_date": f"{date.today().year}-12-31", "value": "8"}),
}  # fmt: skip


def _create_plan_item(kind: str):
    parent_of, fields = PLAN_PARENTS[kind]

    def send(stage, side, ctx, htmx):
        parent = parent_of(side)
        url = f"/contrats/{stage.own.contract_id}/plan/versions/{stage.own.version_id}/{kind}"
        # The form's prefix follows the parent, as the page that posts it writes it: the body
        # is the one a page of B's item would send, to A's version.
        prefix = f"nouveau-{kind}-{parent}"
        body = {"parent_id": parent, **{f"{prefix}-{k}": v for k, v in fields.items()}}
        return _post(stage, "contract.plan.create", body, url=url, htmx=htmx)

    return send


def _raise_difficulty_on(item_uid: Callable[[Side], str]):
    def send(stage, side, ctx, htmx):
        body = {**_valid_body(stage, "contract.difficulties.create"), "items": [item_uid(side)]}
        return _post(stage, "contract.difficulties.create", body, htmx=htmx)

    return send


def _schedule_review_with(stage, side, ctx, htmx):
    body = {**_valid_body(stage, "contract.reviews.new"), "members": [_member_user_id(stage, side)]}
    return _post(stage, "contract.reviews.new", body, htmx=htmx)


def _outcome_under(stage, side, ctx, htmx):
    """A meeting's decision becomes an action of the review's plan draft, under the objective
    named in the body."""
    body = {**_valid_body(stage, "contract.reviews.record_outcome"), "outcome_kind": "action",
            "outcome_text": "Former les nouveaux arrivants", "objective_uid": _objective_uid(side),
            "owner_side": "titulaire", "due": ""}  # fmt: skip
    return _post(stage, "contract.reviews.record_outcome", body, htmx=htmx)


def _csv(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["indicateur;periode;valeur", *(";".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def _upload(stage, indicator_uid: str) -> dict:
    """Upload an import naming the indicator, for the quarter under way; what the preview's
    confirm form carries back (the file's id, the number of valid rows) and the preview."""
    body = {"file": (io.BytesIO(_csv([(indicator_uid, stage.own.free_period, "7,5")])),
                     "valeurs.csv")}  # fmt: skip
    sent = _post(stage, "contract.exports.upload", body)
    preview = sent.response.get_data(as_text=True)
    assert sent.response.status_code == 200, preview[:500]
    hidden = dict(re.findall(r'name="(attachment_id|expected)"[^>]*value="(\d+)"', preview))
    assert set(hidden) == {"attachment_id", "expected"}, preview[:2000]
    return {**hidden, "preview": preview}


def _own_import(stage, side):
    """An import file of A, uploaded by the actor, with one valid row."""
    return _upload(stage, stage.own.indicator_uid)


def _confirm_attachment(stage, side, ctx, htmx):
    attachment_id = ctx["attachment_id"] if side is stage.own else side.attachment_id
    body = {"attachment_id": attachment_id, "expected": ctx["expected"], "mode": "tout"}
    return _post(stage, "contract.exports.confirm", body, htmx=htmx)


def _import_row_naming(stage, side):
    """A CSV whose one row names the side's indicator by its uid. B's is unknown to A: the
    preview says so and offers no import button; the confirm is then forged from its form."""
    ctx = _upload(stage, side.indicator_uid)
    preview = ctx["preview"]
    if side is stage.other:
        assert "Indicateur inconnu dans le plan de ce marché" in preview, preview[:2000]
        assert side.indicator_uid in preview  # the row is shown, with what it named
        assert ctx["expected"] == "0"
    return ctx


def _confirm_import(mode: str):
    def send(stage, side, ctx, htmx):
        body = {"attachment_id": ctx["attachment_id"], "expected": ctx["expected"], "mode": mode}
        return _post(stage, "contract.exports.confirm", body, htmx=htmx)

    return send


def _open_notification(stage, side, ctx, htmx):
    body = {"notification": _unread_notification(stage, side)}
    return _post(stage, "notifications.open_one", body, htmx=htmx, follow=True)


def _api_push(indicator_uid_in_body: bool):
    """The supplier's ERP pushes a value with the stage's write token. Either the URL names the
    indicator, or (mass assignment) the body adds an `indicator_uid`: the allowlist refuses
    any such field, so its control is the same body without it."""

    def send(stage, side, ctx, htmx):
        limiter.reset()
        uid = stage.own.indicator_uid if indicator_uid_in_body else side.indicator_uid
        body = {"period_start": stage.own.free_period, "value": "12.5"}
        if indicator_uid_in_body and side is stage.other:
            body["indicator_uid"] = side.indicator_uid
        response = stage.client("anonymous").post(
            f"/api/v1/indicateurs/{uid}/valeurs", json=body,
            headers={"Authorization": f"Bearer {stage.api_secrets['supplier_lead']}",
                     "Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        return Sent(response, refusal_message(response) if response.status_code >= 400 else "")

    return send


# --- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyId:
    endpoint: str  # the write route
    field: str  # the body's field (a CSV column, a JSON key) that names another object
    names: str  # what it names
    send: Callable  # send(stage, side, ctx, htmx) → Sent: the valid body, the field from `side`
    refused: tuple[int, ...] = (404, 422)
    says: str = ""  # part of the refusal's message
    prepare: Callable | None = None  # prepare(stage, side) → ctx, before the fingerprint
    variant: str = ""

    @property
    def id(self) -> str:
        return f"{self.endpoint}:{self.field}{'-' + self.variant if self.variant else ''}"


UNKNOWN_ITEM = "Un des éléments du plan choisis n'existe pas ou plus."
BODY_IDS = [
    *(BodyId("contract.plan.create", "parent_id", f"le parent d'un(e) {kind}",
             _create_plan_item(kind), refused=(404,), variant=kind)
      for kind in PLAN_PARENTS),
    BodyId("contract.difficulties.create", "items", "un objectif du plan",
           _raise_difficulty_on(_objective_uid), refused=(422,), says=UNKNOWN_ITEM,
           variant="objectif"),
    BodyId("contract.difficulties.create", "items", "un indicateur du plan",
           _raise_difficulty_on(lambda s: s.indicator_uid), refused=(422,), says=UNKNOWN_ITEM,
           variant="indicateur"),
    BodyId("contract.difficulties.create", "items", "une action du plan",
           _raise_difficulty_on(lambda s: s.action_uid), refused=(422,), says=UNKNOWN_ITEM,
           variant="action"),
    BodyId("contract.reviews.new", "members", "un membre du marché", _schedule_review_with,
           refused=(422,), says="Une des personnes choisies n'est pas membre du marché."),
    BodyId("contract.reviews.record_outcome", "objective_uid", "l'objectif d'une action décidée",
           _outcome_under, refused=(422,),
           says="Choisissez un objectif du projet de plan de la revue."),
    BodyId("contract.exports.confirm", "attachment_id", "le fichier d'import déposé",
           _confirm_attachment, refused=(404,), prepare=_own_import),
    BodyId("contract.exports.confirm", "indicateur", "l'indicateur d'une ligne CSV importée",
           _confirm_import("tout"), refused=(422,), says="rien n'a été importé",
           prepare=_import_row_naming, variant="tout"),
    BodyId("contract.exports.confirm", "indicateur", "l'indicateur d'une ligne CSV importée",
           _confirm_import("valides"), refused=(422,), says="Aucune ligne valide à importer.",
           prepare=_import_row_naming, variant="valides"),
    # By design, someone else's notification is answered like one already gone: back to the
    # list with a notice (tests/notifications), not a 404 — and nothing marked read.
    BodyId("notifications.open_one", "notification", "une notification", _open_notification,
           refused=(302, 303), says="Cette notification n'est plus disponible."),
    BodyId("api.push", "uid", "l'indicateur (adresse de l'API)", _api_push(False),
           refused=(404,), says="Aucun indicateur de ce marché ne porte cet identifiant."),
    BodyId("api.push", "indicator_uid", "un indicateur (ajouté au JSON)", _api_push(True),
           refused=(422,), says="Champ non accepté : « indicator_uid »"),
]  # fmt: skip

# Fields whose name looks like an id but names nothing of a contract, with the reason.
NOT_CONTRACT_IDS = {
    # Organisations belong to no contract: the administrator picks any of them for a new one.
    ("admin.contract_create", "buyer_organisation_id"): "organisation",
    ("admin.contract_create", "supplier_organisation_id"): "organisation",
}


@pytest.mark.parametrize("entry", BODY_IDS, ids=lambda e: e.id)
def test_body_ids_of_other_contract_rejected(on_stage, entry):
    stage = on_stage
    own, other = stage.own, stage.other

    # Control: the same request naming A's object goes through and writes.
    ctx = entry.prepare(stage, own) if entry.prepare else {}
    before = stage.fingerprint()
    sent = entry.send(stage, own, ctx, False)
    where = f"{entry.id} naming A's {entry.names} → {sent.response.status_code}"
    assert sent.response.status_code < 400, f"{where}: the body is not valid\n{sent.message}"
    assert stage.fingerprint() != before, f"{where} wrote nothing: the control proves nothing"
    stage.ensure_baseline()

    # The one field names B's object: refused, in French, and nothing written.
    for htmx in (False, True):
        ctx = entry.prepare(stage, other) if entry.prepare else {}
        before = stage.fingerprint()
        sent = entry.send(stage, other, ctx, htmx)
        status = sent.response.status_code
        where = f"{entry.id} naming B's {entry.names} ({'htmx' if htmx else 'plain'}) → {status}"
        assert status in entry.refused, f"{where}, expected {entry.refused}: {sent.message}"
        if entry.says:  # the French message written for this refusal
            assert entry.says in sent.message, f"{where}: {sent.message!r}"
        else:
            assert_french(sent.message, where)
        assert stage.fingerprint() == before, (
            f"refused but wrote: {where} (changed: {', '.join(stage.changed_tables())})"
        )
        stage.ensure_baseline()


# --- nothing left out ---------------------------------------------------------------------------

ID_NAMES = {"id", "ids", "uid", "uids", "items", "members", "notification", "parent", "owner"}
ID_SUFFIXES = ("_id", "_ids", "_uid", "_uids", "_items", "_members")


def looks_like_an_id(name: str) -> bool:
    """`parent_id`, `member_ids`, `nouveau-action-3-objective_uid`, `items`…"""
    last = name.rsplit("-", 1)[-1].lower()
    return last in ID_NAMES or last.endswith(ID_SUFFIXES)


def _wtforms_fields() -> dict[str, set[str]]:
    """Form class → its id-looking fields, for every WTForms class of app/*/forms.py."""
    found = {}
    for module_info in pkgutil.walk_packages(app_package.__path__, "app."):
        if not module_info.name.endswith(".forms"):
            continue
        module = importlib.import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Form) and cls.__module__ == module.__name__:
                fields = {n for n, _ in inspect.getmembers(cls) if looks_like_an_id(n)
                          and hasattr(getattr(cls, n), "field_class")}  # fmt: skip
                if fields:
                    found[f"{module.__name__}.{name}"] = fields
    return found


READ_FROM_FORM = re.compile(
    r"request\.(?:form|values|files)(?:\.get(?:list)?\(|\[)\s*f?[\"']([^\"'{]+)[\"']"
)


def _read_by_views() -> dict[str, set[str]]:
    """File → the id-looking names a view reads from the request body itself."""
    found = {}
    for path in sorted(APP_DIR.rglob("*.py")):
        names = {n for n in READ_FROM_FORM.findall(path.read_text()) if looks_like_an_id(n)}
        if names:
            found[str(path.relative_to(APP_DIR.parent))] = names
    return found


@pytest.fixture(scope="module")
def rendered_forms(stage):
    with stage.app.app_context():
        stage.ensure_baseline()
        return _crawl(stage)


def test_every_id_in_a_write_body_is_listed(stage, rendered_forms):
    listed = {(e.endpoint, e.field) for e in BODY_IDS} | set(NOT_CONTRACT_IDS)
    listed_names = {name for _, name in listed}
    missing = []
    for endpoint, names in rendered_forms.items():
        if endpoint in ROUTES:  # the crawl also keys its fields by URL
            for name in names:
                if looks_like_an_id(name) and (endpoint, name.rsplit("-", 1)[-1]) not in listed:
                    missing.append(f"{endpoint}: {name} (a form the app renders)")
    for form, names in _wtforms_fields().items():
        missing += [f"{form}.{n} (WTForms)" for n in sorted(names - listed_names)]
    for path, names in _read_by_views().items():
        missing += [f"{path}: request.form {n!r}" for n in sorted(names - listed_names)]
    missing += [f"api.push: JSON {n!r}" for n in WRITE_FIELDS if looks_like_an_id(n)
                and ("api.push", n) not in listed]  # fmt: skip
    for endpoint in BODIES:
        route = ROUTES.get(endpoint)
        if route is not None and not route.token_authenticated:
            with stage.app.app_context():
                body = Case(route, actor_for(route)).body(stage) or {}
            missing += [f"{endpoint}: {n} (conftest.BODIES)" for n in body
                        if looks_like_an_id(n) and (endpoint, n.rsplit("-", 1)[-1]) not in listed]  # fmt: skip
    assert not missing, (
        "a write body carries an id that test_body_ids.py does not try with contract B's "
        "(add it to BODY_IDS, or to NOT_CONTRACT_IDS with the reason):\n" + "\n".join(missing)
    )
    assert {e.endpoint for e in BODY_IDS} <= set(ROUTES), "BODY_IDS names a route that is gone"


def test_the_id_detector_knows_an_id_when_it_sees_one():
    """The completeness check above is only as good as this."""
    for name in ("parent_id", "member_ids", "objective_uid", "items", "members",
                 "nouveau-action-3-owner_id", "notification"):  # fmt: skip
        assert looks_like_an_id(name), name
    for name in ("title", "base_version", "owner_side", "nouveau-objectif-2-title", "mid",
                 "paid", "valid"):  # fmt: skip
        assert not looks_like_an_id(name), name
