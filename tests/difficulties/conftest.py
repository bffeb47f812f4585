import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.contracts.models import Membership
from app.difficulties import services
from app.extensions import db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "pieces")}


def membership_of(user, contract):
    return db.session.scalar(
        select(Membership).where(Membership.user_id == user.id,
                                 Membership.contract_id == contract.id)
    )  # fmt: skip


def pdf(name="constat.pdf", data=PDF) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/pdf")


VALUES = {"title": "Retard de livraison des tissus recyclés", "category": "approvisionnement",
          "severity": "elevee", "description": "Le filateur a **deux semaines** de retard.",
          "request": "Décaler le jalon de mars."}  # fmt: skip


@pytest.fixture
def raise_one(world, draft):
    """Raise a difficulty as `user` (the supplier lead by default), linked to the objective."""

    def raising(user=None, files=(), **values):
        user = user or world.supplier_lead
        member = membership_of(user, world.contract)
        return services.raise_difficulty(world.contract, member, {**VALUES, **values},
                                         [draft.objective.uid], files or ())  # fmt: skip

    return raising
