"""Plan versions: the draft, the baseline (version 1), later drafts, content hash and diff."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from app.audit import services as audit
from app.auth import two_factor
from app.auth.models import User
from app.auth.passwords import verify_password
from app.contracts.models import Contract, Membership
from app.database import built_once
from app.db_types import utcnow
from app.errors import DomainError, NotAllowed
from app.extensions import db
from app.plan import services as items
from app.plan.errors import PlanFrozen
from app.plan.models import (
    ITEM_MODELS,
    Objective,
    Plan,
    PlanItem,
    PlanVersion,
    PlanVisa,
)

# The order items are listed in, parents first (copies need their parent's new id).
KINDS_IN_ORDER = ("axe", "objectif", "indicateur", "jalon", "action", "partage")
LEAD_SIDES = ("acheteur", "titulaire")
DEFAULT_DRAFT_LABEL = "Projet de plan"
KIND_LABELS = {"axe": _l("Axe"), "objectif": _l("Objectif"), "indicateur": _l("Indicateur"),
               "jalon": _l("Jalon"), "action": _l("Action"), "partage": _l("Partage des gains")}  # fmt: skip
DIFF_STATUSES = {"ajoute": _l("ajouté"), "supprime": _l("supprimé"), "modifie": _l("modifié"),
                 "deplace": _l("déplacé")}  # fmt: skip


def add_plan(contract: Contract, actor: User | None) -> Plan:
    """Every contract starts with a plan and its draft (without committing)."""
    plan = Plan(contract=contract)
    db.session.add(plan)
    db.session.add(
        PlanVersion(plan=plan, status="brouillon", label=DEFAULT_DRAFT_LABEL, created_by=actor)
    )
    db.session.flush()
    return plan


def plan_of(contract: Contract) -> Plan:
    return db.session.scalar(select(Plan).where(Plan.contract_id == contract.id))


def versions_of(plan: Plan) -> list[PlanVersion]:
    return list(db.session.scalars(_versions_of_plan(), {"plan_id": plan.id}))


@built_once
def _versions_of_plan():
    return (
        select(PlanVersion)
        .where(PlanVersion.plan_id == bindparam("plan_id"))
        .order_by(PlanVersion.id)
    )


def versions_of_contract(contract: Contract) -> list[PlanVersion]:
    """`versions_of` the contract's plan, read with the plan in the same query."""
    return list(db.session.scalars(_versions_of_contract(), {"contract_id": contract.id}))


@built_once
def _versions_of_contract():
    return (
        select(PlanVersion).join(Plan, PlanVersion.plan_id == Plan.id)
        .where(Plan.contract_id == bindparam("contract_id"))
        .options(contains_eager(PlanVersion.plan)).order_by(PlanVersion.id)
    )  # fmt: skip


def current_version(plan: Plan) -> PlanVersion | None:
    return db.session.scalar(
        select(PlanVersion).where(
            PlanVersion.plan_id == plan.id, PlanVersion.status == "en_vigueur"
        )
    )


def version_label(version: PlanVersion) -> str:
    """In the reader's language: « Version 2 », « Projet de plan », or the draft's own title."""
    if version.number is not None:
        return _("Version %(number)d", number=version.number)
    if version.label in ("", DEFAULT_DRAFT_LABEL):
        return _("Projet de plan")
    return version.label


def plan_in_force(contract: Contract) -> PlanVersion | None:
    return db.session.scalar(_plan_in_force(), {"contract_id": contract.id})


@built_once
def _plan_in_force():
    return (
        select(PlanVersion)
        .join(Plan, PlanVersion.plan_id == Plan.id)
        .where(Plan.contract_id == bindparam("contract_id"), PlanVersion.status == "en_vigueur")
    )


def plan_in_force_shown(contract: Contract) -> PlanVersion | None:
    """The plan in force as a page shows it: read once per request for the band and the page.
    Pages render once the request's writes are done; a service deciding a write reads
    `plan_in_force`."""
    shown = g.setdefault("plan_in_force_shown", {})
    if contract.id not in shown:
        shown[contract.id] = plan_in_force(contract)
    return shown[contract.id]


def remember_plan_in_force(contract: Contract, version: PlanVersion | None) -> None:
    """A page that read the plan in force with what it shows tells the band, which would
    read it again."""
    g.setdefault("plan_in_force_shown", {})[contract.id] = version


def locked_by_change(version: PlanVersion) -> bool:
    """A change request's draft stops changing once submitted: what the buyer decides on, and
    what the letter or amendment lists, is what was submitted."""
    from app.changes.models import ChangeRequest

    return bool(
        db.session.scalar(
            select(ChangeRequest.id).where(
                ChangeRequest.draft_version_id == version.id, ChangeRequest.status != "brouillon"
            )
        )
    )


_UNREAD = object()


def is_editable(version: PlanVersion, its_request=_UNREAD) -> bool:
    """A draft not locked by its change request; `its_request`, the draft's request (or None)
    when the caller has read it already, is not read again."""
    if its_request is _UNREAD:
        return version.is_draft and not locked_by_change(version)
    return version.is_draft and (its_request is None or its_request.status == "brouillon")


