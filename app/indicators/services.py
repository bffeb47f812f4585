"""Indicator values: who may enter and validate them, the periods due, the status of each
indicator against its trajectory, and the chart's geometry. Views, the import, the API and the
dashboard all go through here."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.services import record
from app.contracts.models import Contract, Membership
from app.database import built_once, flush_or_conflict
from app.difficulties.deadlines import today_in_paris
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.indicators.models import Measurement, MeasurementEvent
from app.indicators.periods import MONTHS as PERIOD_MONTHS
from app.indicators.periods import Period, expected_at, period_containing, periods
from app.live import channel, publish_after_commit
from app.permissions import Permission
from app.plan.models import Indicator, Objective, Plan, PlanVersion

STATUSES = {
    "sur_la_trajectoire": _l("Sur la trajectoire"),
    "sous_la_trajectoire": _l("Sous la trajectoire"),
    "non_renseigne": _l("Non renseigné"),
}
MAX_ABS_VALUE = Decimal("1e13")
COMMENT_MAX = 5_000


# --- the indicators of a contract -----------------------------------------------------------


def reference_version(contract: Contract) -> PlanVersion | None:
    """The plan in force; before the baseline, the draft being built (`working_version`), in
    one query."""
    in_force_first = case((PlanVersion.status == "en_vigueur", 0), else_=1)
    return db.session.scalar(
        select(PlanVersion).join(Plan, PlanVersion.plan_id == Plan.id)
        .where(Plan.contract_id == contract.id, PlanVersion.status.in_(("en_vigueur", "brouillon")))
        .order_by(in_force_first, PlanVersion.id.desc()).limit(1)
    )  # fmt: skip


def reference_version_shown(contract: Contract) -> PlanVersion | None:
    """`reference_version` for a page, which tells the band (remember_reference)."""
    version = reference_version(contract)
    remember_reference(contract, version)
    return version


def remember_reference(contract: Contract, version: PlanVersion | None) -> None:
    """A page read through the reference version: the plan in force it implies (it, or none
    when it is the draft) is the band's too, which would read it again
    (versions.plan_in_force_shown)."""
    from app.plan.versions import remember_plan_in_force

    in_force = version if version is not None and version.status == "en_vigueur" else None
    remember_plan_in_force(contract, in_force)


def indicators_of(contract: Contract, version: PlanVersion | None = None) -> list[Indicator]:
    version = version or reference_version(contract)
    if version is None:
        return []
    return db.session.scalars(
        select(Indicator).where(Indicator.plan_version_id == version.id)
        .options(selectinload(Indicator.milestones), selectinload(Indicator.objective))
        .order_by(Indicator.objective_id, Indicator.position, Indicator.id)
    ).all()  # fmt: skip


def indicator_by_uid(contract: Contract, uid: str) -> Indicator | None:
    """The indicator of the plan in force (else of the draft) with its objective, milestones
    and version: two queries."""
    version = reference_version(contract)
    if version is None:
        return None
    indicator = db.session.scalars(
        select(Indicator).where(Indicator.plan_version_id == version.id, Indicator.uid == uid)
        .options(joinedload(Indicator.milestones), joinedload(Indicator.objective))
    ).unique().one_or_none()  # fmt: skip
    if indicator is not None:
        # Its version is the one just read: without this, `indicator.plan_version` read it
        # again by its id once `version` had left the session's (weak) identity map.
        set_committed_value(indicator, "plan_version", version)
    return indicator


def measurements_of(contract: Contract, uid: str | None = None) -> list[Measurement]:
    query = select(Measurement).where(Measurement.contract_id == contract.id)
    if uid is not None:
        query = query.where(Measurement.indicator_uid == uid)
    return db.session.scalars(query.order_by(Measurement.period_start)).all()


@dataclass(frozen=True)
class ValuesRead:
    """What an indicator's state reads of its values: the latest (a row with period_start,
    period_end and value, or a Measurement), the period starts that have a value, and how many
    values await validation."""

    latest: object | None = None
    starts: Container[date] = frozenset()
    to_validate: int = 0


NOTHING_READ = ValuesRead()  # an indicator without values


def values_read(contract_ids: list[int]) -> dict[tuple[int, str], ValuesRead]:
    """Per (contract id, indicator uid) that has values, its `ValuesRead`, in one query
    returning a row per indicator: reading a large plan's 5,000 values a row each to find
    these cost the dashboard most of its time (bench/RESULTS.md)."""
    if not contract_ids:
        return {}
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    found = {}
    for row in db.session.execute(_values_read(postgresql), {"ids": list(contract_ids)}):
        if postgresql:
            starts = set(row.starts)
        else:
            starts = set(map(date.fromisoformat, row.starts.split(",")))
        found[(row.contract_id, row.indicator_uid)] = ValuesRead(row, starts, row.to_validate)
    return found


@built_once
def _values_read(postgresql: bool):
    m = Measurement
    # Each indicator's period starts in one column: PostgreSQL gives an array of dates, SQLite
    # the ISO text it stores dates as (a cast to text on PostgreSQL would follow DateStyle).
    starts = (func.array_agg(m.period_start) if postgresql
              else func.aggregate_strings(m.period_start, ","))  # fmt: skip
    per_indicator = (
        select(m.contract_id, m.indicator_uid, func.max(m.period_start).label("latest_start"),
               func.count().filter(m.validation != "validee").label("to_validate"),
               starts.label("starts"))
        .where(m.contract_id.in_(bindparam("ids", expanding=True)))
        .group_by(m.contract_id, m.indicator_uid)
        .subquery()
    )  # fmt: skip
    # The latest value's row, found by the unique (contract, indicator, period start). The
    # contracts are named on this side too: without it PostgreSQL, misjudging how many rows
    # the grouping yields, hashed the whole table (55 ms on a table of 480,000 values).
    return (
        select(per_indicator.c.contract_id, per_indicator.c.indicator_uid,
               per_indicator.c.to_validate, per_indicator.c.starts,
               m.period_start, m.period_end, m.value)
        .join(per_indicator, (m.contract_id == per_indicator.c.contract_id)
              & (m.indicator_uid == per_indicator.c.indicator_uid)
              & (m.period_start == per_indicator.c.latest_start))
        .where(m.contract_id.in_(bindparam("ids", expanding=True)))
    )  # fmt: skip


def baseline_of(indicator: Indicator, contract: Contract) -> date:
    return indicator.baseline_date or contract.notification_date


def _periods_until(indicator: Indicator, today: date) -> date:
    """An indicator's periods run to its target date, or today if later or unset."""
    return max(filter(None, (indicator.target_date, today)))


