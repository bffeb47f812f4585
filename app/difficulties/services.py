"""The rules of a difficulty: who may raise it, move it, write in its thread, and who hears.

Every change goes through here, in one transaction: the difficulty, its history event, the
audit entry, the notifications and their e-mails (outbox), then the live events after the
commit. Views only parse input and render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.audit.services import record, text_digest
from app.auth.models import User
from app.contracts.models import Contract, Membership
from app.database import flush_or_conflict
from app.db_types import utcnow
from app.difficulties.deadlines import add_working_days, today_in_paris
from app.difficulties.models import (
    CATEGORIES,
    SEVERITIES,
    STATUSES,
    Difficulty,
    DifficultyEvent,
    DifficultyLink,
)
from app.difficulties.register import item_titles, side_label
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.live import channel, publish_after_commit
from app.notifications.services import notify
from app.permissions import Permission
from app.threads import services as threads
from app.threads.models import ThreadMessage

SUBJECT = "difficulte"
TITLE_MAX = 200
TEXT_MAX = 20_000


@dataclass(frozen=True)
class Transition:
    label: object  # the button
    sources: tuple[str, ...]
    target: str
    who: str  # « autre_partie »: the side that did not raise it; « tous »; « cloture »
    note: str = ""  # « requise » or « facultative »; empty: no note field
    note_label: object = ""


TRANSITIONS: dict[str, Transition] = {
    "prendre_en_compte": Transition(
        _l("Prendre en compte"), ("ouverte",), "prise_en_compte", "autre_partie", "facultative",
        _l("Réponse ou premières mesures (facultatif)")),
    "traiter": Transition(
        _l("Commencer le traitement"), ("prise_en_compte", "a_traiter_en_revue"), "en_cours", "tous"),
    "renvoyer_en_revue": Transition(
        _l("À traiter en revue"), ("prise_en_compte", "en_cours"), "a_traiter_en_revue", "tous",
        "facultative", _l("Pourquoi la renvoyer à la prochaine revue (facultatif)")),
    "resoudre": Transition(
        _l("Marquer résolue"), ("prise_en_compte", "en_cours", "a_traiter_en_revue"), "resolue",
        "tous", "requise", _l("La solution retenue")),
    "clore": Transition(_l("Clore"), ("resolue",), "close", "cloture"),
    "rouvrir": Transition(
        _l("Rouvrir"), ("resolue", "close"), "en_cours", "tous", "requise",
        _l("Pourquoi la rouvrir")),
}  # fmt: skip
EVENT_LABELS = {
    "signalement": _l("Signalée"),
    **{name: t.label for name, t in TRANSITIONS.items()},
}


# --- reading --------------------------------------------------------------------------------


def difficulty_in_contract(contract: Contract, difficulty_id: int) -> Difficulty | None:
    return db.session.scalar(
        select(Difficulty).where(Difficulty.id == difficulty_id,
                                 Difficulty.contract_id == contract.id)
    )  # fmt: skip


def thread(difficulty: Difficulty, membership: Membership) -> list[ThreadMessage]:
    return threads.messages(difficulty.contract_id, SUBJECT, difficulty.id, membership)


def members(contract: Contract, side: str | None = None) -> list[Membership]:
    query = select(Membership).where(Membership.contract_id == contract.id)
    if side:
        query = query.where(Membership.side == side)
    return db.session.scalars(query.options(selectinload(Membership.user))).all()


def _handlers(contract: Contract, side: str) -> list[User]:
    return [m.user for m in members(contract, side) if m.may(Permission.HANDLE_DIFFICULTIES)]


# --- who may do what -----------------------------------------------------------------------


def may(membership: Membership, difficulty: Difficulty, action: str) -> bool:
    transition = TRANSITIONS.get(action)
    if transition is None or difficulty.status not in transition.sources:
        return False
    if not membership.may(Permission.HANDLE_DIFFICULTIES):
        return False
    if transition.who == "autre_partie":
        return membership.side == difficulty.other_side
    if transition.who == "cloture":  # the side that raised it confirms, or a lead settles it
        return membership.side == difficulty.raised_by_side or membership.is_lead
    return True


def available_actions(membership: Membership, difficulty: Difficulty) -> list[str]:
    return [name for name in TRANSITIONS if may(membership, difficulty, name)]


# --- writing --------------------------------------------------------------------------------


def _clean(values: dict) -> dict:
    title = (values.get("title") or "").strip()
    errors = []
    if not title:
        errors.append(DomainError(_("Donnez un objet à la difficulté."), field="title"))
    elif len(title) > TITLE_MAX:
        errors.append(DomainError(_("L'objet tient en %(max)d caractères au plus.", max=TITLE_MAX), field="title"))  # fmt: skip
    if values.get("category") not in CATEGORIES:
        errors.append(DomainError(_("Choisissez une catégorie."), field="category"))
    if values.get("severity") not in SEVERITIES:
        errors.append(DomainError(_("Choisissez une gravité."), field="severity"))
    for name in ("description", "request"):
        if len(values.get(name) or "") > TEXT_MAX:
            errors.append(DomainError(_("Ce texte est trop long (%(max)d caractères au plus).", max=TEXT_MAX), field=name))  # fmt: skip
    if errors:
        raise errors[0]
    return {"title": title, "category": values["category"], "severity": values["severity"],
            "description": (values.get("description") or "").strip(),
            "request": (values.get("request") or "").strip()}  # fmt: skip


def _links(contract: Contract, uids: list[str]) -> list[DifficultyLink]:
    """Links to items of this contract's plan only: an id from elsewhere is refused."""
    known = item_titles(contract)
    links = []
    for uid in dict.fromkeys(uids):
        if uid not in known:
            raise DomainError(_("Un des éléments du plan choisis n'existe pas ou plus."), field="items")  # fmt: skip
        links.append(DifficultyLink(item_kind=known[uid][0], item_uid=uid))
    return links


