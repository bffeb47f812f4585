"""The schedule's rules, called directly: rows, lateness, the timeline, every update rule and
refusal, and the deadlines calendar."""

from datetime import date

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.plan import services as items
from app.schedule import services
from app.schedule.models import ActionFollowUp, ActionFollowUpEvent
from tests.schedule.conftest import TODAY, membership_of


def follow(world, action, user=None, seen=None, **values):
    member = membership_of(user or world.supplier_lead, world.contract)
    return services.update_follow_up(
        world.contract, member, action.uid, {"status": "en_cours", "progress": "40", **values},
        seen, today=TODAY,
    )  # fmt: skip


# --- rows -----------------------------------------------------------------------------------


def test_rows_list_the_actions_in_plan_order_with_their_follow_up(world, draft, add_action):
    second_axis = items.create_item(draft.version, "axe", {"kind": "societal", "title": "Insertion"},
                                    actor=world.buyer_lead)  # fmt: skip
    objective = items.create_item(draft.version, "objectif", {"title": "Embaucher"},
                                  parent=second_axis, actor=world.buyer_lead)  # fmt: skip
    items.create_item(draft.version, "action", {"title": "Recruter deux apprentis"},
                      parent=objective, actor=world.buyer_lead)  # fmt: skip
    add_action("Choisir le filateur", date(2027, 1, 1), date(2027, 2, 1), side="acheteur")
    follow(world, draft.action, progress="35")

    rows = services.schedule(world.contract, TODAY)

    assert [r.action.title for r in rows] == [
        "Sourcer du fil recyclé", "Choisir le filateur", "Recruter deux apprentis"]  # fmt: skip
    first, chosen, hiring = rows
    assert (first.status, first.progress, first.version) == ("en_cours", 35, 1)
    assert first.objective.title == "30 % de recyclé" and first.axis.title == "Matières recyclées"
    assert (chosen.status, chosen.progress, chosen.follow_up) == ("proposee", 0, None)
    assert hiring.bar is None  # no dates: no bar, the table says so in words


def test_the_plan_in_force_is_followed_rather_than_a_later_draft(world, draft):
    assert services.followed_version(world.contract).id == draft.version.id
    assert services.schedule(world.contract, TODAY)[0].action.id == draft.action.id


def test_an_action_is_late_when_its_planned_end_passed_and_it_is_not_done(world, draft, add_action):
    late = add_action("En retard", date(2027, 1, 1), date(2027, 3, 14))
    due_today = add_action("Échéance aujourd'hui", date(2027, 1, 1), TODAY)
    done = add_action("Réalisée", date(2027, 1, 1), date(2027, 2, 1), status="realisee")
    dropped = add_action("Abandonnée", date(2027, 1, 1), date(2027, 2, 1))
    follow(world, dropped, status="abandonnee", comment="Fournisseur disparu")
    followed_done = add_action("Suivie et finie", date(2027, 1, 1), date(2027, 2, 1))
    follow(world, followed_done, status="realisee")

    late_titles = {r.action.title for r in services.schedule(world.contract, TODAY) if r.is_late}

    assert late_titles == {"En retard"}
    assert {late.title, due_today.title, done.title} & late_titles == {"En retard"}
    only_late = services.planning(world.contract, TODAY, services.Filters(late=True))
    assert [r.action.title for r in only_late.rows] == ["En retard"] and only_late.late == 1


def test_the_side_filter_keeps_joint_actions_for_both_sides(world, draft, add_action):
    add_action("De l'acheteur", side="acheteur")
    add_action("Des deux", side="les_deux")
    titles = lambda side: [r.action.title for r in services.planning(  # noqa: E731
        world.contract, TODAY, services.Filters(side=side)).rows]  # fmt: skip
    assert titles("acheteur") == ["De l'acheteur", "Des deux"]
    assert titles("titulaire") == ["Sourcer du fil recyclé", "Des deux"]


# --- the timeline ---------------------------------------------------------------------------


def test_the_timeline_runs_from_the_first_start_to_the_last_end(world, draft, add_action):
    add_action("Plus tard", date(2027, 9, 10), date(2028, 2, 15))
    rows = services.schedule(world.contract, TODAY)
    timeline = rows[0].timeline
    assert (timeline.first, timeline.last, timeline.size) == (
        date(2027, 1, 1),
        date(2028, 2, 1),
        14,
    )
    assert timeline.col(date(2027, 1, 31)) == 1 and timeline.col(date(2028, 2, 1)) == 14
    assert rows[0].bar == services.Bar(1, 7)  # January to June 2027: lines 1 to 7
    assert rows[1].bar == services.Bar(9, 15)
    assert timeline.today_col == 3 and timeline.today_tenth == 4  # 15 March: 14/31 into it
    assert timeline.quarters[:2] == [(date(2027, 1, 1), 1, 3), (date(2027, 4, 1), 4, 3)]
    assert timeline.quarters[-1] == (date(2028, 1, 1), 13, 2)


