"""The supplier lead logs in, sees only the demo contract, opens it and its plan."""

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot


def test_supplier_lead_sees_only_the_demo_contract_and_opens_it(page_as):
    page = page_as("sophie.durand@textiles-rhone.example")
    expect(page.get_by_role("heading", name="Mes marchés")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("2025-0142")
    expect(page.get_by_text("2026-0057")).to_have_count(0)
    screenshot(page, "supplier-mes-marches")
    page.get_by_role("link", name="2025-0142").click()
    expect(page.get_by_role("heading", name="Le marché et ses membres")).to_be_visible()
    expect(page.locator(".contract-band")).to_contain_text("Textiles Rhône SAS")
    expect(page.locator(".members")).to_contain_text("Karim Benali")
    expect(page.get_by_text("Inviter une personne")).to_have_count(0)
    assert page.title() == "Le marché — Marché 2025-0142 — Progrès"
    screenshot(page, "supplier-contract-home")
    page.get_by_role("link", name="Plan de progrès").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Plan de progrès — Version 2"
    )  # in force since the letter exchange
    screenshot(page, "supplier-plan")


def test_the_other_contract_is_not_found_even_by_url(page_as, live_server):
    page = page_as("sophie.durand@textiles-rhone.example")
    response = page.goto("/contrats/2/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
