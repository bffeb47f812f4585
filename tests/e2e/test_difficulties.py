"""A difficulty raised by the supplier reaches the buyer's open page live; the buyer's
acknowledgement reaches the supplier's open page live too."""

from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import screenshot

BUYER, SUPPLIER = "claire.martin@grandlyon.example", "sophie.durand@textiles-rhone.example"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def bell_count(page) -> int:
    return int(page.locator("#cloche .bell__count").get_attribute("data-count"))


def test_raise_acknowledge_live_on_both_sides(page_as):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    buyer.goto("/contrats/1/")
    buyer.evaluate("window.__marker = 'pas rechargée'")
    before = bell_count(buyer)

    supplier.goto("/contrats/1/difficultes/nouvelle")
    supplier.get_by_label("Objet").fill("Machine à coudre en panne")
    supplier.get_by_label("Catégorie").select_option("technique")
    supplier.get_by_label("Gravité").select_option("critique")
    supplier.get_by_label("Description").fill("La **piqueuse** principale est à l'arrêt.")
    supplier.get_by_label("Pièces justificatives").set_input_files(
        files=[{"name": "constat-panne.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    supplier.get_by_role("button", name="Signaler la difficulté").click()
    expect(supplier.get_by_role("heading", level=1)).to_contain_text("Machine à coudre en panne")
    expect(supplier.get_by_role("link", name="constat-panne.pdf")).to_be_visible()
    expect(supplier.locator("#statut-difficulte")).to_have_text("Ouverte")
    assert_accessible(supplier)

    # The buyer's page, open all along: the bell rises and the summary counts it, no reload.
    expect(buyer.locator("#cloche .bell__count")).to_have_attribute("data-count", str(before + 1))
    expect(buyer.locator("#difficultes-resume")).to_contain_text("en attente de prise en compte")
    assert buyer.evaluate("window.__marker") == "pas rechargée"
    screenshot(buyer, "difficulte-cloche-acheteur")

    buyer.locator("#cloche").click()
    buyer.get_by_role("button", name="Machine à coudre en panne").first.click()
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("Machine à coudre en panne")
    buyer.get_by_label("Réponse ou premières mesures (facultatif)").fill(
        "Technicien envoyé demain."
    )
    buyer.get_by_role("button", name="Prendre en compte").click()
    expect(buyer.locator("#statut-difficulte")).to_have_text("Prise en compte")
    assert_accessible(buyer)

    # The supplier's page, open all along, shows the new status and the history.
    expect(supplier.locator("#statut-difficulte")).to_have_text("Prise en compte")
    expect(supplier.locator("#suivi")).to_contain_text("Technicien envoyé demain.")
    screenshot(supplier, "difficulte-prise-en-compte-titulaire")


def test_an_internal_note_stays_on_the_buyers_side_live(page_as):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    for page in (buyer, supplier):
        page.goto("/contrats/1/difficultes/1")
    buyer.get_by_label("Votre message").fill("Réservé à l'acheteur : pénalités envisageables.")
    buyer.get_by_label("Note interne : visible seulement de votre partie").check()
    buyer.get_by_role("button", name="Envoyer").click()
    expect(buyer.locator("#fil")).to_contain_text("pénalités envisageables")
    expect(buyer.get_by_label("Votre message")).to_have_value("")

    supplier.get_by_label("Votre message").fill("Merci, nous restons joignables.")
    supplier.get_by_role("button", name="Envoyer").click()
    expect(buyer.locator("#fil")).to_contain_text("nous restons joignables")  # live
    expect(supplier.locator("#fil")).not_to_contain_text("pénalités")
    supplier.reload()
    expect(supplier.locator("#fil")).not_to_contain_text("pénalités")


def test_a_note_being_typed_survives_the_other_sides_step(page_as):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    for page in (buyer, supplier):
        page.goto("/contrats/1/difficultes/1")
    buyer.get_by_label("La solution retenue").fill("Mon texte de résolution")
    supplier.get_by_role("button", name="Commencer le traitement").click()
    expect(supplier.locator("#statut-difficulte")).to_have_text("En cours de traitement")
    expect(buyer.locator("[data-stale-notice]")).to_be_visible()
    expect(buyer.get_by_label("La solution retenue")).to_have_value("Mon texte de résolution")
    buyer.get_by_role("button", name="Marquer résolue").click()  # based on the old version
    expect(buyer.locator("#suivi")).to_contain_text("a changé pendant que vous la consultiez")
    expect(buyer.get_by_label("La solution retenue")).to_have_value("Mon texte de résolution")
    buyer.get_by_role("button", name="Marquer résolue").click()  # now on the current one
    expect(buyer.locator("#statut-difficulte")).to_have_text("Résolue")
