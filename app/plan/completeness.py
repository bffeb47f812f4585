"""The seven parts the guidance requires of a plan, per objective and for the whole plan.

Source: the seed's example clause, « Les parties détailleront dans le plan de progrès :
1) les objectifs ; 2) les indicateurs de mesure ; 3) les actions à la charge du titulaire ;
4) les actions à la charge de l'acheteur ; 5) les moyens et ressources ; 6) le calendrier
prévisionnel de chacune des actions ; 7) les modalités de partage des gains »."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.plan.models import GainSharing, Objective

PARTS = {
    "objectifs": _l("Objectifs"),
    "indicateurs": _l("Indicateurs de mesure"),
    "actions_titulaire": _l("Actions du titulaire"),
    "actions_acheteur": _l("Actions de l'acheteur"),
    "moyens": _l("Moyens et ressources"),
    "calendrier": _l("Calendrier des actions"),
    "partage": _l("Partage des gains"),
}
MISSING = {
    "objectifs": _l("le plan n'a encore aucun objectif"),
    "indicateurs": _l("aucun indicateur avec une cible"),
    "actions_titulaire": _l("aucune action du titulaire"),
    "actions_acheteur": _l("aucune action de l'acheteur"),
    "moyens": _l("des actions sans moyens ni coût estimé"),
    "calendrier": _l("des actions sans dates de début et de fin prévues"),
    "partage": _l("les modalités de partage des gains ne sont pas définies"),
}


@dataclass
class ObjectiveCheck:
    objective: Objective
    parts: dict[str, bool]

    @property
    def missing(self) -> list[str]:
        return [str(MISSING[p]) for p, ok in self.parts.items() if not ok]


@dataclass
class PlanCheck:
    objectives: list[ObjectiveCheck]
    parts: dict[str, bool]

    @property
    def complete(self) -> bool:
        return all(self.parts.values())

    @property
    def done(self) -> int:
        return sum(self.parts.values())


def gain_sharing_defined(gain_sharing: GainSharing | None) -> bool:
    if gain_sharing is None:
        return False
    shares = gain_sharing.buyer_share is not None and gain_sharing.supplier_share is not None
    return shares or bool(gain_sharing.financial_terms or gain_sharing.non_financial_gains)


@dataclass(frozen=True)
class ObjectiveSummary:
    """What an objective's completeness (and its collapsed section) needs of its indicators and
    actions: read from them when loaded, counted in SQL on a large plan (plan.versions)."""

    indicators: int = 0
    with_target: bool = False
    actions: int = 0
    supplier_actions: bool = False
    buyer_actions: bool = False
    all_resourced: bool = True
    all_scheduled: bool = True


def summarise(objective: Objective) -> ObjectiveSummary:
    actions = objective.actions
    return ObjectiveSummary(
        indicators=len(objective.indicators),
        with_target=any(i.target_value is not None for i in objective.indicators),
        actions=len(actions),
        supplier_actions=any(a.owner_side in ("titulaire", "les_deux") for a in actions),
        buyer_actions=any(a.owner_side in ("acheteur", "les_deux") for a in actions),
        all_resourced=all(a.resources or a.cost_estimate is not None for a in actions),
        all_scheduled=all(a.planned_start and a.planned_end for a in actions),
    )


def check_objective(objective: Objective, sharing_ok: bool,
                    summary: ObjectiveSummary | None = None) -> ObjectiveCheck:  # fmt: skip
    summary = summary or summarise(objective)
    return ObjectiveCheck(
        objective,
        {
            "objectifs": True,
            "indicateurs": summary.with_target,
            "actions_titulaire": summary.supplier_actions,
            "actions_acheteur": summary.buyer_actions,
            "moyens": summary.actions > 0 and summary.all_resourced,
            "calendrier": summary.actions > 0 and summary.all_scheduled,
            "partage": sharing_ok,
        },
    )


def check_plan(objectives: list[Objective], gain_sharing: GainSharing | None,
               summaries: dict[int, ObjectiveSummary] | None = None) -> PlanCheck:  # fmt: skip
    """`summaries` (by objective id) stand in for objectives whose contents are not loaded."""
    sharing_ok = gain_sharing_defined(gain_sharing)
    summaries = summaries or {}
    checks = [
        check_objective(o, sharing_ok, summaries.get(o.id, ObjectiveSummary()) if summaries
                        else None)
        for o in objectives
    ]  # fmt: skip
    parts = {part: bool(checks) and all(c.parts[part] for c in checks) for part in PARTS}
    parts["partage"] = sharing_ok
    return PlanCheck(checks, parts)
