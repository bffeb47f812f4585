"""A plan item's thread: shared messages and internal notes, following the item across
versions, with mentions and the other side never seeing an internal note."""

from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Notification
from app.plan import tree, versions
from tests import factories
from tests.helpers import logged_in_client, page_text

HTMX = {"HX-Request": "true"}


def url(world, item, path="discussion"):
    return f"/contrats/{world.contract.id}/plan/{item.KIND}/{item.id}/{path}"


def test_a_thread_on_an_objective_with_an_internal_note(app, world, draft):
    buyer, supplier = (
        logged_in_client(app, world.buyer_lead),
        logged_in_client(app, world.supplier_lead),
    )
    shared = supplier.post(url(world, draft.objective), headers=HTMX,
                           data={"body": "@Claire, pouvons-nous viser 25 % la première année ?"})  # fmt: skip
    assert shared.status_code == 200 and "25 %" in page_text(shared)
    internal = buyer.post(url(world, draft.objective), headers=HTMX,
                          data={"body": "CANARY-NOTE-ACHETEUR : 25 % acceptable.", "internal": "y"})  # fmt: skip
    assert internal.status_code == 200 and "Note interne" in page_text(internal)
    seen_by_supplier = page_text(supplier.get(url(world, draft.objective)))
    assert "25 % la première année" in seen_by_supplier and "CANARY-NOTE" not in seen_by_supplier
    plan = page_text(supplier.get(f"/contrats/{world.contract.id}/plan/"))
    assert "Discussion (1)" in plan  # the other side's note is not even counted
    assert "Discussion (2)" in page_text(buyer.get(f"/contrats/{world.contract.id}/plan/"))
    texts = db.session.scalars(
        select(Notification.text).where(Notification.user_id == world.supplier_lead.id)
    ).all()
    assert not [t for t in texts if "CANARY" in t]
    empty = supplier.post(url(world, draft.objective), headers=HTMX, data={"body": " "})
    assert empty.status_code == 422 and "Écrivez votre message" in page_text(empty)
    assert logged_in_client(app, world.outsider).get(url(world, draft.objective)).status_code == 404


def test_the_thread_follows_the_item_into_the_next_version(app, world, draft):
    supplier = logged_in_client(app, world.supplier_lead)
    supplier.post(url(world, draft.objective), data={"body": "Message de la version 1"})
    for lead in (world.buyer_lead, world.supplier_lead):
        member = next(m for m in world.contract.memberships if m.user_id == lead.id)
        versions.give_visa(draft.version, member, factories.PASSWORD, lead)
    next_draft = versions.open_draft(
        versions.plan_of(world.contract), label="v2", actor=world.buyer_lead
    )
    db.session.commit()
    copy = next(
        o
        for axis in tree.axes_tree(next_draft)
        for o in axis.objectives
        if o.uid == draft.objective.uid
    )
    assert copy.id != draft.objective.id
    assert "Message de la version 1" in page_text(supplier.get(url(world, copy)))
