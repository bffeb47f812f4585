"""What the dashboard and the portfolio show, read in bulk: a fixed number of queries whatever
the number of contracts, indicators, actions or values (tests/dashboard counts them)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from app.contracts.models import Contract, Membership
from app.database import built_once
from app.difficulties.models import UNRESOLVED, Difficulty
from app.extensions import db
from app.indicators.services import NOTHING_READ, IndicatorState, state_from, values_read
from app.plan.models import Action, GainSharing, Indicator, Plan, PlanVersion
from app.reviews.models import Review
from app.schedule.models import ActionFollowUp

DONE = ("realisee", "abandonnee")


@dataclass
class ContractSummary:
    contract: Contract
    membership: Membership | None = None
    version: PlanVersion | None = None  # the plan in force, else the draft
    indicators: list[IndicatorState] = field(default_factory=list)
    late_actions: list[tuple[Action, str]] = field(default_factory=list)  # (action, status)
    actions: int = 0
    open_difficulties: int = 0
    overdue_difficulties: int = 0
    awaiting_acknowledgement: int = 0
    gain_sharing: GainSharing | None = None
    next_review: Review | None = None
    pending_changes: list = field(default_factory=list)  # change requests on their way

    @property
    def indicator_counts(self) -> Counter:
        return Counter(s.status for s in self.indicators)

    @property
    def values_to_validate(self) -> int:
        return sum(s.to_validate for s in self.indicators)


def _reference_versions(contract_ids: list[int]) -> dict[int, PlanVersion]:
    """Per contract, its plan in force, else its newest draft (one query)."""
    rank = case((PlanVersion.status == "en_vigueur", 0), (PlanVersion.status == "brouillon", 1),
                else_=2)  # fmt: skip
    rows = db.session.execute(
        select(Plan.contract_id, PlanVersion).join(PlanVersion, PlanVersion.plan_id == Plan.id)
        .where(Plan.contract_id.in_(contract_ids), PlanVersion.status.in_(("en_vigueur", "brouillon")))
        .order_by(Plan.contract_id, rank, PlanVersion.number.desc())
    ).all()  # fmt: skip
    found: dict[int, PlanVersion] = {}
    for contract_id, version in rows:
        found.setdefault(contract_id, version)
    return found


def summaries(contracts: list[Contract], today: date,
              memberships: dict[int, Membership] | None = None) -> list[ContractSummary]:  # fmt: skip
    ids = [c.id for c in contracts]
    result = {c.id: ContractSummary(c, (memberships or {}).get(c.id)) for c in contracts}
    if not ids:
        return []
    versions = _reference_versions(ids)
    for contract_id, version in versions.items():
        result[contract_id].version = version
    version_ids = [v.id for v in versions.values()]
    contract_of_version = {v.id: cid for cid, v in versions.items()}
    _indicators(result, ids, version_ids, contract_of_version, today)
    _actions(result, version_ids, contract_of_version, today)
    _difficulties(result, ids, today)
    for review in db.session.scalars(
        select(Review)
        .where(
            Review.contract_id.in_(ids),
            Review.status.in_(("planifiee", "en_seance")),
            Review.starts_at >= datetime.combine(today, time.min, tzinfo=UTC),
        )
        .order_by(Review.starts_at.desc())
    ):  # fmt: skip  (latest first: the soonest one is kept last)
        result[review.contract_id].next_review = review
    _pending_changes(result, ids)
    for gain in db.session.scalars(
        select(GainSharing).where(GainSharing.plan_version_id.in_(version_ids))
    ):
        result[contract_of_version[gain.plan_version_id]].gain_sharing = gain
    return [result[c.id] for c in contracts]


def _pending_changes(result, ids) -> None:
    from app.changes.models import PENDING, ChangeRequest

    for change in db.session.scalars(
        select(ChangeRequest)
        .where(ChangeRequest.contract_id.in_(ids), ChangeRequest.status.in_(PENDING))
        .order_by(ChangeRequest.number)
    ):
        result[change.contract_id].pending_changes.append(change)


def _indicators(result, ids, version_ids, contract_of_version, today) -> None:
    indicators = db.session.scalars(_indicators_of_versions(), {"version_ids": version_ids}).all()
    read = values_read(ids)
    for indicator in indicators:
        summary = result[contract_of_version[indicator.plan_version_id]]
        key = (summary.contract.id, indicator.uid)
        summary.indicators.append(
            state_from(indicator, summary.contract, read.get(key, NOTHING_READ), today)
        )


@built_once
def _indicators_of_versions():
    return (
        select(Indicator).where(Indicator.plan_version_id.in_(bindparam("version_ids", expanding=True)))
        .options(selectinload(Indicator.milestones))
        .order_by(Indicator.objective_id, Indicator.position, Indicator.id)
    )  # fmt: skip


def _actions(result, version_ids, contract_of_version, today) -> None:
    """How many actions each plan has, and its late ones with their status (the follow-up's,
    else the plan's): only these are read as entities, the others are counted in SQL."""
    for version_id, count in db.session.execute(_action_counts(), {"version_ids": version_ids}):
        result[contract_of_version[version_id]].actions = count
    for action, version_id, status in db.session.execute(
        _late_actions(), {"version_ids": version_ids, "today": today}
    ):
        result[contract_of_version[version_id]].late_actions.append((action, status))


@built_once
def _action_counts():
    return (
        select(Action.plan_version_id, func.count())
        .where(Action.plan_version_id.in_(bindparam("version_ids", expanding=True)))
        .group_by(Action.plan_version_id)
    )


@built_once
def _late_actions():
    # The follow-up of the action in the contract whose plan holds it (one per contract and
    # action uid): what happens overrides what was agreed.
    status = func.coalesce(ActionFollowUp.status, Action.status)
    return (
        select(Action, Action.plan_version_id, status)
        .join(PlanVersion, Action.plan_version_id == PlanVersion.id)
        .join(Plan, PlanVersion.plan_id == Plan.id)
        .outerjoin(ActionFollowUp, (ActionFollowUp.contract_id == Plan.contract_id)
                   & (ActionFollowUp.action_uid == Action.uid))
        .where(PlanVersion.id.in_(bindparam("version_ids", expanding=True)),
               Action.planned_end < bindparam("today"), status.not_in(DONE))
        .order_by(Action.planned_end, Action.id)
    )  # fmt: skip


def _difficulties(result, ids, today) -> None:
    rows = db.session.execute(
        select(Difficulty.contract_id,
               func.count().filter(Difficulty.status.in_(UNRESOLVED)),
               func.count().filter(Difficulty.status == "ouverte"),
               func.count().filter((Difficulty.status == "ouverte") & (Difficulty.response_due < today)))
        .where(Difficulty.contract_id.in_(ids)).group_by(Difficulty.contract_id)
    ).all()  # fmt: skip
    for contract_id, unresolved, awaiting, overdue in rows:
        summary = result[contract_id]
        summary.open_difficulties, summary.awaiting_acknowledgement = unresolved, awaiting
        summary.overdue_difficulties = overdue


@dataclass
class Portfolio:
    lines: list[ContractSummary]
    total: int  # contracts matching the search
    page: int
    pages: int
    search: str = ""


def portfolio(user, today: date, *, search: str = "", page: int = 1, per_page: int = 50,
              with_lines: bool = True, total: int | None = None) -> Portfolio:  # fmt: skip
    """One line per contract the person is a member of, by reference, a page at a time
    (someone in a purchasing centre may follow hundreds); `search` filters on the
    reference, the object and the parties' names. `with_lines=False` only counts them;
    `total`, when the caller has counted them already, is not counted again."""
    from app.organisations.models import Organisation

    query = select(Membership).join(Contract, Membership.contract_id == Contract.id)
    query = query.where(Membership.user_id == user.id)
    search = " ".join(search.split())[:100]
    if search:
        buyer, supplier = aliased(Organisation), aliased(Organisation)
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found = [column.ilike(f"%{escaped}%", escape="\\") for column in
                 (Contract.reference, Contract.object, buyer.name, supplier.name)]  # fmt: skip
        query = (
            query.join(buyer, Contract.buyer_organisation_id == buyer.id)
            .join(supplier, Contract.supplier_organisation_id == supplier.id)
            .where(or_(*found))
        )
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    if not with_lines:
        return Portfolio([], total, page, pages, search)
    memberships = db.session.scalars(
        query.order_by(Contract.reference, Contract.id)
        .limit(per_page).offset((page - 1) * per_page)
        .options(selectinload(Membership.contract).selectinload(Contract.buyer),
                 selectinload(Membership.contract).selectinload(Contract.supplier))
    ).all()  # fmt: skip
    lines = summaries([m.contract for m in memberships], today,
                      {m.contract_id: m for m in memberships})  # fmt: skip
    return Portfolio(lines, total, page, pages, search)