def _path(difficulty: Difficulty) -> str:
    """The difficulty's page, from a request, a `flask` command or a test alike."""
    values = {"contract_id": difficulty.contract_id, "difficulty_id": difficulty.id}
    if has_request_context():
        return url_for("contract.difficulties.show", **values)
    with current_app.test_request_context():
        return url_for("contract.difficulties.show", **values)


def _event(difficulty, membership, action, source, target, note=""):
    """Append to the history without flushing the change before its version check."""
    with db.session.no_autoflush:
        _append_event(difficulty, membership, action, source, target, note)


def _append_event(difficulty, membership, action, source, target, note):
    difficulty.events.append(DifficultyEvent(
        actor_id=membership.user_id, actor_name=membership.user.full_name,
        actor_side=membership.side, action=action, from_status=source, to_status=target,
        note=note,
    ))  # fmt: skip


def _announce(difficulty: Difficulty) -> None:
    publish_after_commit(channel(difficulty.contract_id), "difficultes", {})
    publish_after_commit(channel(difficulty.contract_id), f"difficulte-{difficulty.id}", {})


def raise_difficulty(contract: Contract, membership: Membership, values: dict,
                     item_uids: list[str] = (), files=()) -> Difficulty:  # fmt: skip
    """Record a new difficulty with its links and files; notify every other member."""
    from app.attachments.services import store_upload

    if not membership.may(Permission.HANDLE_DIFFICULTIES):
        raise NotAllowed(_("Votre rôle ne permet pas de signaler une difficulté."))
    clean = _clean(values)
    links = _links(contract, list(item_uids))
    number = (db.session.scalar(
        select(func.max(Difficulty.number)).where(Difficulty.contract_id == contract.id)
    ) or 0) + 1  # fmt: skip
    raised_on = today_in_paris()
    difficulty = Difficulty(
        contract_id=contract.id, number=number, raised_by_id=membership.user_id,
        raised_by_side=membership.side, status="ouverte",
        response_due=add_working_days(raised_on, contract.difficulty_response_days),
        links=links, **clean,
    )  # fmt: skip
    for file in files:
        try:
            difficulty.attachments.append(store_upload(contract, file, membership.user))
        except DomainError as error:
            error.field = "files"  # shown next to the form's file input
            raise
    _event(difficulty, membership, "signalement", None, "ouverte")
    db.session.add(difficulty)
    try:
        db.session.flush()
    except IntegrityError as error:  # two difficulties numbered at once (PostgreSQL)
        db.session.rollback()
        raise Conflict(_("Une autre difficulté vient d'être enregistrée : envoyez à nouveau.")) from error  # fmt: skip
    record("difficulte.signalement", actor=membership.user, contract_id=contract.id,
           object_type="difficulte", object_id=difficulty.id,
           after={"numero": number, "objet": clean["title"], "categorie": clean["category"],
                  "gravite": clean["severity"], "pieces": [a.sha256 for a in difficulty.attachments]})  # fmt: skip
    _tell_and_commit(difficulty, membership, "difficulte_signalee",
                     lambda: _("%(who)s (%(side)s) signale la difficulté n° %(n)d : %(title)s",
                               who=membership.user.full_name, side=side_label(membership.side),
                               n=number, title=clean["title"]))  # fmt: skip
    return difficulty


