"""SECURITY.md catalogue 33: backup then restore into a fresh database gives back identical
table fingerprints, the same audit head, attachments whose SHA-256 still verify, and visas
whose recorded SHA-256 is still that of the document bytes they were given on."""

import hashlib
import io
import json
import shutil
import subprocess

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from app import create_app
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.backup import backup, differences, fingerprint, restore
from app.changes import formalisation
from app.changes.models import ChangeVisa
from app.difficulties import services as difficulties
from app.extensions import db
from tests.changes import conftest as changes_fixtures
from tests.changes.test_services import approved
from tests.conftest import POSTGRES_URL
from tests.difficulties.conftest import PDF, VALUES, membership_of
from tests.factories import PASSWORD
from tests.security.changes_stage import YES

# The changes tests' fixtures: a plan in force (version 1) and `member(role)`.
in_force, member = changes_fixtures.in_force, changes_fixtures.member


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "pieces")}


@pytest.fixture
def fresh_database(tmp_path):
    """An empty database of the same engine for the restore (created and dropped here)."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"{make_url(POSTGRES_URL).database}_restore"  # one per test database, not shared
    url = make_url(POSTGRES_URL).set(database=name)
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    subprocess.run(["dropdb", "--if-exists", *args, name], check=True)
    subprocess.run(["createdb", *args, name], check=True)
    yield url.render_as_string(hide_password=False)
    subprocess.run(["dropdb", "--if-exists", "--force", *args, name], check=False)


def amendment_with_both_visas(world, member, in_force):
    """A change request formalised by an amendment, generated, and given both leads' visas."""
    change = approved(world, member, in_force, answers=YES, impact="1000")
    buyer = member("buyer_lead")
    formalisation.formalise(change, buyer, seen_version=change.version, choice="avenant", reason="")
    formalisation.update_terms(change, buyer, seen_version=change.version, data={
        "legal_basis": "R2194-8", "signatory_name": "Claire", "signatory_qualite": "Acheteuse"})  # fmt: skip
    formalisation.generate(change, buyer, seen_version=change.version)
    document = formalisation.current_documents(change)["avenant"]
    for lead in ("buyer_lead", "supplier_lead"):
        formalisation.give_visa(document, member(lead), password=PASSWORD, qualite="Référent",
                                seen_sha256=document.sha256)  # fmt: skip
    return change


def test_backup_restore_roundtrip(app, world, member, in_force, tmp_path, fresh_database):
    supplier = membership_of(world.supplier_lead, world.contract)
    difficulties.raise_difficulty(world.contract, supplier, VALUES, [in_force.objective.uid],
                                  [FileStorage(io.BytesIO(PDF), filename="constat.pdf")])  # fmt: skip
    amendment_with_both_visas(world, member, in_force)
    contract_id = world.contract.id  # the test's objects stay in the test's database
    before = fingerprint()
    assert before["attachments"] and before["audit_heads"]
    folder = backup(tmp_path / "sauvegardes")
    assert (folder / "manifest.json").exists()
    shutil.rmtree(tmp_path / "pieces")  # whatever is read after the restore came from the backup

    restored = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database,
                          UPLOAD_FOLDER=str(tmp_path / "pieces-restaurees"))  # fmt: skip
    with restored.app_context():
        try:
            assert restore(folder) == []
            assert fingerprint() == before
            assert fingerprint()["audit_heads"] == before["audit_heads"]
            assert all(report.ok for report in audit.verify_all())
            visas = db.session.scalars(select(ChangeVisa)).all()
            assert sorted(v.side for v in visas) == ["acheteur", "titulaire"]
            for visa in visas:
                stored = formalisation.read(visa.document)  # the restored file's bytes
                assert hashlib.sha256(stored).hexdigest() == visa.sha256 == visa.document.sha256
                event = db.session.scalar(select(AuditEvent).where(
                    AuditEvent.contract_id == contract_id, AuditEvent.seq == visa.audit_seq))  # fmt: skip
                assert event.action.endswith("visa") and visa.sha256 in event.payload
            # The check can fail: a file altered after the restore is caught.
            stored = next((tmp_path / "pieces-restaurees").rglob("*"))
            while stored.is_dir():
                stored = next(stored.iterdir())
            stored.write_bytes(b"%PDF-1.4 altered")
            manifest = json.loads((folder / "manifest.json").read_text())
            assert any("altérée" in p for p in differences(manifest))
        finally:
            db.session.remove()
            db.engine.dispose()
