"""Reading the difficulties of a contract: the register and its filters, the counts, the open
ones per plan item, what the next review takes, and the CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from app.contracts.models import Contract
from app.database import built_once
from app.difficulties.deadlines import today_in_paris
from app.difficulties.models import (
    CATEGORIES,
    LINKABLE,
    SEVERITIES,
    STATUSES,
    UNRESOLVED,
    Difficulty,
    DifficultyLink,
)
from app.exports.spreadsheets import neutralise
from app.extensions import db
from app.plan.models import ITEM_MODELS, PlanVersion
from app.plan.versions import plan_in_force, plan_of, working_version


def side_label(side: str) -> str:
    return _("acheteur") if side == "acheteur" else _("titulaire")


def reference_version(contract: Contract) -> PlanVersion | None:
    """Where linked items take their titles from: the plan in force, else the draft."""
    return plan_in_force(contract) or working_version(plan_of(contract))


def linkable_items(contract: Contract) -> list[tuple[str, str, str]]:
    """(kind, uid, title) of the objectives, indicators and actions one may link, in plan order."""
    version = reference_version(contract)
    if version is None:
        return []
    found = []
    for kind in LINKABLE:
        model = ITEM_MODELS[kind]
        title = model.name if kind == "indicateur" else model.title
        for uid, text in db.session.execute(
            select(model.uid, title).where(model.plan_version_id == version.id)
            .order_by(model.id)
        ):  # fmt: skip
            found.append((kind, uid, text))
    return found


def item_titles(contract: Contract) -> dict[str, tuple[str, str]]:
    return {uid: (kind, title) for kind, uid, title in linkable_items(contract)}


@dataclass
class Filters:
    status: str = ""  # a status, « non_resolues » or empty for all
    side: str = ""
    severity: str = ""
    overdue: bool = False
    item: str = ""  # an item uid

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("statut", "")
        side = args.get("partie", "")
        severity = args.get("gravite", "")
        return cls(
            status=status if status in STATUSES or status == "non_resolues" else "",
            side=side if side in ("acheteur", "titulaire") else "",
            severity=severity if severity in SEVERITIES else "",
            overdue=args.get("en_retard") == "1",
            item=args.get("element", "")[:36],
        )

    def as_args(self) -> dict:
        args = {"statut": self.status, "partie": self.side, "gravite": self.severity,
                "en_retard": "1" if self.overdue else "", "element": self.item}  # fmt: skip
        return {k: v for k, v in args.items() if v}


def register(contract: Contract, filters: Filters, today: date | None = None) -> list[Difficulty]:
    today = today or today_in_paris()
    query = (
        select(Difficulty).where(Difficulty.contract_id == contract.id)
        .options(selectinload(Difficulty.links), selectinload(Difficulty.raised_by))
        .order_by(Difficulty.number.desc())
    )  # fmt: skip
    if filters.status == "non_resolues":
        query = query.where(Difficulty.status.in_(UNRESOLVED))
    elif filters.status:
        query = query.where(Difficulty.status == filters.status)
    if filters.side:
        query = query.where(Difficulty.raised_by_side == filters.side)
    if filters.severity:
        query = query.where(Difficulty.severity == filters.severity)
    if filters.overdue:
        query = query.where(Difficulty.status == "ouverte", Difficulty.response_due < today)
    if filters.item:
        query = query.where(
            Difficulty.id.in_(
                select(DifficultyLink.difficulty_id).where(DifficultyLink.item_uid == filters.item)
            )
        )
    return db.session.scalars(query).all()


def counts(contract: Contract, today: date | None = None) -> dict[str, int]:
    """Per status, plus « non_resolues » and « en_retard » (acknowledgement overdue)."""
    today = today or today_in_paris()
    by_status = dict(
        db.session.execute(
            select(Difficulty.status, func.count()).where(Difficulty.contract_id == contract.id)
            .group_by(Difficulty.status)
        ).all()
    )  # fmt: skip
    overdue = db.session.scalar(
        select(func.count()).where(Difficulty.contract_id == contract.id,
                                   Difficulty.status == "ouverte", Difficulty.response_due < today)
    )  # fmt: skip
    result = {status: by_status.get(status, 0) for status in STATUSES}
    result["non_resolues"] = sum(by_status.get(s, 0) for s in UNRESOLVED)
    result["en_retard"] = overdue or 0
    result["toutes"] = sum(by_status.values())
    return result


def open_by_item(contract: Contract) -> dict[str, list]:
    """The unresolved difficulties of each linked plan item (uid → rows of their id, number and
    title: what a card links to; the plan page reads them for every card, not whole)."""
    rows = db.session.execute(_open_links(), {"contract_id": contract.id}).all()
    found: dict[str, list] = {}
    for row in rows:
        found.setdefault(row.item_uid, []).append(row)
    return found


@built_once
def _open_links():
    return (
        select(DifficultyLink.item_uid, Difficulty.id, Difficulty.number, Difficulty.title)
        .join(Difficulty, DifficultyLink.difficulty_id == Difficulty.id)
        .where(Difficulty.contract_id == bindparam("contract_id"), Difficulty.status.in_(UNRESOLVED))
        .order_by(Difficulty.number)
    )  # fmt: skip


def for_next_review(contract: Contract, since: datetime | None) -> list[Difficulty]:
    """What the next review's agenda takes from the difficulties (the reviews feature calls
    this): every unresolved one, and those sent « à traiter en revue » since the last review
    even if resolved meanwhile. `since`: the previous review's date (None: the first one)."""
    query = select(Difficulty).where(Difficulty.contract_id == contract.id)
    for_review = Difficulty.for_review_at.is_not(None)
    if since is not None:
        for_review = for_review & (Difficulty.for_review_at >= since)
    query = query.where(Difficulty.status.in_(UNRESOLVED) | for_review)
    return db.session.scalars(query.order_by(Difficulty.number)).all()


# --- export ---------------------------------------------------------------------------------


def _cell(value) -> str:
    """The cell as text, a formula neutralised (the exports' rule)."""
    return neutralise("" if value is None else str(value))


def register_csv(contract: Contract, difficulties: list[Difficulty], today: date) -> str:
    titles = item_titles(contract)
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 with accents correctly
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("N°"), _("Objet"), _("Statut"), _("Catégorie"), _("Gravité"),
                     _("Signalée par"), _("Partie"), _("Signalée le"), _("Prise en compte attendue le"),
                     _("En retard"), _("Éléments du plan concernés"), _("Attendu de l'autre partie"),
                     _("Résolution")])  # fmt: skip
    for d in difficulties:
        items = " | ".join(titles.get(link.item_uid, ("", "?"))[1] for link in d.links)
        writer.writerow([_cell(v) for v in (
            d.number, d.title, STATUSES[d.status], CATEGORIES[d.category], SEVERITIES[d.severity],
            d.raised_by.full_name if d.raised_by else "", side_label(d.raised_by_side),
            today_in_paris(d.created_at).strftime("%d/%m/%Y"), d.response_due.strftime("%d/%m/%Y"),
            _("oui") if d.is_overdue(today) else _("non"), items, d.request, d.resolution,
        )])  # fmt: skip
    return out.getvalue()