def all_periods(indicator: Indicator, contract: Contract, today: date) -> tuple[Period, ...]:
    """Every period of the indicator up to its target date (or today, if later or unset)."""
    until = _periods_until(indicator, today)
    return periods(indicator.periodicity, baseline_of(indicator, contract), until)


def due_periods(indicator: Indicator, contract: Contract, today: date) -> tuple[Period, ...]:
    """The periods of the indicator that have ended by `today`."""
    until = _periods_until(indicator, today)
    return _due(indicator.periodicity, baseline_of(indicator, contract), until, today)


@lru_cache(maxsize=4096)  # like `periods`: the indicators of a plan share a few
def _due(periodicity: str, baseline: date, until: date, today: date) -> tuple[Period, ...]:
    return tuple(p for p in periods(periodicity, baseline, until) if p.is_due(today))


def period_for(indicator: Indicator, contract: Contract, start: date, today: date) -> Period:
    """The period starting on `start`, if the indicator has one that has begun; else refused."""
    for period in all_periods(indicator, contract, today):
        if period.start == start:
            if period.start > today:
                break
            return period
    raise DomainError(_("Cette période n'est pas une période de mesure de l'indicateur, ou elle n'a pas encore commencé."), field="period_start")  # fmt: skip


# --- status ---------------------------------------------------------------------------------


@dataclass
class IndicatorState:
    """What the dashboard, the indicator page and the review agenda say of one indicator."""

    indicator: Indicator
    status: str
    latest: Measurement | None = None  # or a row with period_start, period_end and value
    expected: Decimal | None = None  # the trajectory at the latest value's period end
    missing: list[Period] = field(default_factory=list)  # due periods without a value
    to_validate: int = 0

    @property
    def status_label(self) -> str:
        return str(STATUSES[self.status])


