"""The demo contract's plan, drawn from the seed's example clause (eco-responsible work
clothing): in force as version 1, with a second version being drafted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.auth.models import User
from app.contracts.models import Contract, Membership
from app.extensions import db
from app.plan import services as items
from app.plan import versions

D = Decimal

AXES = [
    {
        "values": {
            "kind": "environnemental",
            "title": "Écoconception et matières recyclées",
            "priorities": ["ressources"],
            "mandatory": True,
            "description": "Aller au-delà du minimum de **20 %** de matières recyclées "
            "fixé par la loi AGEC et enrichir l'offre d'articles plus vertueux.",
        },
        "objectives": [
            {
                "values": {
                    "title": "Porter à 30 % la part de matières recyclées dans les achats des bénéficiaires",
                    "obligation": "resultats",
                    "due_date": date(2028, 12, 31),
                    "accountable_side": "titulaire",
                    "accountable_name": "Sophie Durand, directrice RSE",
                    "description": "Mesurée sur l'ensemble des articles livrés, en poids.",
                },
                "indicators": [
                    {
                        "values": {
                            "name": "Part de matières recyclées dans les articles livrés",
                            "unit": "%",
                            "direction": "hausse",
                            "baseline_value": D("12"),
                            "baseline_date": date(2026, 7, 1),
                            "target_value": D("30"),
                            "target_date": date(2028, 12, 31),
                            "periodicity": "trimestrielle",
                            "reporting_side": "titulaire",
                            "data_source": "Fiches techniques et factures du titulaire",
                        },
                        "milestones": [
                            (date(2027, 6, 30), D("20"), "Seuil de la loi AGEC"),
                            (date(2027, 12, 31), D("25"), ""),
                        ],
                    },
                ],
                "actions": [
                    {
                        "title": "Sourcer un fil polyester recyclé certifié GRS",
                        "owner_side": "titulaire",
                        "resources": "Acheteur textile (0,2 ETP), audits de certification GRS",
                        "cost_estimate": D("12500"),
                        "planned_start": date(2026, 9, 1),
                        "planned_end": date(2027, 3, 31),
                        "mode": "progressive",
                        "status": "en_cours",
                    },
                    {
                        "title": "Adapter le cahier des charges des tenues d'hiver",
                        "owner_side": "acheteur",
                        "resources": "Direction de la commande publique, avec les services bénéficiaires",
                        "cost_estimate": D("0"),
                        "planned_start": date(2026, 10, 1),
                        "planned_end": date(2027, 1, 31),
                        "mode": "immediate",
                        "status": "validee",
                    },
                ],
            },
            {
                "values": {
                    "title": "Développer l'écoconception et enrichir l'offre d'articles plus vertueux",
                    "obligation": "moyens",
                    "due_date": date(2029, 6, 30),
                    "accountable_side": "les_deux",
                    "accountable_name": "Comité de pilotage",
                },
                "indicators": [
                    {
                        "values": {
                            "name": "Articles écoconçus au catalogue",
                            "unit": "articles",
                            "direction": "hausse",
                            "baseline_value": D("3"),
                            "baseline_date": date(2026, 7, 1),
                            "target_value": D("15"),
                            "target_date": date(2029, 6, 30),
                            "periodicity": "semestrielle",
                            "reporting_side": "titulaire",
                            "data_source": "Catalogue du marché",
                        },
                        "milestones": [],
                    },
                ],
                "actions": [
                    {
                        "title": "Produire une série pilote de vestes écoconçues",
                        "owner_side": "titulaire",
                        "resources": "Bureau d'études du titulaire ; atelier de Villefranche",
                        "cost_estimate": D("34800.50"),
                        "planned_start": date(2026, 11, 1),
                        "planned_end": date(2027, 5, 31),
                        "mode": "progressive",
                        "status": "en_cours",
                    },
                    {
                        "title": "Tester les tenues pilotes avec 40 agents de voirie",
                        "owner_side": "les_deux",
                        "resources": "Agents volontaires de la direction de la propreté ; questionnaire d'usage",
                        "cost_estimate": D("4200"),
                        "planned_start": date(2027, 2, 1),
                        "planned_end": date(2027, 6, 30),
                        "mode": "immediate",
                        "status": "proposee",
                    },
                ],
            },
        ],
    },
    {
        "values": {
            "kind": "environnemental",
            "title": "Emballages et logistique de livraison",
            "priorities": ["decarbonation", "ressources"],
            "mandatory": True,
            "description": "Réduire les déchets d'emballage et l'empreinte carbone des tournées.",
        },
        "objectives": [
            {
                "values": {
                    "title": "Diviser par deux les déchets d'emballage à la livraison",
                    "obligation": "resultats",
                    "due_date": date(2027, 12, 31),
                    "accountable_side": "titulaire",
                    "accountable_name": "Responsable logistique",
                },
                "indicators": [
                    {
                        "values": {
                            "name": "Emballages jetables par livraison",
                            "unit": "kg",
                            "direction": "baisse",
                            "baseline_value": D("4.2"),
                            "baseline_date": date(2026, 7, 1),
                            "target_value": D("2.1"),
                            "target_date": date(2027, 12, 31),
                            "periodicity": "trimestrielle",
                            "reporting_side": "titulaire",
                            "data_source": "Pesées en entrepôt",
                        },
                        "milestones": [(date(2027, 3, 31), D("3.2"), "")],
                    },
                ],
                "actions": [
                    {
                        "title": "Mettre en place des bacs réutilisables consignés",
                        "owner_side": "titulaire",
                        "resources": "Achat de 400 bacs ; gestion de la consigne",
                        "cost_estimate": D("8000"),
                        "planned_start": date(2026, 10, 1),
                        "planned_end": date(2027, 3, 31),
                        "mode": "immediate",
                        "status": "realisee",
                    },
                    {
                        "title": "Rendre les bacs vides aux points de livraison",
                        "owner_side": "acheteur",
                        "resources": "Magasiniers des sites bénéficiaires",
                        "cost_estimate": D("0"),
                        "planned_start": date(2026, 11, 1),
                        "planned_end": date(2027, 12, 31),
                        "mode": "immediate",
                        "status": "en_cours",
                    },
                ],
            },
            {
                "values": {
                    "title": "Réduire l'empreinte carbone des tournées de livraison",
                    "obligation": "moyens",
                    "due_date": date(2028, 6, 30),
                    "accountable_side": "les_deux",
                    "accountable_name": "",
                },
                "indicators": [
                    {
                        "values": {
                            "name": "Émissions des tournées de livraison",
                            "unit": "t CO₂e",
                            "direction": "baisse",
                            "baseline_value": D("18"),
                            "baseline_date": date(2026, 7, 1),
                            "target_value": D("12"),
                            "target_date": date(2028, 6, 30),
                            "periodicity": "annuelle",
                            "reporting_side": "titulaire",
                            "data_source": "Bilan carbone des tournées (méthode ADEME)",
                        },
                        "milestones": [],
                    },
                ],
                "actions": [
                    {
                        "title": "Regrouper les commandes par secteur : deux livraisons par mois",
                        "owner_side": "les_deux",
                        "resources": "Calendrier de commande commun aux bénéficiaires",
                        "cost_estimate": D("0"),
                        "planned_start": date(2027, 1, 1),
                        "planned_end": date(2027, 6, 30),
                        "mode": "immediate",
                        "status": "validee",
                    },
                    {
                        "title": "Passer deux véhicules de livraison au bioGNV",
                        "owner_side": "titulaire",
                        "resources": "Renouvellement à la fin d'amortissement des véhicules actuels",
                        "cost_estimate": D("48000"),
                        "planned_start": date(2027, 9, 1),
                        "planned_end": date(2028, 6, 30),
                        "mode": "progressive",
                        "status": "proposee",
                    },
                ],
            },
        ],
    },
    {
        "values": {
            "kind": "societal",
            "title": "Insertion professionnelle",
            "priorities": [],
            "mandatory": True,
            "description": "",
        },
        "objectives": [
            {
                "values": {
                    "title": "Réaliser 1 500 heures d'insertion par an",
                    "obligation": "resultats",
                    "due_date": date(2027, 12, 31),
                    "accountable_side": "titulaire",
                    "accountable_name": "Karim Benali, chargé RH",
                },
                "indicators": [
                    {
                        "values": {
                            "name": "Heures d'insertion réalisées",
                            "unit": "heures",
                            "direction": "hausse",
                            "baseline_value": D("0"),
                            "baseline_date": date(2026, 7, 1),
                            "target_value": D("1500"),
                            "target_date": date(2027, 12, 31),
                            "periodicity": "semestrielle",
                            "reporting_side": "titulaire",
                            "data_source": "Attestations du facilitateur",
                        },
                        "milestones": [],
                    },
                ],
                "actions": [
                    {
                        "title": "Confier la reprise des tenues usagées à un atelier d'insertion",
                        "owner_side": "titulaire",
                        "resources": "Convention avec un atelier chantier d'insertion",
                        "cost_estimate": D("18000"),
                        "planned_start": date(2027, 1, 1),
                        "planned_end": date(2027, 6, 30),
                        "mode": "progressive",
                        "status": "proposee",
                    },
                    {
                        "title": "Mettre le titulaire en relation avec le facilitateur de la clause sociale",
                        "owner_side": "acheteur",
                        "resources": "Facilitateur de la Maison métropolitaine d'insertion pour l'emploi",
                        "cost_estimate": D("0"),
                        "planned_start": date(2026, 9, 1),
                        "planned_end": date(2026, 12, 31),
                        "mode": "immediate",
                        "status": "realisee",
                    },
                ],
            },
        ],
    },
]
GAIN_SHARING = {
    "buyer_share": D("50"), "supplier_share": D("50"),
    "financial_terms": "Les économies constatées sur les emballages et les livraisons sont "
                       "partagées à parts égales ; la part de l'acheteur prend la forme d'une remise "
                       "sur les commandes de l'année suivante.",
    "non_financial_gains": "Valorisation commune de la démarche (rapport RSE du titulaire, rapport "
                           "développement durable de la Métropole) ; retours d'usage des agents.",
}  # fmt: skip


def build(contract: Contract, people: dict[str, User], password: str) -> None:
    """Draft the plan as both sides would and give both leads' visas: version 1."""
    buyer, supplier = (
        people["claire.martin@grandlyon.example"],
        people["sophie.durand@textiles-rhone.example"],
    )
    plan = versions.plan_of(contract)
    draft = versions.working_version(plan)
    for axis_spec in AXES:
        axis = items.add_item(draft, "axe", axis_spec["values"], actor=buyer)
        for objective_spec in axis_spec["objectives"]:
            objective = items.add_item(
                draft, "objectif", objective_spec["values"], parent=axis, actor=buyer
            )
            for indicator_spec in objective_spec["indicators"]:
                indicator = items.add_item(
                    draft, "indicateur", indicator_spec["values"], parent=objective, actor=supplier
                )
                for due, value, note in indicator_spec["milestones"]:
                    items.add_item(
                        draft,
                        "jalon",
                        {"due_date": due, "value": value, "note": note},
                        parent=indicator,
                        actor=supplier,
                    )
            for action in objective_spec["actions"]:
                items.add_item(draft, "action", action, parent=objective, actor=supplier)
    items.add_item(draft, "partage", GAIN_SHARING, actor=buyer)
    db.session.commit()
    for lead in (buyer, supplier):
        membership = (
            db.session.query(Membership).filter_by(contract_id=contract.id, user_id=lead.id).one()
        )
        versions.give_visa(draft, membership, password, lead)
