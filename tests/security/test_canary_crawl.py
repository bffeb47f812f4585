"""SECURITY.md catalogue 4 (and issue 5's proof for pages, fragments and exports): canaries are
planted in contract B's texts, in the buyer's internal notes of contract A and in the supplier's
internal note of contract B; then every GET route of the app is crawled — pages, htmx
fragments, CSV, XLSX, PDF, .ics, JSON — as A's supplier roles (no canary of B, no internal note
of A's buyer may appear) and as B's buyer lead (neither A's buyer notes nor B's supplier note).
Binary answers are read as text first: PDF through pypdf, XLSX by unzipping it.

The API (`/api/*`) ignores cookies, so the crawl calls each of its GET routes again with a read
token of the crawling person's own contract, on its own indicator and on the other contract's
(404), and reads the JSON.

Counts are leaks too (« 3 notes internes »): a known number of shared messages and internal
notes is seeded, and every « Discussion (n) » the crawl meets, the bell's unread count and the
difficulty counts of the register, the contract's home page and the dashboard must show exactly
what the viewer may read. Positive controls: the buyer sees their own notes and the larger
count; each token's JSON carries its own contract's data."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass

import pytest
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import select

from app.api import services as api
from app.contracts.models import Contract, Membership
from app.difficulties import services as difficulties
from app.extensions import db, limiter
from app.indicators.models import Measurement
from app.plan.models import Indicator, Objective
from app.threads import discussions
from app.threads.models import ThreadMessage
from tests.security.conftest import Case, all_routes

CRAWLED = [
    r
    for r in all_routes()
    if r.method == "GET" and not r.public and r.endpoint != "contract.live.stream"
]  # fmt: skip  (SSE: tests/notifications)
API_GETS = [r for r in all_routes() if r.method == "GET" and r.token_authenticated]

# What is seeded on contract A (SEEDED_*: by whom, shared or internal), and so what each side
# may count: the objective's thread and the difficulty's thread.
OBJECTIVE_MESSAGES = (("buyer_lead", False), ("supplier_lead", False),
                      ("buyer_lead", True), ("buyer_lead", True), ("buyer_contributor", True))  # fmt: skip
DIFFICULTY_MESSAGES = (("buyer_lead", False), ("buyer_lead", True), ("buyer_contributor", True))
OBJECTIVE_TITLE = "Moins de retouches"  # A's sample objective (conftest._side)
B_DIFFICULTIES_RAISED = 2


def _seen_by(messages, side: str) -> int:
    """How many of the seeded messages a member of `side` may read."""
    return sum(1 for role, internal in messages if not internal or role.startswith(side))


@dataclass(frozen=True)
class Canaries:
    b: str  # every text of contract B
    a_internal: str  # the internal notes of A's buyer side
    b_supplier_internal: str  # an internal note of B's supplier
    a_shared: str  # a comment on one of A's values, seen by both sides and the API

    def forbidden(self, role: str) -> list[str]:
        if role == "outsider":  # B's buyer lead: B is their contract, A is not
            return [self.a_internal, self.b_supplier_internal, self.a_shared]
        return [self.b, self.a_internal, self.b_supplier_internal]

    def own_in_api(self, role: str) -> str:
        """What the token's own contract shows through the API (positive control)."""
        return self.b if role == "outsider" else self.a_shared


def _member(stage, role: str) -> Membership:
    user_id = stage.people[role][0]
    return db.session.scalar(select(Membership).where(Membership.user_id == user_id))


def _copies(model, uid: str):
    """Every plan version's copy of an item (the plan in force and the draft)."""
    return db.session.scalars(select(model).where(model.uid == uid)).all()


def _plant(stage) -> Canaries:
    canaries = Canaries(*(f"{prefix}-{uuid.uuid4().hex}" for prefix in (
        "CANARY-B", "CANARY-A-BUYER-INTERNAL", "CANARY-B-SUPPLIER-INTERNAL", "CANARY-A-SHARED")))  # fmt: skip
    b = canaries.b
    outsider = _member(stage, "outsider")  # B's buyer lead
    for _n in range(B_DIFFICULTIES_RAISED):
        raised = difficulties.raise_difficulty(
            outsider.contract, outsider,
            {"title": b, "category": "autre", "severity": "faible", "description": b,
             "request": b})  # fmt: skip
    difficulties.post_message(raised, outsider, b, internal=False)
    difficulties.post_message(raised, _member(stage, "other_supplier_lead"),
                              canaries.b_supplier_internal, internal=True)  # fmt: skip
    b_objective = db.session.get(Objective, stage.other.objective_id)
    for copy in _copies(Objective, b_objective.uid):
        copy.title = b
    for copy in _copies(Indicator, stage.other.indicator_uid):
        copy.name = b
    for measurement in db.session.scalars(
        select(Measurement).where(Measurement.contract_id == stage.other.contract_id)
    ):
        measurement.comment = b
    db.session.get(Contract, stage.other.contract_id).object = b
    db.session.get(Measurement, stage.own.value_by_supplier[0]).comment = canaries.a_shared
    db.session.commit()
    objective = db.session.get(Objective, stage.own.objective_id)
    assert not db.session.scalars(
        select(ThreadMessage).where(ThreadMessage.subject_key == objective.uid)
    ).all(), "the stage's objective thread starts empty: the counts below are exact"
    own_difficulty = difficulties.difficulty_in_contract(
        _member(stage, "buyer_lead").contract, stage.own.difficulty_id
    )
    for n, (role, internal) in enumerate(OBJECTIVE_MESSAGES):
        member = _member(stage, role)
        text = f"{canaries.a_internal} n° {n}" if internal else f"Message partagé n° {n}"
        discussions.post(member.contract, member, objective, text, internal=internal)
    for n, (role, internal) in enumerate(DIFFICULTY_MESSAGES):
        text = f"{canaries.a_internal} n° {n}" if internal else f"Message partagé n° {n}"
        difficulties.post_message(own_difficulty, _member(stage, role), text, internal=internal)
    return canaries