def state_of(indicator: Indicator, contract: Contract, values: list, today: date) -> IndicatorState:
    """The state of an indicator from the list of its values (`state_from` says the rule)."""
    by_start = {m.period_start: m for m in values}
    latest = max(values, key=lambda m: m.period_start) if values else None
    to_validate = sum(1 for m in values if m.validation != "validee")
    return state_from(indicator, contract, ValuesRead(latest, by_start, to_validate), today)


def state_from(indicator: Indicator, contract: Contract, read: ValuesRead,
               today: date) -> IndicatorState:  # fmt: skip
    """The documented rule: « non renseigné » when the last period due has no value (or none
    at all); else the latest value against the trajectory at its period's end: at or above it
    for an indicator « à la hausse », at or below for « à la baisse » is « sur la trajectoire »,
    otherwise « sous la trajectoire ». Without a trajectory yet, a value counts as on it."""
    latest, starts = read.latest, read.starts
    due = due_periods(indicator, contract, today)
    missing = [p for p in due if p.start not in starts]
    if latest is None or (due and due[-1].start not in starts):
        return IndicatorState(indicator, "non_renseigne", latest, None, missing, read.to_validate)
    expected = expected_at(indicator, latest.period_end)
    if expected is None:
        on_track = True
    elif indicator.direction == "baisse":
        on_track = latest.value <= expected
    else:
        on_track = latest.value >= expected
    status = "sur_la_trajectoire" if on_track else "sous_la_trajectoire"
    return IndicatorState(indicator, status, latest, expected, missing, read.to_validate)


def states(contract: Contract, today: date | None = None,
           version: PlanVersion | None = None) -> list[IndicatorState]:  # fmt: skip
    """Every indicator's state in a constant number of queries (those of `version`, when the
    caller has read the reference version already)."""
    today = today or today_in_paris()
    read = values_read([contract.id])
    return [state_from(i, contract, read.get((contract.id, i.uid), NOTHING_READ), today)
            for i in indicators_of(contract, version)]  # fmt: skip


@dataclass
class Row:
    """One period of the values table: its value (or none), and what the trajectory expects."""

    period: Period
    measurement: Measurement | None
    expected: Decimal | None
    due: bool

    @property
    def missing(self) -> bool:
        return self.due and self.measurement is None


def rows(indicator: Indicator, contract: Contract, values: list[Measurement],
         today: date) -> list[Row]:  # fmt: skip
    """Every period that has begun, newest first."""
    by_start = {m.period_start: m for m in values}
    begun = [p for p in all_periods(indicator, contract, today) if p.start <= today]
    return [Row(p, by_start.get(p.start), expected_at(indicator, p.end), p.is_due(today))
            for p in reversed(begun)]  # fmt: skip


# --- who may do what ------------------------------------------------------------------------


def may_enter(membership: Membership, indicator: Indicator) -> bool:
    """The side that reports the indicator (either, when both do) enters its values."""
    return membership.may(Permission.ENTER_VALUES) and indicator.reporting_side in (
        membership.side,
        "les_deux",
    )


def may_validate(membership: Membership, measurement: Measurement) -> bool:
    """The other side than the one that entered the value validates or questions it."""
    return (membership.may(Permission.ENTER_VALUES)
            and membership.side != measurement.entered_by_side)  # fmt: skip


# --- writing --------------------------------------------------------------------------------


def parse_value(raw) -> Decimal:
    """A French or plain number: « 12,5 », « 1 250,75 », « -3 », 12.5."""
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = str(raw or "").strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        text = text.replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
    if value is None or not value.is_finite():
        raise DomainError(_("Indiquez un nombre, par exemple 12,5."), field="value")
    if abs(value) >= MAX_ABS_VALUE:
        raise DomainError(_("Ce nombre est trop grand."), field="value")
    return value.quantize(Decimal("0.0001"))


def _event(measurement: Measurement, membership: Membership, action: str, changes: dict,
           note: str = "") -> None:  # fmt: skip
    """Append to the value's history without flushing: loading the history must not write the
    change before the version check (a lost race is a 409, never a 500)."""
    with db.session.no_autoflush:
        _append_event(measurement, membership, action, changes, note)


