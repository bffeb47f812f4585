"""axe-core (WCAG 2.1 A and AA) on every key page, keyboard access, reflow at 320 px."""

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible, axe_violations
from tests.e2e.conftest import screenshot

BUYER_LEAD = "claire.martin@grandlyon.example"


def test_login_page_and_its_error_state_are_accessible(new_page):
    page = new_page()
    page.goto("/connexion")
    assert_accessible(page)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator(".alert--error")).to_be_visible()
    expect(page.get_by_label("Adresse e-mail")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


@pytest.mark.parametrize(
    "path",
    ["/", "/contrats/1/", "/contrats/1/plan/", "/compte", "/accessibilite",
     "/contrats/1/plan/versions/2/ecarts", "/contrats/1/difficultes/",
     "/contrats/1/difficultes/nouvelle", "/contrats/1/difficultes/1", "/notifications/",
     "/notifications/preferences", "/contrats/1/tableau-de-bord/", "/contrats/1/indicateurs/",
     "/contrats/1/revues/", "/contrats/1/revues/nouvelle", "/contrats/1/revues/1/", "/agenda/",
     "/compte/double-authentification"],
)  # fmt: skip
def test_key_pages_have_no_wcag_violation(page_as, path):
    page = page_as(BUYER_LEAD)
    page.goto(path)
    assert_accessible(page)


@pytest.mark.parametrize(
    "path", ["/admin/marches", "/admin/organisations", "/admin/marches/nouveau"]
)
def test_admin_pages_have_no_wcag_violation(page_as, path):
    page = page_as("admin@progres.example")
    page.goto(path)
    assert_accessible(page)


def test_invitation_errors_are_announced_focused_and_accessible(page_as):
    page = page_as(BUYER_LEAD)
    page.goto("/contrats/1/")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    summary = page.locator("#invitations .alert--error")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Adresse e-mail de la personne invitée")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert_accessible(page)
    screenshot(page, "invitation-errors")


def test_difficulty_errors_are_announced_focused_and_accessible(page_as):
    page = page_as("sophie.durand@textiles-rhone.example")
    page.goto("/contrats/1/difficultes/nouvelle")
    page.get_by_role("button", name="Signaler la difficulté").click()
    expect(page.locator(".alert--error")).to_be_focused()
    expect(page.get_by_label("Objet")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, "difficulty-errors")


def test_indicator_page_and_its_value_editor_are_accessible(page_as):
    page = page_as("karim.benali@textiles-rhone.example")
    page.goto("/contrats/1/indicateurs/")
    page.get_by_role("link", name="Emballages jetables par livraison").click()
    expect(page.locator("svg.chart")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Saisir T4 2026").click()
    page.get_by_role("textbox", name="Valeur").fill("quatre")
    page.get_by_role("button", name="Enregistrer la valeur").click()
    expect(page.locator("#valeurs-indicateur .alert--error")).to_be_focused()
    assert_accessible(page)
    screenshot(page, "indicateur-saisie-erreur")


def test_first_tab_reaches_the_skip_link(new_page):
    page = new_page()
    page.goto("/connexion")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Aller au contenu")


@pytest.mark.parametrize(
    "path", ["/", "/contrats/1/", "/contrats/1/plan/", "/contrats/1/difficultes/",
             "/contrats/1/difficultes/1"]
)  # fmt: skip
def test_pages_reflow_at_320_css_pixels(page_as, path):
    page = page_as(BUYER_LEAD)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_nothing_is_kept_in_browser_storage(page_as):
    page = page_as(BUYER_LEAD)
    page.get_by_role("link", name="2025-0142").click()
    page.get_by_role("link", name="Plan de progrès").first.click()
    page.go_back()
    assert page.evaluate("localStorage.length") == 0


def test_axe_does_catch_a_real_problem(new_page):
    """Negative control: if the injection broke, every accessibility test would pass."""
    page = new_page()
    page.goto("/connexion")
    page.set_content('<html lang="fr"><body><main><input type="text"></main></body></html>')
    assert "label" in {v["id"] for v in axe_violations(page)}


def test_the_csp_recorder_does_catch_a_violation(new_page):
    """Negative control of the recorder every browser test ends with: an inline script, which
    the strict CSP blocks, is reported; otherwise « no violation » would prove nothing."""
    page = new_page()
    page.goto("/connexion")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.append(script);
    }""")
    page.wait_for_function("() => window.__cspViolations.length > 0")
    violations = page.evaluate("() => window.__cspViolations.splice(0)")  # read, then cleared
    assert any(v.startswith("script-src") for v in violations), violations
    assert page.evaluate("() => window.__ran") is None
