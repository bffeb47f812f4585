import io
from datetime import date

import pytest
from openpyxl import Workbook
from werkzeug.datastructures import FileStorage

from app.exports import imports
from tests.indicators.conftest import indicator, member  # noqa: F401  (fixtures reused)

TODAY = date(2027, 8, 15)  # T1 and T2 2027 ended, T3 begun, T4 not yet


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "pieces")}


@pytest.fixture
def today(monkeypatch):
    """The import's clock, as the routes read it."""
    monkeypatch.setattr(imports, "today_in_paris", lambda: TODAY)
    return TODAY


def csv_bytes(*lines: str, bom: bool = True) -> bytes:
    return (("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n").encode()


def xlsx_bytes(*rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, name="file")
