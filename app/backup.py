"""`flask backup` and `flask restore`: a consistent copy of the database and the uploaded files,
with a manifest that lets the restore prove it gave back the same data (SECURITY.md §6).

- SQLite: `VACUUM INTO` (an online, consistent copy, WAL included; never copy the .db alone).
- PostgreSQL: `pg_dump -Fc`, restored with `pg_restore --clean --if-exists --no-owner`.
- The manifest holds each table's row count and content hash, each audit chain's head hash and
  every attachment's SHA-256; `restore` recomputes them all and fails loudly on any difference."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url

from app.extensions import db

MANIFEST = "manifest.json"


def _table_digest(table) -> tuple[int, str]:
    """Rows of a table in primary-key order, hashed as text (same result on both engines)."""
    order = list(table.primary_key.columns) or list(table.columns)
    digest, count = hashlib.sha256(), 0
    for row in db.session.execute(select(table).order_by(*order)):
        digest.update(repr(tuple(_plain(v) for v in row)).encode())
        count += 1
    return count, digest.hexdigest()


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value) if value is not None else None


def fingerprint() -> dict:
    """What a restore must give back: tables, audit heads, attachment hashes."""
    from app.attachments.models import Attachment
    from app.audit.models import AuditEvent
    from app.audit.services import _head

    metadata = MetaData()
    metadata.reflect(bind=db.session.connection())  # not a second connection: SQLite locks
    tables = {}
    for name in sorted(metadata.tables):
        if name == "alembic_version":
            continue
        tables[name] = _table_digest(metadata.tables[name])
    chains = db.session.scalars(
        select(AuditEvent.chain).distinct().order_by(AuditEvent.chain)
    ).all()
    heads = {chain: _head(chain).hash for chain in chains}
    attachments = {a.storage_key: a.sha256 for a in db.session.scalars(select(Attachment))}
    return {"tables": tables, "audit_heads": heads, "attachments": attachments}


def _upload_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def backup(target_dir: Path) -> Path:
    """Write a backup folder under `target_dir` and return it."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    folder = Path(target_dir) / f"progres-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    manifest = {"created_at": datetime.now(tz=UTC).isoformat(), "engine": url.get_backend_name(),
                **fingerprint()}  # fmt: skip
    db.session.rollback()  # no transaction of ours holds a lock while the copy is made
    if url.get_backend_name() == "sqlite":
        raw = db.engine.raw_connection()  # outside SQLAlchemy's BEGIN: VACUUM refuses transactions
        try:
            raw.driver_connection.execute("VACUUM INTO ?", (str(folder / "database.sqlite"),))
        finally:
            raw.close()
    else:
        command = [_tool("pg_dump"), "-Fc", "-f", str(folder / "database.dump"), _libpq(url)]
        subprocess.run(command, check=True, env=_pg_env(url))  # noqa: S603 (our config's URL)
    uploads = _upload_root()
    if uploads.exists():
        shutil.copytree(uploads, folder / "uploads")
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return folder


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} introuvable : installez les outils clients de PostgreSQL.")
    return path


def _libpq(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=True).replace("***", "")


def _pg_env(url) -> dict:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return env


def restore(folder: Path) -> list[str]:
    """Put the backup back into the configured database and upload folder; return the
    differences with the manifest (empty: the same data came back)."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if manifest["engine"] != url.get_backend_name():
        raise ValueError(f"sauvegarde {manifest['engine']}, base {url.get_backend_name()}")
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        target = Path(url.database)
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        source = sqlite3.connect(folder / "database.sqlite")
        destination = sqlite3.connect(target)
        with destination:
            source.backup(destination)
        source.close()
        destination.close()
    else:
        command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                   "--single-transaction", "-d", _libpq(url), str(folder / "database.dump")]  # fmt: skip
        subprocess.run(command, check=True, env=_pg_env(url))  # noqa: S603 (our config's URL)
    uploads = _upload_root()
    if (folder / "uploads").exists():
        shutil.copytree(folder / "uploads", uploads, dirs_exist_ok=True)
    return differences(manifest)


def differences(manifest: dict) -> list[str]:
    """Compare the live data with a manifest, and every stored file with its SHA-256."""
    from app.attachments.models import Attachment
    from app.attachments.services import file_path
    from app.audit.services import verify_all

    now = fingerprint()
    found = []
    for name, expected in manifest["tables"].items():
        if list(now["tables"].get(name, [])) != list(expected):
            found.append(f"table {name} : {now['tables'].get(name)} ≠ {expected}")
    if now["audit_heads"] != manifest["audit_heads"]:
        found.append("tête du journal d'audit différente")
    found += [f"journal d'audit {r.chain} : {r.reason}" for r in verify_all() if not r.ok]
    for attachment in db.session.scalars(select(Attachment)):
        path = file_path(attachment)
        if not path.exists():
            found.append(f"pièce {attachment.storage_key} absente")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != attachment.sha256:
            found.append(f"pièce {attachment.storage_key} altérée")
    db.session.execute(text("SELECT 1"))
    return found
