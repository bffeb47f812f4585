"""SECURITY.md catalogue 21, test_no_5xx_on_junk_input: every write route of the URL map, each
of its fields in turn filled with junk while the others keep a valid value, as a role allowed
to make the request (ASVS 2.2.1, 15.3.5, 15.3.7, 16.5.3).

The fields of a route are those of its valid body (conftest.BODIES) and every field of every
form the app itself renders for that route (a crawl of the stage's pages), so a field added to
a template tomorrow is walked without anyone editing this file. Junk is table-driven, chosen
by what the page shows the field as (a textarea gets no date junk, a date no RTL marks; a field
the crawl did not see gets everything): 10,000-character strings, NUL, RTL and zero-width marks
with SQL and template syntax, `1e309`, NaN, negative and 30-digit numbers, impossible and
extreme dates, empty, the field sent twice, a file where text is expected. Then the URL
arguments (30-digit, negative and malformed ids, junk in string arguments), a JSON body where a
form is expected, and, for the API, JSON of every wrong type.

Every answer must be below 500. A refusal (4xx) must carry a message in French and leave the
database exactly as it was (the stage's fingerprint: no partial row, no e-mail queued, no audit
entry but that of a failed authentication). A 2xx or 3xx means the junk was acceptable input (a
long comment, a title with an RTL mark): the stage is put back before the next request."""

from __future__ import annotations

import io
import json
import re
import traceback
import uuid
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from app.audit.models import AuditEvent
from app.extensions import db, limiter
from tests.security.conftest import SAMPLES, Case, actor_for, all_routes

WRITES = [r for r in all_routes() if r.unsafe and not r.token_authenticated]
API_WRITES = [r for r in all_routes() if r.unsafe and r.token_authenticated]

DUPLICATE = object()  # the field sent twice: its valid value, then junk
A_FILE = object()  # a file part under the field's name
JUNK = {
    "10k": "Tenue d'été " * 834,  # 10,008 characters
    "nul": "avant\x00après",
    "rtl-sql": "\u202egpj.exe\u200f\u200b\u2066 '\";-- {{7*7}} {0.__class__} %s\u2069",
    "1e309": "1e309",
    "nan": "NaN",
    "negatif": "-1",
    "30-chiffres": "9" * 30,
    "date-impossible": "2027-02-30",
    "date-extreme": "9999-12-31",
    "vide": "",
    "doublon": DUPLICATE,
    "fichier": A_FILE,
}
EVERYWHERE = ("10k", "nul", "vide", "doublon", "fichier")
BY_KIND = {
    "textarea": (*EVERYWHERE, "rtl-sql"),
    "choice": (*EVERYWHERE, "negatif", "30-chiffres"),  # select, radio, checkbox: values, ids
    "date": (*EVERYWHERE, "date-impossible", "date-extreme"),
    "file": ("10k", "vide", "fichier"),
}  # a text input, a hidden field, a field no page shows: every junk
JUNK_FILE = b"\x00\x01junk\xff" * 64  # neither a known type nor empty

# French, to tell a French message from an English one leaking from a library.
FRENCH_WORDS = {"le", "la", "les", "de", "des", "du", "un", "une", "est", "pas", "votre",
                "vous", "ce", "cette", "indiquez", "choisissez", "en", "au", "aux", "ne",
                "n'est", "d'un", "d'une", "à", "ou", "et", "sur", "par", "pour"}  # fmt: skip
ENGLISH_MARKERS = re.compile(
    r"\b(not a valid|this field|is required|invalid (value|choice|date)|must be|field is|"
    r"please|bad request|internal server error|not found)\b",
    re.IGNORECASE,
)
# A refusal writes nothing; but the trace of a failed authentication is the very point of the
# audit trail (ASVS 16.3.1): those entries, and only they, may follow a refusal.
REFUSALS_AUDITED = {"connexion.echec", "connexion.echec_second_facteur"}


# --- the fields the app's own pages post to each route ---------------------------------------


def _kind(tag: str, attrs: dict) -> str:
    kind = attrs.get("type", "")
    if tag == "textarea":
        return "textarea"
    if tag == "select" or kind in ("radio", "checkbox"):
        return "choice"
    if kind in ("date", "time", "datetime-local"):
        return "date"
    if kind == "file":
        return "file"
    return "text"