def open_drafts(plan: Plan) -> list[PlanVersion]:
    return [v for v in versions_of(plan) if v.is_draft]


def working_version(plan: Plan, all_versions: list[PlanVersion] | None = None) -> PlanVersion:
    """What the plan page opens on: the version in force, else (before the baseline) the
    draft. Later drafts belong to a change request or a review, which link to them.
    `all_versions`, when the caller has read them (`versions_of`), spares the queries."""
    if all_versions is not None:
        in_force = [v for v in all_versions if v.status == "en_vigueur"]
        return (in_force or [v for v in all_versions if v.is_draft])[-1]
    current = current_version(plan)
    if current is not None:
        return current
    drafts = open_drafts(plan)
    return drafts[-1]


def version_in_contract(contract: Contract, version_id: int) -> PlanVersion | None:
    return db.session.scalar(
        select(PlanVersion)
        .join(Plan, PlanVersion.plan_id == Plan.id)
        .where(PlanVersion.id == version_id, Plan.contract_id == contract.id)
        .options(contains_eager(PlanVersion.plan))
    )


def items_of(version: PlanVersion) -> dict[str, list[PlanItem]]:
    """Every item of the version, by kind, in display order (one query per kind)."""
    result = {}
    for kind in KINDS_IN_ORDER:
        model = ITEM_MODELS[kind]
        result[kind] = list(
            db.session.scalars(
                select(model)
                .where(model.plan_version_id == version.id)
                .order_by(model.position, model.id)
            )
        )
    return result


def objective_of(item: PlanItem) -> Objective | None:
    """The objective whose section shows `item` (None for an axis or the gain sharing)."""
    while item is not None and not isinstance(item, Objective):
        item = item.parent if item.KIND in ("indicateur", "action", "jalon") else None
    return item


def _parent_uid(item: PlanItem) -> str | None:
    parent = item.parent
    return parent.uid if parent is not None else None


_FROZEN_CONTENTS: OrderedDict[tuple[int, str], dict] = OrderedDict()  # (id, SHA-256) → content
_FROZEN_LOCK = threading.Lock()


def content(version: PlanVersion) -> dict:
    """The version's content, canonical: what the SHA-256 and the diff are computed on. Read
    only. A version in force or superseded never changes again: its content is kept (keyed by
    its stored SHA-256 too) for the diffs that every change request page computes against it."""
    if version.status in ("en_vigueur", "remplacee") and version.content_hash:
        key = (version.id, version.content_hash)
        with _FROZEN_LOCK:
            found = _FROZEN_CONTENTS.get(key)
            if found is not None:
                _FROZEN_CONTENTS.move_to_end(key)
                return found
        found = _content(version)
        with _FROZEN_LOCK:
            _FROZEN_CONTENTS[key] = found
            while len(_FROZEN_CONTENTS) > 32:
                _FROZEN_CONTENTS.popitem(last=False)
        return found
    return _content(version)


def _content(version: PlanVersion) -> dict:
    return {
        kind: [
            {"uid": i.uid, "parent": _parent_uid(i), "position": i.position, **i.values()}
            for i in found
        ]
        for kind, found in items_of(version).items()
    }


def content_hash(version: PlanVersion) -> str:
    return hashlib.sha256(audit.canonical_json(content(version)).encode()).hexdigest()


# --- baseline: both leads' visas ---------------------------------------------------------------


def valid_visas(version: PlanVersion, current_hash: str | None = None) -> dict[str, PlanVisa]:
    """The visas that still count: given on the content as it is now."""
    current_hash = current_hash or content_hash(version)
    visas = db.session.scalars(select(PlanVisa).where(PlanVisa.plan_version_id == version.id))
    return {v.side: v for v in visas if v.content_hash == current_hash}


def require_open_to_visa(version: PlanVersion) -> None:
    """Only the first draft takes plan visas, before any version is in force (the later ones
    go through a change request): said before anything typed is checked, since the page of
    such a version shows no visa form where an error could appear."""
    if not version.is_draft:
        raise PlanFrozen()
    if current_version(version.plan) is not None:
        raise DomainError(
            _(
                "Ce projet de version s'applique par une demande de modification (échange de "
                "lettres ou avenant), pas par un visa du plan."
            )
        )


