"""The plan's rules: editing with merge or conflict, history, versions, visas, diff."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.contracts.models import Membership
from app.errors import DomainError, NotAllowed
from app.extensions import db
from app.plan import services as items
from app.plan import versions
from app.plan.completeness import check_plan
from app.plan.errors import EditConflict, PlanFrozen, StaleDelete
from app.plan.models import Action, ItemChange
from tests.factories import PASSWORD


def membership_of(world, user):
    return db.session.scalar(
        select(Membership).filter_by(contract_id=world.contract.id, user_id=user.id)
    )


def test_every_contract_starts_with_a_draft_plan(world):
    plan = versions.plan_of(world.contract)
    [draft] = versions.versions_of(plan)
    assert draft.is_draft and draft.number is None
    assert versions.working_version(plan) == draft


def test_items_are_created_at_the_end_of_their_list_with_a_history(world, draft):
    second = items.create_item(
        draft.version, "action", {"title": "Deuxième action"}, parent=draft.objective,
        actor=world.buyer_contributor,
    )  # fmt: skip
    assert [a.title for a in draft.objective.actions] == [
        "Sourcer du fil recyclé",
        "Deuxième action",
    ]
    [created] = items.history("action", second.uid)
    assert created.action == "creation" and created.actor == world.buyer_contributor
    assert created.changes["title"] == [None, "Deuxième action"]


def test_edits_of_different_fields_by_both_sides_merge(world, draft):
    base = draft.action.version
    items.update_item(draft.action, {"title": "Sourcer du fil GRS"}, base_version=base,
                      actor=world.buyer_lead)  # fmt: skip
    item, merged = items.update_item(
        draft.action, {"title": "Sourcer du fil recyclé", "description": "Texte du titulaire"},
        base_version=base, actor=world.supplier_lead,
    )  # fmt: skip
    assert item.title == "Sourcer du fil GRS"  # theirs, untouched by me
    assert item.description == "Texte du titulaire"  # mine
    assert merged == ["title"]
    assert item.version == base + 2


def test_stale_edit_of_the_same_field_raises_a_conflict_and_writes_nothing(world, draft):
    base = draft.action.version
    items.update_item(draft.action, {"description": "Texte de l'acheteur"}, base_version=base,
                      actor=world.buyer_lead)  # fmt: skip
    with pytest.raises(EditConflict) as conflict:
        items.update_item(
            draft.action, {"description": "Texte du titulaire", "title": "Autre titre"},
            base_version=base, actor=world.supplier_lead,
        )  # fmt: skip
    assert conflict.value.fields == ["description"]
    assert conflict.value.posted["description"] == "Texte du titulaire"  # kept for the form
    assert conflict.value.base["description"] == "Premier texte"
    assert conflict.value.last_changes["description"].actor == world.buyer_lead
    db.session.refresh(draft.action)
    assert (draft.action.description, draft.action.title) == (
        "Texte de l'acheteur", "Sourcer du fil recyclé",
    )  # fmt: skip


def test_the_same_text_typed_by_both_is_not_a_conflict(world, draft):
    base = draft.action.version
    items.update_item(draft.action, {"description": "Même texte"}, base_version=base,
                      actor=world.buyer_lead)  # fmt: skip
    item, _ = items.update_item(draft.action, {"description": "Même texte\r\n"},
                                base_version=base, actor=world.supplier_lead)  # fmt: skip
    assert item.description == "Même texte"


def test_saving_unchanged_text_writes_no_history(world, draft):
    before = len(items.history("action", draft.action.uid))
    items.update_item(draft.action, {"title": "  Sourcer du fil recyclé "},
                      base_version=draft.action.version, actor=world.buyer_lead)  # fmt: skip
    assert len(items.history("action", draft.action.uid)) == before


def test_history_records_who_changed_which_field_and_the_audit_trail_too(world, draft):
    items.update_item(draft.action, {"cost_estimate": Decimal("12500.50")},
                      base_version=draft.action.version, actor=world.supplier_contributor)  # fmt: skip
    latest = items.history("action", draft.action.uid)[0]
    assert latest.action == "modification" and latest.actor == world.supplier_contributor
    assert latest.changes == {"cost_estimate": [None, "12500.50"]}
    audited = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "plan.action.modification")
    )
    assert audited.contract_id == world.contract.id and "12500.50" in audited.payload


def test_delete_based_on_an_old_version_is_refused(world, draft):
    base = draft.action.version
    items.update_item(draft.action, {"title": "Nouveau titre"}, base_version=base,
                      actor=world.buyer_lead)  # fmt: skip
    with pytest.raises(StaleDelete):
        items.delete_item(draft.action, base_version=base, actor=world.supplier_lead)
    items.delete_item(draft.action, base_version=base + 1, actor=world.supplier_lead)
    assert db.session.scalar(select(func.count()).select_from(Action)) == 0
    assert items.history("action", draft.action.uid)[0].action == "suppression"


def test_deleting_an_objective_deletes_its_indicators_and_actions(world, draft):
    items.delete_item(draft.objective, base_version=draft.objective.version, actor=world.buyer_lead)
    assert versions.items_of(draft.version)["action"] == []
    assert versions.items_of(draft.version)["indicateur"] == []


def test_items_move_up_and_down_without_conflicting_with_edits(world, draft):
    second = items.create_item(draft.version, "action", {"title": "B"}, parent=draft.objective,
                               actor=world.buyer_lead)  # fmt: skip
    version_before = second.version
    items.move_item(second, -1, actor=world.buyer_lead)
    db.session.expire_all()
    assert [a.title for a in draft.objective.actions] == ["B", "Sourcer du fil recyclé"]
    items.move_item(second, -1, actor=world.buyer_lead)  # already first: nothing happens
    assert second.version == version_before  # a move is not a text edit
    items.update_item(second, {"title": "B2"}, base_version=version_before, actor=world.buyer_lead)


def test_baseline_needs_both_leads_visas_on_the_same_content(world, draft):
    buyer, supplier = (
        membership_of(world, world.buyer_lead),
        membership_of(world, world.supplier_lead),
    )
    with pytest.raises(NotAllowed):
        versions.give_visa(draft.version, membership_of(world, world.buyer_contributor), PASSWORD,
                           world.buyer_contributor)  # fmt: skip
    with pytest.raises(DomainError, match="Mot de passe incorrect"):
        versions.give_visa(draft.version, buyer, "pas-le-bon", world.buyer_lead)
    assert versions.give_visa(draft.version, buyer, PASSWORD, world.buyer_lead) is False
    # An edit after the visa voids it: the supplier's visa alone does not freeze the plan.
    items.update_item(draft.action, {"title": "Changé après le visa"},
                      base_version=draft.action.version, actor=world.supplier_contributor)  # fmt: skip
    assert versions.give_visa(draft.version, supplier, PASSWORD, world.supplier_lead) is False
    assert draft.version.is_draft
    assert versions.give_visa(draft.version, buyer, PASSWORD, world.buyer_lead) is True
    assert (draft.version.number, draft.version.status) == (1, "en_vigueur")
    assert draft.version.content_hash == versions.content_hash(draft.version)
    assert len(draft.version.content_hash) == 64


def test_a_frozen_version_refuses_direct_edits(world, draft):
    for lead in (world.buyer_lead, world.supplier_lead):
        versions.give_visa(draft.version, membership_of(world, lead), PASSWORD, lead)
    with pytest.raises(PlanFrozen):
        items.update_item(draft.action, {"title": "x"}, base_version=draft.action.version,
                          actor=world.buyer_lead)  # fmt: skip
    with pytest.raises(PlanFrozen):
        items.create_item(draft.version, "action", {"title": "x"}, parent=draft.objective,
                          actor=world.buyer_lead)  # fmt: skip
    with pytest.raises(PlanFrozen):
        items.delete_item(draft.action, base_version=draft.action.version, actor=world.buyer_lead)


def test_a_new_draft_copies_the_version_in_force_and_the_diff_shows_the_change(world, draft):
    for lead in (world.buyer_lead, world.supplier_lead):
        versions.give_visa(draft.version, membership_of(world, lead), PASSWORD, lead)
    plan = versions.plan_of(world.contract)
    second = versions.open_draft(plan, label="Projet de version 2", actor=world.buyer_lead)
    copied = versions.items_of(second)
    assert {a.uid for a in copied["action"]} == {draft.action.uid}
    assert versions.content_hash(second) == draft.version.content_hash  # same content
    action = copied["action"][0]
    items.update_item(action, {"title": "Sourcer du fil GRS"}, base_version=action.version,
                      actor=world.supplier_lead)  # fmt: skip
    items.create_item(second, "action", {"title": "Étiqueter la part recyclée"},
                      parent=copied["objectif"][0], actor=world.supplier_lead)  # fmt: skip
    items.delete_item(copied["indicateur"][0], base_version=1, actor=world.buyer_lead)
    changes = {(c.kind, c.status, c.label) for c in versions.diff(draft.version, second)}
    assert ("action", "modifie", "Sourcer du fil GRS") in changes
    assert ("action", "ajoute", "Étiqueter la part recyclée") in changes
    assert ("indicateur", "supprime", "Part recyclée") in changes
    [modified] = [c for c in versions.diff(draft.version, second) if c.status == "modifie"]
    assert modified.fields == [("title", "Sourcer du fil recyclé", "Sourcer du fil GRS")]
    assert draft.version.status == "en_vigueur"  # the version in force is untouched


def test_completeness_lists_what_each_objective_lacks(world, draft):
    check = check_plan([draft.objective], None)
    assert check.parts["indicateurs"] and check.parts["actions_titulaire"]
    assert not check.parts["actions_acheteur"] and not check.parts["partage"]
    [objective_check] = check.objectives
    assert "aucune action de l'acheteur" in objective_check.missing
    items.create_item(draft.version, "action", {"title": "Adapter le CCTP", "owner_side": "acheteur",
                                                "cost_estimate": Decimal("0"),
                                                "planned_start": date(2027, 1, 1),
                                                "planned_end": date(2027, 2, 1)},
                      parent=draft.objective, actor=world.buyer_lead)  # fmt: skip
    sharing = items.create_item(draft.version, "partage", {"buyer_share": Decimal("50"),
                                                           "supplier_share": Decimal("50")},
                                actor=world.buyer_lead)  # fmt: skip
    db.session.expire_all()
    assert check_plan([draft.objective], sharing).complete


def test_twenty_concurrent_editors_lose_no_accepted_save(app, world, draft):
    """Every accepted save is in the history, in order; nothing accepted is overwritten."""
    action_id, version_id = draft.action.id, draft.version.id
    user_ids = [world.buyer_lead.id, world.supplier_lead.id, world.buyer_contributor.id,
                world.supplier_contributor.id]  # fmt: skip
    db.session.commit()
    fields = ("title", "description", "resources", "abandon_reason")
    accepted, refused, errors = [], [], []
    lock = threading.Lock()

    def editor(n):
        from app.auth.models import User

        try:
            with app.app_context():
                actor = db.session.get(User, user_ids[n % 4])
                for k in range(5):
                    action = db.session.get(Action, action_id)
                    field = fields[n % len(fields)]
                    text = f"éditeur {n} passage {k}"
                    try:
                        _item, _merged = items.update_item(
                            action, {field: text}, base_version=action.version, actor=actor
                        )
                    except EditConflict:
                        with lock:
                            refused.append((field, text))
                    else:
                        with lock:
                            accepted.append((field, text))
                    db.session.rollback()
        except Exception as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    history = db.session.scalars(
        select(ItemChange)
        .where(ItemChange.item_id == action_id, ItemChange.action == "modification",
               ItemChange.plan_version_id == version_id)
        .order_by(ItemChange.seq)
    ).all()  # fmt: skip
    written = [(f, after) for change in history for f, (_before, after) in change.changes.items()]
    assert sorted(written) == sorted(accepted)  # every accepted save, and only those
    action = db.session.get(Action, action_id, populate_existing=True)
    assert action.version == 1 + len(history)
    for field in fields:  # the final text of each field is the last accepted save of it
        last = [text for f, text in written if f == field]
        if last:
            assert getattr(action, field) == last[-1]
    assert len(accepted) + len(refused) == 100
