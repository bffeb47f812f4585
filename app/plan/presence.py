"""Who is editing which plan item, for the marker on cards (presence rides the live bus)."""

from __future__ import annotations

from app.live import live, publish


def item_key(item) -> str:
    return f"{item.KIND}-{item.id}"


def _contract_id(item) -> int:
    return item.plan_version.plan.contract_id


def start_editing(item, user, side: str, *, announce: bool = True) -> None:
    entry = f"edition:{user.id}:{item_key(item)}"
    live().presence.touch(_contract_id(item), entry, user_id=user.id, name=user.full_name,
                          side=side, editing=item_key(item))  # fmt: skip
    if announce:
        _announce(item)


def stop_editing(item, user, *, announce: bool = True) -> None:
    """`announce=False` when the caller's own change already tells the item's viewers."""
    live().presence.leave(_contract_id(item), f"edition:{user.id}:{item_key(item)}")
    if announce:
        _announce(item)
    else:
        publish(_contract_id(item), "presence", {})


def _announce(item) -> None:
    publish(_contract_id(item), f"item-{item_key(item)}", {"kind": item.KIND, "item": item.id,
                                                           "presence": True})  # fmt: skip
    publish(_contract_id(item), "presence", {})


def editors_of(item, viewer) -> list[dict]:
    return live().presence.editors_of(_contract_id(item), item_key(item), except_user=viewer.id)


def editing_map(contract_id: int, viewer) -> dict[str, list[dict]]:
    """item key -> the other people editing it, for a whole page at once."""
    result: dict[str, list[dict]] = {}
    for person in live().presence.present(contract_id):
        if person["user_id"] == viewer.id:
            continue
        for key in person["editing"]:
            result.setdefault(key, []).append(person)
    return result


def card_state(item, viewer) -> str:
    """What a card shows: its version and who else edits it (« 5;12.14 »)."""
    ids = ".".join(str(p["user_id"]) for p in editors_of(item, viewer))
    return f"{item.version};{ids}"