def _text(response) -> str:
    data = response.get_data()
    if response.mimetype == "application/pdf":
        try:
            return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
        except PdfReadError:  # an uploaded sample, not a document of ours: read its bytes
            return data.decode("latin-1")
    if data[:2] == b"PK":  # XLSX, DOCX: every XML part of the archive
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return data.decode("utf-8", "replace")


# The plan's thread button: « Discussion (2) », and its accessible name « … : 2 messages ».
DISCUSSION_BUTTON = re.compile(
    r'aria-label="Discussion de «\s*(?P<title>[^»"]*?)\s*»\s*:\s*(?P<spoken>\d+)\s*messages?"\s*>'
    r"\s*Discussion(?:\s*\((?P<shown>\d+)\))?\s*</a>"
)


def discussion_counts(page: str, title: str = OBJECTIVE_TITLE) -> list[tuple[int, int]]:
    """(spoken, shown) for every thread button of the item titled `title` on the page."""
    return [
        (int(m["spoken"]), int(m["shown"] or 0))
        for m in DISCUSSION_BUTTON.finditer(page)
        if m["title"] == title
    ]


def _get(stage, role: str, url: str, **kwargs):
    limiter.reset()  # the limits have their own tests: here a 429 would end the crawl early
    return stage.client(role).get(url, **kwargs)


def _read_token(stage, role: str) -> str:
    """A fresh read token of the person on their own contract (issued through the service)."""
    member = _member(stage, role)
    return api.create_token(member.contract, member, name="Robot du parcours", scope="lecture",
                            days=30).secret  # fmt: skip


@pytest.mark.parametrize("role", ["supplier_lead", "supplier_contributor", "outsider"])
def test_no_foreign_or_other_side_canary_anywhere(on_stage, role):
    stage = on_stage
    canaries = _plant(stage)
    forbidden = canaries.forbidden(role)
    supplier_of_a = role != "outsider"
    served, counted = 0, 0
    for route in CRAWLED:
        for htmx in (False, True):
            which = "other" if role == "outsider" else "own"  # the role's own contract
            case = Case(route, role, which, htmx)
            response = _get(stage, role, case.url(stage), query_string=case.query(stage),
                            headers={"HX-Request": "true"} if htmx else {})  # fmt: skip
            if response.status_code >= 400:
                response.close()
                continue
            served += 1
            try:
                text = _text(response)
            finally:
                response.close()
            where = f"{role} by {case.url(stage)} ({case.id})"
            for canary in forbidden:
                assert canary not in text, f"{canary[:26]}… leaked to {where}"
            if supplier_of_a and response.mimetype == "text/html":
                expected = _seen_by(OBJECTIVE_MESSAGES, "supplier")
                for spoken, shown in discussion_counts(text):
                    counted += 1
                    assert (spoken, shown) == (expected, expected), (
                        f"the objective's thread counts internal notes for {where}: "
                        f"« Discussion ({shown}) », « {spoken} messages », not {expected}"
                    )
    assert served > 40  # the crawl really walked the app
    assert counted or not supplier_of_a, "no page showed the objective's « Discussion (n) »"

    # The API, with a token of the person's own contract: every GET route on own ids is served
    # and shows that contract's data, the other contract's indicator is not found, and no
    # forbidden canary is in any answer.
    token = {"Authorization": f"Bearer {_read_token(stage, role)}"}
    own, foreign = ("other", "own") if role == "outsider" else ("own", "other")
    api_texts = []
    for route in API_GETS:
        for which in (own, foreign) if route.arguments else (own,):
            case = Case(route, role, which)
            response = _get(stage, "anonymous", case.url(stage), headers=token)
            where = f"{role}'s token on {case.url(stage)} ({which}) → {response.status_code}"
            assert response.mimetype == "application/json", where
            text = response.get_data(as_text=True)
            expected = 200 if which == own else 404
            assert response.status_code == expected, f"{where}: {text[:200]}"
            assert json.loads(text), where
            for canary in forbidden:
                assert canary not in text, f"{canary[:26]}… leaked through the API: {where}"
            if which == own:
                api_texts.append(text)
    assert len(api_texts) == len(API_GETS), "every API GET route was served to the token"
    assert any(canaries.own_in_api(role) in t for t in api_texts), (
        f"positive control: the token of {role} shows its own contract's data"
    )

    # Positive control: the canaries and the larger counts are there for those who may see them.
    buyer = _get(stage, "buyer_lead",
                 f"/contrats/{stage.own.contract_id}/difficultes/{stage.own.difficulty_id}")  # fmt: skip
    assert canaries.a_internal in buyer.get_data(as_text=True)
    plan = _get(stage, "buyer_lead",
                f"/contrats/{stage.own.contract_id}/plan/versions/{stage.own.version_id}/")  # fmt: skip
    everything = _seen_by(OBJECTIVE_MESSAGES, "buyer")
    assert everything > _seen_by(OBJECTIVE_MESSAGES, "supplier")
    assert set(discussion_counts(plan.get_data(as_text=True))) == {(everything, everything)}


