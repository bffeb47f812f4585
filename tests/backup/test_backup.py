"""SECURITY.md catalogue 33: backup then restore into a fresh database gives back identical
table fingerprints, the same audit head, and attachments whose SHA-256 still verify."""

import io
import subprocess

import pytest
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from app import create_app
from app.backup import backup, differences, fingerprint, restore
from app.difficulties import services as difficulties
from app.extensions import db
from tests.conftest import POSTGRES_URL
from tests.difficulties.conftest import PDF, VALUES, membership_of


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "pieces")}


@pytest.fixture
def fresh_database(tmp_path):
    """An empty database of the same engine for the restore (created and dropped here)."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_url(POSTGRES_URL).set(database="test_restore")
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    subprocess.run(["dropdb", "--if-exists", *args, "test_restore"], check=True)
    subprocess.run(["createdb", *args, "test_restore"], check=True)
    yield url.render_as_string(hide_password=False)
    subprocess.run(["dropdb", "--if-exists", "--force", *args, "test_restore"], check=False)


def test_backup_restore_roundtrip(app, world, draft, tmp_path, fresh_database):
    member = membership_of(world.supplier_lead, world.contract)
    difficulties.raise_difficulty(world.contract, member, VALUES, [draft.objective.uid],
                                  [FileStorage(io.BytesIO(PDF), filename="constat.pdf")])  # fmt: skip
    before = fingerprint()
    assert before["attachments"] and before["audit_heads"]
    folder = backup(tmp_path / "sauvegardes")
    assert (folder / "manifest.json").exists()

    restored = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database,
                          UPLOAD_FOLDER=str(tmp_path / "pieces-restaurees"))  # fmt: skip
    with restored.app_context():
        try:
            assert restore(folder) == []
            assert fingerprint() == before
            # The check can fail: a file altered after the restore is caught.
            stored = next((tmp_path / "pieces-restaurees").rglob("*"))
            while stored.is_dir():
                stored = next(stored.iterdir())
            stored.write_bytes(b"%PDF-1.4 altered")
            import json

            manifest = json.loads((folder / "manifest.json").read_text())
            assert any("altérée" in p for p in differences(manifest))
        finally:
            db.session.remove()
            db.engine.dispose()
