"""SECURITY.md catalogue 7, test_list_detail_consistency: a list shows exactly what its reader
may open (ASVS 8.2.2; Discourse's `can_see` consistency check).

For each role of the stage (conftest.ROLES) and each list page (« Mes marchés » and its
search, each contract's dashboard, indicators, difficulties, reviews, change requests and
planning, the notifications, the agenda), the links to detail pages the list renders, on every
page or chunk of it, are compared with what that same person may open: every object of the
stage of that kind, each one's detail page requested in turn (200 or not). The two must be
equal, within what the list promises to show (SELECTION: « the coming reviews », « the
pending change requests »…). So a list that shows what its detail page refuses (a leak) fails,
and so does a list that hides what the person may open (a lookup that finds more than the list,
or a list that forgot a case).

The stage gets a third contract for part of contract A's people (plan still in draft, a late
action, a cancelled review…) and, in A, an indicator and an action that exist only in the
change request's draft; it runs with one portfolio line per page and one planning row per
chunk, so that the pagination of both is followed too."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.changes.models import PENDING, ChangeRequest
from app.contracts.models import Contract, Membership
from app.difficulties import services as difficulties
from app.difficulties.deadlines import today_in_paris
from app.difficulties.models import Difficulty
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import LIST_LENGTH
from app.organisations.models import Organisation
from app.plan import services as items
from app.plan import versions
from app.plan.models import Action, Indicator, Objective, Plan, PlanVersion
from app.reviews import services as reviews
from app.reviews.models import Review
from tests import factories
from tests.security.conftest import ROLES

THIRD = "2027-0311"  # the third contract's reference
SEARCHES = (
    "2025-0142",  # contract A's reference
    "2026-0057",  # contract B's
    "rhône",  # a party of A and C (Textiles Rhône SAS), and one of B (Jardins du Rhône SCOP)
    "TEXTILES",  # the case does not matter
    "nettoyage",  # the third contract's object
    "%",  # a LIKE wildcard, matched as itself: nothing
    "_",
    "rien-de-tel",
)


@pytest.fixture(scope="module")
def stage_config():
    return {"PORTFOLIO_PAGE": 1, "SCHEDULE_CHUNK": 1}


@pytest.fixture(scope="module")
def more_objects(stage):
    """The objects the lists are tried on, beyond the stage's own, kept in this module's stage
    baseline (its fingerprint is taken again)."""
    with stage.app.app_context():
        stage.ensure_baseline()
        people = {
            role: db.session.get(User, user_id) for role, (user_id, _) in stage.people.items()
        }
        buyer, supplier = (db.session.get(Organisation, i) for i in (
            stage.own.buyer_organisation_id, stage.own.supplier_organisation_id))  # fmt: skip
        third = factories.make_contract(buyer, supplier, THIRD, object="Nettoyage des locaux")
        for role, side, kind in (("buyer_lead", "acheteur", "referent"),
                                 ("observer", "acheteur", "observateur"),
                                 ("supplier_lead", "titulaire", "referent"),
                                 ("supplier_contributor", "titulaire", "contributeur")):  # fmt: skip
            factories.add_member(third, people[role], side, kind)
        lead = people["buyer_lead"]
        draft = versions.working_version(versions.plan_of(third))
        axis = items.create_item(
            draft, "axe", {"kind": "technique", "title": "Insertion"}, actor=lead
        )
        objective = items.create_item(draft, "objectif", {"title": "Heures d'insertion"},
                                      parent=axis, actor=lead)  # fmt: skip
        for name in ("Heures réalisées", "Personnes accompagnées"):
            items.create_item(draft, "indicateur", {"name": name, "unit": "h"},
                              parent=objective, actor=lead)  # fmt: skip
        for title, end in (("Recruter", date(2026, 3, 31)), ("Former", date(2030, 6, 30)),
                           ("Évaluer", date(2030, 12, 31))):  # fmt: skip
            items.create_item(draft, "action", {"title": title, "planned_start": date(2026, 1, 5),
                                                "planned_end": end}, parent=objective, actor=lead)  # fmt: skip
        buyer_in_third = db.session.scalar(select(Membership).where(
            Membership.contract_id == third.id, Membership.user_id == lead.id))  # fmt: skip
        difficulties.raise_difficulty(third, buyer_in_third, {
            "title": "Badges", "category": "organisationnel", "severity": "faible"})  # fmt: skip
        soon = date.today() + timedelta(days=20)
        for day in (soon, soon + timedelta(days=30)):
            reviews.schedule_review(third, buyer_in_third, kind="comite_pilotage", day=day,
                                    at=time(10, 0), duration_minutes=60, place="Salle 1",
                                    member_ids=[lead.id])  # fmt: skip
        cancelled = reviews.schedule_review(third, buyer_in_third, kind="rendez_vous",
                                            day=soon - timedelta(days=5), at=time(9, 0),
                                            duration_minutes=30, place="Visio", member_ids=[lead.id])  # fmt: skip
        reviews.cancel_review(cancelled, buyer_in_third, "Reportée.")
        # The supplier's contributor leaves the third contract: its notifications stay in the
        # database, but neither the list nor « open » may show them any more.
        db.session.delete(db.session.scalar(select(Membership).where(
            Membership.contract_id == third.id,
            Membership.user_id == people["supplier_contributor"].id)))  # fmt: skip
        # In A, an indicator and an action of the change request's draft only: not yet in force.
        own_draft = db.session.get(PlanVersion, stage.own.version_id)
        own_objective = db.session.get(Objective, stage.own.objective_id)
        items.create_item(own_draft, "indicateur", {"name": "Taux de brouillon", "unit": "%"},
                          parent=own_objective, actor=lead)  # fmt: skip
        items.create_item(own_draft, "action", {"title": "Action du projet"},
                          parent=own_objective, actor=lead)  # fmt: skip
        db.session.commit()
        third_id = third.id
        # This module's stage only: the objects above become part of what it restores to.
        stage._save_baseline()
        stage._baseline_rows = stage.rows()
        stage.baseline = stage.fingerprint()
        db.session.remove()
        return third_id


# --- what exists, and what each list promises to show -----------------------------------------


def _contract_of_version():
    return select(PlanVersion.id, Plan.contract_id).join(Plan, PlanVersion.plan_id == Plan.id)


def _uids(model, parent=None) -> set[tuple[int, str]]:
    """(contract id, uid) of every row of a plan item, whatever its version."""
    versions_ = dict(db.session.execute(_contract_of_version()).all())
    column = model.plan_version_id
    return {(versions_[v], uid) for uid, v in db.session.execute(select(model.uid, column))}


def known(kind: str) -> set[tuple[int, str]]:
    """Every object of the stage of this kind: (contract id, key)."""
    if kind == "contract":
        return {(i, str(i)) for i in db.session.scalars(select(Contract.id))}
    if kind in ("difficulty", "review", "change"):
        model = {"difficulty": Difficulty, "review": Review, "change": ChangeRequest}[kind]
        return {(c, str(i)) for i, c in db.session.execute(select(model.id, model.contract_id))}
    return _uids(Indicator if kind == "indicator" else Action)


DETAIL = {
    # kind: (the detail page's URL, the same as found in a list's links)
    "contract": ("/contrats/{c}/", re.compile(r"^/contrats/(\d+)/$")),
    "difficulty": ("/contrats/{c}/difficultes/{k}", re.compile(r"^/contrats/(\d+)/difficultes/(\d+)$")),
    "review": ("/contrats/{c}/revues/{k}/", re.compile(r"^/contrats/(\d+)/revues/(\d+)/$")),
    "change": ("/contrats/{c}/modifications/{k}/", re.compile(r"^/contrats/(\d+)/modifications/(\d+)/$")),
    "indicator": ("/contrats/{c}/indicateurs/{k}/", re.compile(r"^/contrats/(\d+)/indicateurs/([0-9a-f-]{36})/$")),
    "action": ("/contrats/{c}/planning/{k}/", re.compile(r"^/contrats/(\d+)/planning/([0-9a-f-]{36})/$")),
}  # fmt: skip


def _coming_reviews(now) -> set[tuple[int, str]]:
    """The agenda: reviews planned or in session, from 12 hours ago on (one is under way)."""
    return {(c, str(i)) for i, c in db.session.execute(
        select(Review.id, Review.contract_id).where(
            Review.status.in_(("planifiee", "en_seance")),
            Review.starts_at >= now - timedelta(hours=12)))}  # fmt: skip


def _next_review(contract_id: int, today: date) -> set[tuple[int, str]]:
    """The dashboard: the soonest review planned or in session from today on."""
    found = db.session.execute(
        select(Review.id).where(Review.contract_id == contract_id,
                                Review.status.in_(("planifiee", "en_seance")),
                                Review.starts_at >= datetime.combine(today, time.min, tzinfo=UTC))
        .order_by(Review.starts_at).limit(1)).scalar()  # fmt: skip
    return {(contract_id, str(found))} if found else set()


def _pending_changes(contract_id: int) -> set[tuple[int, str]]:
    return {(contract_id, str(i)) for i in db.session.scalars(select(ChangeRequest.id).where(
        ChangeRequest.contract_id == contract_id, ChangeRequest.status.in_(PENDING)))}  # fmt: skip


def _matching(search: str) -> set[tuple[int, str]]:
    """« Mes marchés » searched: the reference, the object or a party's name contains the words
    (case aside)."""
    words = search.casefold()
    found = set()
    for contract in db.session.scalars(select(Contract)):
        names = (contract.reference, contract.object, contract.buyer.name, contract.supplier.name)
        if any(words in name.casefold() for name in names):
            found.add((contract.id, str(contract.id)))
    return found


@dataclass(frozen=True)
class ListPage:
    name: str
    path: str  # {c}: a contract's id
    kinds: tuple[str, ...]
    # (contract id or None) → the objects it promises, among those the person may open; None:
    # all of them (of the contract, for a contract's list).
    selection: object = None


def lists(contract_ids) -> list[tuple[ListPage, int | None]]:
    today = today_in_paris()
    pages = [(ListPage("Mes marchés", "/", ("contract",)), None)]
    for search in SEARCHES:
        pages.append((ListPage(f"Mes marchés ?q={search}", "/?" + urlencode({"q": search}),
                               ("contract",), lambda c, s=search: {"contract": _matching(s)}), None))  # fmt: skip
    pages.append((ListPage("agenda", "/agenda/", ("review",),
                           lambda c: {"review": _coming_reviews(datetime.now(UTC))}), None))  # fmt: skip
    for c in contract_ids:
        pages += [
            (ListPage("tableau de bord", "/contrats/{c}/tableau-de-bord/", ("indicator", "review", "change"),
                      lambda c: {"review": _next_review(c, today), "change": _pending_changes(c)}), c),
            (ListPage("indicateurs", "/contrats/{c}/indicateurs/", ("indicator",)), c),
            (ListPage("difficultés", "/contrats/{c}/difficultes/", ("difficulty",)), c),
            (ListPage("revues", "/contrats/{c}/revues/", ("review",)), c),
            (ListPage("modifications", "/contrats/{c}/modifications/", ("change",)), c),
            (ListPage("planning", "/contrats/{c}/planning/", ("action",)), c),
        ]  # fmt: skip
    return pages


# --- reading the pages ----------------------------------------------------------------------------

LINK = re.compile(r'\s(?:href|hx-get)="([^"]*)"')
NOTIFICATION = re.compile(r'<input type="hidden" name="notification" value="(\d+)">')


def _links(page: str) -> set[str]:
    return {html.unescape(value) for value in LINK.findall(page)}


def fetch_all(client, path: str) -> tuple[int, list[str]]:
    """The list's status and every page of it: the first, then each page or chunk it links to
    (« Page 2 », « Afficher les actions suivantes », the rows htmx loads as they scroll in)."""
    first = client.get(path)
    pages, seen, queue = [], {path}, []
    if first.status_code != 200:
        return first.status_code, []
    pages.append(first.get_data(as_text=True))
    base = urlsplit(path)
    while True:
        for link in _links(pages[-1]):
            parts = urlsplit(link)
            query = parse_qs(parts.query)
            if (parts.path or base.path) != base.path or not ({"page", "depuis"} & set(query)):
                continue
            if {k: v for k, v in query.items() if k not in ("page", "depuis")} != parse_qs(
                base.query
            ):
                continue  # another filter of the same list
            if link not in seen:
                seen.add(link)
                queue.append(link)
        if not queue:
            return 200, pages
        response = client.get(queue.pop(0))
        assert response.status_code == 200, f"a page of {path} → {response.status_code}"
        pages.append(response.get_data(as_text=True))


def rendered(pages: list[str], kind: str) -> set[tuple[int, str]]:
    pattern = DETAIL[kind][1]
    found = set()
    for page in pages:
        for link in _links(page):
            match = pattern.match(urlsplit(link).path) if not urlsplit(link).query else None
            if match:
                found.add((int(match[1]), match[2] if pattern.groups > 1 else match[1]))
    return found


def openable(client, kind: str) -> set[tuple[int, str]]:
    """What of the stage this person may open: each object's detail page, one request each."""
    url = DETAIL[kind][0]
    return {
        (c, k) for c, k in sorted(known(kind))
        if client.get(url.format(c=c, k=k)).status_code == 200
    }  # fmt: skip