def test_a_short_plan_shows_six_months_and_a_long_one_is_clamped_at_36(world, draft, add_action):
    short = services.timeline_for([draft.action], TODAY)
    assert short.size == 6 and short.first == date(2027, 1, 1)
    add_action("Très longue", date(2027, 2, 1), date(2031, 12, 31))
    rows = services.schedule(world.contract, TODAY)
    assert rows[0].timeline.size == 36 and rows[0].timeline.last == date(2029, 12, 1)
    assert rows[1].bar == services.Bar(2, 37, before=False, after=True)
    empty = services.timeline_for([], TODAY)
    assert empty.first == date(2027, 3, 1) and empty.size == 6 and empty.today_col == 1


def test_an_action_after_the_months_shown_is_a_continuing_stub(world, draft):
    timeline = services.timeline_for([draft.action], TODAY)
    assert timeline.bar(date(2030, 1, 1), date(2030, 6, 1)) == services.Bar(6, 7, after=True)
    assert timeline.bar(None, date(2027, 2, 10)) == services.Bar(2, 3)  # a deadline only


def test_the_schedule_costs_the_same_queries_for_2_and_20_actions(world, draft, add_action,
                                                                   count_queries):  # fmt: skip
    def queries_for_the_schedule() -> int:
        db.session.commit()  # each measure starts its own transaction (SQLite counts BEGIN)
        db.session.expire_all()
        with count_queries() as queries:
            rows = services.schedule(world.contract, TODAY)
            [(r.status, r.objective.title, r.axis.title) for r in rows]
        return queries()

    follow(world, add_action("Deuxième", date(2027, 2, 1), date(2027, 4, 1)))
    with_two = queries_for_the_schedule()
    for n in range(18):
        action = add_action(f"Action {n}", date(2027, 1, 1), date(2027, 5, 1))
        if n % 2:
            follow(world, action)
    assert len(services.schedule(world.contract, TODAY)) == 20
    assert queries_for_the_schedule() == with_two


# --- updating -------------------------------------------------------------------------------


def test_a_first_update_creates_the_follow_up_its_history_audit_and_live_events(
    world, draft, monkeypatch
):
    published = []
    monkeypatch.setattr(services, "publish_after_commit",
                        lambda channel, name, data: published.append((channel, name)))  # fmt: skip
    follow_up = follow(world, draft.action, actual_start="2027-01-04", comment="Lancée")

    assert (follow_up.status, follow_up.progress, follow_up.version) == ("en_cours", 40, 1)
    assert follow_up.actual_start == date(2027, 1, 4) and follow_up.comment == "Lancée"
    assert follow_up.updated_by_id == world.supplier_lead.id
    [event] = db.session.scalars(select(ActionFollowUpEvent)).all()
    assert event.actor_name == world.supplier_lead.full_name
    assert event.changes == {"status": ["proposee", "en_cours"], "progress": [0, 40],
                             "actual_start": [None, "2027-01-04"], "comment": ["", "Lancée"]}  # fmt: skip
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "action.suivi"))
    assert audit.object_id == draft.action.uid and audit.contract_id == world.contract.id
    channel = f"contract:{world.contract.id}"
    assert (channel, f"suivi-action-{draft.action.uid}") in published
    assert (channel, "planning") in published


def test_the_next_update_is_based_on_the_version_seen(world, draft):
    first = follow(world, draft.action)
    second = follow(world, draft.action, user=world.buyer_contributor, seen=first.version,
                    progress="60")  # fmt: skip
    assert (second.progress, second.version) == (60, 2)
    assert [list(e.changes) for e in second.events] == [
        ["status", "progress"], ["progress"]]  # fmt: skip


def test_a_stale_version_is_a_conflict(world, draft):
    follow(world, draft.action)
    with pytest.raises(Conflict) as error:  # the page was opened before the first save
        follow(world, draft.action, user=world.buyer_lead, seen=None, progress="10")
    assert error.value.status == 409 and "pendant votre saisie" in error.value.message
    with pytest.raises(Conflict):
        follow(world, draft.action, seen=7)
    assert db.session.scalar(select(ActionFollowUp)).progress == 40


