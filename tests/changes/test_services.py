"""The change request's lifecycle, its refusals, the formalisation proposal, the numbering of
amendments, applying and the rebase (service level)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.changes import applying, formalisation, services
from app.changes.models import ChangeRequest
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.plan import services as items
from app.plan import versions
from app.plan.errors import PlanFrozen
from app.plan.models import Indicator

NO = {k: {"answer": False, "note": ""} for k in ("prix", "obligations", "paiement", "perimetre")}


def indicator_in(version, uid) -> Indicator:
    return next(i for i in versions.items_of(version)["indicateur"] if i.uid == uid)


def open_change(world, member, in_force, *, role="supplier_lead", target="35", answers=NO,
                impact="0") -> ChangeRequest:  # fmt: skip
    change = services.open_request(world.contract, member(role), title="Cible relevée à 35 %")
    indicator = indicator_in(change.draft_version, in_force.indicator.uid)
    items.update_item(indicator, {"target_value": Decimal(target)}, base_version=indicator.version,
                      actor=world.role(role))  # fmt: skip
    services.update_request(change, member(role), seen_version=change.version,
                            title=change.title, rationale="Objectif atteint en avance.",
                            answers=answers, financial_impact_ht=impact)  # fmt: skip
    return change


def submitted(world, member, in_force, **kwargs) -> ChangeRequest:
    change = open_change(world, member, in_force, **kwargs)
    services.submit(
        change, member(kwargs.get("role", "supplier_lead")), seen_version=change.version
    )
    return change


def approved(world, member, in_force, **kwargs) -> ChangeRequest:
    change = submitted(world, member, in_force, **kwargs)
    services.decide(
        change, member("buyer_lead"), seen_version=change.version, approve=True, comment=""
    )
    return change


# --- opening and the draft -------------------------------------------------------------------


def test_either_side_opens_a_request_on_a_copy_of_the_plan_in_force(world, member, in_force):
    change = services.open_request(world.contract, member("buyer_contributor"), title="Évolution")
    assert change.number == 1 and change.status == "brouillon"
    assert change.draft_version.base_id == versions.plan_in_force(world.contract).id
    other = services.open_request(world.contract, member("supplier_contributor"), title="Autre")
    assert other.number == 2 and other.author_side == "titulaire"


def test_an_observer_cannot_propose_and_nothing_before_the_baseline(world, member, draft):
    with pytest.raises(NotAllowed):
        services.open_request(world.contract, member("observer"), title="Non")
    with pytest.raises(DomainError, match="pas encore en vigueur"):
        services.open_request(world.contract, member("buyer_lead"), title="Trop tôt")


def test_the_change_set_is_the_diff_of_the_draft(world, member, in_force):
    change = open_change(world, member, in_force)
    (entry,) = services.change_set(change)
    assert entry.status == "modifie" and entry.fields == [("target_value", "30.00", "35.00")]


def test_submitting_needs_a_change_and_the_four_answers(world, member, in_force):
    change = services.open_request(world.contract, member("supplier_lead"), title="Vide")
    with pytest.raises(DomainError, match="ne modifie encore rien"):
        services.submit(change, member("supplier_lead"), seen_version=change.version)
    change = open_change(world, member, in_force, answers={})
    with pytest.raises(DomainError, match="quatre questions"):
        services.submit(change, member("supplier_lead"), seen_version=change.version)


def test_a_submitted_draft_is_frozen_until_it_goes_back_to_draft(world, member, in_force):
    change = submitted(world, member, in_force)
    indicator = indicator_in(change.draft_version, in_force.indicator.uid)
    with pytest.raises(PlanFrozen):
        items.update_item(indicator, {"unit": "pts"}, base_version=indicator.version, actor=world.supplier_lead)  # fmt: skip
    db.session.rollback()
    services.reopen(change, member("buyer_lead"), seen_version=change.version)
    indicator = indicator_in(change.draft_version, in_force.indicator.uid)
    items.update_item(indicator, {"unit": "pts"}, base_version=indicator.version, actor=world.supplier_lead)  # fmt: skip


def test_a_stale_step_is_a_conflict(world, member, in_force):
    change = open_change(world, member, in_force)
    with pytest.raises(Conflict):
        services.submit(change, member("supplier_lead"), seen_version=change.version - 1)


# --- decision -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["buyer_contributor", "supplier_lead", "observer"])
def test_only_the_buyer_lead_approves(world, member, in_force, role):
    change = submitted(world, member, in_force)
    with pytest.raises(NotAllowed):
        services.decide(change, member(role), seen_version=change.version, approve=True, comment="")


def test_a_refusal_says_why_and_abandons_the_draft(world, member, in_force):
    change = submitted(world, member, in_force)
    with pytest.raises(DomainError, match="pourquoi"):
        services.decide(change, member("buyer_lead"), seen_version=change.version, approve=False, comment=" ")  # fmt: skip
    services.decide(change, member("buyer_lead"), seen_version=change.version, approve=False,
                    comment="Hors budget cette année.")  # fmt: skip
    assert change.status == "refusee" and change.draft_version.status == "abandonnee"


def test_only_the_author_withdraws_and_only_before_the_decision(world, member, in_force):
    change = submitted(world, member, in_force)
    with pytest.raises(NotAllowed):
        services.withdraw(change, member("supplier_contributor"), seen_version=change.version)
    services.withdraw(change, member("supplier_lead"), seen_version=change.version)
    assert change.status == "retiree"
    change = approved(world, member, in_force)
    with pytest.raises(Conflict):
        services.withdraw(change, member("supplier_lead"), seen_version=change.version)


def test_every_step_notifies_the_other_side(world, member, in_force):
    from app.notifications.models import Notification

    submitted(world, member, in_force)
    texts = [n.text for n in db.session.scalars(db.select(Notification).filter_by(user_id=world.buyer_lead.id))]  # fmt: skip
    assert any("soumise" in t for t in texts)
    assert not db.session.scalars(db.select(Notification).filter_by(user_id=world.supplier_lead.id)).all()  # fmt: skip


# --- formalisation ---------------------------------------------------------------------------


def test_four_noes_propose_a_letter_any_yes_an_amendment(world, member, in_force):
    letter = approved(world, member, in_force)
    assert formalisation.proposed(letter) == "lettre"
    answers = {**NO, "prix": {"answer": True, "note": "Nouveau prix au BPU"}}
    amendment = approved(world, member, in_force, answers=answers, impact="48000")
    assert formalisation.proposed(amendment) == "avenant"


def test_overriding_the_proposal_needs_a_reason(world, member, in_force):
    change = approved(world, member, in_force)
    with pytest.raises(DomainError, match="pourquoi"):
        formalisation.formalise(change, member("buyer_lead"), seen_version=change.version, choice="avenant", reason="")  # fmt: skip
    formalisation.formalise(change, member("buyer_lead"), seen_version=change.version,
                            choice="avenant", reason="Prudence du service juridique")  # fmt: skip
    assert change.formalisation == "avenant" and change.amendment_number == 1


def test_amendments_are_numbered_per_contract(world, member, in_force):
    yes = {**NO, "prix": {"answer": True, "note": ""}}
    numbers = []
    for _ in range(2):
        change = approved(world, member, in_force, answers=yes, impact="1000")
        formalisation.formalise(change, member("buyer_lead"), seen_version=change.version, choice="avenant", reason="")  # fmt: skip
        numbers.append(change.amendment_number)
    letter = approved(world, member, in_force)
    formalisation.formalise(letter, member("buyer_lead"), seen_version=letter.version, choice="lettre", reason="")  # fmt: skip
    assert numbers == [1, 2] and letter.amendment_number is None


def test_r2194_1_is_refused_when_the_clause_is_not_a_review_clause(world, member, in_force):
    yes = {**NO, "prix": {"answer": True, "note": ""}}
    change = approved(world, member, in_force, answers=yes, impact="1000")
    formalisation.formalise(change, member("buyer_lead"), seen_version=change.version, choice="avenant", reason="")  # fmt: skip
    with pytest.raises(DomainError, match="R2194-1"):
        formalisation.update_terms(change, member("buyer_lead"), seen_version=change.version,
                                   data={"legal_basis": "R2194-1", "signatory_name": "X"})  # fmt: skip


# --- applying and rebasing -------------------------------------------------------------------


def _apply_directly(change, membership):
    """Skip the paperwork (tested with the documents): formalised, accepted, applied."""
    change.status = "formalisation"
    assert applying.apply(change, membership)
    db.session.commit()


def test_applying_makes_the_draft_the_version_in_force(world, member, in_force):
    first = versions.plan_in_force(world.contract)
    change = approved(world, member, in_force)
    _apply_directly(change, member("buyer_lead"))
    now = versions.plan_in_force(world.contract)
    assert now.id == change.draft_version_id and now.number == 2 and now.content_hash
    assert first.status == "remplacee" and change.status == "appliquee"
    assert change.replaced_version_id == first.id
    assert indicator_in(now, in_force.indicator.uid).target_value == Decimal("35.00")
    assert services.change_set(change)  # still shown against the version it replaced


def test_a_draft_behind_the_plan_in_force_waits_for_its_rebase(world, member, in_force):
    first = approved(world, member, in_force)
    second = approved(world, member, in_force, target="32")  # a second change, on the same base
    second.status = "brouillon"  # (edited again before its decision)
    indicator = indicator_in(second.draft_version, in_force.indicator.uid)
    items.update_item(indicator, {"unit": "pts"}, base_version=indicator.version, actor=world.supplier_lead)  # fmt: skip
    _apply_directly(first, member("buyer_lead"))
    assert services.needs_rebase(second)
    second.status = "formalisation"
    assert applying.apply(second, member("buyer_lead")) is False and second.status == "a_appliquer"
    db.session.commit()
    conflicts = applying.rebase(second, member("buyer_lead"), seen_version=second.version)
    # The unit (untouched by the first change) merged; the target was changed by both.
    assert second.status == "a_appliquer" and [c["field"] for c in conflicts] == ["target_value"]
    merged = indicator_in(second.draft_version, in_force.indicator.uid)
    assert merged.unit == "pts" and merged.target_value == Decimal("35.00")
    assert second.draft_version.base_id == first.draft_version_id


def test_a_rebase_without_conflict_merges_and_applies(world, member, in_force):
    first = approved(world, member, in_force)
    second = services.open_request(world.contract, member("buyer_lead"), title="Nouvelle action")
    items.create_item(second.draft_version, "action", {"title": "Former les acheteurs", "owner_side": "acheteur"},
                      parent=next(o for o in versions.items_of(second.draft_version)["objectif"]),
                      actor=world.buyer_lead)  # fmt: skip
    _apply_directly(first, member("buyer_lead"))
    assert applying.rebase(second, member("buyer_lead"), seen_version=second.version) == []
    draft = second.draft_version
    titles = {a.title for a in versions.items_of(draft)["action"]}
    assert "Former les acheteurs" in titles
    assert indicator_in(draft, in_force.indicator.uid).target_value == Decimal("35.00")
    assert [e.status for e in services.change_set(second)] == ["ajoute"]


def test_two_changes_cannot_both_replace_the_same_version(world, member, in_force):
    first = approved(world, member, in_force)
    second = approved(world, member, in_force, target="40")
    _apply_directly(first, member("buyer_lead"))
    second.status = "formalisation"
    assert applying.apply(second, member("buyer_lead")) is False


def test_documents_are_french_whoever_generates_them(app, world, member, in_force):
    """A buyer lead working in English still sends a French letter: the occasion, the version
    labels and the plan's field names are read in French."""
    from flask_babel import force_locale

    from tests.changes.test_routes import text_of

    change = approved(world, member, in_force)
    buyer = member("buyer_lead")
    formalisation.formalise(change, buyer, seen_version=change.version, choice="lettre", reason="")
    formalisation.update_terms(change, buyer, seen_version=change.version, data={
        "signatory_name": "Claire Martin", "signatory_qualite": "Acheteuse référente"})  # fmt: skip
    with app.test_request_context(), force_locale("en"):
        formalisation.generate(change, buyer, seen_version=change.version)
    letter = text_of(formalisation.read(formalisation.current_documents(change)["lettre"]))
    assert "à la suite de la demande de modification n° 1" in letter
    assert "change request" not in letter and "version 1 → 2" in letter
