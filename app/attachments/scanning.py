"""Antivirus scanning of uploads (ASVS 5.4.3): a `Scanner` answers the virus name or None.

`ANTIVIRUS_CLAMD` picks the scanner: "" for none, "unix:///run/clamav/clamd.ctl" or
"tcp://127.0.0.1:3310" for clamd. A configured clamd that cannot answer refuses the upload
(fail closed): `ScannerUnavailable` is raised and the service turns it into a refusal."""

from __future__ import annotations

import logging
import socket
import struct
from typing import Protocol
from urllib.parse import urlsplit

from flask import Flask, current_app

log = logging.getLogger("progres.attachments")

CHUNK_SIZE = 64 * 1024


class ScannerUnavailable(Exception):
    """The configured scanner could not give a verdict."""


class Scanner(Protocol):
    def scan(self, data: bytes) -> str | None:
        """The name of the virus found in `data`, or None when it is clean."""


class NoScanner:
    """No antivirus configured: every file passes."""

    def scan(self, data: bytes) -> str | None:
        return None


class ClamdScanner:
    """clamd's INSTREAM command over a TCP or Unix socket.

    The `clamd` and `pyclamd` PyPI packages are unmaintained (last releases 2014 and 2017), so
    we speak the documented protocol ourselves (clamd(8), « INSTREAM »): `zINSTREAM\\0`, then
    chunks each preceded by its length as 4 bytes big-endian, a zero length to end, and one
    answer `stream: OK` or `stream: <name> FOUND`, terminated by NUL."""

    def __init__(
        self,
        host: str | None = None,
        port: int = 3310,
        unix_socket: str | None = None,
        timeout: float = 30.0,
    ):
        if not host and not unix_socket:
            raise ValueError("ClamdScanner needs a host or a Unix socket")
        self.host, self.port, self.unix_socket, self.timeout = host, port, unix_socket, timeout

    @classmethod
    def from_url(cls, url: str) -> ClamdScanner:
        parts = urlsplit(url)
        if parts.scheme == "unix" and parts.path:
            return cls(unix_socket=parts.path)
        if parts.scheme == "tcp" and parts.hostname:
            return cls(host=parts.hostname, port=parts.port or 3310)
        raise ValueError(f"ANTIVIRUS_CLAMD invalide : {url!r} (unix:///… ou tcp://hôte:port)")

    def _connect(self) -> socket.socket:
        if self.unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(self.unix_socket)
            return sock
        return socket.create_connection((self.host, self.port), timeout=self.timeout)

    def scan(self, data: bytes) -> str | None:
        try:
            with self._connect() as sock:
                sock.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK_SIZE):
                    chunk = data[start : start + CHUNK_SIZE]
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
                reply = _read_reply(sock)
        except OSError as error:
            raise ScannerUnavailable(f"clamd injoignable : {error}") from error
        return _parse_reply(reply)


def _read_reply(sock: socket.socket) -> str:
    received = b""
    while not received.endswith(b"\0"):
        part = sock.recv(4096)
        if not part:
            break
        received += part
    return received.rstrip(b"\0").decode("utf-8", "replace").strip()


def _parse_reply(reply: str) -> str | None:
    if reply == "stream: OK":
        return None
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        return reply[len("stream: ") : -len(" FOUND")]
    # « INSTREAM size limit exceeded. ERROR » and the like: no verdict, so no file.
    raise ScannerUnavailable(f"réponse inattendue de clamd : {reply!r}")


def scanner_from_config(setting: str) -> Scanner:
    return ClamdScanner.from_url(setting) if setting else NoScanner()


def init_attachments(app: Flask) -> None:
    """Pick the app's scanner (tests replace `app.extensions["scanner"]`)."""
    app.extensions["scanner"] = scanner_from_config(app.config.get("ANTIVIRUS_CLAMD", ""))


def scanner() -> Scanner:
    app = current_app._get_current_object()
    if "scanner" not in app.extensions:
        init_attachments(app)
    return app.extensions["scanner"]
