"""What the plan's pages read of a version's tree, in a fixed number of queries whatever its
size: the axes with their objectives (and, for a plan that is not large, every card), the
counts that stand for a large plan's collapsed objectives, the cards of the objectives it
shows open, and whether a version is large enough for its pages to send it in two steps."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import User
from app.database import built_once
from app.extensions import db
from app.plan.completeness import ObjectiveSummary
from app.plan.models import Action, Axis, Indicator, Milestone, Objective, PlanVersion


def axes_tree(version: PlanVersion, *, cards: bool = True) -> list[Axis]:
    """The version's axes with everything under them, in a fixed number of queries. Without
    `cards`, only axes and objectives: a large plan's objectives load their contents on demand,
    and `objective_summaries` counts what its page shows of them."""
    axes = list(db.session.scalars(_axes_of_version(cards), {"version_id": version.id}))
    shown = [*axes, *(o for axis in axes for o in axis.objectives)]
    if cards:
        shown += [card for o in shown[len(axes) :] for card in cards_of(o)]
    load_authors(shown)
    return axes


@built_once
def _axes_of_version(cards: bool):
    objectives = selectinload(Axis.objectives)
    options = [objectives]
    if cards:
        options += [
            objectives.selectinload(Objective.indicators).selectinload(Indicator.milestones),
            objectives.selectinload(Objective.actions),
        ]
    return (
        select(Axis)
        .where(Axis.plan_version_id == bindparam("version_id"))
        .order_by(Axis.position, Axis.id)
        .options(*options)
    )


def cards_of(objective: Objective) -> list:
    return [*objective.indicators, *(m for i in objective.indicators for m in i.milestones),
            *objective.actions]  # fmt: skip


def load_authors(shown: list) -> None:
    """Who last changed each item (« modifié par … » on its card), in one query for them all."""
    ids = {item.updated_by_id for item in shown if item.updated_by_id is not None}
    people = {u.id: u for u in db.session.scalars(_people(), {"ids": list(ids)})} if ids else {}
    for item in shown:
        set_committed_value(item, "updated_by", people.get(item.updated_by_id))


@built_once
def _people():
    return select(User).where(User.id.in_(bindparam("ids", expanding=True)))


def objective_summaries(version: PlanVersion) -> dict[int, ObjectiveSummary]:
    """Per objective of a large plan, its counts and completeness in two grouped queries:
    building its 650 indicators and actions as entities cost more than rendering the page.
    Counted once per process for a frozen version (a plan in force)."""
    return of_frozen(version, "objective_summaries", _objective_summaries)


def _objective_summaries(version: PlanVersion) -> dict[int, ObjectiveSummary]:

    def flag(condition):
        return func.sum(case((condition, 1), else_=0))

    indicators = {
        objective_id: (count, with_target)
        for objective_id, count, with_target in db.session.execute(
            select(Indicator.objective_id, func.count(), func.count(Indicator.target_value))
            .where(Indicator.plan_version_id == version.id).group_by(Indicator.objective_id)
        )
    }  # fmt: skip
    actions = {
        row[0]: row[1:]
        for row in db.session.execute(
            select(
                Action.objective_id, func.count(),
                flag(Action.owner_side.in_(("titulaire", "les_deux"))),
                flag(Action.owner_side.in_(("acheteur", "les_deux"))),
                flag(or_(Action.resources.is_(None), Action.resources == "")
                     & Action.cost_estimate.is_(None)),
                flag(or_(Action.planned_start.is_(None), Action.planned_end.is_(None))),
            ).where(Action.plan_version_id == version.id).group_by(Action.objective_id)
        )
    }  # fmt: skip
    summaries = {}
    for objective_id in indicators.keys() | actions.keys():
        count, with_target = indicators.get(objective_id, (0, 0))
        acts, supplier, buyer, unresourced, unscheduled = actions.get(objective_id, (0, 0, 0, 0, 0))
        summaries[objective_id] = ObjectiveSummary(
            indicators=count, with_target=with_target > 0, actions=acts,
            supplier_actions=supplier > 0, buyer_actions=buyer > 0,
            all_resourced=unresourced == 0, all_scheduled=unscheduled == 0,
        )  # fmt: skip
    return summaries


def load_contents(objectives: list[Objective]) -> None:
    """The full cards (indicators with milestones, actions, their authors) of these objectives
    of a large plan, shown open on its page: three queries, however many they are."""
    if objectives:
        loaded = db.session.scalars(
            select(Objective).where(Objective.id.in_([o.id for o in objectives])).options(
                selectinload(Objective.indicators).selectinload(Indicator.milestones),
                selectinload(Objective.actions))
        ).all()  # fmt: skip
        load_authors([card for o in loaded for card in cards_of(o)])


def card_count(version: PlanVersion) -> int:
    """Indicators, milestones and actions of the version: what makes a plan page heavy."""
    return db.session.scalar(_card_count(), {"version_id": version.id})


@built_once
def _card_count():
    counts = [
        select(func.count()).select_from(model).where(model.plan_version_id == bindparam("version_id"))
        .scalar_subquery()
        for model in (Indicator, Milestone, Action)
    ]  # fmt: skip
    return select(counts[0] + counts[1] + counts[2])


def is_large(version) -> bool:
    """A plan version with more indicators, milestones and actions than PLAN_LAZY_FROM: its
    pages send their big sections after the page itself (once per request and version)."""
    if version is None:
        return False
    known = g.setdefault("large_versions", {})
    if version.id not in known:
        count = of_frozen(version, "card_count", card_count)
        known[version.id] = count > current_app.config["PLAN_LAZY_FROM"]
    return known[version.id]


def is_large_version_of(item) -> bool:
    """is_large of the item's version, known by its id once the page asked: reaching each
    objective's `plan_version` was 50 lazy loads from the identity map, 2 ms a page."""
    known = g.get("large_versions", {}).get(item.plan_version_id)
    return is_large(item.plan_version) if known is None else known


FROZEN_KEPT = 1_000  # versions whose figures a process keeps


def of_frozen(version: PlanVersion, name: str, compute):
    """`compute(version)`, kept per process for a frozen version: it never changes (its size,
    its objectives' counts). The oldest kept are let go past FROZEN_KEPT versions."""
    if version.frozen_at is None:
        return compute(version)
    kept = current_app.extensions.setdefault(f"progres.frozen.{name}", {})
    if version.id not in kept:
        if len(kept) >= FROZEN_KEPT:
            del kept[next(iter(kept))]
        kept[version.id] = compute(version)
    return kept[version.id]