def _append_event(measurement, membership, action, changes, note) -> None:
    measurement.events.append(MeasurementEvent(
        actor_id=membership.user_id, actor_name=membership.user.full_name, action=action,
        changes=changes, note=note,
    ))  # fmt: skip


def _announce(contract: Contract, uid: str) -> None:
    publish_after_commit(channel(contract.id), f"mesures-{uid}", {})
    publish_after_commit(channel(contract.id), "tableau-de-bord", {})


def _text(value) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def enter_value(contract: Contract, membership: Membership, indicator: Indicator, *,
                period_start: date, value, comment: str = "", evidence=None,
                source: str = "saisie", seen_version: int | None = None,
                commit: bool = True, today: date | None = None) -> Measurement:  # fmt: skip
    """Enter the value of one period, or correct it (then `seen_version` must be the version
    the person saw: a value changed meanwhile is a 409, never overwritten)."""
    today = today or today_in_paris()
    if not may_enter(membership, indicator):
        raise NotAllowed(_("Les valeurs de cet indicateur sont renseignées par la partie %(side)s.",
                           side=_side_name(indicator.reporting_side)))  # fmt: skip
    period = period_for(indicator, contract, period_start, today)
    number = parse_value(value)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(_("Le commentaire tient en %(max)d caractères au plus.", max=COMMENT_MAX), field="comment")  # fmt: skip
    measurement = db.session.scalar(
        select(Measurement).where(Measurement.contract_id == contract.id,
                                  Measurement.indicator_uid == indicator.uid,
                                  Measurement.period_start == period.start)
    )  # fmt: skip
    if measurement is None:
        if seen_version not in (None, 0):
            raise Conflict(_("La valeur de cette période a été supprimée entre-temps."))
        measurement = Measurement(
            contract_id=contract.id, indicator_uid=indicator.uid, period_start=period.start,
            period_end=period.end, value=number, comment=comment, evidence=evidence,
            source=source, entered_by_id=membership.user_id, entered_by_side=membership.side,
        )  # fmt: skip
        db.session.add(measurement)
        _event(measurement, membership, "saisie", {"valeur": [None, _text(number)]})
        action = "mesure.saisie"
    else:
        if seen_version is None or measurement.version != seen_version:
            who = measurement.entered_by.full_name if measurement.entered_by else "?"
            raise Conflict(_("Une valeur a déjà été saisie pour %(period)s par %(who)s (%(value)s) : vérifiez-la avant de la corriger.",
                             period=period.label, who=who, value=_text(measurement.value)))  # fmt: skip
        changes = {}
        if measurement.value != number:
            changes["valeur"] = [_text(measurement.value), _text(number)]
        if measurement.comment != comment:
            changes["commentaire"] = [measurement.comment, comment]
        measurement.value, measurement.comment = number, comment
        if evidence is not None:
            measurement.evidence = evidence
        if "valeur" in changes:  # a new number needs a new validation
            measurement.validation, measurement.validation_note = "a_valider", ""
            measurement.validated_by_id = measurement.validated_at = None
        measurement.entered_by_id, measurement.entered_by_side = membership.user_id, membership.side
        measurement.source = source
        _event(measurement, membership, "correction", changes)
        action = "mesure.correction"
    flush_or_conflict(_("Quelqu'un vient de modifier cette valeur : rechargez la page."))
    record(action, actor=membership.user, contract_id=contract.id, object_type="mesure",
           object_id=measurement.id,
           after={"indicateur": indicator.uid, "periode": period.start.isoformat(),
                  "valeur": _text(number), "source": source})  # fmt: skip
    _announce(contract, indicator.uid)
    if commit:
        db.session.commit()
    return measurement


