"""Two difficulties on the demo contract: one the buyer has acknowledged, with its thread
(and an internal note of the buyer), one from the buyer side whose acknowledgement is late."""

from datetime import timedelta

from sqlalchemy import select

from app.auth.models import User
from app.contracts.models import Contract, Membership
from app.difficulties import services as difficulties
from app.difficulties.deadlines import today_in_paris
from app.extensions import db
from app.plan.models import Objective
from app.plan.versions import plan_in_force


def _member(contract: Contract, user: User) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.contract_id == contract.id,
                                 Membership.user_id == user.id)
    )  # fmt: skip


def build(contract: Contract, people: dict[str, User]) -> None:
    supplier = _member(contract, people["sophie.durand@textiles-rhone.example"])
    buyer = _member(contract, people["hugo.bernard@grandlyon.example"])
    buyer_lead = _member(contract, people["claire.martin@grandlyon.example"])
    version = plan_in_force(contract)
    objective = db.session.scalar(
        select(Objective).where(Objective.plan_version_id == version.id).order_by(Objective.id)
    )
    late_yarn = difficulties.raise_difficulty(
        contract, supplier,
        {"title": "Retard de livraison du fil recyclé", "category": "approvisionnement",
         "severity": "elevee",
         "description": "Notre filateur a **trois semaines de retard** sur le fil recyclé : les "
                        "premières tenues en matière recyclée ne pourront pas être livrées en mars.",
         "request": "Accepter de décaler le premier jalon de l'indicateur au 30 avril."},
        [objective.uid],
    )  # fmt: skip
    difficulties.apply_transition(late_yarn, buyer, "prendre_en_compte",
                                  seen_version=late_yarn.version,
                                  note="Nous étudions le décalage avec le service achats.")  # fmt: skip
    difficulties.post_message(late_yarn, supplier, "Le filateur confirme une livraison le 10 avril.",
                              internal=False)  # fmt: skip
    difficulties.post_message(late_yarn, buyer_lead,
                              "À voir : le décalage ne doit pas repousser l'objectif de fin d'année.",
                              internal=True)  # fmt: skip
    badges = difficulties.raise_difficulty(
        contract, buyer,
        {"title": "Badges d'accès aux ateliers de la régie", "category": "organisationnel",
         "severity": "moyenne",
         "description": "Les agents du titulaire venus prendre les mesures n'avaient pas de badge.",
         "request": "Transmettre la liste des intervenants une semaine avant chaque passage."},
    )  # fmt: skip
    badges.response_due = today_in_paris() - timedelta(days=2)  # shows an overdue one
    db.session.commit()
