"""The issue's proof, in a real browser: the supplier lead proposes a change with a financial
impact, the buyer lead approves it, the amendment draft is generated with its legal basis,
both leads give their visa, the signed amendment and its notification are recorded, and the
plan shows the new version in force and what changed."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from playwright.sync_api import expect

from app.demo.data import DEMO_PASSWORD
from tests.e2e.conftest import screenshot as take_screenshot

BUYER, SUPPLIER = "claire.martin@grandlyon.example", "sophie.durand@textiles-rhone.example"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TITLE = "Étiquettes brodées pour les tenues d'hiver"
ACTION = "Sourcer un fil polyester recyclé certifié GRS"
RESOURCES = "Moyens et ressources mobilisés"
NEW_RESOURCES = "Acheteur textile (0,3 ETP), audits GRS et étiquettes brodées"


def screenshot(page, name: str) -> None:
    """The shared helper, then the empty `style` attributes Playwright leaves when it hides the
    caret are removed: htmx would copy them onto the next boosted page, which the strict CSP
    reports (style-src-attr) and the CSP recorder turns into a failure."""
    take_screenshot(page, name)
    page.evaluate(
        "() => document.querySelectorAll('[style=\"\"]').forEach((e) => e.removeAttribute('style'))"
    )


def amendment_pdf(page):
    """The list item of the current amendment PDF (not the DOCX, not a voided one)."""
    return (
        page.locator("ul.documents > li")
        .filter(has_text="Projet d'avenant (PDF)")
        .filter(has_not=page.locator(".status--annulee"))
    )


def give_visa(page, qualite: str):
    document = amendment_pdf(page)
    document.get_by_label("Votre qualité, imprimée avec le visa").fill(qualite)
    document.get_by_label("Votre mot de passe, pour confirmer").fill(DEMO_PASSWORD)
    document.get_by_role("button", name="Viser ce document").click()
    expect(page.get_by_role("status").filter(has_text="Visa donné")).to_be_visible()


def test_an_amendment_from_proposal_to_the_new_plan_version(page_as, tmp_path):
    sophie, claire = page_as(SUPPLIER), page_as(BUYER)

    # 1. Sophie proposes the change, edits its draft plan and describes its effect.
    sophie.goto("/contrats/1/")
    sophie.get_by_role("navigation").get_by_role("link", name="Modifications").click()
    sophie.get_by_text("Proposer une modification", exact=True).first.click()  # the <summary>
    sophie.get_by_label("Objet de la modification").fill(TITLE)
    sophie.get_by_label("Pourquoi ce changement").fill("Les étiquettes imprimées s'effacent.")
    sophie.get_by_role("button", name="Proposer une modification").click()
    expect(sophie.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(sophie.locator("#statut-demande")).to_have_text("Brouillon")
    request_url = sophie.url

    sophie.get_by_role("link", name="Ouvrir le projet de plan").click()
    expect(sophie.get_by_role("heading", level=1)).to_contain_text("Plan de progrès")
    found = sophie.locator("article.item--action").filter(has_text=ACTION).first
    article = sophie.locator(f"#{found.get_attribute('id')}")
    article.get_by_role("link", name=f"Modifier action « {ACTION} »").click()
    editor = article.locator("form.editor")
    expect(editor).to_be_visible()
    old_resources = editor.get_by_label(RESOURCES).input_value()
    assert old_resources and old_resources != NEW_RESOURCES
    editor.get_by_label(RESOURCES).fill(NEW_RESOURCES)
    editor.get_by_role("button", name="Enregistrer").click()
    expect(article.get_by_text("Enregistré.")).to_be_visible()
    expect(article).to_contain_text(NEW_RESOURCES)
    screenshot(sophie, "changes-1-draft-plan-edited")

    sophie.get_by_role("link", name="Voir la demande et ses écarts").click()
    expect(sophie).to_have_url(request_url)
    projet = sophie.locator("section[aria-labelledby=projet-titre]")
    expect(projet.locator("del")).to_contain_text(old_resources)
    expect(projet.locator("ins")).to_contain_text(NEW_RESOURCES)
    sophie.get_by_text("Modifier la demande", exact=True).click()  # the <summary>
    form = sophie.locator("form[action$='/demande']")
    form.get_by_label("Incidence financière HT").fill("12 000")
    for question, answer in (("Modifie-t-elle un prix", "Oui"), ("Modifie-t-elle une obligation", "Non"),
                             ("Le partage des gains", "Non"), ("Change-t-elle le titulaire", "Non")):  # fmt: skip
        form.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    # The four notes share one label; the first one follows the price question.
    form.get_by_label("Précision (article, montant…)").first.fill("Prix nouveau PN2 au BPU")
    screenshot(sophie, "changes-2-request-form")
    form.get_by_role("button", name="Enregistrer la demande").click()
    expect(sophie.get_by_role("status").filter(has_text="Demande enregistrée.")).to_be_visible()
    demande = sophie.locator("section[aria-labelledby=demande-titre]")
    expect(demande).to_contain_text("+ 12 000,00 €")
    sophie.get_by_role("button", name="Soumettre à l'acheteur").click()
    expect(sophie.locator("#statut-demande")).to_have_text("Soumise à l'acheteur")
    screenshot(sophie, "changes-3-submitted")

    # 2. Claire approves, confirms the amendment, completes its data and generates it.
    claire.goto(request_url)
    claire.get_by_label("Commentaire").fill("D'accord pour les étiquettes brodées.")
    claire.get_by_role("button", name="Approuver", exact=True).click()
    expect(claire.locator("#statut-demande")).to_have_text("Approuvée, à formaliser")
    formalisation = claire.locator("#formalisation")
    expect(formalisation).to_contain_text("Progrès propose : Avenant")
    choice = formalisation.get_by_label("Avenant (une stipulation du marché change)")
    expect(choice).to_be_checked()
    screenshot(claire, "changes-4-approved")
    formalisation.get_by_role("button", name="Confirmer la formalisation").click()
    expect(claire.locator("#statut-demande")).to_have_text("En formalisation (visas)")

    terms = claire.locator("form[action$='/documents/donnees']")
    expect(terms).to_be_visible()  # « Compléter les documents » opens while there is no document
    terms.get_by_label("Fondement juridique").select_option("R2194-8")
    terms.get_by_label("Justification du fondement").fill(
        "Modification de faible montant : sous le seuil européen et sous 10 % du montant initial."
    )
    terms.get_by_label("Article modifié ou complété").first.fill(
        "Bordereau des prix unitaires (BPU)"
    )
    terms.get_by_label("Nouvelle rédaction").first.fill("Prix nouveau PN2 : étiquette brodée.")
    terms.get_by_label("Incidence financière HT").first.fill("12 000")
    terms.get_by_label("Signataire pour l'acheteur : nom").fill("Claire Martin")
    terms.locator("#signatory_qualite").fill("Acheteuse référente")
    terms.get_by_label("Signataire pour le titulaire : nom").fill("Sophie Durand")
    terms.locator("#holder_signatory_qualite").fill("Présidente de Textiles Rhône SAS")
    terms.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(claire.get_by_role("status").filter(has_text="Données des documents")).to_be_visible()
    expect(claire.locator("#formalisation")).to_contain_text(
        "R2194-8 — modification de faible montant"
    )
    claire.get_by_role("button", name="Générer les documents").click()
    expect(amendment_pdf(claire)).to_be_visible()
    screenshot(claire, "changes-5-documents-generated")
    # Folded now that the documents exist, its form comes when it is unfolded, as saved.
    expect(claire.locator("#termes-formulaire")).to_have_count(1)  # the box, not the form
    expect(claire.locator("form#termes-formulaire")).to_have_count(0)
    claire.get_by_text("Compléter les documents", exact=True).click()
    unfolded = claire.locator("form#termes-formulaire")
    expect(unfolded.get_by_label("Signataire pour l'acheteur : nom")).to_have_value("Claire Martin")
    expect(unfolded.get_by_label("Nouvelle rédaction").first).to_have_value(
        "Prix nouveau PN2 : étiquette brodée."
    )
    screenshot(claire, "changes-5b-terms-unfolded")

    # 3. Both leads give their visa on the amendment PDF.
    sophie.goto(request_url)
    give_visa(sophie, "Présidente de Textiles Rhône SAS")
    claire.goto(request_url)
    give_visa(claire, "Acheteuse référente")
    visas = amendment_pdf(claire).locator("ul.visas")
    expect(visas).to_contain_text("Visa Progrès — Sophie Durand, Présidente de Textiles Rhône SAS")
    expect(visas).to_contain_text("Visa Progrès — Claire Martin, Acheteuse référente")
    screenshot(claire, "changes-6-both-visas")

    with claire.expect_download() as download_info:
        amendment_pdf(claire).get_by_role("link", name="avec les tampons de visa").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-vise.pdf")
    assert download.path().read_bytes()[:5] == b"%PDF-"
    href = (
        amendment_pdf(claire)
        .get_by_role("link", name="avec les tampons de visa")
        .get_attribute("href")
    )
    response = claire.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"

    # 4. Claire sends it for signature, records the signed file and the notification.
    claire.get_by_role("button", name="Transmettre pour signature").click()
    expect(claire.locator("#statut-demande")).to_have_text("Transmise pour signature")
    signed = tmp_path / "avenant-signe.pdf"
    signed.write_bytes(PDF)
    signature = claire.locator("form[action$='/signature']")
    signature.get_by_label("Avenant signé (PDF)").set_input_files(signed)
    signature.get_by_label("Type de signature").select_option(label="Signature manuscrite")
    for n, (side, name, qualite) in enumerate(
        (
            ("titulaire", "Sophie Durand", "Présidente"),
            ("acheteur", "Claire Martin", "Vice-présidente"),
        )
    ):
        line = signature.locator(".signatory-line").nth(n)
        line.get_by_label("Partie").select_option(side)
        line.get_by_label("Nom et prénom").fill(name)
        line.get_by_label("Qualité", exact=True).fill(qualite)
    signature.locator(".signatory-line").nth(1).get_by_label("Signe par délégation").check()
    screenshot(claire, "changes-7-signature-form")
    signature.get_by_role("button", name="Enregistrer l'avenant signé").click()
    expect(claire.locator("#statut-demande")).to_have_text("Signée, à notifier")
    expect(claire.get_by_role("link", name="avenant-signe.pdf")).to_be_visible()

    yesterday = datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1)
    notification = claire.locator("form[action$='/notification']")
    notification.get_by_label("Mode de notification").select_option(
        label="Lettre recommandée avec accusé de réception"
    )
    notification.get_by_label(re.compile("^Date")).fill(yesterday.isoformat())  # « Date * »
    notification.get_by_label("Heure (heure de Paris)").fill("10:30")
    notification.get_by_role("button", name="Enregistrer la notification et appliquer").click()
    expect(claire.locator("#statut-demande")).to_have_text("Appliquée")
    expect(claire.locator("#formalisation")).to_contain_text(
        f"Notifié le {yesterday.day}"  # « Notifié le 14 mai 2026 à 10:30 (lettre recommandée…) »
    )
    screenshot(claire, "changes-8-applied")

    # 5. The plan has a new version in force; the request shows what changed; the list, the money.
    projet = claire.locator("section[aria-labelledby=projet-titre]")
    expect(projet).to_contain_text("Version 3 en vigueur depuis le")
    expect(projet.locator("del")).to_contain_text(old_resources)
    expect(projet.locator("ins")).to_contain_text(NEW_RESOURCES)

    claire.get_by_role("navigation").get_by_role("link", name="Plan de progrès").click()
    version_bar = claire.locator("section[aria-labelledby=version-titre]")
    expect(version_bar).to_contain_text("En vigueur Version 3")
    expect(claire.locator("article.item--action").filter(has_text=ACTION).first).to_contain_text(
        NEW_RESOURCES
    )
    screenshot(claire, "changes-9-plan-version-3")

    claire.get_by_role("navigation").get_by_role("link", name="Modifications").click()
    row = claire.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("Appliquée")
    expect(row).to_contain_text("Version 3")
    history = claire.locator("section[aria-labelledby=historique-titre]")
    expect(history.get_by_role("row").filter(has_text="+ 12 000,00 €")).to_contain_text(
        "R2194-8 — modification de faible montant"
    )
    expect(history.get_by_role("row").filter(has_text="+ 12 000,00 €")).to_contain_text(
        format_date(yesterday, format="medium", locale="fr_FR")  # « 1 déc. 2026 »
    )
    screenshot(claire, "changes-10-financial-history")
