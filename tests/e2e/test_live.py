"""Two people on the same plan page: changes and presence appear without reload."""

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

BUYER, SUPPLIER = "claire.martin@grandlyon.example", "sophie.durand@textiles-rhone.example"
ACTION = "Sourcer un fil polyester recyclé certifié GRS"


def article_of(page, text):
    found = page.locator("article.item--action").filter(has_text=text).first
    return page.locator(f"#{found.get_attribute('id')}")


def test_an_edit_by_one_appears_for_the_other_with_presence(page_as, draft_plan):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    for page in (buyer, supplier):
        page.goto(draft_plan)
        page.evaluate("window.__marker = 'pas rechargée'")
    expect(buyer.locator("#presence")).to_contain_text("Sophie Durand")
    expect(supplier.locator("#presence")).to_contain_text("Claire Martin")

    supplier_article = article_of(supplier, ACTION)
    supplier_article.get_by_role("link", name=f"Modifier action « {ACTION} »").click()
    buyer_article = article_of(buyer, ACTION)
    expect(buyer_article.locator(".editing-marker")).to_contain_text("Sophie Durand")
    supplier_article.get_by_label("Action", exact=True).fill(
        "Sourcer un fil recyclé GRS et OEKO-TEX"
    )
    supplier_article.get_by_role("button", name="Enregistrer").click()

    expect(buyer_article.locator(".item__title")).to_have_text(
        "Sourcer un fil recyclé GRS et OEKO-TEX"
    )
    expect(buyer_article.locator(".editing-marker")).to_have_count(0)
    expect(buyer.locator("#presence")).not_to_contain_text("modifie")
    assert buyer.evaluate("window.__marker") == "pas rechargée"
    screenshot(buyer, "live-buyer-sees-supplier-edit")

    supplier.context.close()
    expect(buyer.locator("#presence")).not_to_contain_text("Sophie Durand", timeout=15_000)


def test_an_open_editor_is_never_replaced_it_shows_a_notice(page_as, draft_plan):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    for page in (buyer, supplier):
        page.goto(draft_plan)
    buyer_article = article_of(buyer, ACTION)
    buyer_article.get_by_role("link", name=f"Modifier action « {ACTION} »").click()
    buyer_article.get_by_label("Description").fill("Mon texte en cours")

    supplier_article = article_of(supplier, ACTION)
    supplier_article.get_by_role("link", name=f"Modifier action « {ACTION} »").click()
    supplier_article.get_by_label("Coût estimé (€ HT)").fill("14 000")
    supplier_article.get_by_role("button", name="Enregistrer").click()

    expect(buyer_article.locator(".editor__notice")).to_contain_text("Modifié par Sophie Durand")
    expect(buyer_article.get_by_label("Description")).to_have_value("Mon texte en cours")
    buyer_article.get_by_role("button", name="Enregistrer").click()
    expect(buyer_article.get_by_text("fusionnées")).to_be_visible()
    expect(buyer_article).to_contain_text("14 000,00")


def test_an_added_action_appears_once_on_both_pages(page_as, draft_plan):
    buyer, supplier = page_as(BUYER), page_as(SUPPLIER)
    for page in (buyer, supplier):
        page.goto(draft_plan)
    objective = supplier.locator("article.item--objectif").first
    objective.get_by_text("Ajouter une action").first.click()
    form = objective.locator("details.add[open] form")
    form.get_by_label("Action", exact=True).fill("Former les magasiniers au tri")
    form.get_by_role("button", name="Ajouter une action").click()
    for page in (supplier, buyer):
        expect(
            page.locator("article.item--action").filter(has_text="Former les magasiniers au tri")
        ).to_have_count(1)
