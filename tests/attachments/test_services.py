"""What `store_upload` accepts and refuses (SECURITY.md §5; catalogue 24 and 25)."""

import hashlib
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.attachments import services
from app.attachments.models import Attachment
from app.attachments.services import AttachmentRejected, store_upload
from app.extensions import db
from tests.attachments.fakes import EICAR, PDF, PNG, office_file, upload


def rejected(world, data: bytes, filename: str) -> str:
    with pytest.raises(AttachmentRejected) as refusal:
        store_upload(world.contract, upload(data, filename), world.buyer_lead)
    assert refusal.value.status == 422
    assert db.session.scalars(select(Attachment)).all() == []
    return refusal.value.message


def stored_files(app) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("data", "filename", "mime"),
    [
        (PDF, "Compte-rendu.pdf", "application/pdf"),
        (PNG, "photo.PNG", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "photo.jpg", "image/jpeg"),
        (office_file(), "plan.docx", services.EXPECTED_MIME["docx"]),
        ("Indicateur;Valeur\nRecyclé;30\n".encode(), "mesures.csv", "text/csv"),
        ("Note de réunion\n".encode(), "note.txt", "text/plain"),
    ],
)
def test_accepted_file_is_stored_under_a_random_name_per_contract(app, world, data, filename, mime):
    attachment = store_upload(world.contract, upload(data, filename), world.supplier_lead)
    db.session.commit()

    assert re.fullmatch(r"[0-9a-f]{32}", attachment.storage_key)
    path = Path(app.config["UPLOAD_FOLDER"]) / str(world.contract.id) / attachment.storage_key
    assert stored_files(app) == [path]
    assert path.read_bytes() == data
    assert "static" not in path.parts
    assert attachment.display_name == filename
    assert attachment.mime == mime
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.uploaded_by_id == world.supplier_lead.id
    assert attachment.created_at.tzinfo is not None


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(56), "rapport.pdf"),  # a Linux executable
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56), "rapport.pdf"),  # a Windows executable
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "rapport.pdf"),
        (PDF, "image.png"),
        (b"PK\x03\x04 not really an archive", "plan.docx"),
    ],
)
def test_content_that_does_not_match_its_extension_is_refused(world, data, filename):
    message = rejected(world, data, filename)
    assert f"« {filename} »" in message
    assert "son contenu ne correspond pas à son extension" in message


@pytest.mark.parametrize(
    "filename", ["dessin.svg", "page.html", "page.htm", "outil.exe", "script.js", "sans-extension"]
)
def test_formats_off_the_list_are_refused_with_the_list(world, filename):
    message = rejected(world, b"<svg xmlns='http://www.w3.org/2000/svg'/>", filename)
    assert message.startswith("Type de fichier non accepté")
    assert "PDF, PNG, JPEG, DOCX, XLSX, PPTX, ODT, ODS, CSV, TXT" in message


@pytest.mark.parametrize(
    "data",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"  <!doctype html><p>bonjour</p>",
        b"<?xml version='1.0'?><svg/>",
    ],
)
def test_svg_or_html_disguised_as_text_is_refused(world, data):
    assert "HTML et les images SVG" in rejected(world, data, "notes.txt")


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        ("Indicateur;Valeur\nRecyclé;30\n".encode("latin-1"), "mesures.csv"),
        (b"Indicateur;Valeur\n\x00\x01;30\n", "mesures.csv"),
        (b'Indicateur;"Valeur\n', "mesures.csv"),  # an unclosed quote
        (b"texte\x00binaire", "note.txt"),
        (b"\xff\xfe\x00t\x00e\x00x\x00t\x00e", "note.txt"),
    ],
)
def test_text_that_is_not_clean_utf8_is_refused(world, data, filename):
    assert "son contenu ne correspond pas à son extension" in rejected(world, data, filename)


def test_office_file_with_more_than_a_thousand_entries_is_refused(world):
    message = rejected(world, office_file(extra_entries=1_000), "plan.docx")
    assert "« plan.docx »" in message
    assert "trop" in message


