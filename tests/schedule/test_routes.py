"""The schedule through HTTP: the page for every member, a row as a fragment, the update in
place (its 403, 422 and 409 answers) and the deadlines file."""

import re
from datetime import date

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.extensions import db
from app.schedule.models import ActionFollowUp
from tests.helpers import logged_in_client, page_text

HTMX = {"HX-Request": "true"}


def url(world, path=""):
    return f"/contrats/{world.contract.id}/planning/{path}"


def version_in(page: str) -> str:
    return re.search(r'name="version" value="(\d*)"', page).group(1)


@pytest.mark.parametrize("role", ["buyer_lead", "buyer_contributor", "observer", "supplier_lead",
                                  "supplier_contributor"])  # fmt: skip
def test_every_member_sees_the_schedule(app, world, draft, role):
    page = page_text(logged_in_client(app, world.role(role)).get(url(world)))
    assert "Planning des actions" in page and "Sourcer du fil recyclé" in page
    assert "Objectif : 30 % de recyclé" in page
    assert re.search(r"<caption[^>]*>Planning des actions, de janvier 2027 à juin 2027", page)
    assert "du 1 janvier 2027 au 30 juin 2027" in page  # the bar's words, for screen readers
    assert ('aria-current="page">Planning</a>' in page) is True
    assert ("Mettre à jour" in page) is (role != "observer")


def test_an_outsider_does_not_find_the_schedule(app, world, draft):
    outsider = logged_in_client(app, world.outsider)
    assert outsider.get(url(world)).status_code == 404
    assert outsider.get(url(world, f"{draft.action.uid}/")).status_code == 404
    assert outsider.get(url(world, "echeances.ics")).status_code == 404


def test_a_late_action_is_flagged_in_words(app, world, draft, add_action):
    add_action("Commander les bobines", date(2025, 1, 1), date(2025, 6, 30))
    client = logged_in_client(app, world.buyer_lead)
    page = page_text(client.get(url(world)))
    assert "1 en retard" in page and "en retard" in page
    only_late = page_text(client.get(url(world), query_string={"en_retard": "1"}))
    assert "Commander les bobines" in only_late and "Sourcer du fil recyclé" not in only_late


def test_a_row_is_a_fragment_for_htmx_and_a_page_otherwise(app, world, draft):
    client = logged_in_client(app, world.supplier_lead)
    fragment = client.get(url(world, f"{draft.action.uid}/"), headers=HTMX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert body.strip().startswith(f'<tbody id="action-{draft.action.uid}"')
    assert "<html" not in body and f"sse:suivi-action-{draft.action.uid}" in body
    assert "data-live-refresh" in body
    editor = client.get(url(world, f"{draft.action.uid}/?modifier=1"), headers=HTMX)
    assert 'name="progress"' in editor.get_data(as_text=True)
    page = client.get(url(world, f"{draft.action.uid}/?modifier=1"))  # without JavaScript
    assert "<html" in page.get_data(as_text=True) and 'name="progress"' in page.get_data(
        as_text=True
    )
    assert client.get(url(world, "pas-une-action/"), headers=HTMX).status_code == 404


def test_the_supplier_updates_an_action_in_place(app, world, draft):
    client = logged_in_client(app, world.supplier_lead)
    editor = client.get(url(world, f"{draft.action.uid}/?modifier=1"), headers=HTMX)
    assert re.search(r'<option disabled value="validee">', editor.get_data(as_text=True))
    response = client.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                           data={"version": "", "status": "en_cours", "progress": "40",
                                 "actual_start": "2027-01-04", "comment": "Lancée"})  # fmt: skip
    row = page_text(response)
    assert response.status_code == 200 and "40 %" in row and "En cours" in row
    assert "Enregistré" in row and 'name="progress"' not in row  # the form is closed
    follow_up = db.session.scalar(select(ActionFollowUp))
    assert (follow_up.progress, follow_up.actual_start) == (40, date(2027, 1, 4))
    plain = client.post(url(world, f"{draft.action.uid}/"),
                        data={"version": "1", "status": "en_cours", "progress": "50"})  # fmt: skip
    assert plain.status_code == 302 and plain.headers["Location"].endswith(
        f"/planning/#action-{draft.action.uid}"
    )


