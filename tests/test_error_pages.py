"""Errors answer in French, never show internals, and never replace what is being edited."""

import logging

import pytest

from app.permissions import PUBLIC, allow
from tests.helpers import page_text


def test_unknown_page_is_a_french_404(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in page_text(response)


def test_htmx_errors_go_to_the_notice_area_not_into_the_fragment(client, world, log_in):
    log_in(world.supplier_lead)
    response = client.post(
        f"/contrats/{world.contract.id}/invitations",
        data={"email": "x@y.example", "side": "titulaire", "role": "contributeur"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#notifications"
    assert response.headers["HX-Reswap"] == "innerHTML"
    body = page_text(response)
    assert "Votre rôle sur ce marché ne permet pas cette action." in body
    assert "<html" not in body


@pytest.fixture
def crashing_app(make_app):
    """A non-testing app (exceptions are handled, not propagated) with a route that fails."""
    app = make_app("development")

    @app.get("/_panne")
    @allow(PUBLIC)
    def crash():
        raise RuntimeError("SELECT secret FROM user_account -- détail interne")

    return app


def test_unexpected_error_is_a_french_500_without_internals(crashing_app, caplog):
    with caplog.at_level(logging.ERROR, logger="progres.errors"):
        response = crashing_app.test_client().get("/_panne")
    body = page_text(response)
    assert response.status_code == 500
    assert "Erreur inattendue" in body and "Votre saisie n'a pas été enregistrée" in body
    assert "SELECT" not in body and "Traceback" not in body
    assert "error.unexpected" in caplog.text  # logged for the operators


def test_production_app_has_no_debug(make_app):
    app = make_app("production", SECRET_KEY="s" * 40)
    assert app.debug is False and app.testing is False
