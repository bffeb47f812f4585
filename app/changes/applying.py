"""Applying a change: its draft becomes the version in force in one transaction, and the
update (rebase) of a draft whose base is no longer in force (DESIGN §6).

A rebase copies the version now in force into a new draft and replays on it what the change
did to its own base, item by item (by uid) and field by field: what only one side touched
merges; a field both changed differently, or an item one side deleted and the other edited,
is a conflict, listed for the user, and the version in force's value is kept."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from app.changes.models import ChangeRequest
from app.changes.services import (
    announce,
    audit,
    claim,
    notify_other_side,
    require,
    stale_message,
    touch,
)
from app.contracts.models import Membership
from app.database import flush_or_conflict
from app.db_types import utcnow
from app.errors import Conflict, DomainError
from app.extensions import db
from app.permissions import Permission
from app.plan import services as items
from app.plan import versions
from app.plan.models import ITEM_MODELS, PlanVersion


def apply(change: ChangeRequest, membership: Membership) -> bool:
    """Make the draft the version in force (the old one superseded), without committing.
    Returns False, leaving the change « à appliquer », when a rebase is needed first."""
    current = versions.plan_in_force(change.contract)
    draft = change.draft_version
    if current is None or draft.base_id != current.id:
        change.status = "a_appliquer"
        return False
    # Only one change replaces a given version in force: the loser of a race gets a 409.
    replaced = db.session.execute(
        update(PlanVersion)
        .where(PlanVersion.id == current.id, PlanVersion.status == "en_vigueur")
        .values(status="remplacee")
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if replaced != 1:
        raise Conflict(_("Une autre modification vient d'être appliquée au plan : rechargez la page."))  # fmt: skip
    versions.freeze(draft, number=current.number + 1, digest=versions.content_hash(draft),
                    actor=membership.user)  # fmt: skip
    change.replaced_version_id = current.id
    change.status, change.applied_at = "appliquee", utcnow()
    touch(change)
    audit(change, "appliquee", membership,
          {"version": draft.number, "remplace": current.number, "sha256": draft.content_hash})  # fmt: skip
    notify_other_side(change, membership, lambda: _(
        "Modification n° %(n)d appliquée : le plan passe en version %(v)d.",
        n=change.number, v=draft.number))  # fmt: skip
    from app.live import channel, publish_after_commit

    publish_after_commit(channel(change.contract_id), "plan-version", {"version": draft.id})
    return True


def apply_now(change: ChangeRequest, membership: Membership, *, seen_version: int | None) -> None:
    """The buyer lead applies a change left « à appliquer » (after its rebase)."""
    from app.changes.services import check_seen, require_buyer_lead, require_status

    require_buyer_lead(membership, _("Seul le référent de l'acheteur applique une modification."))
    check_seen(change, seen_version)
    require_status(change, "a_appliquer")
    claim(change)
    if not apply(change, membership):
        raise DomainError(_("Le plan en vigueur a changé : mettez d'abord le projet à jour."))
    flush_or_conflict(stale_message())
    announce(change)
    db.session.commit()


# --- rebase -----------------------------------------------------------------------------------


def _by_uid(version: PlanVersion) -> dict[str, dict[str, dict]]:
    return {kind: {i["uid"]: i for i in found} for kind, found in versions.content(version).items()}


def _objects(version: PlanVersion) -> dict[str, object]:
    return {i.uid: i for found in versions.items_of(version).values() for i in found}


def rebase(change: ChangeRequest, membership: Membership, *, seen_version: int | None) -> list:
    """Move the change's draft onto the version in force; returns the conflicts."""
    from app.changes.services import check_seen

    require(membership, Permission.EDIT_PLAN, _("Votre rôle ne permet pas de mettre à jour ce projet."))  # fmt: skip
    check_seen(change, seen_version)
    if change.status in ("appliquee", "refusee", "retiree"):
        raise Conflict(_("Cette demande est close : son projet ne change plus."))
    claim(change)
    current = versions.plan_in_force(change.contract)
    old_draft = change.draft_version
    if current is None or old_draft.base_id == current.id:
        raise DomainError(_("Le projet part déjà de la version en vigueur : rien à mettre à jour."))
    new_draft = PlanVersion(plan=old_draft.plan, status="brouillon", label=old_draft.label,
                            base_id=current.id, created_by=membership.user)  # fmt: skip
    db.session.add(new_draft)
    db.session.flush()
    copies = versions.copy_items(current, new_draft, membership.user)
    conflicts = _replay(old_draft.base, old_draft, current, new_draft, copies, membership)
    old_draft.status = "abandonnee"
    change.draft_version = new_draft
    change.rebase_conflicts = conflicts
    _void_documents(change)
    touch(change)
    flush_or_conflict(stale_message())
    audit(change, "projet_mis_a_jour", membership,
          {"base": current.number, "projet": new_draft.id, "conflits": len(conflicts)})  # fmt: skip
    if change.status == "a_appliquer" and not conflicts:
        apply(change, membership)
    announce(change)
    db.session.commit()
    return conflicts