def test_a_race_lost_in_the_database_is_a_conflict_too(world, draft):
    follow_up = follow(world, draft.action)
    seen = follow_up.version
    # Someone else's save commits between our read and our write: the row in memory is stale.
    db.session.execute(
        update(ActionFollowUp).values(version=ActionFollowUp.version + 1),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(Conflict) as error:
        follow(world, draft.action, seen=seen, progress="90")
    assert "quelqu'un d'autre" in error.value.message


def test_only_the_buyer_validates_an_action(world, draft):
    with pytest.raises(NotAllowed) as error:
        follow(world, draft.action, status="validee")
    assert error.value.status == 403 and error.value.field == "status"
    assert "Seul l'acheteur peut valider" in error.value.message
    assert db.session.scalar(select(ActionFollowUp)) is None
    validated = follow(world, draft.action, user=world.buyer_contributor, status="validee",
                       progress="0")  # fmt: skip
    assert validated.status == "validee"
    # The supplier reports progress on a validated action without « validating » it again.
    later = follow(world, draft.action, seen=validated.version, status="validee", progress="20")
    assert (later.status, later.progress) == ("validee", 20)


def test_observers_may_not_update(world, draft):
    with pytest.raises(NotAllowed):
        follow(world, draft.action, user=world.observer)


@pytest.mark.parametrize("typed", ["", "beaucoup", "101", "-5", "4.5", None])
def test_progress_is_a_whole_percentage(world, draft, typed):
    with pytest.raises(DomainError) as error:
        follow(world, draft.action, progress=typed)
    assert error.value.field == "progress" and "de 0 à 100" in error.value.message


def test_progress_may_be_typed_with_its_percent_sign(world, draft):
    assert follow(world, draft.action, progress=" 45 % ").progress == 45


def test_an_unknown_status_is_refused_next_to_its_field(world, draft):
    with pytest.raises(DomainError) as error:
        follow(world, draft.action, status="terminee")
    assert error.value.field == "status"


def test_done_means_100_percent_and_an_actual_end(world, draft):
    done = follow(world, draft.action, status="realisee", progress="70")
    assert (done.progress, done.actual_end) == (100, TODAY)
    again = follow(world, draft.action, seen=done.version, status="realisee", progress="100",
                   actual_end="2027-03-01")  # fmt: skip
    assert again.actual_end == date(2027, 3, 1)


def test_actual_dates_are_in_order(world, draft):
    with pytest.raises(DomainError) as error:
        follow(world, draft.action, actual_start="2027-03-01", actual_end="2027-02-01")
    assert error.value.field == "actual_end" and "précéder" in error.value.message
    with pytest.raises(DomainError) as error:
        follow(world, draft.action, actual_start="31/02/2027")
    assert error.value.field == "actual_start"


def test_abandoning_an_action_says_why(world, draft):
    with pytest.raises(DomainError) as error:
        follow(world, draft.action, status="abandonnee")
    assert error.value.field == "comment"
    assert follow(world, draft.action, status="abandonnee", comment="Filière fermée").status == (
        "abandonnee"
    )


def test_an_unchanged_form_writes_nothing(world, draft, add_action):
    never_followed = add_action("Jamais suivie")
    follow_up = follow(world, draft.action)
    same = follow(world, draft.action, seen=follow_up.version)
    assert same.version == 1 and len(same.events) == 1
    untouched = services.update_follow_up(
        world.contract, membership_of(world.supplier_lead, world.contract), never_followed.uid,
        {"status": "proposee", "progress": "0"}, None, today=TODAY,
    )  # fmt: skip
    assert untouched.id is None and db.session.scalar(select(func.count(ActionFollowUp.id))) == 1


def test_an_action_of_another_contract_is_not_found(world, draft):
    member = membership_of(world.outsider, world.other_contract)
    with pytest.raises(services.UnknownAction) as error:
        services.update_follow_up(world.other_contract, member, draft.action.uid,
                                  {"status": "en_cours", "progress": "1"}, None)  # fmt: skip
    assert error.value.status == 404
    with pytest.raises(services.UnknownAction):
        services.row_of(world.contract, "pas-une-action", TODAY)


# --- the calendar ---------------------------------------------------------------------------


def test_the_deadlines_calendar_has_one_all_day_event_per_dated_action(world, draft, add_action):
    add_action("Sans date")
    dropped = add_action("Abandonnée", date(2027, 1, 1), date(2027, 2, 1), side="les_deux")
    follow(world, dropped, status="abandonnee", comment="Hors sujet")

    calendar = Calendar.from_ical(services.ics_of_deadlines(world.contract))

    assert str(calendar["PRODID"]) == "-//Progrès//Planning//FR"
    assert str(calendar["X-WR-CALNAME"]) == "Marché 2025-0142 — échéances des actions"
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [
        "Échéance : Sourcer du fil recyclé", "Échéance : Abandonnée"]  # fmt: skip
    first, second = events
    assert first.decoded("DTSTART") == date(2027, 6, 30)
    assert first.decoded("DTEND") == date(2027, 7, 1)
    assert str(first["UID"]) == f"action-{draft.action.uid}@progres"
    assert "DTSTAMP" in first
    assert "Objectif : 30 % de recyclé" in str(first["DESCRIPTION"])
    assert "Porteur : Titulaire" in str(first["DESCRIPTION"])
    assert "Acheteur et titulaire" in str(second["DESCRIPTION"])
    assert str(second["STATUS"]) == "CANCELLED"
    again = Calendar.from_ical(services.ics_of_deadlines(world.contract))
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(e["UID"]) for e in events]


def test_a_first_update_with_nothing_loaded_yet_is_not_taken_for_a_race(world, draft):
    """The person's name is read before the new follow-up joins the session: a lazy load
    afterwards would autoflush it half-built and the NOT NULL refusal would pass for a 409."""
    member = membership_of(world.supplier_lead, world.contract)
    db.session.commit()
    db.session.expire_all()  # as in a fresh request: membership.user not loaded
    follow_up = services.update_follow_up(world.contract, member, draft.action.uid,
                                          {"status": "en_cours", "progress": "25"}, None, today=TODAY)  # fmt: skip
    assert (follow_up.status, follow_up.progress) == ("en_cours", 25)
