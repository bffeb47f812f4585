"""Review pages through HTTP: scheduling with errors kept, the agenda, notes with a 409 that
keeps the text, the minutes, the files (.ics, PDF) and who may do what."""

import io
import re
from datetime import date, time

from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.reviews import agenda as review_agenda
from app.reviews import meeting as review_meeting
from app.reviews import services
from app.reviews.models import Review
from tests.helpers import logged_in_client, page_text

HTMX = {"HX-Request": "true"}


def url(world, path=""):
    return f"/contrats/{world.contract.id}/revues/{path}"


def test_scheduling_through_the_form(app, world):
    buyer = logged_in_client(app, world.buyer_lead)
    form = buyer.get(url(world, "nouvelle"))
    assert form.status_code == 200 and "Membres invités" in page_text(form)
    bad = buyer.post(url(world, "nouvelle"), data={"kind": "revue_performance", "day": "", "at": "14:00",
                                                   "duration": "90", "place": "Salle 3"})  # fmt: skip
    assert (
        bad.status_code == 422
        and "Indiquez la date" in page_text(bad)
        and 'value="Salle 3"' in bad.get_data(as_text=True)
    )
    ok = buyer.post(url(world, "nouvelle"), data={
        "kind": "comite_pilotage", "day": "2027-03-10", "at": "14:00", "duration": "90", "place": "Salle 3",
        "members": [str(world.supplier_lead.id)], "guests": "Marie Roux ; marie@ville.example ; Propreté"})  # fmt: skip
    assert ok.status_code == 302
    review = db.session.scalar(select(Review))
    assert {a.name for a in review.attendees} == {world.supplier_lead.full_name, "Marie Roux"}
    page = page_text(buyer.get(ok.headers["Location"]))
    assert "Comité de pilotage n° 1" in page and "10 mars 2027 14:00" in page
    ics = buyer.get(url(world, f"{review.id}/revue.ics"))
    assert ics.mimetype == "text/calendar" and b"BEGIN:VEVENT" in ics.data
    listing = page_text(logged_in_client(app, world.observer).get(url(world)))
    assert "Comité de pilotage n° 1" in listing
    assert logged_in_client(app, world.observer).get(url(world, "nouvelle")).status_code == 403
    assert logged_in_client(app, world.outsider).get(url(world, f"{review.id}/")).status_code == 404


def _review_in_session(world):
    buyer = next(m for m in world.contract.memberships if m.user_id == world.buyer_lead.id)
    review = services.schedule_review(world.contract, buyer, kind="revue_performance", day=date(2027, 3, 10),
                                      at=time(14), duration_minutes=60, place="Salle 3",
                                      member_ids=[m.user_id for m in world.contract.memberships])  # fmt: skip
    review_agenda.add_item(review, buyer, "Tenues d'hiver", 15)
    review_meeting.start_meeting(review, buyer)
    return review


def test_notes_written_by_both_sides_never_overwrite_each_other(app, world):
    review = _review_in_session(world)
    item = review.items[0]
    seen = item.version  # both pages were opened on this version
    path = url(world, f"{review.id}/points/{item.id}/notes")
    supplier, buyer = (
        logged_in_client(app, world.supplier_lead),
        logged_in_client(app, world.buyer_contributor),
    )
    first = supplier.post(
        path, headers=HTMX, data={"notes": "Prototypes présentés.", "version": str(seen)}
    )
    assert first.status_code == 200 and "Prototypes présentés." in page_text(first)
    late = buyer.post(
        path, headers=HTMX, data={"notes": "Mes notes de l'acheteur", "version": str(seen)}
    )
    text = page_text(late)
    assert (
        late.status_code == 409
        and "Mes notes de l'acheteur" in text
        and "Prototypes présentés." in text
    )
    observer = logged_in_client(app, world.observer)  # observers take part in the notes
    db.session.refresh(item)
    assert (
        observer.post(
            path, headers=HTMX, data={"notes": "Vu.", "version": str(item.version)}
        ).status_code
        == 200
    )
    outcome = buyer.post(url(world, f"{review.id}/points/{item.id}/suite"), headers=HTMX,
                         data={"outcome_kind": "decision", "outcome_text": "Parkas validées", "version": str(item.version)})  # fmt: skip
    assert outcome.status_code == 200 and "Décision" in page_text(outcome)
    assert observer.post(url(world, f"{review.id}/points/{item.id}/suite"),
                         data={"outcome_kind": "decision", "outcome_text": "x", "version": "1"}).status_code == 403  # fmt: skip


def test_minutes_from_writing_to_the_frozen_pdf(app, world):
    review = _review_in_session(world)
    buyer, supplier = (
        logged_in_client(app, world.buyer_lead),
        logged_in_client(app, world.supplier_lead),
    )
    buyer.post(url(world, f"{review.id}/seance/clore"))
    refused = supplier.post(
        url(world, f"{review.id}/compte-rendu/synthese"), data={"summary": "x", "version": "1"}
    )
    assert refused.status_code == 403  # not the supplier's turn
    db.session.refresh(review)
    saved = buyer.post(url(world, f"{review.id}/compte-rendu/synthese"), headers=HTMX,
                       data={"summary": "Revue **constructive**.", "version": str(review.version)})  # fmt: skip
    assert saved.status_code == 200 and "<strong>constructive</strong>" in saved.get_data(
        as_text=True
    )
    assert buyer.post(url(world, f"{review.id}/compte-rendu/soumettre")).status_code == 302
    empty = supplier.post(
        url(world, f"{review.id}/compte-rendu/reprendre"), headers=HTMX, data={"reason": ""}
    )
    assert empty.status_code == 422
    assert supplier.post(url(world, f"{review.id}/compte-rendu/approuver")).status_code == 302
    db.session.refresh(review)
    assert review.minutes_frozen
    page = page_text(supplier.get(url(world, f"{review.id}/")))
    assert review.minutes_sha256 in page and "le compte-rendu est figé" in page
    pdf = supplier.get(url(world, f"{review.id}/compte-rendu.pdf"))
    import hashlib

    assert hashlib.sha256(pdf.data).hexdigest() == review.minutes_sha256  # the frozen file itself
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    for expected in ("Compte-rendu", "Revue de performance n° 1", "Métropole de Lyon", "Textiles Rhône SAS",
                     "Participants", "Tenues d'hiver", "Revue constructive", "Partie acheteuse"):  # fmt: skip
        assert expected in text, expected
    late_edit = buyer.post(url(world, f"{review.id}/points/{review.items[0].id}/notes"),
                           data={"notes": "après coup", "version": str(review.items[0].version)})  # fmt: skip
    assert late_edit.status_code == 422


def test_calendar_of_my_reviews_across_contracts(app, world):
    _review_in_session(world)
    mine = logged_in_client(app, world.supplier_contributor).get("/agenda/")
    assert "Revue de performance n° 1" in page_text(mine)
    assert "Revue de performance" not in page_text(
        logged_in_client(app, world.outsider).get("/agenda/")
    )
    feed = logged_in_client(app, world.supplier_contributor).get("/agenda/revues.ics")
    assert feed.mimetype == "text/calendar" and feed.data.count(b"BEGIN:VEVENT") == 1
    assert re.search(rb"X-WR-CALNAME:Mes revues", feed.data)
