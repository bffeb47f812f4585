"""Test doubles for attachments: sample files, a scanner that knows EICAR, a fake clamd."""

from __future__ import annotations

import io
import socketserver
import struct
import zipfile

from werkzeug.datastructures import FileStorage

# The standard antivirus test file, built in two halves so that this source file itself is
# not flagged by a scanner on a developer's machine.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


class EicarScanner:
    """Finds the EICAR test string, and nothing else."""

    def scan(self, data: bytes) -> str | None:
        return "Eicar-Test-Signature" if EICAR in data else None


def upload(data: bytes, filename: str) -> FileStorage:
    """What Werkzeug hands a view for one file field."""
    return FileStorage(io.BytesIO(data), filename=filename, name="file")


def office_file(extra_entries: int = 0, huge_entry_size: int = 0) -> bytes:
    """A minimal DOCX; optionally padded with many entries or one that unpacks very large."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(extra_entries):
            archive.writestr(f"word/media/vide-{number}.xml", "")
        if huge_entry_size:
            chunk = bytes(1024 * 1024)
            with archive.open("word/enorme.xml", "w", force_zip64=True) as entry:
                for _ in range(huge_entry_size // len(chunk)):
                    entry.write(chunk)
    return buffer.getvalue()


class FakeClamd(socketserver.BaseRequestHandler):
    """Speaks clamd's INSTREAM: answers FOUND for EICAR, OK otherwise."""

    def handle(self):
        command = self._exactly(len(b"zINSTREAM\0"))
        if command != b"zINSTREAM\0":
            self.request.sendall(b"UNKNOWN COMMAND\0")
            return
        data = b""
        while True:
            (length,) = struct.unpack("!L", self._exactly(4))
            if length == 0:
                break
            data += self._exactly(length)
        self.server.received.append(data)
        verdict = b"Eicar-Test-Signature FOUND" if EICAR in data else b"OK"
        self.request.sendall(b"stream: " + verdict + b"\0")

    def _exactly(self, size: int) -> bytes:
        received = b""
        while len(received) < size:
            part = self.request.recv(size - len(received))
            if not part:
                raise ConnectionError("client went away")
            received += part
        return received
