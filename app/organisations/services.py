"""Organisations and the SIRET check."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.audit import services as audit
from app.errors import DomainError
from app.extensions import db
from app.organisations.models import COMPANY_SIZES, ORGANISATION_KINDS, Organisation

LA_POSTE_SIREN = "356000000"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def normalize_siret(siret: str) -> str:
    return "".join(siret.split())


def siret_is_valid(siret: str) -> bool:
    """14 digits with a valid Luhn key (INSEE); La Poste's establishments use a digit sum
    divisible by 5 instead, since they outnumber what the Luhn key allows."""
    siret = normalize_siret(siret)
    if len(siret) != 14 or not siret.isascii() or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_SIREN + "00012":
        return sum(int(c) for c in siret) % 5 == 0
    return luhn_valid(siret)


def all_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def create_organisation(
    *, name: str, siret: str, kind: str, size: str | None, ess: bool, actor
) -> Organisation:
    siret = normalize_siret(siret)
    if not siret_is_valid(siret):
        raise DomainError(
            _("Ce numéro SIRET n'est pas valide (14 chiffres, clé de contrôle incorrecte)."),
            field="siret",
        )
    if kind not in ORGANISATION_KINDS:
        raise DomainError(_("Choisissez un type d'organisation."), field="kind")
    if kind == "entreprise" and size not in COMPANY_SIZES:
        raise DomainError(_("Indiquez la taille de l'entreprise."), field="size")
    if db.session.scalar(select(Organisation.id).where(Organisation.siret == siret)):
        raise DomainError(_("Une organisation porte déjà ce SIRET."), field="siret")
    organisation = Organisation(
        name=name.strip(),
        siret=siret,
        kind=kind,
        size=size if kind == "entreprise" else None,
        ess=ess,
    )
    db.session.add(organisation)
    db.session.flush()
    audit.record(
        "organisation.creee",
        actor=actor,
        object_type="organisation",
        object_id=organisation.id,
        after={"name": organisation.name, "siret": siret, "kind": kind, "size": size, "ess": ess},
    )
    db.session.commit()
    return organisation
