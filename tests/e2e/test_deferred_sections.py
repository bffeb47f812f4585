"""A large plan's pages in a real browser: the page comes first, then htmx fills each big
section from the same address; what comes is accessible, keeps its live refresh, and the
browser reports no CSP violation (tests/deferred/ checks the answers)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import BUYER_LEAD


@pytest.fixture
def app_config():
    # The demo's plan becomes « large »: every page below sends its big section after.
    return {"WTF_CSRF_ENABLED": True, "PLAN_LAZY_FROM": 1, "INDICATOR_LAZY_FROM": 0}


@pytest.mark.parametrize(
    ("path", "box", "shown"),
    [
        ("/contrats/1/tableau-de-bord/", "#tableau-de-bord", "Statut de chaque indicateur"),
        ("/contrats/1/indicateurs/", "#indicateurs", "indicateurs du plan"),
        ("/contrats/1/planning/", "#planning", "actions au plan"),
        ("/contrats/1/plan/", "#plan-contenu", "Partage des gains"),
    ],
)
def test_a_big_section_arrives_after_its_page(page_as, path, box, shown):
    page = page_as(BUYER_LEAD)
    answers = []
    page.on(
        "response", lambda r: answers.append(r.url) if r.request.headers.get("hx-request") else None
    )
    page.goto(path)
    section = page.locator(box)
    expect(section).to_contain_text(shown)
    expect(section).not_to_have_class("deferred")
    expect(page.locator(".deferred")).to_have_count(0)
    assert any(path in url for url in answers)  # it did come by htmx, after the page
    if path.endswith("/plan/"):  # the aside's completeness came in the same answer
        expect(page.locator("#completude")).to_contain_text("parties sur 7")
    assert_accessible(page)
    assert page.evaluate("window.__cspViolations") == []
    screenshot(page, "deferred-" + path.strip("/").replace("/", "-"))


def test_an_indicator_s_values_arrive_and_can_be_edited(page_as):
    page = page_as(BUYER_LEAD)
    page.goto("/contrats/1/indicateurs/")
    page.locator("#indicateurs a").first.click()
    expect(page.get_by_role("heading", name="Valeurs par période")).to_be_visible()
    assert_accessible(page)