def test_office_file_unpacking_beyond_100_mb_is_refused(world):
    bomb = office_file(huge_entry_size=101 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024  # small on the wire, huge once unpacked
    assert "décompressé" in rejected(world, bomb, "plan.docx")


def test_file_over_the_size_limit_is_refused(app, world):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024 * 1024
    message = rejected(world, PDF + bytes(1024 * 1024), "gros.pdf")
    assert message == "Le fichier « gros.pdf » dépasse la taille maximale de 1 Mo."
    app.config["ATTACHMENT_MAX_BYTES"] = 10 * 1024 * 1024
    message = rejected(world, PDF + bytes(10 * 1024 * 1024), "gros.pdf")
    assert message == "Le fichier « gros.pdf » dépasse la taille maximale de 10 Mo."


def test_default_limits(app):
    assert app.config["ATTACHMENT_MAX_BYTES"] == 10 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024


def test_empty_file_is_refused(world):
    assert rejected(world, b"", "vide.pdf") == "Le fichier « vide.pdf » est vide."


def test_eicar_is_refused_by_the_antivirus(app, world, caplog):
    with caplog.at_level(logging.WARNING, logger="progres.attachments"):
        message = rejected(world, EICAR, "eicar.txt")
    assert "antivirus" in message
    assert "Eicar-Test-Signature" in message
    assert stored_files(app) == []
    assert any("reason=virus" in record.getMessage() for record in caplog.records)


def test_unreachable_antivirus_refuses_the_file(app, world, caplog):
    from app.attachments.scanning import ClamdScanner

    app.extensions["scanner"] = ClamdScanner(host="127.0.0.1", port=1, timeout=1)
    with caplog.at_level(logging.WARNING, logger="progres.attachments"):
        message = rejected(world, PDF, "rapport.pdf")
    assert "n'a pas pu être vérifié par l'antivirus" in message
    assert any(r.levelname == "ERROR" for r in caplog.records)


def test_every_refusal_is_logged_without_the_content(world, caplog):
    with caplog.at_level(logging.WARNING, logger="progres.attachments"):
        rejected(world, b"<html>secret</html>", "rapport.pdf")
    (record,) = caplog.records
    assert "attachment.rejected reason=content_mismatch" in record.getMessage()
    assert f"contract={world.contract.id}" in record.getMessage()
    assert f"user={world.buyer_lead.id}" in record.getMessage()
    assert "secret" not in record.getMessage()


def test_path_traversal_name_keeps_only_the_file_name(app, world):
    attachment = store_upload(world.contract, upload(PDF, "../../etc/passwd.pdf"), world.buyer_lead)
    db.session.commit()
    assert attachment.display_name == "passwd.pdf"
    (path,) = stored_files(app)
    assert path.parent == Path(app.config["UPLOAD_FOLDER"]) / str(world.contract.id)
    assert path.name == attachment.storage_key


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("..\\..\\Windows\\win.ini.pdf", "win.ini.pdf"),
        (
            'Compte-rendu "réunion"\r\nSet-Cookie: x=1.pdf',
            'Compte-rendu "réunion"Set-Cookie: x=1.pdf',
        ),
        ("Compte-rendu re\u0301union.pdf", "Compte-rendu réunion.pdf"),  # NFD → NFC
        ("facture\u202efdp.pdf", "facturefdp.pdf"),  # right-to-left override
        ("例.pdf", "例.pdf"),
    ],
)
def test_display_name_is_cleaned_but_keeps_accents_and_quotes(world, filename, shown):
    attachment = store_upload(world.contract, upload(PDF, filename), world.buyer_lead)
    assert attachment.display_name == shown


def test_long_display_name_is_cut_keeping_its_extension(world):
    attachment = store_upload(world.contract, upload(PDF, "é" * 300 + ".pdf"), world.buyer_lead)
    assert attachment.display_name == "é" * 196 + ".pdf"


def test_attachment_is_found_only_through_its_own_contract(world):
    own = store_upload(world.contract, upload(PDF, "a.pdf"), world.buyer_lead)
    other = store_upload(world.other_contract, upload(PDF, "b.pdf"), world.outsider)
    db.session.commit()
    assert services.attachment_for(world.contract, own.id) is own
    assert services.attachment_for(world.contract, other.id) is None
    assert services.attachment_for(world.contract, 999_999) is None


def test_form_helpers(app):
    with app.test_request_context():
        assert services.accepted_formats_text() == (
            "Formats acceptés : PDF, PNG, JPEG, DOCX, XLSX, PPTX, ODT, ODS, CSV, TXT ; "
            "10 Mo au plus par fichier."
        )
    assert services.ACCEPT_ATTRIBUTE == (
        ".pdf,.png,.jpg,.jpeg,.docx,.xlsx,.pptx,.odt,.ods,.csv,.txt"
    )