def validate_value(contract: Contract, membership: Membership, measurement: Measurement, *,
                   decision: str, note: str = "", seen_version: int) -> Measurement:  # fmt: skip
    """The other side validates the value, or questions it with a note."""
    from app.db_types import utcnow

    if decision not in ("validee", "questionnee"):
        raise DomainError(_("Choisissez : valider ou questionner."), field="decision")
    if not may_validate(membership, measurement):
        raise NotAllowed(_("La valeur est validée par la partie autre que celle qui l'a saisie."))
    if measurement.version != seen_version:
        raise Conflict(
            _("La valeur a changé pendant que vous la consultiez : vérifiez-la à nouveau.")
        )
    note = (note or "").strip()
    if decision == "questionnee" and not note:
        raise DomainError(_("Dites ce qui vous interroge dans cette valeur."), field="note")
    if len(note) > COMMENT_MAX:
        raise DomainError(_("Le commentaire tient en %(max)d caractères au plus.", max=COMMENT_MAX), field="note")  # fmt: skip
    before = measurement.validation
    measurement.validation, measurement.validation_note = decision, note
    measurement.validated_by_id, measurement.validated_at = membership.user_id, utcnow()
    _event(measurement, membership, "validation" if decision == "validee" else "question",
           {"validation": [before, decision]}, note)  # fmt: skip
    flush_or_conflict(_("Quelqu'un vient de modifier cette valeur : rechargez la page."))
    record(f"mesure.{decision}", actor=membership.user, contract_id=contract.id,
           object_type="mesure", object_id=measurement.id, after={"note": note})  # fmt: skip
    _announce(contract, measurement.indicator_uid)
    db.session.commit()
    return measurement


def _side_name(side: str) -> str:
    return {"acheteur": _("acheteur"), "titulaire": _("titulaire")}.get(side, _("des deux parties"))


# --- the chart ------------------------------------------------------------------------------


def _nice_step(span: float) -> float:
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000,
                 2000, 2500, 5000, 10000, 20000, 50000, 100000, 1e6, 1e7, 1e8, 1e9):  # fmt: skip
        if span / step <= 6:
            return step
    return span / 5


def chart(indicator: Indicator, contract: Contract, values: list[Measurement], today: date,
          width: int = 640, height: int = 300) -> dict | None:  # fmt: skip
    """The geometry of UI-KIT.md Appendix B: dates on x, values on y; the template draws it.
    None when there is nothing to draw (no trajectory and no value)."""
    from app.indicators.periods import trajectory_points

    points = trajectory_points(indicator)
    measured = [(m.period_end, m.value) for m in sorted(values, key=lambda m: m.period_start)]
    dates = [d for d, _v, _m in points] + [d for d, _v in measured]
    numbers = [float(v) for _d, v, _m in points] + [float(v) for _d, v in measured]
    if not dates:
        return None
    x0 = min([*dates, today]).toordinal()
    x1 = max([*dates, today]).toordinal()
    if x1 - x0 < 60:
        x1 = x0 + 60
    low, high = min([0.0, *numbers]), max(numbers)
    step = _nice_step((high - low) or 1)
    ymin, ymax = step * (low // step), step * (high // step + 1)
    left, right, top, bottom = 64, 16, 16, 40

    def px(d: date) -> float:
        return round(left + (d.toordinal() - x0) / (x1 - x0) * (width - left - right), 1)

    def py(v) -> float:
        return round(top + (1 - (float(v) - ymin) / (ymax - ymin)) * (height - top - bottom), 1)

    ticks, v = [], ymin
    while v <= ymax + step / 1000:
        ticks.append((v, py(v)))
        v += step
    first = date.fromordinal(x0)
    months = max(1, round((x1 - x0) / 30 / 5))  # about five labels
    xticks, current = [], date(first.year, first.month, 1)
    while current.toordinal() <= x1:
        if current.toordinal() >= x0:
            xticks.append((format_date(current, "MMM y"), px(current)))
        index = current.year * 12 + current.month - 1 + months
        current = date(index // 12, index % 12 + 1, 1)
    return {
        "w": width, "h": height, "left": left, "right": width - right, "top": top,
        "bottom": height - bottom, "yticks": ticks, "xticks": xticks,
        "target": " ".join(f"{px(d)},{py(v)}" for d, v, _m in points),
        "milestones": [(px(d), py(v), d, v) for d, v, m in points if m],
        "actual": " ".join(f"{px(d)},{py(v)}" for d, v in measured),
        "points": [(px(d), py(v), d, v) for d, v in measured],
        "today": px(today),
    }  # fmt: skip


def period_of_day(indicator: Indicator, day: date) -> Period:
    return period_containing(day, PERIOD_MONTHS[indicator.periodicity])


def objective_of(indicator: Indicator) -> Objective:
    return indicator.objective
