"""The clamd client speaks INSTREAM correctly (against a fake clamd) and fails closed."""

import socketserver
import threading

import pytest

from app import create_app
from app.attachments import init_attachments
from app.attachments.scanning import (
    ClamdScanner,
    NoScanner,
    ScannerUnavailable,
    scanner_from_config,
)
from app.attachments.services import AttachmentRejected, store_upload
from tests.attachments.fakes import EICAR, PDF, FakeClamd, upload


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def _serving(server):
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def clamd_tcp():
    server = _serving(_TCPServer(("127.0.0.1", 0), FakeClamd))
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def clamd_unix(tmp_path):
    server = _serving(_UnixServer(str(tmp_path / "clamd.ctl"), FakeClamd))
    yield server
    server.shutdown()
    server.server_close()


def test_clamd_finds_eicar_and_passes_a_clean_file(clamd_tcp):
    host, port = clamd_tcp.server_address
    scanner = ClamdScanner.from_url(f"tcp://{host}:{port}")
    assert scanner.scan(b"X" * 10 + EICAR) == "Eicar-Test-Signature"
    assert scanner.scan(PDF) is None
    assert clamd_tcp.received == [b"X" * 10 + EICAR, PDF]


def test_clamd_receives_a_large_file_in_chunks_intact(clamd_tcp):
    data = bytes(range(256)) * 1_000 + EICAR  # several 64 KB chunks, EICAR in the last one
    scanner = ClamdScanner(host="127.0.0.1", port=clamd_tcp.server_address[1])
    assert scanner.scan(data) == "Eicar-Test-Signature"
    assert clamd_tcp.received == [data]


def test_clamd_over_a_unix_socket(clamd_unix):
    scanner = scanner_from_config(f"unix://{clamd_unix.server_address}")
    assert isinstance(scanner, ClamdScanner)
    assert scanner.scan(EICAR) == "Eicar-Test-Signature"


def test_unreachable_clamd_is_an_error_not_a_pass():
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(host="127.0.0.1", port=1, timeout=1).scan(PDF)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", NoScanner),
        ("tcp://127.0.0.1:3310", ClamdScanner),
        ("unix:///run/clamav/clamd.ctl", ClamdScanner),
    ],
)
def test_the_setting_picks_the_scanner(setting, expected):
    assert isinstance(scanner_from_config(setting), expected)


def test_a_malformed_setting_stops_the_app_from_starting():
    with pytest.raises(ValueError, match="ANTIVIRUS_CLAMD"):
        create_app("test", ANTIVIRUS_CLAMD="clamd.example:3310")


def test_the_app_starts_with_the_configured_clamd():
    app = create_app("test", ANTIVIRUS_CLAMD="tcp://127.0.0.1:3310")
    assert isinstance(app.extensions["scanner"], ClamdScanner)
    assert isinstance(create_app("test").extensions["scanner"], NoScanner)


def test_uploads_go_through_the_configured_clamd(app, world, clamd_tcp):
    host, port = clamd_tcp.server_address
    app.config["ANTIVIRUS_CLAMD"] = f"tcp://{host}:{port}"
    init_attachments(app)
    with pytest.raises(AttachmentRejected, match="Eicar-Test-Signature"):
        store_upload(world.contract, upload(EICAR, "eicar.txt"), world.buyer_lead)
    store_upload(world.contract, upload(PDF, "propre.pdf"), world.buyer_lead)
    assert clamd_tcp.received == [EICAR, PDF]
