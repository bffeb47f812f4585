"""The stage's change requests: one in each state a write route of the changes pages acts on,
so that every allowed role's request on own ids goes through (the matrix's positive control).

Built after the stage's plan is given both leads' visas (version 1 in force); the draft of the
first request (in « brouillon ») is where the plan routes edit, like a working draft."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from werkzeug.datastructures import FileStorage

from app.changes import formalisation
from app.changes import services as changes
from app.contracts.models import Membership
from app.extensions import db
from app.plan import services as items
from app.plan import versions
from tests import factories

NO = {k: {"answer": False, "note": ""} for k in ("prix", "obligations", "paiement", "perimetre")}
YES = {**NO, "prix": {"answer": True, "note": "Prix nouveau au BPU"}}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Which request each changes endpoint names (`change_id`), by the state it needs.
FOR_ENDPOINT = {
    "contract.changes.buyer_step": "soumise",  # « approuver »
    "contract.changes.formalise": "approuvee",
    "contract.changes.terms": "lettre",
    "contract.changes.visa": "lettre",
    "contract.changes.stamped": "lettre",
    "contract.changes.acceptance": "lettre_visee",
    "contract.changes.signature": "a_signer",
    "contract.changes.notification": "signee",
}


@dataclass(frozen=True)
class ChangeSamples:
    ids: dict[str, int] = field(default_factory=dict)  # state -> change request id
    letter: tuple[int, str] = (0, "")  # the « lettre » request's letter: (document id, sha256)

    def change_for(self, endpoint: str) -> int:
        return self.ids[FOR_ENDPOINT.get(endpoint, "brouillon")]


def build(
    contract, buyer: Membership, supplier: Membership, objective_uid: str
) -> tuple[ChangeSamples, object]:
    """Returns the samples and the draft version of the « brouillon » request."""
    for lead in (buyer, supplier):
        versions.give_visa(
            versions.working_version(versions.plan_of(contract)),
            lead,
            factories.PASSWORD,
            lead.user,
        )
    ids = {}
    draft = _proposed(contract, buyer, objective_uid, "Nouvel objectif", NO)
    ids["brouillon"] = draft.id
    ids["soumise"] = _submitted(contract, buyer, objective_uid, NO).id
    ids["approuvee"] = _approved(contract, buyer, objective_uid, NO).id
    letter = _formalised(contract, buyer, objective_uid, NO, "lettre")
    ids["lettre"] = letter.id
    document = formalisation.current_documents(letter)["lettre"]
    visaed = _formalised(contract, buyer, objective_uid, NO, "lettre")
    ids["lettre_visee"] = visaed.id
    _visa(visaed, "lettre", buyer)
    to_sign = _formalised(contract, buyer, objective_uid, YES, "avenant")
    ids["a_signer"] = to_sign.id
    signed = _formalised(contract, buyer, objective_uid, YES, "avenant")
    ids["signee"] = signed.id
    for change in (to_sign, signed):
        _visa(change, "avenant", buyer)
        _visa(change, "avenant", supplier)
        formalisation.transmit(change, buyer, seen_version=change.version)
    formalisation.record_signature(
        signed, buyer, seen_version=signed.version, kind="manuscrite",
        file=FileStorage(io.BytesIO(PDF), filename="avenant-signe.pdf"),
        signatories=[{"name": "Signataire titulaire", "qualite": "Gérant", "side": "titulaire"},
                     {"name": "Signataire acheteur", "qualite": "Vice-président", "side": "acheteur"}],
    )  # fmt: skip
    return ChangeSamples(ids, (document.id, document.sha256)), draft.draft_version


def _proposed(contract, buyer, objective_uid, title, answers):
    change = changes.open_request(contract, buyer, title=title)
    objective = next(
        o for o in versions.items_of(change.draft_version)["objectif"] if o.uid == objective_uid
    )
    items.update_item(objective, {"description": f"Précisé : {title}"}, base_version=objective.version,
                      actor=buyer.user)  # fmt: skip
    changes.update_request(change, buyer, seen_version=change.version, title=title, rationale="",
                           answers=answers, financial_impact_ht="1000" if answers is YES else "0")  # fmt: skip
    return change


def _submitted(contract, buyer, objective_uid, answers):
    change = _proposed(contract, buyer, objective_uid, "Soumise", answers)
    changes.submit(change, buyer, seen_version=change.version)
    return change


def _approved(contract, buyer, objective_uid, answers):
    change = _submitted(contract, buyer, objective_uid, answers)
    changes.decide(change, buyer, seen_version=change.version, approve=True, comment="")
    return change


def _formalised(contract, buyer, objective_uid, answers, choice):
    change = _approved(contract, buyer, objective_uid, answers)
    formalisation.formalise(change, buyer, seen_version=change.version, choice=choice, reason="")
    formalisation.update_terms(change, buyer, seen_version=change.version, data={
        "legal_basis": "R2194-8", "signatory_name": "Claire", "signatory_qualite": "Acheteuse"})  # fmt: skip
    formalisation.generate(change, buyer, seen_version=change.version)
    return change


def _visa(change, kind, lead):
    document = formalisation.current_documents(change)[kind]
    formalisation.give_visa(document, lead, password=factories.PASSWORD, qualite="Référent",
                            seen_sha256=document.sha256)  # fmt: skip
    db.session.commit()