# --- the notifications: opened through a POST that leads to what they are about --------------


def notifications_openable(stage, client, role: str) -> list[int]:
    """The person's own notifications and three of someone else's, each opened: it is theirs
    when it leads to its page (not back to the list) and that page answers."""
    user_id = stage.people[role][0] if role != "anonymous" else None
    own = db.session.scalars(select(Notification.id).where(Notification.user_id == user_id)).all()
    others = db.session.scalars(select(Notification.id).where(Notification.user_id != user_id)
                                .order_by(Notification.id).limit(3)).all()  # fmt: skip
    pages: dict[str, int] = {}
    found = []
    for notification_id in (*own, *others):
        response = client.post("/notifications/ouvrir", data={"notification": str(notification_id)})
        target = urlsplit(response.headers.get("Location", "")).path
        if response.status_code != 302 or target in ("/notifications/", "/connexion"):
            continue
        if target not in pages:
            pages[target] = client.get(target).status_code
        if pages[target] == 200:
            found.append(notification_id)
    return found


# --- the test -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_list_detail_consistency(more_objects, on_stage, role):
    stage = on_stage
    client = stage.client(role)
    contract_ids = sorted(db.session.scalars(select(Contract.id)))
    may_open = {kind: openable(client, kind) for kind in DETAIL}
    served = 0
    for page, contract_id in lists(contract_ids):
        path = page.path.format(c=contract_id)
        status, pages = fetch_all(client, path)
        promised = page.selection(contract_id) if page.selection else {}
        for kind in page.kinds:
            expected = {o for o in may_open[kind] if contract_id in (None, o[0])}
            if kind in promised:
                expected &= promised[kind]
            shown = rendered(pages, kind)
            where = f"{role} on {page.name} ({path} → {status}), {kind}"
            assert shown - may_open[kind] == set(), f"shown but not openable: {where}"
            assert expected - shown == set(), f"openable but not shown: {where}"
            assert shown == expected, where
            served += bool(shown)

    if role == "anonymous":
        assert fetch_all(client, "/notifications/")[0] == 302
        return
    status, pages = fetch_all(client, "/notifications/")
    assert status == 200
    shown = [int(n) for n in NOTIFICATION.findall("".join(pages))]
    mine = notifications_openable(stage, client, role)
    latest = db.session.scalars(
        select(Notification.id).where(Notification.id.in_(mine))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(LIST_LENGTH)
    ).all()  # fmt: skip
    assert shown == list(latest), (
        f"{role}: the notifications shown are not the latest they may open"
    )

    # The positive control: the stage gives each member something to see in each of its lists.
    if role in ("buyer_lead", "supplier_lead", "observer"):
        assert served >= 20 and mine, (role, served)
    elif role != "admin":
        assert served >= 8 and mine, (role, served)


def test_the_stage_has_objects_a_list_must_leave_out(more_objects, on_stage):
    """Without them, « shown == openable » could hold by accident: items of a draft not in
    force, a cancelled review, settled change requests, a search wildcard."""
    stage = on_stage
    buyer = stage.client("buyer_lead")
    own = stage.own.contract_id
    for kind in ("indicator", "action"):
        assert openable(buyer, kind) < {o for o in known(kind) if o[0] in (own, more_objects)}
    coming = _coming_reviews(datetime.now(UTC))
    third = {o for o in known("review") if o[0] == more_objects}
    assert len(third - coming) == 1 and len(_next_review(more_objects, today_in_paris())) == 1
    assert {o for o in known("change") if o[0] == own} - _pending_changes(own)
    assert len(_matching("rhône")) == 3 and _matching("%") == set()
    left = stage.people["supplier_contributor"][0]
    assert db.session.scalar(select(Notification.id).where(
        Notification.user_id == left, Notification.contract_id == more_objects))  # fmt: skip
