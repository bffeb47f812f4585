"""Create, edit, delete and reorder plan items, with history and a three-way merge.

A save carries the version the user saw (`base_version`). Fields changed only by them are
applied; fields changed only by someone else meanwhile are kept; a field changed by both to
different texts raises EditConflict and nothing is written (DESIGN §4, LIVE-COEDITING §2.6)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.exc import StaleDataError

from app.audit import services as audit
from app.auth.models import User
from app.database import built_once
from app.db_types import utcnow
from app.extensions import db
from app.plan.errors import EditConflict, ItemGone, PlanFrozen, StaleDelete
from app.plan.models import (
    ITEM_MODELS,
    Axis,
    GainSharing,
    ItemChange,
    Objective,
    Plan,
    PlanItem,
    PlanVersion,
    to_json,
)

MAX_MERGE_ATTEMPTS = 5


def normalize(value):
    """Browsers send CRLF line breaks and stray spaces: they must not count as changes."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    return value


# --- reading -------------------------------------------------------------------------------


def item_in_version(kind: str, item_id: int, version: PlanVersion) -> PlanItem | None:
    model = ITEM_MODELS[kind]
    return db.session.scalar(
        select(model).where(model.id == item_id, model.plan_version_id == version.id)
    )


def snapshot_at(item: PlanItem, version_number: int) -> dict | None:
    """The item's fields as they were at `version_number` of this copy."""
    if version_number == item.version:
        return item.values()
    change = db.session.scalar(
        select(ItemChange).where(
            ItemChange.item_kind == item.KIND,
            ItemChange.item_id == item.id,
            ItemChange.item_version == version_number,
        )
    )
    return change.snapshot if change else None


def changes_since(item: PlanItem, version_number: int) -> list[ItemChange]:
    return list(
        db.session.scalars(
            select(ItemChange)
            .where(
                ItemChange.item_kind == item.KIND,
                ItemChange.item_id == item.id,
                ItemChange.item_version > version_number,
            )
            .order_by(ItemChange.item_version)
        )
    )


def changes_by_others(item: PlanItem, version_number: int, viewer: User) -> list[ItemChange]:
    return [c for c in changes_since(item, version_number) if c.actor_id != viewer.id]


def deletion_of(contract, kind: str, item_id: int) -> ItemChange | None:
    """The record of this item's deletion, if it was an item of this contract's plan."""
    return db.session.scalar(
        select(ItemChange)
        .join(Plan, ItemChange.plan_id == Plan.id)
        .where(Plan.contract_id == contract.id, ItemChange.item_kind == kind,
               ItemChange.item_id == item_id, ItemChange.action == "suppression")
    )  # fmt: skip


def list_items(version: PlanVersion, kind: str, parent) -> list[PlanItem]:
    model = ITEM_MODELS[kind]
    query = select(model).where(model.plan_version_id == version.id)
    if model.PARENT:
        query = query.where(getattr(model, f"{model.PARENT}_id") == parent.id)
    return list(db.session.scalars(query.order_by(model.position, model.id)))


def history(kind: str, uid: str) -> list[ItemChange]:
    """Every change of this item, across the plan's versions, newest first."""
    return list(
        db.session.scalars(
            select(ItemChange)
            .where(ItemChange.item_kind == kind, ItemChange.item_uid == uid)
            .order_by(ItemChange.seq.desc())
        )
    )


# --- live events: notify, then pull ----------------------------------------------------------


def list_key(item: PlanItem) -> int:
    """Which list an item sits in: its parent's id, or its version's for axes."""
    return item.parent.id if item.PARENT else item.plan_version_id


def _event_of(item: PlanItem, change: ItemChange, actor: User | None, *, added: bool = False):
    """What `_announce` will tell, read before the commit: afterwards every attribute is
    expired, and reading one opens a transaction. On SQLite that waits for the write lock,
    and a timeout there answered 500 for a save already stored, which no page then heard of
    (tests/security/test_no_lost_update.py found it)."""
    name = f"added-{item.KIND}-{list_key(item)}" if added else f"item-{item.KIND}-{item.id}"
    data = {"kind": item.KIND, "item": item.id, "version": item.version,
            "by": actor.full_name if actor else "", "action": change.action}  # fmt: skip
    return item.plan_version.plan.contract_id, name, data, change.seq


def _announce(event) -> None:
    """After the commit: tell the contract's open pages (ids only, never text)."""
    from app.live import publish

    contract_id, name, data, seq = event
    publish(contract_id, name, data, event_id=seq)


