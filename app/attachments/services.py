"""Accepting, storing and finding attachments (SECURITY.md §5; ASVS 5.2.x, 5.3.x, 5.4.3).

A file is accepted only if its extension is on the allowlist and its content is what that
extension promises: sniffed by `filetype` for binary formats, strict UTF-8 (and `csv` parsing)
for text. Office files are zip archives: their table of contents is checked before anything
reads them (zip bombs). Every refusal raises `AttachmentRejected` (422) with a French message
naming the file, and is logged."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import unicodedata
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import filetype
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event as sa_event
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.attachments.models import Attachment
from app.attachments.scanning import ScannerUnavailable, scanner
from app.attachments.storage import storage
from app.errors import DomainError
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.contracts.models import Contract

log = logging.getLogger("progres.attachments")

# Extension -> the MIME type its content must have (None: text, checked by decoding).
EXPECTED_MIME: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "csv": "text/csv",
    "txt": "text/plain",
}
TEXT_EXTENSIONS = frozenset({"csv", "txt"})
ZIP_EXTENSIONS = frozenset({"docx", "xlsx", "pptx", "odt", "ods"})
FORMAT_NAMES = "PDF, PNG, JPEG, DOCX, XLSX, PPTX, ODT, ODS, CSV, TXT"
ACCEPT_ATTRIBUTE = ",".join(f".{extension}" for extension in EXPECTED_MIME)

# Limits on an office file's archive, read from its table of contents (ASVS 5.2.3).
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_UNCOMPRESSED = 100 * 1024 * 1024
MAX_DISPLAY_NAME = 200
# A text file that is really a web page or an image someone could render: always refused.
MARKUP_START = re.compile(rb"^\s*<(!doctype\s+html|html|head|body|script|svg|\?xml)", re.I)
# Control and invisible formatting characters (CR, LF, NUL, right-to-left override…).
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


class AttachmentRejected(DomainError):
    """The file was refused; the message says why, naming the file."""


def accepted_formats_text() -> str:
    """Help text for an upload field."""
    return _(
        "Formats acceptés : %(formats)s ; %(size)s Mo au plus par fichier.",
        formats=FORMAT_NAMES,
        size=_megabytes(current_app.config["ATTACHMENT_MAX_BYTES"]),
    )


def display_name_of(filename: str | None) -> str:
    """The name shown and offered at download: NFC, no control characters, no folders, at
    most 200 characters with its extension kept. Never used on disk."""
    name = unicodedata.normalize("NFC", filename or "")
    name = "".join(c for c in name if unicodedata.category(c) not in HIDDEN_CATEGORIES)
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".").strip()
    if len(name) > MAX_DISPLAY_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) < 20:
            name = stem[: MAX_DISPLAY_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_DISPLAY_NAME]
    return name


def store_upload(contract: Contract, file: FileStorage, uploader: User | None) -> Attachment:
    """Check the file, write it to storage and add its row to the session (the caller commits).

    Raises `AttachmentRejected` for a file that is empty, too large, of a format not accepted,
    whose content does not match its extension, or that the antivirus flags or cannot check."""
    name = display_name_of(file.filename)
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    data = file.stream.read(limit + 1)

    def reject(reason: str, message: str) -> AttachmentRejected:
        log.warning(
            "attachment.rejected reason=%s contract=%s user=%s name=%r size=%s",
            reason,
            contract.id,
            getattr(uploader, "id", None),
            name,
            len(data),
        )
        return AttachmentRejected(message, field="file")

    shown = name or _("sans nom")
    if not data:
        raise reject("empty", _("Le fichier « %(name)s » est vide.", name=shown))
    if len(data) > limit:
        raise reject(
            "too_large",
            _(
                "Le fichier « %(name)s » dépasse la taille maximale de %(size)s Mo.",
                name=shown,
                size=_megabytes(limit),
            ),
        )
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in EXPECTED_MIME:
        raise reject(
            "type_not_accepted",
            _(
                "Type de fichier non accepté : « %(name)s ». Formats acceptés : %(formats)s.",
                name=shown,
                formats=FORMAT_NAMES,
            ),
        )
    mismatch = _(
        "Le fichier « %(name)s » n'est pas un %(format)s valide : son contenu ne correspond "
        "pas à son extension.",
        name=name,
        format=extension.upper() if extension != "jpg" else "JPEG",
    )
    sniffed = filetype.guess_mime(data)
    if extension in TEXT_EXTENSIONS:
        if sniffed is not None or not _is_clean_text(data, extension):
            raise reject("content_mismatch", mismatch)
        if MARKUP_START.match(data[:1024]):
            raise reject(
                "markup",
                _(
                    "Le fichier « %(name)s » est refusé : les pages HTML et les images SVG ne "
                    "sont pas acceptées.",
                    name=name,
                ),
            )
    else:
        archive = _archive_verdict(data) if extension in ZIP_EXTENSIONS else "ok"
        if archive == "broken":
            raise reject("broken_archive", mismatch)
        if archive == "too_large":
            raise reject(
                "archive_limits",
                _(
                    "Le fichier « %(name)s » est refusé : son contenu compressé est trop "
                    "volumineux une fois décompressé ou compte trop d'éléments.",
                    name=name,
                ),
            )
        if sniffed != EXPECTED_MIME[extension]:
            raise reject(f"content_mismatch sniffed={sniffed}", mismatch)
    try:
        virus = scanner().scan(data)
    except ScannerUnavailable as error:
        log.error("attachment.scan_unavailable contract=%s error=%s", contract.id, error)
        raise reject(
            "scanner_unavailable",
            _(
                "Le fichier « %(name)s » n'a pas pu être vérifié par l'antivirus : réessayez "
                "dans quelques minutes.",
                name=name,
            ),
        ) from error
    if virus:
        raise reject(
            f"virus virus={virus!r}",
            _(
                "Le fichier « %(name)s » est refusé : l'antivirus y a détecté un contenu "
                "malveillant (%(virus)s).",
                name=name,
                virus=virus,
            ),
        )

    attachment = Attachment(
        contract_id=contract.id,
        storage_key=uuid.uuid4().hex,
        display_name=name,
        size=len(data),
        mime=EXPECTED_MIME[extension],
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=getattr(uploader, "id", None),
    )
    storage().save(contract.id, attachment.storage_key, data)
    # Written before the commit: if the transaction rolls back, the file goes too.
    db.session.info.setdefault("files_written", []).append((contract.id, attachment.storage_key))
    db.session.add(attachment)
    log.info(
        "attachment.stored contract=%s user=%s size=%s sha256=%s",
        contract.id,
        attachment.uploaded_by_id,
        attachment.size,
        attachment.sha256,
    )
    return attachment


def attachment_for(contract: Contract, attachment_id: int) -> Attachment | None:
    """The contract's attachment with this id; None for an id of another contract."""
    return db.session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.contract_id == contract.id
        )
    )


