"""« Mes marchés » and a contract's home page."""

from datetime import date, timedelta

import pytest

from app.extensions import db


def test_my_contracts_lists_each_with_my_side_and_role(client, world, log_in):
    log_in(world.supplier_contributor)
    page = client.get("/").get_data(as_text=True)
    assert "2025-0142" in page and "Textiles Rhône SAS" in page
    assert "Titulaire" in page and "Contributeur" in page
    assert "2026-0057" not in page and "Villeurbanne" not in page


def test_someone_without_contracts_is_told_how_to_get_in(client, world, log_in):
    log_in(world.admin)
    page = client.get("/").get_data(as_text=True)
    assert "membre d'aucun marché" in page


def test_contract_home_shows_parties_members_dates_and_clause(client, world, log_in):
    log_in(world.supplier_lead)
    response = client.get(f"/contrats/{world.contract.id}/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Marché 2025-0142" in page  # page title
    for text in ("Métropole de Lyon", "Textiles Rhône SAS", "Claire", "Karim", "Observateur"):
        assert text in page
    assert "1\u202f250\u202f000,00\u00a0€" in page
    assert "1 juillet 2026" in page
    assert "<strong>élaborent</strong>" in page  # the clause, rendered from Markdown
    assert "Inviter une personne" not in page  # only the buyer lead invites


def test_buyer_lead_sees_the_invitation_panel(client, world, log_in):
    log_in(world.buyer_lead)
    page = client.get(f"/contrats/{world.contract.id}/").get_data(as_text=True)
    assert "Inviter une personne" in page


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (40, "il reste 40 jours"),
        (1, "il reste 1 jour "),
        (0, "l'échéance est aujourd'hui"),
        (-3, "dépassée de 3 jours"),
    ],
)
def test_plan_deadline_countdown(client, world, log_in, days, expected):
    from datetime import datetime

    from app.formatting import PARIS

    world.contract.plan_deadline = datetime.now(PARIS).date() + timedelta(days=days)
    db.session.commit()
    log_in(world.buyer_contributor)
    page = client.get(f"/contrats/{world.contract.id}/").get_data(as_text=True)
    assert expected in page


def test_clause_markdown_cannot_inject_script_or_htmx(client, world, log_in):
    world.contract.progress_clause = (
        "<script>alert(1)</script>\n\n[lien](javascript:alert(1))\n\n"
        '<a hx-get="/compte" onclick="x()">piège</a>\n\n<img src=x onerror=alert(1)>'
    )
    world.contract.notification_date = date(2026, 7, 1)
    db.session.commit()
    log_in(world.supplier_lead)
    page = client.get(f"/contrats/{world.contract.id}/").get_data(as_text=True)
    clause = page.split('<div class="md" hx-disable>')[1].split("</div>")[0]
    for forbidden in ("<script", "javascript:", "hx-get", "onclick", "onerror", "<img"):
        assert forbidden not in clause
    assert "piège" in clause


def test_unknown_contract_and_foreign_contract_look_the_same(client, world, log_in):
    log_in(world.supplier_lead)
    foreign = client.get(f"/contrats/{world.other_contract.id}/")
    missing = client.get("/contrats/999999/")
    assert foreign.status_code == missing.status_code == 404
    assert "Page introuvable" in foreign.get_data(as_text=True)