def backlog_events(contract, since: int) -> list:
    """One event per item changed after `since` (a reconnecting page catches up)."""
    from app.live.bus import LiveEvent
    from app.plan.models import Plan

    plan = db.session.scalar(select(Plan).where(Plan.contract_id == contract.id))
    changes = db.session.scalars(
        select(ItemChange).where(ItemChange.plan_id == plan.id, ItemChange.seq > since)
        .order_by(ItemChange.seq)
    )  # fmt: skip
    latest: dict[tuple[str, int], tuple[ItemChange, bool]] = {}
    for change in changes:
        key = (change.item_kind, change.item_id)
        created = change.action in ("creation", "copie") or latest.get(key, (None, False))[1]
        latest[key] = (change, created)
    events = []
    for (kind, item_id), (change, created) in sorted(latest.items(), key=lambda kv: kv[1][0].seq):
        item = db.session.get(ITEM_MODELS[kind], item_id)
        if created and item is None:
            continue  # born and gone while the page was away
        name = f"added-{kind}-{list_key(item)}" if created else f"item-{kind}-{item_id}"
        events.append(LiveEvent(name, {"kind": kind, "item": item_id,
                                       "version": change.item_version}, change.seq))  # fmt: skip
    return events


# --- writing helpers (no commit) -----------------------------------------------------------


def _require_draft(version: PlanVersion) -> None:
    from app.plan.versions import locked_by_change

    if not version.is_draft:
        raise PlanFrozen()
    if locked_by_change(version):
        raise PlanFrozen(
            _l("Ce projet est soumis dans une demande de modification : il ne change plus, sauf "
               "si la demande repasse en brouillon.")
        )  # fmt: skip


def _next_seq(plan_id: int) -> int:
    """Bump the plan's change counter; the row lock it takes orders writers until commit."""
    return db.session.execute(
        update(Plan).where(Plan.id == plan_id).values(seq=Plan.seq + 1).returning(Plan.seq)
    ).scalar_one()


def record_change(item: PlanItem, action: str, actor: User | None, changes: dict) -> ItemChange:
    version = item.plan_version
    change = ItemChange(
        plan_id=version.plan_id,
        seq=_next_seq(version.plan_id),
        plan_version_id=version.id,
        item_kind=item.KIND,
        item_uid=item.uid,
        item_id=item.id,
        item_version=item.version,
        action=action,
        actor_id=actor.id if actor else None,
        changes=changes,
        snapshot=item.values(),
    )
    db.session.add(change)
    audit.record(
        f"plan.{item.KIND}.{action}",
        actor=actor,
        contract_id=version.plan.contract_id,
        object_type=item.KIND,
        object_id=item.uid,
        before={f: before for f, (before, _after) in changes.items()} or None,
        after={f: after for f, (_before, after) in changes.items()} or None,
    )
    return change


def _count_siblings(model, version: PlanVersion, parent) -> int:
    query = select(func.count()).select_from(model).where(model.plan_version_id == version.id)
    if model.PARENT:
        query = query.where(getattr(model, f"{model.PARENT}_id") == parent.id)
    return db.session.scalar(query)


def siblings(item: PlanItem) -> list[PlanItem]:
    model = type(item)
    query = select(model).where(model.plan_version_id == item.plan_version_id)
    if item.PARENT:
        parent_column = getattr(model, f"{item.PARENT}_id")
        query = query.where(parent_column == getattr(item, f"{item.PARENT}_id"))
    return list(db.session.scalars(query.order_by(model.position, model.id)))


def add_item(version: PlanVersion, kind: str, values: dict, *, parent=None, actor) -> PlanItem:
    """Create an item at the end of its list, without committing."""
    return _add_item(version, kind, values, parent=parent, actor=actor)[0]


def _add_item(version, kind, values, *, parent, actor) -> tuple[PlanItem, ItemChange]:
    _require_draft(version)
    model = ITEM_MODELS[kind]
    position = _count_siblings(model, version, parent)
    item = model(plan_version=version, updated_by=actor, updated_at=utcnow(), position=position)
    if model.PARENT:
        setattr(item, model.PARENT, parent)
    for name in model.FIELDS:
        if name in values:
            setattr(item, name, normalize(values[name]))
    db.session.add(item)
    db.session.flush()
    change = record_change(
        item,
        "creation",
        actor,
        {f: [None, v] for f, v in item.values().items() if v not in ("", None, [])},
    )
    return item, change


# --- the services views call ---------------------------------------------------------------


def create_item(version: PlanVersion, kind: str, values: dict, *, parent=None, actor) -> PlanItem:
    item, change = _add_item(version, kind, values, parent=parent, actor=actor)
    event = _event_of(item, change, actor, added=True)
    db.session.commit()
    _announce(event)
    return item