def _void_documents(change: ChangeRequest) -> None:
    """The documents list the old change set: they (and their visas) no longer count."""
    now = utcnow()
    for document in change.documents:
        if document.voided_at is None:
            document.voided_at = now


def _replay(base, ours, theirs, target, copies, membership) -> list[dict]:
    before, mine, in_force = _by_uid(base), _by_uid(ours), _by_uid(theirs)
    my_objects = _objects(ours)
    conflicts: list[dict] = []
    merged: set[str] = set()
    for kind in versions.KINDS_IN_ORDER:  # parents first: an added child needs its parent
        model = ITEM_MODELS[kind]
        for uid, values in mine[kind].items():
            label = versions.item_label(kind, values)
            if uid not in before[kind]:  # added by the change
                if model.PARENT and values["parent"] not in copies:
                    conflicts.append(_conflict(kind, uid, label, "", _("ajouté sous un élément supprimé du plan en vigueur"), "", ""))  # fmt: skip
                else:
                    copies[uid] = _add_copy(model, my_objects[uid], target, copies, membership)
                continue
            for name in model.FIELDS:
                old, new = before[kind][uid].get(name), values.get(name)
                if old == new:
                    continue
                if uid not in in_force[kind]:
                    conflicts.append(_conflict(kind, uid, label, name, _("modifié ici, supprimé dans le plan en vigueur"), new, ""))  # fmt: skip
                    break
                theirs_value = in_force[kind][uid].get(name)
                if theirs_value == old:
                    setattr(copies[uid], name, getattr(my_objects[uid], name))
                    merged.add(uid)
                elif theirs_value != new:
                    conflicts.append(_conflict(kind, uid, label, name, _("modifié des deux côtés"), new, theirs_value))  # fmt: skip
    for kind in reversed(versions.KINDS_IN_ORDER):  # children first: deletions cascade down
        model = ITEM_MODELS[kind]
        for uid, values in before[kind].items():
            if uid in mine[kind] or uid not in in_force[kind]:
                continue  # kept by the change, or deleted on both sides
            if not _same_fields(model, in_force[kind][uid], values):
                conflicts.append(_conflict(kind, uid, versions.item_label(kind, values), "", _("supprimé ici, modifié dans le plan en vigueur"), "", ""))  # fmt: skip
            elif uid in copies:
                db.session.delete(copies.pop(uid))
                db.session.flush()
    for uid in merged & set(copies):
        items.record_change(copies[uid], "mise_a_jour", membership.user, {})
    db.session.flush()
    return conflicts


def _same_fields(model, a: dict, b: dict) -> bool:
    return all(a.get(name) == b.get(name) for name in model.FIELDS)


def _add_copy(model, original, target, copies, membership):
    copy = model(uid=original.uid, plan_version=target, position=original.position,
                 updated_by=membership.user, updated_at=utcnow())  # fmt: skip
    for name in model.FIELDS:
        setattr(copy, name, getattr(original, name))
    if model.PARENT:
        setattr(copy, model.PARENT, copies[original.parent.uid])
    db.session.add(copy)
    db.session.flush()
    items.record_change(copy, "creation", membership.user, {})
    return copy


def _conflict(kind, uid, label, field, reason, ours, theirs) -> dict:
    return {"kind": kind, "uid": uid, "label": label, "field": field, "reason": reason,
            "ours": ours, "theirs": theirs}  # fmt: skip
