"""The contract stream: authorised, replays what a page missed, ends when access ends."""

import threading
import time

import pytest
from sqlalchemy import delete

from app.contracts.models import Membership
from app.extensions import db
from app.plan import services as items
from tests.helpers import logged_in_client


@pytest.fixture
def app_config():
    return {"LIVE_KEEPALIVE_SECONDS": 0.2}


def read_events(app, response, count, timeout=5):
    """The first `count` SSE event names of a streaming response, read in a thread so that a
    missing event fails the test instead of hanging it."""
    names = []

    def read():
        buffer = ""
        for chunk in response.response:
            buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                names.extend(line[7:] for line in block.splitlines() if line.startswith("event: "))
            if len(names) >= count:
                return

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        app.extensions["live"].bus.kick()  # end the stream so the reader returns
        reader.join(5)
    response.close()
    return names


def test_an_edit_reaches_an_open_stream_as_an_id_without_text(app, world, draft):
    viewer = logged_in_client(app, world.supplier_lead)
    response = viewer.get(f"/contrats/{world.contract.id}/direct/", buffered=False)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-store"
    action_id, user_id = draft.action.id, world.buyer_lead.id
    db.session.commit()
    threading.Timer(0.3, _edit, args=(app, action_id, user_id)).start()
    names = read_events(app, response, 2)
    assert f"item-action-{draft.action.id}" in names


def _edit(app, action_id, user_id):
    from app.auth.models import User
    from app.plan.models import Action

    with app.app_context():
        action = db.session.get(Action, action_id)
        items.update_item(action, {"title": "Titre secret"}, base_version=action.version,
                          actor=db.session.get(User, user_id))  # fmt: skip
        db.session.remove()


def test_a_reconnecting_page_gets_what_it_missed(app, world, draft):
    from app.plan.versions import plan_of

    since = plan_of(world.contract).seq
    items.update_item(draft.action, {"title": "Pendant la coupure"},
                      base_version=draft.action.version, actor=world.buyer_lead)  # fmt: skip
    items.create_item(draft.version, "action", {"title": "Nouvelle"}, parent=draft.objective,
                      actor=world.buyer_lead)  # fmt: skip
    viewer = logged_in_client(app, world.supplier_lead)
    response = viewer.get(f"/contrats/{world.contract.id}/direct/",
                          headers={"Last-Event-ID": str(since)}, buffered=False)  # fmt: skip
    names = read_events(app, response, 2)
    assert names[:2] == [f"item-action-{draft.action.id}", f"added-action-{draft.objective.id}"]


def test_a_removed_member_loses_the_stream_at_the_next_keepalive(app, world, draft):
    viewer = logged_in_client(app, world.supplier_contributor)
    response = viewer.get(f"/contrats/{world.contract.id}/direct/", buffered=False)
    db.session.execute(
        delete(Membership).where(Membership.user_id == world.supplier_contributor.id)
    )
    db.session.commit()
    started = time.monotonic()
    body = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode()
                    for chunk in response.response)  # fmt: skip
    assert time.monotonic() - started < 3  # ended by itself at the next keepalive
    assert body.count(b"keepalive") <= 1
    assert viewer.get(f"/contrats/{world.contract.id}/").status_code == 404


def test_one_person_cannot_open_more_than_the_cap_of_streams(app, world):
    viewer = logged_in_client(app, world.observer)
    cap = app.config["LIVE_MAX_STREAMS_PER_USER"]
    opened = [
        viewer.get(f"/contrats/{world.contract.id}/direct/", buffered=False) for _ in range(cap)
    ]
    assert all(r.status_code == 200 for r in opened)
    assert viewer.get(f"/contrats/{world.contract.id}/direct/", buffered=False).status_code == 429
    for response in opened:
        response.close()


def test_logging_out_elsewhere_ends_the_stream(app, world):
    viewer = logged_in_client(app, world.buyer_contributor)
    response = viewer.get(f"/contrats/{world.contract.id}/direct/", buffered=False)
    viewer.post("/compte/deconnexion-partout")
    started = time.monotonic()
    b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in response.response)
    assert time.monotonic() - started < 3
