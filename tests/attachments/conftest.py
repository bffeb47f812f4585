import pytest

from tests.attachments.fakes import EicarScanner


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture(autouse=True)
def eicar_scanner(app):
    """The app's antivirus, replaced by one that flags the EICAR test file."""
    app.extensions["scanner"] = EicarScanner()
    return app.extensions["scanner"]