def _tell_and_commit(difficulty: Difficulty, membership: Membership, kind: str, describe) -> None:
    """Notify every other member, tell the open pages after the commit, commit."""
    contract = difficulty.contract
    notify([m.user for m in members(contract)], contract, kind, describe, _path(difficulty),
           exclude=membership.user)  # fmt: skip
    _announce(difficulty)
    db.session.commit()


def apply_transition(difficulty: Difficulty, membership: Membership, action: str, *,
                     seen_version: int, note: str = "") -> Difficulty:  # fmt: skip
    """Move the difficulty one step, if this member may and nobody moved it meanwhile."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise DomainError(_("Cette action n'existe pas."))
    if difficulty.version != seen_version:
        raise Conflict(_("La difficulté a changé pendant que vous la consultiez (par exemple, quelqu'un l'a déjà prise en compte). Voici son état actuel : vérifiez avant d'agir."))  # fmt: skip
    if difficulty.status not in transition.sources:
        raise Conflict(_("Cette action n'est pas possible depuis l'état « %(status)s ».",
                         status=STATUSES[difficulty.status]))  # fmt: skip
    if not may(membership, difficulty, action):
        raise NotAllowed(_not_allowed_message(transition))
    note = (note or "").strip()
    if transition.note == "requise" and not note:
        raise DomainError(_("Ce champ est obligatoire : %(what)s.", what=transition.note_label), field="note")  # fmt: skip
    if len(note) > TEXT_MAX:
        raise DomainError(_("Ce texte est trop long (%(max)d caractères au plus).", max=TEXT_MAX), field="note")  # fmt: skip
    source, now = difficulty.status, utcnow()
    difficulty.status, difficulty.updated_at = transition.target, now
    if action == "prendre_en_compte":
        difficulty.acknowledged_at, difficulty.acknowledged_by_id = now, membership.user_id
    elif action == "resoudre":
        difficulty.resolution, difficulty.resolved_at = note, now
    elif action == "renvoyer_en_revue":
        difficulty.for_review_at = now
    elif action == "clore":
        difficulty.closed_at = now
    elif action == "rouvrir":
        difficulty.resolved_at = difficulty.closed_at = None
    _event(difficulty, membership, action, source, transition.target, note)
    # Someone else's step may have won the race since our read.
    flush_or_conflict(
        _("La difficulté vient d'être modifiée par quelqu'un d'autre : rechargez la page.")
    )
    record(f"difficulte.{action}", actor=membership.user, contract_id=difficulty.contract_id,
           object_type="difficulte", object_id=difficulty.id,
           before={"statut": source}, after={"statut": transition.target, "note": note})  # fmt: skip
    _tell_and_commit(difficulty, membership, "difficulte_suivi",
                     lambda: _("Difficulté n° %(n)d (%(title)s) : %(who)s l'a fait passer à « %(status)s ».",
                               n=difficulty.number, title=difficulty.title,
                               who=membership.user.full_name, status=STATUSES[transition.target]))  # fmt: skip
    return difficulty


def _not_allowed_message(transition: Transition) -> str:
    if transition.who == "autre_partie":
        return _("Seule l'autre partie peut prendre en compte une difficulté.")
    if transition.who == "cloture":
        return _("Seuls la partie qui a signalé la difficulté ou un référent peuvent la clore.")
    return _("Votre rôle ne permet pas de faire évoluer une difficulté.")


def post_message(difficulty: Difficulty, membership: Membership, body: str, *,
                 internal: bool) -> ThreadMessage:  # fmt: skip
    """A message to both sides, or an internal note to one's own side: only that side is told,
    its @mentions count, and its live event goes on the side's own channel."""
    if not membership.may(Permission.COMMENT):
        raise NotAllowed(_("Votre rôle ne permet pas d'écrire dans la discussion."))
    message = threads.add_message(difficulty.contract_id, SUBJECT, difficulty.id, membership,
                                  body, internal=internal)  # fmt: skip
    contract = difficulty.contract
    audience = members(contract, membership.side if internal else None)
    record("difficulte.message", actor=membership.user, contract_id=contract.id,
           object_type="message", object_id=message.id,
           after={"difficulte": difficulty.id, "visibilite": message.visibility,
                  "empreinte": text_digest(message.body)})  # fmt: skip
    mentioned = threads.mentioned(message.body, audience)
    who, n, title = membership.user.full_name, difficulty.number, difficulty.title
    notify(
        [m.user for m in mentioned], contract, "mention",
        (lambda: _("%(who)s vous mentionne dans une note interne sur la difficulté n° %(n)d : %(title)s", who=who, n=n, title=title))
        if internal else
        (lambda: _("%(who)s vous mentionne sur la difficulté n° %(n)d : %(title)s", who=who, n=n, title=title)),
        _path(difficulty), exclude=membership.user,
    )  # fmt: skip
    mentioned_ids = {m.user_id for m in mentioned}
    notify(
        [m.user for m in _participants(difficulty, audience) if m.user_id not in mentioned_ids],
        contract, "message",
        (lambda: _("%(who)s a ajouté une note interne sur la difficulté n° %(n)d : %(title)s", who=who, n=n, title=title))
        if internal else
        (lambda: _("%(who)s a écrit sur la difficulté n° %(n)d : %(title)s", who=who, n=n, title=title)),
        _path(difficulty), exclude=membership.user,
    )  # fmt: skip
    side = membership.side if internal else None
    publish_after_commit(channel(contract.id, side), f"fil-{difficulty.id}", {})
    db.session.commit()
    return message