class _Forms(HTMLParser):
    """Each form of a page, by the URL it posts to: {field name: kind}."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            target = (attrs.get("hx-post") or attrs.get("action") or "").split("?")[0]
            self._open.append(target)
            self.forms.setdefault(target, {})
        elif tag in ("input", "select", "textarea", "button") and self._open:
            name = attrs.get("name")
            if name and name != "csrf_token":
                self.forms[self._open[-1]].setdefault(name, _kind(tag, attrs))

    def handle_endtag(self, tag):
        if tag == "form" and self._open:
            self._open.pop()


def _page_forms(stage, role: str, path: str) -> dict[str, dict[str, str]]:
    response = stage.client(role).get(path)
    try:
        if response.mimetype != "text/html":
            return {}
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        return parser.forms
    finally:
        response.close()  # a download's file handle too


def _crawl(stage) -> dict[str, dict[str, str]]:
    """URL, and endpoint, → the fields the app's forms post there: every HTML page each
    walking role may open, and each change request's page whatever its state."""
    from tests.security.test_access_matrix import permitted

    pages = set()
    for role in {actor_for(r) for r in WRITES}:
        for route in all_routes():
            if (route.method == "GET" and permitted(route, role) and not route.token_authenticated
                    and not route.rule.endswith((".pdf", ".ics", ".csv", ".xlsx", "/direct/"))):  # fmt: skip
                pages.add((role, Case(route, role).url(stage)))
    for change_id in set(stage.own.changes.ids.values()):
        for role in ("buyer_lead", "supplier_lead"):
            pages.add((role, f"/contrats/{stage.own.contract_id}/modifications/{change_id}/"))
    adapter = stage.app.url_map.bind("localhost")
    fields: dict[str, dict[str, str]] = {}
    for role, path in sorted(pages):
        for target, names in _page_forms(stage, role, path).items():
            try:
                endpoint, _args = adapter.match(target, method="POST")
            except (NotFound, MethodNotAllowed, RequestRedirect):
                continue
            for key in (endpoint, target):
                for name, kind in names.items():
                    fields.setdefault(key, {}).setdefault(name, kind)
    return fields


@pytest.fixture(scope="module")
def crawled(stage):
    with stage.app.app_context():
        stage.ensure_baseline()
        return _crawl(stage)


def fields_to_walk(stage, crawled, route) -> dict[str, str]:
    """Field → kind: the valid body's, and those of the forms posting to this very URL (the
    sample item's editor, not every item's), else to any URL of the route."""
    case = Case(route, actor_for(route))
    seen = crawled.get(case.url(stage)) or crawled.get(route.endpoint, {})
    return {name: seen.get(name, "text") for name in sorted({*case.body(stage), *seen})}


def with_junk(body: dict, field: str, junk) -> dict:
    body = dict(body)
    if junk is DUPLICATE:
        valid = body.get(field, "")
        body[field] = [valid if isinstance(valid, str) else "1", "autre valeur"]
    elif junk is A_FILE:
        body[field] = (io.BytesIO(JUNK_FILE), "pièce.pdf")
    else:
        body[field] = junk
    return body


# --- what a refusal says, and what it leaves --------------------------------------------------


class _Messages(HTMLParser):
    """The text of a page's error notices (`.alert--error`, `.field__error`)."""

    VOID = ("br", "input", "img", "hr", "meta", "link", "source", "wbr")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.text: list[str] = []
        self._stack: list[bool] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        is_error = "alert--error" in classes or "field__error" in classes
        self._stack.append(is_error)
        self.depth += is_error

    def handle_endtag(self, tag):
        if tag not in self.VOID and self._stack:
            self.depth -= self._stack.pop()

    def handle_data(self, data):
        if self.depth > 0 and data.strip():
            self.text.append(data.strip())


def refusal_message(response) -> str:
    """What the refused person reads: the API's `erreur.message`, or the page's error notices."""
    if response.mimetype == "application/json":
        return (response.get_json() or {}).get("erreur", {}).get("message", "")
    parser = _Messages()
    parser.feed(response.get_data(as_text=True))
    return " ".join(parser.text)


def assert_french(message: str, where: str) -> None:
    assert message, f"a refusal without a message: {where}"
    words = set(re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", message.lower()))
    assert words & FRENCH_WORDS, f"not French: {message!r} ({where})"
    assert not ENGLISH_MARKERS.search(message), f"English leaks: {message!r} ({where})"


def _audit_head(stage) -> int:
    """The last audit entry of the stage's baseline."""
    if not hasattr(stage, "junk_audit_head"):
        stage.ensure_baseline()
        stage.junk_audit_head = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    return stage.junk_audit_head


def check_answer(stage, response, where: str) -> None:
    assert response.status_code < 500, where
    if 400 <= response.status_code < 500:
        assert_french(refusal_message(response), where)
        if stage.fingerprint() != stage.baseline:
            changed = stage.changed_tables()
            audited = set(db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.id > _audit_head(stage))))  # fmt: skip
            assert changed == ["audit_event"] and audited <= REFUSALS_AUDITED, (
                f"refused but wrote: {where} (changed: {', '.join(changed)}; audited: {audited})"
            )
    stage.ensure_baseline()