# --- counts -----------------------------------------------------------------------------------

BELL = re.compile(r'class="bell__count" data-count="(\d+)"')
THREAD_MESSAGE = re.compile(r'<li class="thread__message[ "]')
REGISTER_TOTAL = re.compile(r'<ul class="counts"[^>]*>\s*<li>(\d+) difficultés?</li>')
HOME_UNRESOLVED = re.compile(r"(\d+) difficultés? non résolues?</a>")
DASHBOARD_UNRESOLVED = re.compile(
    r'<span class="kpi__value">(\d+)</span> <span class="kpi__label">difficultés? non résolues?'
)


def _number(stage, role: str, url: str, pattern: re.Pattern) -> int:
    response = _get(stage, role, url)
    assert response.status_code == 200, f"{role} {url} → {response.status_code}"
    found = pattern.findall(response.get_data(as_text=True))
    assert len(found) == 1, f"{pattern.pattern!r} on {url} for {role}: {found}"
    return int(found[0])


def _counts(stage) -> dict[tuple[str, str], int]:
    """Every count below as each viewer sees it now."""
    a, b = f"/contrats/{stage.own.contract_id}", f"/contrats/{stage.other.contract_id}"
    seen = {}
    for role in ("supplier_lead", "supplier_contributor", "buyer_lead", "outsider"):
        seen[role, "bell"] = _number(stage, role, "/notifications/cloche", BELL)
    for role, home in (("supplier_lead", a), ("outsider", b)):
        seen[role, "register"] = _number(stage, role, f"{home}/difficultes/", REGISTER_TOTAL)
        seen[role, "home"] = _number(stage, role, f"{home}/", HOME_UNRESOLVED)
        seen[role, "dashboard"] = _number(stage, role, f"{home}/tableau-de-bord/",
                                          DASHBOARD_UNRESOLVED)  # fmt: skip
    difficulty = f"{a}/difficultes/{stage.own.difficulty_id}"
    for role in ("supplier_lead", "buyer_lead"):
        page = _get(stage, role, difficulty).get_data(as_text=True)
        seen[role, "difficulty thread"] = len(THREAD_MESSAGE.findall(page))
    return seen


def test_counts_shown_to_the_other_side_leave_out_internal_notes_and_other_contracts(on_stage):
    """A known number of shared messages and internal notes on A, of difficulties on B: the
    bell (one notification per message a person may read, never for a note of the other
    side), the difficulty thread, and the difficulty counts of A (untouched by B's) show
    exactly that number; the same counts on the side allowed to see more show more."""
    stage = on_stage
    before = _counts(stage)
    _plant(stage)
    after = _counts(stage)
    delta = {key: after[key] - before[key] for key in after}

    def shared_by(side, messages):
        return sum(1 for r, internal in messages if not internal and r.startswith(side))

    # The supplier lead follows both threads as a lead: told of each shared message the buyer
    # side wrote, of none of the buyer's internal notes.
    assert delta["supplier_lead", "bell"] == (
        shared_by("buyer", OBJECTIVE_MESSAGES) + shared_by("buyer", DIFFICULTY_MESSAGES)
    ), after
    assert delta["supplier_contributor", "bell"] == 0, after
    # B's buyer lead wrote B's shared message themselves: B's supplier's note tells them nothing.
    assert delta["outsider", "bell"] == 0, after
    # Positive control: the buyer lead is told of the supplier's shared message and of their
    # colleague's internal notes (the count does count what one may read).
    colleague_notes = sum(
        1 for r, i in (*OBJECTIVE_MESSAGES, *DIFFICULTY_MESSAGES) if r == "buyer_contributor" and i
    )
    told = shared_by("supplier", OBJECTIVE_MESSAGES) + colleague_notes
    assert delta["buyer_lead", "bell"] == told, after
    assert delta["supplier_lead", "difficulty thread"] == _seen_by(DIFFICULTY_MESSAGES, "supplier")
    assert delta["buyer_lead", "difficulty thread"] == _seen_by(DIFFICULTY_MESSAGES, "buyer")
    # B's new difficulties count on B only.
    for view in ("register", "home", "dashboard"):
        assert delta["supplier_lead", view] == 0, (view, before, after)
        assert delta["outsider", view] == B_DIFFICULTIES_RAISED, (view, before, after)
