"""Catalogue 8: a member removed while their page and its live stream are open loses both at
once: the next request answers 404, and the stream ends within one heartbeat, even while
events keep flowing (SECURITY.md catalogue 8; ASVS 8.3.2, 7.4.2)."""

import json
import threading
import time

import pytest
from sqlalchemy import delete

from app.contracts.models import Membership
from app.extensions import db
from app.live import publish
from tests.helpers import logged_in_client

HEARTBEAT = 0.5


@pytest.fixture
def app_config():
    return {"LIVE_KEEPALIVE_SECONDS": HEARTBEAT}


def test_membership_revocation_immediate(app, world, draft):
    contract_id, action_id = world.contract.id, draft.action.id
    viewer = logged_in_client(app, world.supplier_contributor)
    assert viewer.get(f"/contrats/{contract_id}/plan/").status_code == 200  # the open page
    stream = viewer.get(f"/contrats/{contract_id}/direct/?page=plan", buffered=False)
    assert stream.status_code == 200

    received, ended = [], threading.Event()

    def read():
        for chunk in stream.response:
            received.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
        ended.set()

    stop_editing = threading.Event()

    def busy_plan():
        """Someone saves every 50 ms: the stream is never idle, its heartbeat must still come."""
        version = 1
        while not stop_editing.is_set():
            version += 1
            with app.app_context():
                publish(contract_id, f"item-action-{action_id}",
                        {"kind": "action", "item": action_id, "version": version, "by": "Claire",
                         "action": "modification"}, event_id=version)  # fmt: skip
            time.sleep(0.05)

    reader = threading.Thread(target=read, daemon=True)
    editor = threading.Thread(target=busy_plan, daemon=True)
    reader.start()
    editor.start()
    try:
        time.sleep(3 * HEARTBEAT)  # several heartbeats pass while events flow: still a member
        assert not ended.is_set()
        db.session.execute(
            delete(Membership).where(Membership.user_id == world.supplier_contributor.id,
                                     Membership.contract_id == contract_id)
        )  # fmt: skip
        db.session.commit()
        removed = time.monotonic()
        # Within one heartbeat (plus one wait of the queue, 1 s at most, and a noisy machine).
        assert ended.wait(HEARTBEAT + 1.0 + 1.5), "le flux reste ouvert après le retrait"
        closed_after = time.monotonic() - removed
    finally:
        stop_editing.set()
        editor.join(5)
        if not ended.is_set():
            app.extensions["live"].bus.kick()
            reader.join(5)
    assert closed_after < HEARTBEAT + 2.5

    # What reached the stream carried ids, never content.
    body = "".join(received)
    payloads = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert payloads, body[:500]
    assert all(set(p) <= {"kind", "item", "version", "by", "action", "user", "presence"}
               for p in payloads)  # fmt: skip

    # The page's next requests, whatever they are: 404, as for any stranger to the contract.
    for path in (f"/contrats/{contract_id}/plan/", f"/contrats/{contract_id}/",
                 f"/contrats/{contract_id}/plan/action/{action_id}",
                 f"/contrats/{contract_id}/direct/presence",
                 f"/contrats/{contract_id}/direct/?page=plan"):  # fmt: skip
        response = viewer.get(path, headers={"HX-Request": "true"}, buffered=False)
        assert response.status_code == 404, path
        response.close()