def _app_frame(error: BaseException) -> str:
    """The innermost line of the app's own code the exception went through."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/app/" in f.filename]
    return f"{frames[-1].filename.split('/app/')[-1]}:{frames[-1].lineno}" if frames else "?"


def send(stage, route, *, what: str, url=None, body=None, **kwargs):
    """The request as the route's actor, on fresh rate-limit counters (the limits have their
    own tests: here a 429 would hide what the junk does)."""
    limiter.reset()
    case = Case(route, actor_for(route))
    if body is None and "json" not in kwargs:
        body = case.body(stage)
    try:
        return stage.client(case.role).open(
            url or case.url(stage), method=route.method, data=body,
            query_string=case.query(stage), **kwargs,
        )  # fmt: skip
    except Exception as error:  # the test app lets exceptions through: in production, a 500
        pytest.fail(f"500 ({type(error).__name__}: {error}) on {route} {what}, "
                    f"raised at {_app_frame(error)}")  # fmt: skip


# --- the walks --------------------------------------------------------------------------------


@pytest.mark.parametrize("route", WRITES, ids=str)
def test_no_5xx_on_junk_input(on_stage, crawled, route):
    """Each field of the route in turn, with each junk value that fits what it is shown as."""
    stage = on_stage
    fields = fields_to_walk(stage, crawled, route)
    assert fields or not Case(route, actor_for(route)).body(stage), route
    for field, kind in fields.items():
        for name in BY_KIND.get(kind, JUNK):
            body = with_junk(Case(route, actor_for(route)).body(stage), field, JUNK[name])
            response = send(stage, route, body=body, what=f"{field}={name}")
            check_answer(stage, response, f"{route} {field}={name} → {response.status_code}")
    for name, body in {
        "json-objet": dict.fromkeys(fields, 5) or {"x": 5},
        "json-liste": [1, 2],
    }.items():
        response = send(stage, route, json=body, what=name)
        check_answer(stage, response, f"{route} {name} → {response.status_code}")


def _url_with(stage, case, argument: str, junk: str) -> str:
    def fill(match):
        name = match.group(1).rsplit(":", 1)[-1]
        if name == argument:
            return junk
        sample = SAMPLES[name]
        extra = (case.route.endpoint,) if sample.by_endpoint else ()
        return str(sample.value(stage, case.role, False, *extra))

    return re.sub(r"<([^>]+)>", fill, case.route.rule)


@pytest.mark.parametrize("route", [r for r in WRITES if r.arguments], ids=str)
def test_no_5xx_on_junk_url_arguments(on_stage, route):
    """Ids no database integer holds, negative or malformed ones, and junk in string arguments
    (NUL, 300 characters): 404, never a database overflow turned into a 500."""
    stage = on_stage
    case = Case(route, actor_for(route))
    for argument in route.arguments:
        for junk in ("9" * 30, "9" * 5000, "2147483648", "-1", "0", "x" * 300, "%00", "%E2%80%AE"):
            response = send(stage, route, url=_url_with(stage, case, argument, junk),
                            what=f"{argument}={junk[:12]}")  # fmt: skip
            check_answer(
                stage, response, f"{route} {argument}={junk[:12]} → {response.status_code}"
            )


API_JUNK = {
    **{k: v for k, v in JUNK.items() if isinstance(v, str)},
    "null": None,
    "liste": [1, 2],
    "objet": {"a": 1},
    "vrai": True,
    "grand-entier": 10**30,
    "flottant": 12.5,
    "negatif-entier": -1,
}


@pytest.mark.parametrize("route", API_WRITES, ids=str)
def test_no_5xx_on_junk_api_payloads(on_stage, route):
    """The API: each JSON field with junk of every type, a raw `1e309`, duplicated keys, bodies
    that are no object or no JSON; a refusal is JSON with a French `erreur.message`."""
    stage = on_stage
    case = Case(route, "supplier_lead")
    token = stage.api_secrets["supplier_lead"]
    valid = case.body(stage)
    bodies = [
        json.dumps({**valid, field: junk})
        for field in [*valid, "version", "comment"]
        for junk in API_JUNK.values()
    ]
    start = valid["period_start"]
    bodies += [f'{{"period_start": "{start}", "value": 1e309}}',
               f'{{"period_start": "{start}", "value": "1", "value": "2"}}',
               "[]", "12", '"x"', "{", "\x00", "\ufeff{}"]  # fmt: skip
    for body in bodies:
        limiter.reset()
        response = stage.client("anonymous").open(
            case.url(stage), method="POST", data=body.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        check_answer(stage, response, f"{route} {body[:60]!r} → {response.status_code}")
