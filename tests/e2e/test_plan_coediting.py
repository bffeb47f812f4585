"""Buyer and supplier edit the same action at once: nothing typed is ever lost."""

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

BUYER, SUPPLIER = "claire.martin@grandlyon.example", "sophie.durand@textiles-rhone.example"
ACTION = "Sourcer un fil polyester recyclé certifié GRS"


def open_editor(page, draft_plan):
    page.goto(draft_plan)
    found = page.locator("article.item--action").filter(has_text=ACTION).first
    article = page.locator(f"#{found.get_attribute('id')}")  # its text becomes a form field
    article.get_by_role("link", name=f"Modifier action « {ACTION} »").click()
    editor = article.locator("form.editor")
    expect(editor).to_be_visible()
    return article, editor


def test_same_field_edited_by_both_shows_the_conflict_and_keeps_my_text(page_as, draft_plan):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    buyer_article, buyer_editor = open_editor(buyer, draft_plan)
    supplier_article, supplier_editor = open_editor(supplier, draft_plan)

    supplier_editor.get_by_label("Moyens et ressources mobilisés").fill("Texte du titulaire")
    supplier_editor.get_by_role("button", name="Enregistrer").click()
    expect(supplier_article.get_by_text("Enregistré.")).to_be_visible()

    buyer_editor.get_by_label("Moyens et ressources mobilisés").fill("Texte de l'acheteur")
    buyer_editor.get_by_role("button", name="Enregistrer").click()
    conflict = buyer_article.locator(".conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_be_focused()
    expect(buyer_article.get_by_label("Moyens et ressources mobilisés")).to_have_value(
        "Texte de l'acheteur"
    )
    expect(buyer_article.locator(".compare__theirs")).to_contain_text("Texte du titulaire")
    screenshot(buyer, "plan-conflict")

    buyer_article.get_by_role("button", name="Enregistrer ma version").click()
    expect(buyer_article.get_by_text("Enregistré.")).to_be_visible()
    expect(buyer_article).to_contain_text("Texte de l'acheteur")


def test_different_fields_merge_and_the_second_saver_is_told(page_as, draft_plan):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    buyer_article, buyer_editor = open_editor(buyer, draft_plan)
    supplier_article, supplier_editor = open_editor(supplier, draft_plan)

    supplier_editor.get_by_label("Coût estimé (€ HT)").fill("13 000,00")
    supplier_editor.get_by_role("button", name="Enregistrer").click()
    expect(supplier_article.get_by_text("Enregistré.")).to_be_visible()

    buyer_editor.get_by_label("Description").fill("Précision de l'acheteur")
    buyer_editor.get_by_role("button", name="Enregistrer").click()
    expect(buyer_article.get_by_text("fusionnées")).to_contain_text("par Sophie Durand")
    expect(buyer_article).to_contain_text("13 000,00")
    expect(buyer_article).to_contain_text("Précision de l'acheteur")
    screenshot(buyer, "plan-merged")


def test_escape_cancels_the_editor_and_an_added_action_appears_in_place(page_as, draft_plan):
    page = page_as(SUPPLIER)
    article, editor = open_editor(page, draft_plan)
    editor.get_by_label("Action", exact=True).press("Escape")
    expect(article.locator("form.editor")).to_have_count(0)
    page.evaluate("window.__marker = 'same page'")
    objective = page.locator("article.item--objectif").first
    objective.get_by_text("Ajouter une action").first.click()
    form = objective.locator("details.add[open] form")
    form.get_by_label("Action", exact=True).fill("Former les magasiniers au tri des bacs")
    form.get_by_role("button", name="Ajouter une action").click()
    expect(objective.locator("article.item--action").last).to_contain_text("Former les magasiniers")
    assert page.evaluate("window.__marker") == "same page"  # swapped in place, no reload


def test_moving_an_action_with_the_keyboard_keeps_the_focus(page_as, draft_plan):
    page = page_as(SUPPLIER)
    page.goto(draft_plan)
    second = page.locator("article.item--objectif").first.locator("article.item--action").nth(1)
    title = second.locator(".item__title").inner_text()
    button = second.get_by_role("button", name=f"Monter « {title} »")
    button.focus()
    page.keyboard.press("Enter")
    first = page.locator("article.item--objectif").first.locator("article.item--action").first
    expect(first.locator(".item__title")).to_have_text(title)
    expect(page.get_by_role("button", name=f"Monter « {title} »")).to_be_focused()
