"""The bell, the list, preferences, the digest and the live events of difficulties."""

import threading

import pytest
from sqlalchemy import delete, select

from app.contracts.models import Membership
from app.extensions import db
from app.notifications import services
from app.notifications.models import Notification
from tests.difficulties.conftest import membership_of
from tests.difficulties.conftest import raise_one as raise_one
from tests.helpers import emails_to, logged_in_client, page_text, statements_run
from tests.live.test_stream import read_events


@pytest.fixture
def app_config(tmp_path):
    return {"LIVE_KEEPALIVE_SECONDS": 0.2, "UPLOAD_FOLDER": str(tmp_path)}


def test_the_bell_counts_and_the_list_opens_and_marks_read(app, world, raise_one):
    difficulty = raise_one()
    buyer = logged_in_client(app, world.buyer_lead)
    home = buyer.get("/").get_data(as_text=True)
    assert 'data-count="1"' in home and " non lue</span>" in home
    listing = page_text(buyer.get("/notifications/"))
    assert "signale la difficulté n° 1" in listing
    notification = db.session.scalar(
        select(Notification).where(Notification.user_id == world.buyer_lead.id)
    )
    opened = buyer.post("/notifications/ouvrir", data={"notification": notification.id})
    assert opened.status_code == 302
    assert (
        opened.headers["Location"] == f"/contrats/{world.contract.id}/difficultes/{difficulty.id}"
    )
    assert 'data-count="0"' in buyer.get("/notifications/cloche").get_data(as_text=True)
    # someone else's notification cannot be opened
    other = db.session.scalar(
        select(Notification).where(Notification.user_id == world.supplier_contributor.id)
    )
    refused = buyer.post("/notifications/ouvrir", data={"notification": other.id})
    assert refused.headers["Location"] == "/notifications/"
    assert other.read_at is None


def test_a_page_reads_the_session_membership_and_bell_in_one_query(app, world, raise_one):
    """On a read request the session, the membership of the page's contract and the bell's
    count come in one statement (auth.services.resume_session_for_page), and stay right."""
    raise_one()
    buyer = logged_in_client(app, world.buyer_lead)
    plan_page = f"/contrats/{world.contract.id}/plan/"
    with statements_run() as statements:
        page = buyer.get(plan_page)
    assert page.status_code == 200 and 'data-count="1"' in page.get_data(as_text=True)
    selects = [s for s in statements if s.startswith("SELECT")]
    assert "FROM user_session" in selects[0]
    assert "JOIN membership" in selects[0] and "FROM notification" in selects[0]
    assert not any("membership" in s or "notification" in s for s in selects[1:])
    assert 'data-count="1"' in buyer.get("/").get_data(as_text=True)  # off a contract too
    # A stranger to the contract still gets a 404 from what was read with the session.
    outsider = logged_in_client(app, world.outsider)
    assert outsider.get(f"/contrats/{world.contract.id}/").status_code == 404


def test_mark_all_read(app, world, raise_one):
    raise_one()
    raise_one(title="Deuxième")
    buyer = logged_in_client(app, world.buyer_lead)
    assert services.unread_count(world.buyer_lead) == 2
    assert buyer.post("/notifications/tout-lu").status_code == 302
    assert services.unread_count(world.buyer_lead) == 0
    assert services.unread_count(world.buyer_contributor) == 2  # only mine


def test_a_former_member_no_longer_sees_the_contracts_notifications(app, world, raise_one):
    raise_one()
    db.session.execute(delete(Membership).where(Membership.user_id == world.buyer_lead.id))
    db.session.commit()
    assert services.unread_count(world.buyer_lead) == 0
    assert "signale" not in page_text(
        logged_in_client(app, world.buyer_lead).get("/notifications/")
    )


def test_preferences_choose_immediate_digest_or_none(app, world, raise_one):
    buyer = logged_in_client(app, world.buyer_lead)
    page = page_text(buyer.get("/notifications/preferences"))
    assert "Nouvelle difficulté signalée" in page and "Résumé quotidien" in page
    bad = buyer.post("/notifications/preferences", data={"mode-difficulte_signalee": "pigeon"})
    assert bad.status_code == 422 and "Choisissez une des options" in page_text(bad)
    posted = {f"mode-{kind}": "quotidien" for kind in services.KINDS}
    assert buyer.post("/notifications/preferences", data=posted).status_code == 302
    raise_one()
    assert not emails_to(world.buyer_lead.email, "notification")  # waits for the digest
    assert emails_to(world.buyer_contributor.email, "notification")  # default: immediate
    assert services.send_digests() >= 1
    (digest,) = emails_to(world.buyer_lead.email, "resume")
    assert "signale la difficulté n° 1" in digest.body and "/difficultes/" in digest.body
    assert services.send_digests() == 0  # nothing twice
    buyer.post("/notifications/preferences", data={**posted, "mode-difficulte_signalee": "aucun"})
    raise_one(title="Encore une")
    services.send_digests()
    assert len(emails_to(world.buyer_lead.email, "resume")) == 1
    assert services.unread_count(world.buyer_lead) == 2  # still in the bell


def test_notifications_are_written_in_each_persons_language(app, world, raise_one):
    world.buyer_lead.locale = "en"
    db.session.commit()
    raise_one()
    english = db.session.scalar(
        select(Notification.text).where(Notification.user_id == world.buyer_lead.id)
    )
    french = db.session.scalar(
        select(Notification.text).where(Notification.user_id == world.buyer_contributor.id)
    )
    assert "reports difficulty no. 1" in english, english
    assert "signale la difficulté n° 1" in french


def _post_internal_then_shared(app, difficulty_id, user_id):
    from app.auth.models import User
    from app.difficulties import services as difficulties
    from app.difficulties.models import Difficulty

    with app.app_context():
        difficulty = db.session.get(Difficulty, difficulty_id)
        member = membership_of(db.session.get(User, user_id), difficulty.contract)
        difficulties.post_message(difficulty, member, "CANARY-A-BUYER-INTERNAL", internal=True)
        difficulties.post_message(difficulty, member, "Message partagé", internal=False)
        db.session.remove()


def test_internal_notes_never_cross_live(app, world, raise_one):
    """SECURITY.md catalogue 5: the supplier's stream hears the shared message, not the note."""
    difficulty = raise_one()
    supplier = logged_in_client(app, world.supplier_lead)
    colleague = logged_in_client(app, world.buyer_contributor)
    seen = {}
    for name, client in (("supplier", supplier), ("buyer", colleague)):
        seen[name] = client.get(
            f"/contrats/{world.contract.id}/direct/?page=marche", buffered=False
        )
        assert seen[name].status_code == 200
    args = (app, difficulty.id, world.buyer_lead.id)
    db.session.commit()
    threading.Timer(0.3, _post_internal_then_shared, args=args).start()
    buyer_events = read_events(app, seen["buyer"], 2)
    supplier_events = read_events(app, seen["supplier"], 3, timeout=2)
    fil = f"fil-{difficulty.id}"
    assert buyer_events.count(fil) == 2
    # only the shared message: its thread event and the bell of the person who raised it
    assert sorted(supplier_events) == [fil, "notifications"]
    supplier_texts = db.session.scalars(
        select(Notification.text).where(Notification.user_id == world.supplier_lead.id)
    ).all()
    assert not [t for t in supplier_texts if "interne" in t]
    assert not [e for e in emails_to(world.supplier_lead.email) if "CANARY" in e.body]
