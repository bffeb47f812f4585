"""The demo: the Métropole de Lyon purchasing centre buys eco-responsible work clothing
(the seed's example clause) from a fictional company; a second contract between other
parties shows that nobody sees what is not theirs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from app.auth import services as accounts
from app.auth.models import User
from app.contracts import services as contracts
from app.contracts.models import Contract
from app.demo import changes as demo_changes
from app.demo import difficulties as demo_difficulties
from app.demo import plan
from app.demo import reviews as demo_reviews
from app.demo import values as demo_values
from app.extensions import db
from app.organisations.models import Organisation

HERE = Path(__file__).parent
DEMO_PASSWORD = "lin-navette-velo-2026"  # noqa: S105 (printed in the README, refused in production)
DEMO_REFERENCE = "2025-0142"

ORGANISATIONS = {
    "metropole": {
        "name": "Métropole de Lyon",
        "siret": "20004697700019",
        "kind": "acheteur_public",
        "address": "20, rue du Lac — CS 33569\n69505 Lyon Cedex 03",
        "email": "commande-publique@grandlyon.example",
        "phone": "04 65 71 20 00",
    },
    "textiles": {
        "name": "Textiles Rhône SAS",
        "siret": "91234567800011",
        "kind": "entreprise",
        "size": "PME",
        # Fictional: telephone numbers from Arcep's fiction block, e-mails under .example.
        "trade_name": "Textiles Rhône",
        "address": "12, rue Francis-de-Pressensé\n69100 Villeurbanne",
        "head_office_address": "3, avenue des Soieries\n69190 Saint-Fons",
        "head_office_siret": "91234567800003",
        "email": "contact@textiles-rhone.example",
        "phone": "04 65 71 42 17",
    },
    "villeurbanne": {
        "name": "Ville de Villeurbanne",
        "siret": "21690069400011",
        "kind": "acheteur_public",
    },
    "jardins": {
        "name": "Jardins du Rhône SCOP",
        "siret": "98765432100015",
        "kind": "entreprise",
        "size": "TPE",
        "ess": True,
    },
}

# (e-mail, name, organisation, admin?)
PEOPLE = [
    ("claire.martin@grandlyon.example", "Claire Martin", "metropole", False),
    ("hugo.bernard@grandlyon.example", "Hugo Bernard", "metropole", False),
    ("ines.garcia@grandlyon.example", "Inès Garcia", "metropole", False),
    ("sophie.durand@textiles-rhone.example", "Sophie Durand", "textiles", False),
    ("karim.benali@textiles-rhone.example", "Karim Benali", "textiles", False),
    ("paul.lefevre@villeurbanne.example", "Paul Lefèvre", "villeurbanne", False),
    ("lea.moreau@jardins-rhone.example", "Léa Moreau", "jardins", False),
    ("admin@progres.example", "Administrateur Progrès", None, True),
]

CONTRACTS = [
    {
        "data": {
            "reference": DEMO_REFERENCE,
            "object": "Vêtements de travail éco-responsables",
            "category": "fournitures",
            "notification_date": date(2026, 7, 1),
            "duration_months": 48,
            "initial_amount_ht": Decimal("1250000.00"),
            "buyer": "metropole",
            "buyer_service": "Centrale d'achat — Direction de la commande publique",
            "supplier": "textiles",
            "clause": "clause_vetements.md",
        },
        "members": [
            ("claire.martin@grandlyon.example", "acheteur", "referent"),
            ("hugo.bernard@grandlyon.example", "acheteur", "contributeur"),
            ("ines.garcia@grandlyon.example", "acheteur", "observateur"),
            ("sophie.durand@textiles-rhone.example", "titulaire", "referent"),
            ("karim.benali@textiles-rhone.example", "titulaire", "contributeur"),
        ],
    },
    {
        "data": {
            "reference": "2026-0057",
            "object": "Entretien des espaces verts en gestion différenciée",
            "category": "services",
            "notification_date": date(2026, 3, 2),
            "duration_months": 36,
            "initial_amount_ht": Decimal("480000.00"),
            "buyer": "villeurbanne",
            "buyer_service": "Direction de la nature en ville",
            "supplier": "jardins",
            "clause": "clause_espaces_verts.md",
        },
        "members": [
            ("paul.lefevre@villeurbanne.example", "acheteur", "referent"),
            ("lea.moreau@jardins-rhone.example", "titulaire", "referent"),
        ],
    },
]


def _organisation(key: str) -> Organisation:
    spec = ORGANISATIONS[key]
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.siret == spec["siret"])
    )
    if organisation is None:
        organisation = Organisation(**{"size": None, "ess": False, **spec})
        db.session.add(organisation)
        db.session.flush()
    return organisation


def _person(email: str, name: str, organisation_key: str | None, is_admin: bool) -> User:
    user = accounts.user_by_email(email)
    if user is None:
        user = User(
            email=email,
            full_name=name,
            organisation=_organisation(organisation_key) if organisation_key else None,
            is_admin=is_admin,
        )
        accounts.set_password(user, DEMO_PASSWORD)
        db.session.add(user)
        db.session.flush()
    return user


def load() -> bool:
    """Create the demo organisations, people and contracts; False if already there."""
    if db.session.scalar(select(Contract.id).where(Contract.reference == DEMO_REFERENCE)):
        return False
    people = {email: _person(email, name, org, admin) for email, name, org, admin in PEOPLE}
    for spec in CONTRACTS:
        raw = dict(spec["data"])
        buyer, supplier = _organisation(raw.pop("buyer")), _organisation(raw.pop("supplier"))
        clause = (HERE / raw.pop("clause")).read_text(encoding="utf-8")
        contract = contracts.add_contract(
            contracts.ContractData(
                **raw,
                buyer_organisation_id=buyer.id,
                supplier_organisation_id=supplier.id,
                progress_clause=clause,
            ),
            actor=None,
        )
        for email, side, role in spec["members"]:
            contracts.add_member(contract, people[email], side, role, actor=None)
        if contract.reference == DEMO_REFERENCE:
            db.session.commit()
            plan.build(contract, people, DEMO_PASSWORD)
            demo_difficulties.build(contract, people)
            demo_values.build(contract)
            demo_reviews.build(contract)
            demo_changes.build(contract, people)
    db.session.commit()
    return True
