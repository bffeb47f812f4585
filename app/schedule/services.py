"""The schedule of actions (« Planning des actions ») and their follow-up.

The plan says what was agreed (dates, owner, status at signature); the follow-up says what
happens (status, progress, actual dates), kept by action uid outside the frozen versions, so
following an action never needs a change request. Every change goes through
`update_follow_up`, in one transaction: the follow-up, its history event, the audit entry,
then the live events after the commit. Views only parse input and render."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.audit.services import record
from app.contracts.models import Contract, Membership
from app.db_types import utcnow
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.formatting import PARIS
from app.live import channel, publish_after_commit
from app.permissions import Permission
from app.plan.models import Action, Axis, Objective, PlanVersion
from app.plan.versions import plan_in_force, plan_of, working_version
from app.schedule.models import ActionFollowUp, ActionFollowUpEvent

STATUSES = {
    "proposee": _l("Proposée"),
    "validee": _l("Validée"),
    "en_cours": _l("En cours"),
    "realisee": _l("Réalisée"),
    "abandonnee": _l("Abandonnée"),
}
FINISHED = ("realisee", "abandonnee")  # never late
SIDES = {
    "acheteur": _l("Acheteur"),
    "titulaire": _l("Titulaire"),
    "les_deux": _l("Acheteur et titulaire"),
}
FIELDS = ("status", "progress", "actual_start", "actual_end", "comment")
COMMENT_MAX = 5_000
MIN_MONTHS, MAX_MONTHS = 6, 36


def today_in_paris() -> date:
    return datetime.now(tz=PARIS).date()


class UnknownAction(DomainError):
    """The uid names no action of this contract's plan (another contract's, or none)."""

    status = 404


# --- the timeline's geometry ----------------------------------------------------------------


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Bar:
    """Where an action's bar sits on the grid: `start` and `end` are grid lines (the end one
    exclusive), clamped to the months shown; `before`/`after` say it continues beyond them."""

    start: int
    end: int
    before: bool = False
    after: bool = False


@dataclass(frozen=True)
class Timeline:
    """The months shown (first day of each), and where today falls (None: outside them)."""

    months: tuple[date, ...]
    today: date

    @property
    def first(self) -> date:
        return self.months[0]

    @property
    def last(self) -> date:
        return self.months[-1]

    @property
    def size(self) -> int:
        return len(self.months)

    def col(self, day: date) -> int:
        """The month column of `day`, 1 for the first month shown (UI-KIT Appendix C)."""
        return (day.year - self.first.year) * 12 + day.month - self.first.month + 1

    @property
    def today_col(self) -> int | None:
        col = self.col(self.today)
        return col if 1 <= col <= self.size else None

    @property
    def today_tenth(self) -> int:
        """How far into its month today is, in tenths (0–9): the marker's offset in the column."""
        days = calendar.monthrange(self.today.year, self.today.month)[1]
        return min(9, (self.today.day - 1) * 10 // days)

    @property
    def quarters(self) -> list[tuple[date, int, int]]:
        """(first month, column, span) of each quarter shown, the partial first one included
        if it shows two months or more."""
        found = []
        for col, month in enumerate(self.months, start=1):
            starts_quarter = month.month in (1, 4, 7, 10)
            if starts_quarter or col == 1:
                left_in_quarter = 3 - (month.month - 1) % 3
                span = min(left_in_quarter, self.size - col + 1)
                if starts_quarter or span >= 2:
                    found.append((month, col, span))
        return found

    def bar(self, start: date | None, end: date | None) -> Bar | None:
        if start is None and end is None:
            return None
        start, end = start or end, end or start
        first, last = self.col(start), self.col(end) + 1
        before, after = first < 1, last > self.size + 1
        first, last = max(1, first), min(self.size + 1, last)
        if first > self.size:  # entirely after the months shown: a stub on the last one
            first, after = self.size, True
        if last <= first:
            last = first + 1
        return Bar(first, last, before, after)


def timeline_for(actions: list[Action], today: date) -> Timeline:
    """From the earliest planned start (or today) to the latest planned end, six months at
    least and 36 at most (beyond, bars are clamped and marked as continuing)."""
    starts = [a.planned_start or a.planned_end for a in actions if a.planned_start or a.planned_end]
    ends = [a.planned_end or a.planned_start for a in actions if a.planned_start or a.planned_end]
    first = first_of_month(min(starts) if starts else today)
    last = first_of_month(max(ends)) if ends else first
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    count = max(MIN_MONTHS, min(MAX_MONTHS, count))
    return Timeline(tuple(add_months(first, i) for i in range(count)), today)


# --- reading --------------------------------------------------------------------------------


@dataclass
class Row:
    """One action of the plan with where it stands."""

    action: Action
    objective: Objective
    axis: Axis
    follow_up: ActionFollowUp | None
    timeline: Timeline
    status: str
    progress: int
    is_late: bool
    bar: Bar | None = field(default=None)

    @property
    def uid(self) -> str:
        return self.action.uid

    @property
    def version(self) -> int | None:
        """What an edit of this row is based on (None: never followed yet)."""
        return self.follow_up.version if self.follow_up else None

    @property
    def actual_start(self) -> date | None:
        return self.follow_up.actual_start if self.follow_up else None

    @property
    def actual_end(self) -> date | None:
        return self.follow_up.actual_end if self.follow_up else None

    @property
    def comment(self) -> str:
        return self.follow_up.comment if self.follow_up else ""

    def values(self) -> dict:
        return {"status": self.status, "progress": self.progress, "actual_start": self.actual_start,
                "actual_end": self.actual_end, "comment": self.comment}  # fmt: skip


@dataclass
class Filters:
    late: bool = False
    side: str = ""  # « acheteur » or « titulaire » (joint actions count for both)

    @classmethod
    def from_args(cls, args) -> Filters:
        side = args.get("porteur", "")
        return cls(late=args.get("en_retard") == "1",
                   side=side if side in ("acheteur", "titulaire") else "")  # fmt: skip

    def as_args(self) -> dict:
        args = {"en_retard": "1" if self.late else "", "porteur": self.side}
        return {k: v for k, v in args.items() if v}

    def keeps(self, row: Row) -> bool:
        if self.late and not row.is_late:
            return False
        return not self.side or row.action.owner_side in (self.side, "les_deux")


@dataclass
class Planning:
    """What the page shows: the months, the rows kept by the filters, and counts of all rows."""

    timeline: Timeline
    rows: list[Row]
    total: int
    late: int


def planning(contract: Contract, today: date, filters: Filters | None = None) -> Planning:
    rows = schedule(contract, today)
    timeline = rows[0].timeline if rows else timeline_for([], today)
    shown = [r for r in rows if filters.keeps(r)] if filters else rows
    return Planning(timeline, shown, len(rows), sum(r.is_late for r in rows))


def followed_version(contract: Contract) -> PlanVersion | None:
    """The actions followed: those of the plan in force, else of the working draft."""
    return plan_in_force(contract) or working_version(plan_of(contract))


def effective(action: Action, follow_up: ActionFollowUp | None) -> tuple[str, int]:
    if follow_up is not None:
        return follow_up.status, follow_up.progress
    return action.status, 100 if action.status == "realisee" else 0


def is_late(planned_end: date | None, status: str, today: date) -> bool:
    return planned_end is not None and planned_end < today and status not in FINISHED


def schedule(contract: Contract, today: date, filters: Filters | None = None) -> list[Row]:
    """Every action of the followed plan in plan order (axis → objective → action), with its
    follow-up and its bar, in a fixed number of queries whatever the plan's size."""
    version = followed_version(contract)
    if version is None:
        return []
    axes = db.session.scalars(
        select(Axis).where(Axis.plan_version_id == version.id)
        .order_by(Axis.position, Axis.id)
        .options(selectinload(Axis.objectives).selectinload(Objective.actions))
    ).all()  # fmt: skip
    follow_ups = {
        f.action_uid: f
        for f in db.session.scalars(
            select(ActionFollowUp).where(ActionFollowUp.contract_id == contract.id)
        )
    }
    listed = [(a, o, x) for x in axes for o in x.objectives for a in o.actions]
    timeline = timeline_for([a for a, _o, _x in listed], today)
    rows = []
    for action, objective, axis in listed:
        follow_up = follow_ups.get(action.uid)
        status, progress = effective(action, follow_up)
        row = Row(action, objective, axis, follow_up, timeline, status, progress,
                  is_late(action.planned_end, status, today),
                  timeline.bar(action.planned_start, action.planned_end))  # fmt: skip
        rows.append(row)
    return [r for r in rows if filters.keeps(r)] if filters else rows


def row_of(contract: Contract, action_uid: str, today: date) -> Row:
    """One row, on the same timeline as the whole schedule (so its bar lines up)."""
    for row in schedule(contract, today):
        if row.uid == action_uid:
            return row
    raise UnknownAction(_("Cette action n'existe pas dans le plan de ce marché."))


def action_in_plan(contract: Contract, action_uid: str) -> Action:
    version = followed_version(contract)
    action = None
    if version is not None:
        action = db.session.scalar(
            select(Action).where(Action.plan_version_id == version.id, Action.uid == action_uid)
        )
    if action is None:
        raise UnknownAction(_("Cette action n'existe pas dans le plan de ce marché."))
    return action


# --- writing --------------------------------------------------------------------------------


def _progress(raw) -> int:
    text = str(raw if raw is not None else "").strip().removesuffix("%").strip()
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise DomainError(_("Indiquez un avancement en pourcentage : un nombre entier de 0 à 100."),
                          field="progress")  # fmt: skip
    return value


def _date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise DomainError(_("Indiquez une date valide, par exemple 15/03/2027."), field=name) from error  # fmt: skip


def _clean(values: dict, today: date) -> dict:
    status = values.get("status")
    if status not in STATUSES:
        raise DomainError(_("Choisissez un statut dans la liste."), field="status")
    progress = _progress(values.get("progress"))
    start = _date(values.get("actual_start"), "actual_start")
    end = _date(values.get("actual_end"), "actual_end")
    comment = (values.get("comment") or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(_("Ce texte est trop long (%(max)d caractères au plus).", max=COMMENT_MAX), field="comment")  # fmt: skip
    if status == "realisee":  # done is done: 100 %, and it ended today unless said otherwise
        progress = 100
        if end is None:
            end = max(today, start) if start else today
    if status == "abandonnee" and not comment:
        raise DomainError(_("Indiquez pourquoi l'action est abandonnée (commentaire)."), field="comment")  # fmt: skip
    if start and end and end < start:
        raise DomainError(_("La fin réelle ne peut pas précéder le début réel."), field="actual_end")  # fmt: skip
    return {"status": status, "progress": progress, "actual_start": start, "actual_end": end,
            "comment": comment}  # fmt: skip


def _as_json(value):
    return value.isoformat() if isinstance(value, date) else value


def update_follow_up(contract: Contract, membership: Membership, action_uid: str, values: dict,
                     seen_version: int | None, today: date | None = None) -> ActionFollowUp:  # fmt: skip
    """Record where an action stands (status, progress, actual dates, comment), if this member
    may edit the plan and nobody changed it since `seen_version` (None: never followed yet).

    « Validée » is the buyer's call (the steering committee validates); « Réalisée » means 100 %
    and an actual end (today if none is given). Raises NotAllowed (403), UnknownAction (404),
    Conflict (409) or DomainError (422, with the field). Unchanged values write nothing."""
    today = today or today_in_paris()
    if not membership.may(Permission.EDIT_PLAN):
        raise NotAllowed(_("Votre rôle ne permet pas de mettre à jour le suivi des actions."))
    action = action_in_plan(contract, action_uid)
    follow_up = db.session.scalar(
        select(ActionFollowUp).where(ActionFollowUp.contract_id == contract.id,
                                     ActionFollowUp.action_uid == action_uid)
    )  # fmt: skip
    if seen_version != (follow_up.version if follow_up else None):
        raise Conflict(_("Quelqu'un a mis à jour cette action pendant votre saisie. Voici son état actuel ; votre saisie est gardée dans le formulaire : vérifiez-la, puis enregistrez à nouveau."))  # fmt: skip
    clean = _clean(values, today)
    status, progress = effective(action, follow_up)
    before = {"status": status, "progress": progress,
              "actual_start": follow_up.actual_start if follow_up else None,
              "actual_end": follow_up.actual_end if follow_up else None,
              "comment": follow_up.comment if follow_up else ""}  # fmt: skip
    if clean["status"] == "validee" and before["status"] != "validee" and membership.side != "acheteur":  # fmt: skip
        raise NotAllowed(_("Seul l'acheteur peut valider une action : la validation revient à son comité de pilotage."), field="status")  # fmt: skip
    changes = {name: [_as_json(before[name]), _as_json(clean[name])]
               for name in FIELDS if before[name] != clean[name]}  # fmt: skip
    if not changes:
        return follow_up or ActionFollowUp(contract_id=contract.id, action_uid=action_uid,
                                           status=status, progress=progress)  # fmt: skip
    # Read before a new row is pending: a lazy load here would autoflush it half-built.
    actor_name = membership.user.full_name
    if follow_up is None:  # complete before it joins the session
        follow_up = ActionFollowUp(contract_id=contract.id, action_uid=action_uid,
                                   **{name: clean[name] for name in FIELDS})  # fmt: skip
        db.session.add(follow_up)
    try:  # loading the history may flush already: the race can be lost on either line
        follow_up.events.append(ActionFollowUpEvent(actor_id=membership.user_id,
                                                    actor_name=actor_name, changes=changes))  # fmt: skip
        for name in FIELDS:
            setattr(follow_up, name, clean[name])
        follow_up.updated_by_id, follow_up.updated_at = membership.user_id, utcnow()
        db.session.flush()
    except (StaleDataError, IntegrityError) as error:  # another save won the race since our read
        db.session.rollback()
        raise Conflict(_("Cette action vient d'être mise à jour par quelqu'un d'autre : votre saisie est gardée, vérifiez l'état actuel puis enregistrez à nouveau.")) from error  # fmt: skip
    record("action.suivi", actor=membership.user, contract_id=contract.id, object_type="action",
           object_id=action_uid,
           before={k: v[0] for k, v in changes.items()},
           after={k: v[1] for k, v in changes.items()})  # fmt: skip
    publish_after_commit(channel(contract.id), f"suivi-action-{action_uid}", {})
    publish_after_commit(channel(contract.id), "planning", {})
    db.session.commit()
    return follow_up


def history(follow_up: ActionFollowUp | None) -> list[ActionFollowUpEvent]:
    return list(reversed(follow_up.events)) if follow_up is not None else []


# --- calendar -------------------------------------------------------------------------------


def ics_of_deadlines(contract: Contract) -> bytes:
    """The planned end of every action as an all-day event (iCalendar, RFC 5545); each event's
    UID is the action's, so a calendar that imports the file again updates it."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Progrès//Planning//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Marché %(ref)s — échéances des actions", ref=contract.reference))
    stamp = utcnow()
    for row in schedule(contract, today_in_paris()):
        end = row.action.planned_end
        if end is None:
            continue
        event = Event()
        event.add("uid", f"action-{row.uid}@progres")
        event.add("dtstamp", stamp)
        event.add("dtstart", end)
        event.add("dtend", end + timedelta(days=1))
        event.add("summary", _("Échéance : %(title)s", title=row.action.title))
        event.add("description", "\n".join((
            _("Objectif : %(title)s", title=row.objective.title),
            _("Porteur : %(side)s", side=SIDES[row.action.owner_side]),
            _("Statut : %(status)s (%(progress)d %%)", status=STATUSES[row.status],
              progress=row.progress),
        )))  # fmt: skip
        event.add("transp", "TRANSPARENT")
        if row.status == "abandonnee":
            event.add("status", "CANCELLED")
        cal.add_component(event)
    return cal.to_ical()
