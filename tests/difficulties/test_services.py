"""The rules of a difficulty, called directly: every transition, every refusal."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.difficulties import register, services
from app.difficulties.deadlines import add_working_days
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.notifications.models import Notification
from app.threads.models import ThreadMessage
from tests.difficulties.conftest import VALUES, membership_of, pdf
from tests.helpers import emails_to


def step(difficulty, user, action, note="", contract=None):
    member = membership_of(user, contract or difficulty.contract)
    return services.apply_transition(difficulty, member, action, seen_version=difficulty.version,
                                     note=note)  # fmt: skip


# --- working days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # Monday → next Monday
        (date(2026, 11, 27), 5, date(2026, 12, 4)),  # Friday → next Friday
        (date(2026, 11, 6), 5, date(2026, 11, 16)),  # 11 November (Wednesday) is not counted
        (date(2026, 5, 13), 1, date(2026, 5, 15)),  # Ascension Thursday 14 May 2026 skipped
        (date(2026, 12, 24), 2, date(2026, 12, 29)),  # Christmas and the weekend
    ],
)
def test_response_deadline_counts_french_working_days(start, days, due):
    assert add_working_days(start, days) == due


# --- raising --------------------------------------------------------------------------------


def test_a_raised_difficulty_is_numbered_linked_and_tells_the_other_members(world, raise_one):
    first = raise_one()
    second = raise_one(user=world.buyer_contributor, title="Badges d'accès")
    assert (first.number, second.number) == (1, 2)
    assert first.status == "ouverte" and first.raised_by_side == "titulaire"
    assert second.raised_by_side == "acheteur"
    assert [link.item_kind for link in first.links] == ["objectif"]
    assert first.response_due > first.created_at.date()
    assert [e.action for e in first.events] == ["signalement"]
    told = {
        n.user_id
        for n in db.session.scalars(
            select(Notification).where(Notification.kind == "difficulte_signalee")
        )
    }
    assert world.buyer_lead.id in told and world.supplier_contributor.id in told
    assert world.outsider.id not in told
    # immediate e-mail by default for a new difficulty, never to the author
    assert emails_to(world.buyer_lead.email, "notification")
    assert not [e for e in emails_to(world.supplier_lead.email) if "n° 1" in e.subject]
    audit = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.contract_id == world.contract.id)
    ).all()
    assert "difficulte.signalement" in audit


def test_raising_checks_its_fields_and_the_linked_items(world, draft):
    member = membership_of(world.supplier_lead, world.contract)
    with pytest.raises(DomainError) as error:
        services.raise_difficulty(world.contract, member, {**VALUES, "title": "  "})
    assert error.value.field == "title"
    with pytest.raises(DomainError) as error:
        services.raise_difficulty(world.contract, member, {**VALUES, "severity": "apocalyptique"})
    assert error.value.field == "severity"
    with pytest.raises(DomainError) as error:  # an item of nobody's plan (or another contract's)
        services.raise_difficulty(
            world.contract, member, VALUES, ["00000000-0000-0000-0000-000000000000"]
        )
    assert error.value.field == "items"


def test_an_observer_may_not_raise_a_difficulty(world, draft):
    member = membership_of(world.observer, world.contract)
    with pytest.raises(NotAllowed):
        services.raise_difficulty(world.contract, member, VALUES)


def test_a_difficulty_keeps_its_evidence(world, raise_one, tmp_path):
    difficulty = raise_one(files=[pdf("Constat « livraison ».pdf")])
    (attachment,) = difficulty.attachments
    assert attachment.display_name == "Constat « livraison ».pdf"
    assert attachment.contract_id == world.contract.id


# --- the lifecycle --------------------------------------------------------------------------


def test_the_whole_lifecycle_with_its_history(world, raise_one):
    d = raise_one()
    step(d, world.buyer_contributor, "prendre_en_compte", "Nous appelons le filateur.")
    assert d.status == "prise_en_compte" and d.acknowledged_by_id == world.buyer_contributor.id
    step(d, world.supplier_lead, "traiter")
    step(d, world.buyer_lead, "renvoyer_en_revue")
    assert d.status == "a_traiter_en_revue" and d.for_review_at is not None
    step(d, world.buyer_lead, "resoudre", "Jalon décalé au 30 avril.")
    assert d.status == "resolue" and d.resolution == "Jalon décalé au 30 avril."
    step(d, world.supplier_contributor, "clore")
    assert d.status == "close" and d.closed_at is not None
    step(d, world.supplier_lead, "rouvrir", "Le filateur a de nouveau du retard.")
    assert d.status == "en_cours" and d.closed_at is None
    assert [e.action for e in d.events] == ["signalement", "prendre_en_compte", "traiter",
                                            "renvoyer_en_revue", "resoudre", "clore", "rouvrir"]  # fmt: skip
    assert d.events[-1].note == "Le filateur a de nouveau du retard."
    actions = set(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "difficulte"))
    )
    assert {"difficulte.prendre_en_compte", "difficulte.clore", "difficulte.rouvrir"} <= actions


def test_only_the_other_side_acknowledges(world, raise_one):
    d = raise_one()
    with pytest.raises(NotAllowed, match="autre partie"):
        step(d, world.supplier_contributor, "prendre_en_compte")
    with pytest.raises(NotAllowed):  # an observer of the other side cannot either
        step(d, world.observer, "prendre_en_compte")
    step(d, world.buyer_lead, "prendre_en_compte")


def test_steps_are_refused_from_the_wrong_status(world, raise_one):
    d = raise_one()
    for action in ("traiter", "resoudre", "renvoyer_en_revue", "clore", "rouvrir"):
        with pytest.raises(Conflict):
            step(d, world.buyer_lead, action, "note")
    assert d.status == "ouverte"


def test_resolving_and_reopening_need_a_note(world, raise_one):
    d = raise_one()
    step(d, world.buyer_lead, "prendre_en_compte")
    with pytest.raises(DomainError) as error:
        step(d, world.buyer_lead, "resoudre", "   ")
    assert error.value.field == "note"
    step(d, world.buyer_lead, "resoudre", "Réglé")
    with pytest.raises(DomainError):
        step(d, world.supplier_lead, "rouvrir", "")


def test_closing_belongs_to_the_side_that_raised_it_or_a_lead(world, raise_one):
    d = raise_one()
    step(d, world.buyer_lead, "prendre_en_compte")
    step(d, world.buyer_lead, "resoudre", "Réglé")
    with pytest.raises(NotAllowed):
        step(d, world.buyer_contributor, "clore")
    step(d, world.buyer_lead, "clore")  # a lead may settle it


def test_a_step_based_on_a_stale_version_is_refused(world, raise_one):
    d = raise_one()
    seen = d.version
    step(d, world.buyer_lead, "prendre_en_compte")
    member = membership_of(world.buyer_contributor, world.contract)
    with pytest.raises(Conflict, match="changé"):
        services.apply_transition(d, member, "traiter", seen_version=seen)


# --- thread and notes -----------------------------------------------------------------------


def test_internal_notes_stay_on_their_side(world, raise_one):
    d = raise_one()
    buyer = membership_of(world.buyer_lead, world.contract)
    services.post_message(d, buyer, "Attention, pénalités possibles CANARY-NOTE", internal=True)
    services.post_message(d, buyer, "Nous regardons avec vous.", internal=False)
    supplier = membership_of(world.supplier_lead, world.contract)
    seen_by_supplier = [m.body for m in services.thread(d, supplier)]
    assert seen_by_supplier == ["Nous regardons avec vous."]
    assert len(services.thread(d, membership_of(world.observer, world.contract))) == 2
    for user in (world.supplier_lead, world.supplier_contributor):
        texts = db.session.scalars(
            select(Notification.text).where(Notification.user_id == user.id)
        ).all()
        assert not [t for t in texts if "note interne" in t]
        assert not [
            e for e in emails_to(user.email) if "CANARY" in e.body or "note interne" in e.body
        ]


def test_mentions_notify_the_named_member_and_internal_ones_only_their_side(world, raise_one):
    d = raise_one()
    buyer = membership_of(world.buyer_lead, world.contract)
    services.post_message(
        d, buyer, "@Sophie Durand et @hugo bernard, pouvez-vous voir ?", internal=False
    )
    mentions = {
        n.user_id
        for n in db.session.scalars(select(Notification).where(Notification.kind == "mention"))
    }
    assert mentions == {world.supplier_lead.id, world.buyer_contributor.id}
    services.post_message(d, buyer, "@Sophie Durand ne doit pas le voir", internal=True)
    mentions = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "mention")
    ).all()
    assert mentions.count(world.supplier_lead.id) == 1


def test_an_empty_message_is_refused_and_an_observer_may_comment(world, raise_one):
    d = raise_one()
    with pytest.raises(DomainError):
        services.post_message(
            d, membership_of(world.buyer_lead, world.contract), "  ", internal=False
        )
    services.post_message(d, membership_of(world.observer, world.contract), "Vu.", internal=False)
    assert db.session.scalar(select(ThreadMessage.author_side)) == "acheteur"


# --- register, agenda, reminders, export ----------------------------------------------------


def test_register_filters_and_counts(world, draft, raise_one):
    a = raise_one()
    b = raise_one(user=world.buyer_lead, severity="critique", title="Accès au site")
    step(b, world.supplier_lead, "prendre_en_compte")
    a.response_due = date(2026, 1, 5)
    db.session.commit()
    f = register.Filters
    assert [d.id for d in register.register(world.contract, f(status="ouverte"))] == [a.id]
    assert [d.id for d in register.register(world.contract, f(side="acheteur"))] == [b.id]
    assert [d.id for d in register.register(world.contract, f(severity="critique"))] == [b.id]
    assert [d.id for d in register.register(world.contract, f(overdue=True))] == [a.id]
    assert {d.id for d in register.register(world.contract, f(item=draft.objective.uid))} == {
        a.id,
        b.id,
    }
    counts = register.counts(world.contract)
    assert (counts["toutes"], counts["non_resolues"], counts["en_retard"], counts["ouverte"]) == (
        2,
        2,
        1,
        1,
    )
    assert register.register(world.other_contract, f()) == []
    assert set(register.open_by_item(world.contract)) == {draft.objective.uid}


def test_next_review_takes_the_unresolved_and_those_sent_to_review(world, raise_one):
    open_one = raise_one(title="Toujours ouverte")
    sent = raise_one(title="Renvoyée en revue puis résolue")
    step(sent, world.buyer_lead, "prendre_en_compte")
    step(sent, world.buyer_lead, "renvoyer_en_revue")
    step(sent, world.buyer_lead, "resoudre", "Réglée avant la revue")
    done = raise_one(title="Résolue sans revue")
    step(done, world.buyer_lead, "prendre_en_compte")
    step(done, world.buyer_lead, "resoudre", "Réglée")
    agenda = register.for_next_review(world.contract, since=None)
    assert [d.id for d in agenda] == [open_one.id, sent.id]
    later = datetime.now(UTC) + timedelta(days=1)  # a review held after all that
    assert [d.id for d in register.for_next_review(world.contract, since=later)] == [open_one.id]


def test_reminders_go_once_a_day_to_the_other_side(world, raise_one):
    d = raise_one()
    day = d.response_due + timedelta(days=2)
    assert services.send_reminders(day) == 1
    assert services.send_reminders(day) == 0  # cron ran twice: nothing more
    reminded = set(
        db.session.scalars(select(Notification.user_id).where(Notification.kind == "relance"))
    )
    assert reminded == {world.buyer_lead.id, world.buyer_contributor.id}  # not the observer
    assert services.send_reminders(day + timedelta(days=1)) == 1
    step(d, world.buyer_lead, "prendre_en_compte")
    assert services.send_reminders(day + timedelta(days=2)) == 0


def test_csv_export_neutralises_formulas(world, raise_one):
    raise_one(title='=HYPERLINK("http://x")', request="+33 6 00 00 00 00")
    text = register.register_csv(
        world.contract, register.register(world.contract, register.Filters()), date.today()
    )
    assert "'=HYPERLINK" in text and "'+33" in text
    assert text.startswith("\ufeffN°;Objet;Statut")
