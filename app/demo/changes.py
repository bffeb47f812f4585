"""The demo contract's changes: an exchange of letters applied after the October review
(version 1 → 2), an amendment draft in progress (n° 1, R2194-8, the holder's visa given,
the buyer's awaited) and a proposal still being drafted by the supplier."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal as D

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.auth.models import User
from app.changes import formalisation, services
from app.changes.stamped import stamped_pdf
from app.contracts.models import Contract, Membership
from app.extensions import db
from app.plan import services as items
from app.plan import versions
from app.reviews.models import Review

NO = {k: {"answer": False, "note": ""} for k in ("prix", "obligations", "paiement", "perimetre")}


def _member(contract: Contract, email: str) -> Membership:
    return next(m for m in db.session.scalars(select(Membership).where(Membership.contract_id == contract.id))
                if m.user.email == email)  # fmt: skip


def _terms(contract: Contract) -> None:
    contract.buyer_type, contract.buyer_is_collectivite = "autre_pa", True
    contract.procedure, contract.awarded_by_cao = "formalisee", True
    contract.consultation_date, contract.price_regime = date(2025, 12, 8), "revisable"
    contract.clause_article, contract.signing_place = "9.2", "Lyon"
    contract.buyer_address = "20, rue du Lac — CS 33569\n69505 Lyon Cedex 03"
    db.session.commit()


def build(contract: Contract, people: dict[str, User]) -> None:
    _terms(contract)
    claire = _member(contract, "claire.martin@grandlyon.example")
    sophie = _member(contract, "sophie.durand@textiles-rhone.example")
    karim = _member(contract, "karim.benali@textiles-rhone.example")
    claire.qualite, sophie.qualite = "Acheteuse référente", "Présidente"
    _letter(contract, claire, sophie)
    _amendment(contract, claire, sophie)
    draft = services.open_request(
        contract, karim, title="Afficher la part de matière recyclée sur l'étiquette"
    )
    objective = versions.items_of(draft.draft_version)["objectif"][0]
    items.create_item(draft.draft_version, "action", {
        "title": "Afficher la part de matière recyclée sur l'étiquette de chaque article",
        "owner_side": "titulaire", "resources": "Nouvelle étiquette tissée", "cost_estimate": D("2500"),
        "planned_start": date(2027, 7, 1), "planned_end": date(2027, 10, 31), "mode": "immediate",
    }, parent=objective, actor=karim.user)  # fmt: skip


def _step(change, membership, **data):
    services.update_request(change, membership, seen_version=change.version, title=change.title,
                            rationale=data["rationale"], answers=data["answers"],
                            financial_impact_ht=data.get("impact", "0"))  # fmt: skip
    services.submit(change, membership, seen_version=change.version)


def _letter(contract, claire, sophie) -> None:
    change = services.open_request(
        contract, sophie, title="Relever à 35 % la cible de matières recyclées"
    )
    change.review_id = db.session.scalar(
        select(Review.id).where(Review.contract_id == contract.id, Review.number == 1)
    )
    recycled = versions.items_of(change.draft_version)["indicateur"][0]
    items.update_item(
        recycled, {"target_value": D("35")}, base_version=recycled.version, actor=sophie.user
    )
    _step(change, sophie, answers=NO, rationale=(
        "Les premiers relevés dépassent la trajectoire : le titulaire s'engage sur 35 % à "
        "l'échéance. Le minimum contractuel de 20 % ne change pas."))  # fmt: skip
    services.decide(
        change, claire, seen_version=change.version, approve=True, comment="D'accord, vu en revue."
    )
    formalisation.formalise(change, claire, seen_version=change.version, choice="lettre", reason="")
    formalisation.update_terms(change, claire, seen_version=change.version, data={
        "signatory_name": "Claire Martin", "signatory_qualite": "Acheteuse référente, par délégation du Président",
        "holder_signatory_name": "Sophie Durand", "holder_signatory_qualite": "Présidente"})  # fmt: skip
    formalisation.generate(change, claire, seen_version=change.version)
    documents = formalisation.current_documents(change)
    formalisation.give_visa(documents["lettre"], claire, password=_password(), qualite=claire.qualite,
                            seen_sha256=documents["lettre"].sha256)  # fmt: skip
    formalisation.give_visa(documents["acceptation"], sophie, password=_password(), qualite=sophie.qualite,
                            seen_sha256=documents["acceptation"].sha256)  # fmt: skip
    reply = stamped_pdf(documents["acceptation"])  # the signed reply, as scanned back
    formalisation.record_acceptance_letter(change, claire, seen_version=change.version, received_on=None,
        file=FileStorage(io.BytesIO(reply), filename="accord-titulaire-signe.pdf", content_type="application/pdf"))  # fmt: skip


def _amendment(contract, claire, sophie) -> None:
    change = services.open_request(
        contract, sophie, title="Fil recyclé certifié GRS : nouveau prix au bordereau"
    )
    objective = versions.items_of(change.draft_version)["objectif"][0]
    items.create_item(change.draft_version, "action", {
        "title": "Passer les tenues d'hiver en fil recyclé certifié GRS ou équivalent",
        "owner_side": "titulaire", "resources": "Fil certifié GRS ; surcoût de 3,00 € HT par article",
        "cost_estimate": D("48000"), "planned_start": date(2027, 3, 1), "planned_end": date(2027, 12, 31),
        "mode": "progressive"}, parent=objective, actor=sophie.user)  # fmt: skip
    answers = {**NO, "prix": {"answer": True, "note": "Nouveau prix PN1 au BPU : 3,00 € HT × 16 000 articles"},
               "obligations": {"answer": True, "note": "CCTP, article 4.2 complété"}}  # fmt: skip
    _step(change, sophie, answers=answers, impact="48000", rationale=(
        "Le fil certifié GRS coûte plus cher : un prix nouveau au bordereau est nécessaire."))  # fmt: skip
    services.decide(change, claire, seen_version=change.version, approve=True, comment="")
    formalisation.formalise(
        change, claire, seen_version=change.version, choice="avenant", reason=""
    )
    formalisation.update_terms(change, claire, seen_version=change.version, data={
        "legal_basis": "R2194-8", "revised_initial_ht": "1287500",
        "basis_justification": "Modification de faible montant : le cumul reste sous le seuil européen ; "
                               "le service juridique vérifie la limite de 10 %.",
        "modifications": [
            {"article": "CCTP, article 4.2", "text": "Les tenues d'hiver sont confectionnées en fil polyester "
             "recyclé certifié GRS ou équivalent.", "impact_ht": "0"},
            {"article": "Bordereau des prix unitaires (BPU)", "text": "Prix nouveau PN1 : supplément fil "
             "recyclé certifié, 3,00 € HT par article (16 000 articles estimés).", "impact_ht": "48000"},
            {"article": "CCAP, article 4.1", "text": "Le montant du marché est porté à 1 298 000,00 € HT.",
             "impact_ht": "0"}],
        "signatory_name": "Claire Martin", "signatory_qualite": "Acheteuse référente",
        "holder_signatory_name": "Sophie Durand", "holder_signatory_qualite": "Présidente"})  # fmt: skip
    formalisation.generate(change, claire, seen_version=change.version)
    pdf = formalisation.current_documents(change)["avenant"]
    formalisation.give_visa(
        pdf, sophie, password=_password(), qualite=sophie.qualite, seen_sha256=pdf.sha256
    )


def _password() -> str:
    from app.demo.data import DEMO_PASSWORD

    return DEMO_PASSWORD
