"""In a real browser: Claire turns the two-factor authentication on from « Mon compte »
(scanning is replaced by reading the key the page shows), notes her recovery codes, logs out,
and logs in again with a code of her app. Every page passes axe and the strict CSP."""

import time

import pyotp
from playwright.sync_api import expect

from app.demo.data import DEMO_PASSWORD
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import screenshot as take_screenshot

BUYER = "claire.martin@grandlyon.example"


def screenshot(page, name: str) -> None:
    """The shared helper, then the empty `style` attributes Playwright leaves when it hides the
    caret are removed (htmx would copy them onto the next boosted page: a CSP report)."""
    take_screenshot(page, name)
    page.evaluate(
        "() => document.querySelectorAll('[style=\"\"]').forEach((e) => e.removeAttribute('style'))"
    )


def test_turning_two_factor_on_then_logging_in_with_a_code(page_as, new_page):
    page = page_as(BUYER)
    page.get_by_role("link", name="Mon compte").click()
    page.get_by_role("link", name="Activer la double authentification").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification")
    expect(
        page.get_by_role("img", name="Code QR à scanner avec votre application d'authentification")
    ).to_be_visible()
    assert_accessible(page)
    screenshot(page, "double-authentification-mise-en-place")
    secret = page.locator(".secret-key code").inner_text().replace(" ", "")
    assert len(secret) == 32

    # A wrong first code: the error is announced and focused, the same key is still shown.
    page.get_by_label("Code à 6 chiffres affiché par l'application").fill("000000")
    page.get_by_label("Votre mot de passe, pour confirmer").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.locator(".alert--error")).to_be_focused()
    expect(page.get_by_label("Code à 6 chiffres affiché par l'application")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert page.locator(".secret-key code").inner_text().replace(" ", "") == secret
    assert_accessible(page)

    page.get_by_label("Code à 6 chiffres affiché par l'application").fill(pyotp.TOTP(secret).now())
    page.get_by_label("Votre mot de passe, pour confirmer").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    codes = page.locator("ol.recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page)
    screenshot(page, "double-authentification-codes-de-secours")
    page.get_by_role("link", name="J'ai noté mes codes : retour à Mon compte").click()
    expect(page.get_by_text("10 codes de secours restants.")).to_be_visible()
    page.get_by_role("link", name="Gérer la double authentification").click()
    assert_accessible(page)
    screenshot(page, "double-authentification-activee")

    # Logging in again: the password, then a code (the next one: the first cannot serve twice).
    page.get_by_role("button", name="Se déconnecter").click()
    browser = new_page()
    browser.goto("/connexion")
    browser.get_by_label("Adresse e-mail").fill(BUYER)
    browser.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    browser.get_by_role("button", name="Se connecter").click()
    browser.wait_for_url("**/connexion/code")
    assert_accessible(browser)
    browser.get_by_label("Code de vérification").fill("123456")
    browser.get_by_role("button", name="Vérifier et me connecter").click()
    expect(browser.locator(".alert--error")).to_be_focused()
    assert_accessible(browser)
    screenshot(browser, "double-authentification-connexion-erreur")
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    browser.get_by_label("Code de vérification").fill(next_code)
    browser.get_by_role("button", name="Vérifier et me connecter").click()
    browser.wait_for_url("**/")
    expect(browser.get_by_role("navigation", name="Votre compte")).to_contain_text("Claire Martin")