def file_path(attachment: Attachment) -> Path:
    """Where the attachment's bytes are (the file may be missing: check before use)."""
    return storage().path(attachment.contract_id, attachment.storage_key)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def _is_clean_text(data: bytes, extension: str) -> bool:
    if b"\0" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if extension == "csv":
        try:  # French spreadsheets write « ; »: parse with the delimiter the file uses
            delimiter = csv.Sniffer().sniff(text[:65_536], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        try:
            for _row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
                pass
        except csv.Error:
            return False
    return True


def _archive_verdict(data: bytes) -> str:
    """« ok », « broken » or « too_large », from the archive's table of contents alone:
    nothing is decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        return "broken"
    if len(entries) > MAX_ZIP_ENTRIES:
        return "too_large"
    if sum(entry.file_size for entry in entries) > MAX_ZIP_UNCOMPRESSED:
        return "too_large"
    return "ok"


def _forget_written_files(session) -> None:
    session.info.pop("files_written", None)


def _delete_written_files(session, previous_transaction) -> None:
    """A rolled-back upload leaves no file without its row (a savepoint's rollback, such as
    the audit trail's retry, is not the end of the transaction)."""
    if previous_transaction.parent is not None:
        return
    for contract_id, key in session.info.pop("files_written", []):
        try:
            storage().delete(contract_id, key)
        except OSError:
            log.warning("attachment.orphan contract=%s key=%s", contract_id, key, exc_info=True)


sa_event.listen(db.session, "after_commit", _forget_written_files)
sa_event.listen(db.session, "after_soft_rollback", _delete_written_files)
