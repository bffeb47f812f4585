"""Review meetings: scheduling and invitations, the 12-month rule, the agenda from each source,
the meeting (notes, outcomes, assessments), the alternating minutes and their approval."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.difficulties import services as difficulties
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.outbox.models import OutboxEmail
from app.plan.models import Action
from app.reviews import agenda as review_agenda
from app.reviews import meeting as review_meeting
from app.reviews import minutes as review_minutes
from app.reviews import services
from app.reviews.models import Review
from tests.difficulties.conftest import VALUES
from tests.helpers import emails_to

TODAY = date(2027, 3, 1)


def test_scheduling_stores_paris_time_in_utc_and_invites_with_an_ics(world, plan_review):
    review = plan_review(day=date(2027, 7, 1), at=time(14, 0))  # summer time: UTC+2
    assert review.starts_at == datetime(2027, 7, 1, 12, 0, tzinfo=UTC)
    assert review.number == 1 and review.minutes_side == "acheteur"
    assert {a.name for a in review.attendees} >= {"Marie Roux"}
    (invitation,) = emails_to("marie.roux@ville.example", "revue")
    (ics,) = invitation.attachments
    assert ics["filename"] == "revue-1.ics" and ics["mime"] == "text/calendar"
    import base64

    (event,) = Calendar.from_ical(base64.b64decode(ics["base64"])).walk("VEVENT")
    assert event["uid"] == f"revue-{review.id}@localhost"
    assert event.decoded("dtstart") == review.starts_at
    assert "2025-0142" in str(event["summary"])
    assert len(emails_to(world.supplier_lead.email, "revue")) == 1


def test_scheduling_refusals(world, member, plan_review):
    with pytest.raises(NotAllowed):
        services.schedule_review(world.contract, member(world.observer), kind="revue_performance",
                                 day=TODAY, at=time(10), duration_minutes=60, place="Salle 1")  # fmt: skip
    with pytest.raises(DomainError) as error:
        plan_review(place="")
    assert error.value.field == "place"
    with pytest.raises(DomainError) as error:  # someone of another contract
        services.schedule_review(world.contract, member(world.buyer_lead), kind="revue_performance",
                                 day=TODAY, at=time(10), duration_minutes=60, place="Salle 1",
                                 member_ids=[world.outsider.id])  # fmt: skip
    assert error.value.field == "members"
    with pytest.raises(DomainError):
        plan_review(video_link="javascript:alert(1)", place="")
    assert db.session.scalar(select(Review.id)) is None


def test_the_twelve_month_rule(world, plan_review):
    world.contract.notification_date, world.contract.duration_months = date(2026, 1, 1), 48
    world.contract.min_reviews_per_year = 2
    db.session.commit()
    assert services.short_windows(world.contract, date(2026, 6, 1))[0].count == 0
    plan_review(day=date(2026, 3, 1))
    plan_review(day=date(2026, 9, 1))
    assert services.short_windows(world.contract, date(2026, 3, 15)) == []  # Jan–Dec 2026: 2
    # The 12 months from April 2026 hold only the September review: schedule the next one.
    (short, *_rest) = services.short_windows(world.contract, date(2026, 4, 15))
    assert (short.start, short.end, short.count) == (date(2026, 4, 1), date(2027, 3, 31), 1)
    plan_review(day=date(2027, 2, 15))
    assert services.short_windows(world.contract, date(2026, 4, 15)) == []
    cancelled = plan_review(day=date(2027, 8, 15))
    cancelled.status = "annulee"  # a cancelled review does not count
    db.session.commit()
    assert services.short_windows(world.contract, date(2026, 10, 15))[0].start == date(2026, 10, 1)


def test_the_agenda_is_built_from_what_happened(world, draft, member, plan_review):
    raised = difficulties.raise_difficulty(world.contract, member(world.supplier_lead), VALUES)
    draft.action.planned_start, draft.action.planned_end = date(2026, 9, 1), date(2026, 12, 31)
    draft.indicator.baseline_date, draft.indicator.baseline_value = date(2026, 1, 1), Decimal("10")
    db.session.commit()
    review_agenda.propose_topic(
        world.contract, member(world.supplier_contributor), "Calendrier des livraisons d'été"
    )
    review = plan_review(day=date(2027, 3, 10))
    added = review_agenda.build_agenda(review, member(world.buyer_lead), TODAY)
    sources = [(i.source, i.title) for i in review.items]
    kinds = [s for s, _t in sources]
    assert {"difficulte", "indicateur", "action", "partage", "sujet"} <= set(kinds), sources
    assert any(str(raised.number) in t for s, t in sources if s == "difficulte")
    assert added == len(review.items)
    assert review_agenda.backlog(world.contract) == []  # the topic is on this agenda now
    assert review_agenda.build_agenda(review, member(world.buyer_lead), TODAY) == 0  # nothing twice
    item = review.items[-1]
    review_agenda.remove_item(item, member(world.buyer_lead))
    assert [t.title for t in review_agenda.backlog(world.contract)] == [
        "Calendrier des livraisons d'été"
    ]
    first, second = review.items[0], review.items[1]
    review_agenda.move_item(second, member(world.buyer_lead), -1)
    assert review.items[0].id == second.id and review.items[1].id == first.id
    review_agenda.edit_item(first, member(world.supplier_lead), title="Difficulté d'approvisionnement",
                       duration_minutes="25", presenter="Sophie Durand", details="", seen_version=first.version)  # fmt: skip
    assert review_agenda.total_minutes(review) >= 25
    with pytest.raises(Conflict):
        review_agenda.edit_item(first, member(world.buyer_lead), title="X", duration_minutes="5", presenter="",
                           details="", seen_version=first.version - 1)  # fmt: skip


def test_the_meeting_notes_outcomes_and_a_new_plan_action(world, in_force, member, plan_review):
    review = plan_review()
    review_agenda.add_item(review, member(world.buyer_lead), "Tenues d'hiver", 15)
    review_meeting.start_meeting(review, member(world.buyer_lead))
    assert review.status == "en_seance" and review.draft_version_id is None  # opened on need
    item = review.items[0]
    seen = item.version
    review_meeting.save_notes(
        item, member(world.supplier_lead), "Le titulaire présente les prototypes.", seen
    )
    with pytest.raises(Conflict, match="Sophie"):  # the buyer wrote on the same old version
        review_meeting.save_notes(item, member(world.buyer_contributor), "Mes notes à moi", seen)
    review_meeting.save_notes(
        item, member(world.buyer_contributor), "Prototypes validés.", item.version
    )
    objective_uid = in_force.objective.uid
    review_meeting.record_outcome(item, member(world.buyer_lead), kind="action", text="Commander 200 parkas",
                            seen_version=item.version, objective_uid=objective_uid, owner_side="titulaire",
                            due=date(2027, 9, 30))  # fmt: skip
    created = db.session.scalar(select(Action).where(Action.uid == item.created_action_uid))
    assert (
        created.plan_version_id == review.draft_version_id
        and created.title == "Commander 200 parkas"
    )
    with pytest.raises(NotAllowed):
        review_meeting.record_outcome(
            item, member(world.observer), kind="information", text="x", seen_version=item.version
        )


def test_result_obligations_past_due_are_assessed(world, in_force, member, plan_review):
    in_force.objective.due_date = date(2026, 12, 31)  # the fixture's objective is « résultats »
    db.session.commit()
    review = plan_review(day=date(2027, 3, 10))
    review_meeting.start_meeting(review, member(world.buyer_lead))
    (assessment,) = review.assessments
    review_meeting.assess(assessment, member(world.supplier_lead), seen_version=assessment.version,
                    justification="La filière recyclée a manqué de matière.")  # fmt: skip
    with pytest.raises(NotAllowed):  # the supplier does not decide
        review_meeting.assess(
            assessment, member(world.supplier_lead), seen_version=assessment.version, met=True
        )
    with pytest.raises(DomainError):  # « not met » needs a decision
        review_meeting.assess(
            assessment, member(world.buyer_lead), seen_version=assessment.version, met=False
        )
    db.session.rollback()
    assessment = review.assessments[0]
    review_meeting.assess(assessment, member(world.buyer_lead), seen_version=assessment.version, met=False,
                    decision="nouveau_delai", note="Nouvelle échéance au 30 juin 2027.")  # fmt: skip
    assert (assessment.met, assessment.buyer_decision) == (False, "nouveau_delai")
    assert assessment.supplier_justification.startswith("La filière")


def test_minutes_alternate_from_one_review_to_the_next(world, member, plan_review):
    first = plan_review(day=date(2027, 3, 10))
    second = plan_review(day=date(2027, 9, 10))
    assert (first.minutes_side, second.minutes_side) == ("acheteur", "titulaire")
    review_minutes.hand_over(second, member(world.buyer_lead), "Le titulaire est en congé.")
    assert second.minutes_side == "acheteur"
    third = plan_review(day=date(2028, 3, 10))
    assert third.minutes_side == "titulaire"  # alternation follows who really writes
    with pytest.raises(NotAllowed):
        review_minutes.hand_over(third, member(world.supplier_lead), "Pas mon tour")


def test_minutes_approval_freezes_the_review(app, world, member, plan_review):
    review = plan_review()
    review_agenda.add_item(review, member(world.buyer_lead), "Point unique", 10)
    review_meeting.start_meeting(review, member(world.buyer_lead))
    with pytest.raises(NotAllowed):  # the supplier does not write this time
        review_minutes.save_summary(review, member(world.supplier_lead), "x", review.version)
    review_meeting.save_notes(
        review.items[0],
        member(world.buyer_lead),
        "Discussion **franche**.",
        review.items[0].version,
    )
    with pytest.raises(Conflict):  # the meeting is still open
        review_minutes.submit_minutes(review, member(world.buyer_lead))
    review_meeting.close_meeting(review, member(world.buyer_lead))
    review_minutes.save_summary(
        review, member(world.buyer_contributor), "Revue constructive.", review.version
    )
    review_minutes.submit_minutes(review, member(world.buyer_contributor))
    with pytest.raises(NotAllowed):  # not by the side that wrote them
        review_minutes.approve_minutes(review, member(world.buyer_lead))
    with pytest.raises(NotAllowed):  # by the other side's lead
        review_minutes.approve_minutes(review, member(world.supplier_contributor))
    review_minutes.request_changes(
        review, member(world.supplier_lead), "Ajoutez la date de livraison."
    )
    assert review.minutes_status == "a_reprendre" and review.comments[0].body.startswith("Ajoutez")
    review_minutes.save_summary(
        review,
        member(world.buyer_lead),
        "Revue constructive ; livraison le 10 avril.",
        review.version,
    )
    review_minutes.submit_minutes(review, member(world.buyer_lead))
    review_minutes.approve_minutes(review, member(world.supplier_lead))
    assert review.minutes_frozen and len(review.minutes_sha256) == 64
    sent = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "compte_rendu")).all()
    assert sent and all(e.attachments[0]["mime"] == "application/pdf" for e in sent)
    for attempt in (
        lambda: review_meeting.save_notes(
            review.items[0], member(world.buyer_lead), "après coup", review.items[0].version
        ),
        lambda: review_agenda.add_item(review, member(world.buyer_lead), "Oubli", 5),
        lambda: review_agenda.build_agenda(review, member(world.buyer_lead), TODAY),
    ):
        with pytest.raises(DomainError, match="approuvé"):
            attempt()
