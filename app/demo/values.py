"""Indicator values of the demo contract for the third quarter of 2026: one validated, one on
the wrong side of its trajectory and questioned, one still to validate; the indicators measured
by half-year or year have nothing due yet."""

from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from app.contracts.models import Contract, Membership
from app.extensions import db
from app.indicators import services as values


def _member(contract: Contract, email: str) -> Membership:
    return next(m for m in values_members(contract) if m.user.email == email)


def values_members(contract: Contract) -> list[Membership]:
    return db.session.scalars(select(Membership).where(Membership.contract_id == contract.id)).all()


def build(contract: Contract) -> None:
    supplier = _member(contract, "karim.benali@textiles-rhone.example")
    buyer = _member(contract, "hugo.bernard@grandlyon.example")
    by_name = {i.name: i for i in values.indicators_of(contract)}
    q3 = date(2026, 7, 1)
    recycled = values.enter_value(
        contract, supplier, by_name["Part de matières recyclées dans les articles livrés"],
        period_start=q3, value=D("14.5"), comment="Relevé des bons de livraison de juillet à septembre.",
    )  # fmt: skip
    values.validate_value(contract, buyer, recycled, decision="validee",
                          seen_version=recycled.version)  # fmt: skip
    packaging = values.enter_value(
        contract, supplier, by_name["Emballages jetables par livraison"], period_start=q3,
        value=D("4.4"), comment="Pesée sur 40 livraisons ; hausse liée aux commandes de rentrée.",
    )  # fmt: skip
    values.validate_value(contract, buyer, packaging, decision="questionnee",
                          note="Les 40 livraisons pesées sont-elles représentatives ?",
                          seen_version=packaging.version)  # fmt: skip
    db.session.commit()