def give_visa(version: PlanVersion, membership: Membership, password: str, actor: User,
              code: str = "") -> bool:  # fmt: skip
    """A lead approves the draft as it is now, after typing their password again (and a code of
    their app, when they or the contract have the two-factor authentication). When both leads
    have, the draft becomes version 1 (frozen). Returns True on that baseline."""
    require_open_to_visa(version)
    if not membership.is_lead:
        raise NotAllowed(_("Seuls les référents des deux parties donnent leur visa au plan."))
    if not verify_password(actor.password_hash, password):
        raise DomainError(_("Mot de passe incorrect : le visa n'a pas été donné."), "password")
    two_factor.check_for_visa(actor, version.plan.contract.visa_requires_2fa, code)
    digest = content_hash(version)
    for earlier in db.session.scalars(
        select(PlanVisa).where(
            PlanVisa.plan_version_id == version.id, PlanVisa.side == membership.side
        )
    ):
        db.session.delete(earlier)
    event = audit.record(
        "plan.visa",
        actor=actor,
        contract_id=version.plan.contract_id,
        object_type="plan_version",
        object_id=version.id,
        after={"side": membership.side, "sha256": digest},
    )
    db.session.add(
        PlanVisa(
            plan_version_id=version.id,
            side=membership.side,
            user=actor,
            content_hash=digest,
            audit_seq=event.seq,
        )
    )
    db.session.flush()
    baseline = set(valid_visas(version, digest)) == set(LEAD_SIDES)
    if baseline:
        freeze(version, number=1, digest=digest, actor=actor)
    db.session.commit()
    return baseline


def freeze(version: PlanVersion, *, number: int, digest: str, actor: User | None) -> None:
    version.number, version.status = number, "en_vigueur"
    version.content_hash, version.frozen_at = digest, utcnow()
    version.label = _("Version %(number)d", number=number)
    audit.record(
        "plan.version_en_vigueur",
        actor=actor,
        contract_id=version.plan.contract_id,
        object_type="plan_version",
        object_id=version.id,
        after={"number": number, "sha256": digest},
    )


# --- later drafts ----------------------------------------------------------------------------


def open_draft(plan: Plan, *, label: str, actor: User | None, commit: bool = True) -> PlanVersion:
    """Copy the version in force into a new draft that both sides edit with the same pages
    (what a change request opens). Items keep their uid; each copy starts at version 1."""
    current = current_version(plan)
    if current is None:
        raise DomainError(_("Le plan n'a pas encore de version en vigueur."))
    draft = PlanVersion(
        plan=plan, status="brouillon", label=label, base_id=current.id, created_by=actor
    )
    db.session.add(draft)
    db.session.flush()
    copy_items(current, draft, actor)
    audit.record(
        "plan.projet_ouvert",
        actor=actor,
        contract_id=plan.contract_id,
        object_type="plan_version",
        object_id=draft.id,
        after={"base": current.number, "label": label},
    )
    if commit:
        db.session.commit()
    return draft


def copy_items(source: PlanVersion, draft: PlanVersion, actor: User | None) -> dict[str, PlanItem]:
    """Copy every item of `source` into `draft`, parents first; returns the copies by uid."""
    copies: dict[str, PlanItem] = {}
    for kind, found in items_of(source).items():
        model = ITEM_MODELS[kind]
        for original in found:
            copy = model(
                uid=original.uid,
                plan_version=draft,
                position=original.position,
                updated_by=actor,
                updated_at=utcnow(),
            )
            for name in model.FIELDS:
                setattr(copy, name, getattr(original, name))
            if model.PARENT:
                setattr(copy, model.PARENT, copies[_parent_uid(original)])
            db.session.add(copy)
            db.session.flush()
            copies[original.uid] = copy
            items.record_change(copy, "copie", actor, {})
    return copies


# --- diff --------------------------------------------------------------------------------------


@dataclass
class ItemDiff:
    kind: str
    uid: str
    status: str  # "ajoute", "supprime", "modifie", "deplace"
    label: str
    fields: list[tuple[str, object, object]] = field(default_factory=list)


def item_label(kind: str, values: dict) -> str:
    for name in ("title", "name"):
        if values.get(name):
            return values[name]
    if kind == "jalon":
        return _("Jalon du %(date)s", date=values.get("due_date") or "?")
    return _("Partage des gains") if kind == "partage" else kind


def diff(old: PlanVersion, new: PlanVersion) -> list[ItemDiff]:
    """What changed from `old` to `new`, item by item (matched by uid) and field by field."""
    before, after = content(old), content(new)
    result = []
    for kind in KINDS_IN_ORDER:
        old_items = {i["uid"]: i for i in before[kind]}
        new_items = {i["uid"]: i for i in after[kind]}
        for uid, values in new_items.items():
            if uid not in old_items:
                result.append(ItemDiff(kind, uid, "ajoute", item_label(kind, values)))
                continue
            previous = old_items[uid]
            changed = [
                (name, previous.get(name), values.get(name))
                for name in ITEM_MODELS[kind].FIELDS
                if previous.get(name) != values.get(name)
            ]
            if changed:
                result.append(ItemDiff(kind, uid, "modifie", item_label(kind, values), changed))
            elif (previous["position"], previous["parent"]) != (
                values["position"],
                values["parent"],
            ):
                result.append(ItemDiff(kind, uid, "deplace", item_label(kind, values)))
        for uid, values in old_items.items():
            if uid not in new_items:
                result.append(ItemDiff(kind, uid, "supprime", item_label(kind, values)))
    return result