def update_item(
    item: PlanItem, posted: dict, *, base_version: int, actor: User
) -> tuple[PlanItem, list[str]]:
    """Save what the user posted on top of `base_version`; return the item and the fields
    someone else had changed meanwhile and that were kept (the merge the user is told of)."""
    kind, item_id = item.KIND, item.id
    posted = {name: normalize(value) for name, value in posted.items() if name in item.FIELDS}
    for _attempt in range(MAX_MERGE_ATTEMPTS):
        item = db.session.get(ITEM_MODELS[kind], item_id, populate_existing=True)
        if item is None:
            raise ItemGone(kind)
        _require_draft(item.plan_version)
        base = snapshot_at(item, base_version)
        if base is None:
            raise ItemGone(kind)
        current = item.values()
        mine = {f for f, v in posted.items() if to_json(v) != base.get(f)}
        theirs = {f for f in item.FIELDS if current[f] != base.get(f)}
        clash = sorted(f for f in mine & theirs if to_json(posted[f]) != current[f])
        if clash:
            last = {f: _last_change_of(item, base_version, f) for f in clash}
            db.session.rollback()
            raise EditConflict(item, posted=posted, fields=clash, base=base, last_changes=last)
        to_apply = {f: posted[f] for f in mine if to_json(posted[f]) != current[f]}
        merged = sorted(theirs - mine)
        if not to_apply:
            db.session.rollback()
            return item, merged
        for name, value in to_apply.items():
            setattr(item, name, value)
        item.updated_by, item.updated_at = actor, utcnow()
        try:
            db.session.flush()  # UPDATE … WHERE version = <loaded>: fails if someone saved first
        except StaleDataError:
            db.session.rollback()
            continue  # merge again against what they saved
        change = record_change(
            item, "modification", actor, {f: [current[f], to_json(v)] for f, v in to_apply.items()}
        )
        event = _event_of(item, change, actor)
        db.session.commit()
        _announce(event)
        return item, merged
    raise EditConflict(item, posted=posted, fields=sorted(posted), base={}, last_changes={})


def _last_change_of(item: PlanItem, since: int, field: str) -> ItemChange | None:
    for change in reversed(changes_since(item, since)):
        if field in change.changes:
            return change
    return None


def delete_item(item: PlanItem, *, base_version: int, actor: User) -> None:
    """Delete an item (and what hangs under it) if nobody changed it since the user saw it."""
    _require_draft(item.plan_version)
    if item.version != base_version:
        later = changes_since(item, base_version)
        raise StaleDelete(item, later[-1] if later else None)
    change = record_change(
        item, "suppression", actor, {f: [v, None] for f, v in item.values().items()}
    )
    contract_id, name = item.plan_version.plan.contract_id, f"item-{item.KIND}-{item.id}"
    event = {"kind": item.KIND, "item": item.id, "version": item.version, "action": "suppression",
             "by": actor.full_name}  # fmt: skip
    db.session.delete(item)
    db.session.flush()
    for position, sibling in enumerate(s for s in siblings(item) if s.id != item.id):
        sibling.position = position
    seq = change.seq
    db.session.commit()
    from app.live import publish

    publish(contract_id, name, event, event_id=seq)


def move_item(item: PlanItem, offset: int, *, actor: User) -> PlanItem:
    """Move an item up (-1) or down (+1) among its siblings."""
    _require_draft(item.plan_version)
    ordered = siblings(item)
    index = next(i for i, s in enumerate(ordered) if s.id == item.id)
    target = index + offset
    if not 0 <= target < len(ordered):
        return item
    ordered.insert(target, ordered.pop(index))
    for position, sibling in enumerate(ordered):
        if sibling.position != position:
            # Position is not a merged field: a move never conflicts with a text edit.
            db.session.execute(
                update(type(sibling))
                .where(type(sibling).id == sibling.id)
                .values(position=position)
                .execution_options(synchronize_session="fetch")
            )
    db.session.refresh(item)
    record_change(item, "deplacement", actor, {"position": [index + 1, target + 1]})
    db.session.commit()
    return item


def axes_of(version: PlanVersion) -> list[Axis]:
    return list(
        db.session.scalars(
            select(Axis).where(Axis.plan_version_id == version.id).order_by(Axis.position, Axis.id)
        )
    )


def gain_sharing_of(version: PlanVersion) -> GainSharing | None:
    return db.session.scalar(_gain_sharing_of(), {"version_id": version.id})


@built_once
def _gain_sharing_of():
    return select(GainSharing).where(GainSharing.plan_version_id == bindparam("version_id"))


def objectives_of(version: PlanVersion) -> list[Objective]:
    return [objective for axis in axes_of(version) for objective in axis.objectives]
