"""The schedule in a real browser: accessible, readable at 320 px, updated in place by the
supplier and seen live by the buyer; « validée » stays the buyer's."""

from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import screenshot

BUYER, SUPPLIER = "claire.martin@grandlyon.example", "sophie.durand@textiles-rhone.example"
PILOT = "Tester les tenues pilotes avec 40 agents de voirie"


def row(page, title):
    return page.locator("tbody.schedule__action", has_text=title)


def test_the_schedule_is_accessible_and_reflows_at_320_px(page_as):
    page = page_as(BUYER)
    page.goto("/contrats/1/planning/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planning des actions")
    expect(page.get_by_role("region", name="Planning des actions")).to_be_visible()
    expect(page.locator(".timeline__today").first).to_be_attached()
    assert_accessible(page)
    screenshot(page, "planning")

    page.get_by_role("link", name=f"Mettre à jour : {PILOT}").click()
    expect(page.get_by_label("Avancement (%)")).to_be_visible()
    expect(page.get_by_label("Statut", exact=True)).to_be_focused()
    assert_accessible(page)
    screenshot(page, "planning-mise-a-jour")
    page.keyboard.press("Escape")  # closes the form, like « Annuler »
    expect(page.get_by_label("Avancement (%)")).to_have_count(0)

    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/contrats/1/planning/")
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= 320, f"the page scrolls sideways at 320 px ({scroll} px)"
    region = page.get_by_role("region", name="Planning des actions")
    region.focus()  # the table scrolls in its own box, reachable by keyboard
    expect(region).to_be_focused()
    assert_accessible(page)
    screenshot(page, "planning-320")


def test_the_supplier_updates_an_action_and_the_buyer_sees_it_live(page_as):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    buyer.goto("/contrats/1/planning/")
    buyer.evaluate("window.__marker = 'pas rechargée'")
    expect(row(buyer, PILOT).locator(".status")).to_have_text("Proposée")

    supplier.goto("/contrats/1/planning/")
    supplier.get_by_role("link", name=f"Mettre à jour : {PILOT}").click()
    status = supplier.get_by_label("Statut", exact=True)
    # « Validée » is offered to the buyer only, and said so next to the field.
    expect(status.locator("option[value=validee]")).to_be_disabled()
    expect(row(supplier, PILOT)).to_contain_text("« Validée » est réservé à l'acheteur")
    status.select_option("en_cours")
    supplier.get_by_label("Avancement (%)").fill("40")
    supplier.get_by_label("Commentaire").fill("Premiers essayages la semaine prochaine.")
    supplier.get_by_role("button", name="Enregistrer").click()
    expect(row(supplier, PILOT).locator(".status")).to_have_text("En cours")
    expect(row(supplier, PILOT)).to_contain_text("40 %")
    expect(
        row(supplier, PILOT).get_by_role("link", name=f"Mettre à jour : {PILOT}")
    ).to_be_focused()

    # The buyer's page, open all along, shows it without a reload.
    expect(row(buyer, PILOT).locator(".status")).to_have_text("En cours")
    expect(row(buyer, PILOT)).to_contain_text("40 %")
    expect(row(buyer, PILOT)).to_contain_text("Premiers essayages")
    assert buyer.evaluate("window.__marker") == "pas rechargée"
    screenshot(buyer, "planning-direct-acheteur")

    # Forcing « validée » past the disabled option is refused by the server, in French.
    supplier.get_by_role("link", name=f"Mettre à jour : {PILOT}").click()
    expect(supplier.get_by_label("Avancement (%)")).to_have_value("40")
    supplier.evaluate(
        "() => { const o = document.querySelector('option[value=validee]');"
        " o.disabled = false; o.selected = true; }"
    )
    supplier.get_by_role("button", name="Enregistrer").click()
    expect(row(supplier, PILOT).locator(".alert--error")).to_contain_text(
        "Seul l'acheteur peut valider une action"
    )
    expect(row(buyer, PILOT).locator(".status")).to_have_text("En cours")
    assert_accessible(supplier)


def test_a_form_being_filled_is_not_replaced_by_the_other_sides_update(page_as):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    for page in (buyer, supplier):
        page.goto("/contrats/1/planning/")
        page.get_by_role("link", name=f"Mettre à jour : {PILOT}").click()
    buyer.get_by_label("Commentaire").fill("Le comité valide le 12 janvier.")

    supplier.get_by_label("Avancement (%)").fill("15")
    supplier.get_by_role("button", name="Enregistrer").click()
    expect(row(supplier, PILOT)).to_contain_text("15 %")

    expect(row(buyer, PILOT).locator("[data-stale-notice]")).to_be_visible()
    expect(buyer.get_by_label("Commentaire")).to_have_value("Le comité valide le 12 janvier.")
    buyer.get_by_label("Statut", exact=True).select_option("validee")
    buyer.get_by_role("button", name="Enregistrer").click()  # based on the old version
    expect(row(buyer, PILOT)).to_contain_text("pendant votre saisie")
    expect(row(buyer, PILOT)).to_contain_text("15 %")
    expect(buyer.get_by_label("Commentaire")).to_have_value("Le comité valide le 12 janvier.")
    buyer.get_by_role("button", name="Enregistrer").click()  # now on the current one
    expect(row(buyer, PILOT).locator(".status")).to_have_text("Validée")
    expect(row(supplier, PILOT).locator(".status")).to_have_text("Validée")