def test_the_supplier_cannot_validate(app, world, draft):
    client = logged_in_client(app, world.supplier_lead)
    response = client.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                           data={"version": "", "status": "validee", "progress": "0"})  # fmt: skip
    assert response.status_code == 403
    assert "Seul l'acheteur peut valider une action" in page_text(response)
    assert db.session.scalar(select(ActionFollowUp)) is None
    buyer = logged_in_client(app, world.buyer_lead)
    ok = buyer.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                    data={"version": "", "status": "validee", "progress": "0"})  # fmt: skip
    assert ok.status_code == 200 and "Validée" in page_text(ok)


def test_an_observer_may_not_post(app, world, draft):
    observer = logged_in_client(app, world.observer)
    response = observer.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                             data={"version": "", "status": "en_cours", "progress": "10"})  # fmt: skip
    assert response.status_code == 403
    assert db.session.scalar(select(ActionFollowUp)) is None


def test_bad_input_gets_422_next_to_the_field_with_the_typed_values(app, world, draft):
    client = logged_in_client(app, world.supplier_contributor)
    response = client.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                           data={"version": "", "status": "en_cours", "progress": "beaucoup",
                                 "comment": "Mon commentaire à garder"})  # fmt: skip
    page = page_text(response)
    assert response.status_code == 422
    assert "un nombre entier de 0 à 100" in page
    assert 'value="beaucoup"' in page and "Mon commentaire à garder" in page
    assert re.search(r'aria-invalid="true"[^>]*id="progress-', page)
    bad_dates = client.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                            data={"version": "", "status": "en_cours", "progress": "10",
                                  "actual_start": "2027-03-01", "actual_end": "2027-02-01"})  # fmt: skip
    assert bad_dates.status_code == 422 and "précéder" in page_text(bad_dates)
    assert 'value="2027-02-01"' in page_text(bad_dates)
    assert db.session.scalar(select(ActionFollowUp)) is None


def test_a_stale_form_gets_409_with_the_current_values_and_keeps_the_typed_ones(app, world, draft):
    supplier, buyer = (
        logged_in_client(app, world.supplier_lead),
        logged_in_client(app, world.buyer_lead),
    )
    buyers_form = buyer.get(url(world, f"{draft.action.uid}/?modifier=1"), headers=HTMX)
    seen = version_in(buyers_form.get_data(as_text=True))
    assert seen == ""
    supplier.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                  data={"version": "", "status": "en_cours", "progress": "40"})  # fmt: skip
    late = buyer.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                      data={"version": seen, "status": "en_cours", "progress": "55",
                            "comment": "Point du comité"})  # fmt: skip
    page = page_text(late)
    assert late.status_code == 409
    assert "pendant votre saisie" in page
    assert ">40 %<" in page  # the current state, in the row
    assert 'value="55"' in page and "Point du comité" in page  # the buyer's values, in the form
    assert version_in(late.get_data(as_text=True)) == "1"  # sending again applies over it
    again = buyer.post(url(world, f"{draft.action.uid}/"), headers=HTMX,
                       data={"version": "1", "status": "en_cours", "progress": "55"})  # fmt: skip
    assert again.status_code == 200 and ">55 %<" in page_text(again)


def test_the_deadlines_file_downloads_as_a_calendar(app, world, draft):
    response = logged_in_client(app, world.observer).get(url(world, "echeances.ics"))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="echeances-2025-0142.ics"'
    )
    events = Calendar.from_ical(response.data).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Échéance : Sourcer du fil recyclé"]


def test_a_long_planning_sends_its_rows_a_chunk_at_a_time(app, world, draft, add_action):
    add_action("Deuxième action", date(2027, 2, 1), date(2027, 3, 1))
    add_action("Troisième action", date(2027, 3, 1), date(2027, 4, 1))
    db.session.commit()
    app.config["SCHEDULE_CHUNK"] = 2
    client = logged_in_client(app, world.buyer_lead)
    page = page_text(client.get(url(world)))
    assert "3 actions au plan" in page
    assert page.count('class="schedule__action') == 2
    assert "Afficher les actions suivantes" in page and "(1 restante)" in page
    assert f'hx-get="{url(world)}?depuis=2"' in page and 'hx-trigger="intersect once"' in page
    rest = page_text(client.get(url(world, "?depuis=2"), headers=HTMX))
    assert "<html" not in rest and rest.count('class="schedule__action') == 1
    assert "Afficher les actions suivantes" not in rest
    # without JavaScript, the link is a page of the following rows
    following = page_text(client.get(url(world, "?depuis=2")))
    assert "<html" in following and following.count('class="schedule__action') == 1
    assert "Revenir aux premières actions" in following and "(actions 3 à 3 sur 3)" in following
