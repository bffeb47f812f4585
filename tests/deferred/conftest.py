import pytest

from tests.changes.conftest import in_force, member  # noqa: F401  (fixtures of these tests)


@pytest.fixture
def app_config(tmp_path):
    # The draft fixture's two cards make a « large » plan; every portfolio and indicator too.
    return {"PLAN_LAZY_FROM": 1, "PORTFOLIO_LAZY_FROM": 0, "INDICATOR_LAZY_FROM": 0,
            "UPLOAD_FOLDER": str(tmp_path / "pieces")}  # fmt: skip