def _participants(difficulty: Difficulty, audience: list[Membership]) -> list[Membership]:
    """Who follows a thread: the person who raised it, the one who acknowledged it, those who
    wrote in it (that they may read), and the leads."""
    writers = set(db.session.scalars(
        select(ThreadMessage.author_id).where(
            ThreadMessage.contract_id == difficulty.contract_id,
            ThreadMessage.subject_type == SUBJECT, ThreadMessage.subject_key == str(difficulty.id))
    ))  # fmt: skip
    keep = {difficulty.raised_by_id, difficulty.acknowledged_by_id, *writers}
    return [m for m in audience if m.user_id in keep or m.is_lead]


def send_reminders(today: date | None = None) -> int:
    """Remind the other side of each difficulty whose acknowledgement is overdue, once a day
    (cron-safe: a second run the same day sends nothing). Returns how many were reminded."""
    today = today or today_in_paris()
    overdue = db.session.scalars(
        select(Difficulty).where(
            Difficulty.status == "ouverte", Difficulty.response_due < today,
            (Difficulty.reminded_on.is_(None)) | (Difficulty.reminded_on < today))
        .with_for_update(skip_locked=True)
    ).all()  # fmt: skip
    for difficulty in overdue:
        days = (today - difficulty.response_due).days
        notify(
            _handlers(difficulty.contract, difficulty.other_side), difficulty.contract, "relance",
            lambda d=difficulty, days=days: _(
                "Relance : la difficulté n° %(n)d (%(title)s) attend sa prise en compte depuis le %(date)s (%(days)d jour(s) de retard).",
                n=d.number, title=d.title, date=d.response_due.strftime("%d/%m/%Y"), days=days),
            _path(difficulty),
        )  # fmt: skip
        difficulty.reminded_on = today
    db.session.commit()
    return len(overdue)
