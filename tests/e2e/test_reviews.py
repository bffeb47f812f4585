"""A review in session: buyer and supplier on the same page write the notes of one agenda item
(each sees the other's live, neither loses text), record a decision, then the minutes are
written by the side whose turn it is and approved by the other."""

from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import screenshot

BUYER, SUPPLIER = "claire.martin@grandlyon.example", "sophie.durand@textiles-rhone.example"
REVIEW = "/contrats/1/revues/2/"  # the demo's December steering committee, agenda prepared


def test_meeting_notes_decision_and_minutes(page_as):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    buyer.goto(REVIEW)
    assert_accessible(buyer)
    buyer.get_by_role("button", name="Ouvrir la séance").click()
    expect(buyer.locator("#statut-revue")).to_have_text("En séance")
    supplier.goto(REVIEW)
    first = supplier.locator(".agenda__item").first
    item_id = first.get_attribute("id")

    supplier.locator(f"#{item_id} textarea[name=notes]").fill("Le filateur livre le 10 avril.")
    supplier.locator(f"#{item_id}").get_by_role("button", name="Enregistrer les notes").click()
    expect(supplier.locator(f"#{item_id}")).to_contain_text("Dernière modification : Sophie Durand")

    notes = buyer.locator(f"#{item_id} textarea[name=notes]")
    expect(notes).to_have_value("Le filateur livre le 10 avril.")  # arrived live
    notes.fill("Le filateur livre le 10 avril. Jalon décalé au 30 avril.")
    buyer.locator(f"#{item_id}").get_by_role("button", name="Enregistrer les notes").click()
    expect(supplier.locator(f"#{item_id} textarea[name=notes]")).to_have_value(
        "Le filateur livre le 10 avril. Jalon décalé au 30 avril."
    )

    buyer.locator(f"#{item_id} summary").click()
    buyer.locator(f"#{item_id}").get_by_label("Suite donnée").select_option("decision")
    buyer.locator(f"#{item_id}").get_by_label("Texte de la suite").fill(
        "Le jalon de mars passe au 30 avril."
    )
    buyer.locator(f"#{item_id}").get_by_role("button", name="Enregistrer la suite").click()
    expect(supplier.locator(f"#{item_id} .outcome")).to_contain_text(
        "Décision : Le jalon de mars passe au 30 avril."
    )
    assert_accessible(buyer)
    screenshot(buyer, "revue-en-seance")

    buyer.get_by_role("button", name="Clore la séance").click()
    expect(buyer.locator("#statut-revue")).to_have_text("Tenue")
    supplier.reload()  # the supplier writes the minutes this time (alternation)
    supplier.get_by_label("Synthèse du compte-rendu").fill("Comité constructif ; jalon décalé.")
    supplier.get_by_role("button", name="Enregistrer la synthèse").click()
    expect(supplier.locator("#compte-rendu")).to_contain_text("Comité constructif")
    supplier.get_by_role("button", name="Soumettre le compte-rendu à l'autre partie").click()
    expect(supplier.locator("#statut-compte-rendu")).to_have_text("Soumis à l'autre partie")

    buyer.reload()
    buyer.get_by_role("button", name="Approuver le compte-rendu").click()
    expect(buyer.locator("#statut-compte-rendu")).to_have_text("Approuvé")
    expect(buyer.locator("#compte-rendu")).to_contain_text("Empreinte SHA-256")
    screenshot(buyer, "revue-compte-rendu-approuve")
