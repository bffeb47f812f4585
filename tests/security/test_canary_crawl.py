"""SECURITY.md catalogue 4 (and issue 5's proof for pages, fragments and exports): canaries are
planted in contract B's texts and in the buyer's internal notes of contract A; then every GET
route of the app is crawled — pages, htmx fragments, CSV, XLSX, PDF, .ics, JSON — as A's
supplier roles (neither canary may appear) and as B's buyer lead (A's internal note may not).
Binary answers are read as text first: PDF through pypdf, XLSX by unzipping it."""

import io
import uuid
import zipfile

import pytest
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import select

from app.contracts.models import Membership
from app.difficulties import services as difficulties
from app.extensions import db
from app.plan.models import Objective
from app.threads import discussions
from tests.security.conftest import Case, all_routes

CRAWLED = [
    r
    for r in all_routes()
    if r.method == "GET" and not r.public and r.endpoint != "contract.live.stream"
]  # fmt: skip  (SSE: tests/notifications)


def _member(stage, role: str) -> Membership:
    user_id = stage.people[role][0]
    return db.session.scalar(select(Membership).where(Membership.user_id == user_id))


def _plant(stage) -> tuple[str, str]:
    b_canary, a_internal = (
        f"CANARY-B-{uuid.uuid4().hex}",
        f"CANARY-A-BUYER-INTERNAL-{uuid.uuid4().hex}",
    )
    outsider = _member(stage, "outsider")  # B's buyer lead
    raised = difficulties.raise_difficulty(
        outsider.contract, outsider,
        {"title": b_canary, "category": "autre", "severity": "faible", "description": b_canary,
         "request": b_canary})  # fmt: skip
    difficulties.post_message(raised, outsider, b_canary, internal=False)
    objective = db.session.get(Objective, stage.other.objective_id)
    objective.title = b_canary
    db.session.commit()
    buyer = _member(stage, "buyer_lead")
    own_difficulty = difficulties.difficulty_in_contract(buyer.contract, stage.own.difficulty_id)
    difficulties.post_message(own_difficulty, buyer, a_internal, internal=True)
    discussions.post(buyer.contract, buyer, db.session.get(Objective, stage.own.objective_id),
                     a_internal, internal=True)  # fmt: skip
    return b_canary, a_internal


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


@pytest.mark.parametrize("role", ["supplier_lead", "supplier_contributor", "outsider"])
def test_no_foreign_or_other_side_canary_anywhere(on_stage, role):
    b_canary, a_internal = _plant(on_stage)
    forbidden = [a_internal] if role == "outsider" else [b_canary, a_internal]
    served = 0
    for route in CRAWLED:
        for htmx in (False, True):
            case = Case(
                route, role, "other" if role == "outsider" else "own", htmx
            )  # their own contract
            response = on_stage.client(role).get(
                case.url(on_stage), query_string=case.query(on_stage),
                headers={"HX-Request": "true"} if htmx else {},
            )  # fmt: skip
            if response.status_code >= 400:
                response.close()
                continue
            served += 1
            try:
                text = _text(response)
            finally:
                response.close()
            for canary in forbidden:
                assert canary not in text, (
                    f"{canary[:20]}… leaked to {role} by {case.url(on_stage)} ({case.id})"
                )
    assert served > 40  # the crawl really walked the app
    # Positive control: the canaries are there for those who may see them.
    buyer = on_stage.client("buyer_lead").get(
        f"/contrats/{on_stage.own.contract_id}/difficultes/{on_stage.own.difficulty_id}"
    )
    assert a_internal in buyer.get_data(as_text=True)
