"""The demo contract's reviews: the first one held in October 2026 (minutes written by the
buyer and approved by the supplier), the next one planned for December with its agenda."""

from datetime import date, time

from sqlalchemy import select

from app.contracts.models import Contract, Membership
from app.extensions import db
from app.reviews import agenda as review_agenda
from app.reviews import meeting as review_meeting
from app.reviews import minutes as review_minutes
from app.reviews import services as reviews


def _member(contract: Contract, email: str) -> Membership:
    return next(m for m in db.session.scalars(select(Membership).where(Membership.contract_id == contract.id))
                if m.user.email == email)  # fmt: skip


def build(contract: Contract) -> None:
    claire = _member(contract, "claire.martin@grandlyon.example")
    sophie = _member(contract, "sophie.durand@textiles-rhone.example")
    everyone = [
        m.user_id
        for m in db.session.scalars(select(Membership).where(Membership.contract_id == contract.id))
    ]
    first = reviews.schedule_review(
        contract, claire, kind="revue_performance", day=date(2026, 10, 6), at=time(14, 0),
        duration_minutes=90, place="Hôtel de la Métropole, salle 3.12", member_ids=everyone,
    )  # fmt: skip
    review_agenda.add_item(first, claire, "Lancement du plan de progrès : rôles et calendrier", 20)
    review_agenda.add_item(first, claire, "Premiers relevés des matières recyclées", 20)
    review_meeting.start_meeting(first, claire)
    kickoff, recycled = first.items
    review_meeting.save_notes(kickoff, claire, "Les référents sont confirmés ; revue suivante début décembre.",
                       kickoff.version)  # fmt: skip
    review_meeting.record_outcome(kickoff, claire, kind="decision", text="Revues début décembre et début juin.",
                           seen_version=kickoff.version)  # fmt: skip
    review_meeting.save_notes(recycled, sophie, "Le titulaire présente la méthode de relevé par bon de livraison.",
                       recycled.version)  # fmt: skip
    review_meeting.close_meeting(first, claire)
    review_minutes.save_summary(first, claire, "Revue de lancement : le plan est en vigueur, la méthode de "
                         "mesure des matières recyclées est partagée.", first.version)  # fmt: skip
    review_minutes.submit_minutes(first, claire)
    review_minutes.approve_minutes(first, sophie)
    second = reviews.schedule_review(
        contract, claire, kind="comite_pilotage", day=date(2026, 12, 8), at=time(9, 30),
        duration_minutes=120, place="Hôtel de la Métropole, salle 3.12",
        video_link="https://visio.grandlyon.example/comite-0142", member_ids=everyone,
    )  # fmt: skip
    review_agenda.propose_topic(contract, sophie, "Calendrier des livraisons d'été",
                          "Regrouper les livraisons de juillet et d'août.")  # fmt: skip
    review_agenda.build_agenda(second, claire, date(2026, 11, 25))
