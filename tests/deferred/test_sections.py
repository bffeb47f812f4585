"""Big sections sent after their page (app/rendering.deferred, macros/deferred.html): on a large
plan, the dashboard, the indicators, the planning, the plan page, an indicator with many
periods, a change request's change set and a long « Mes marchés » answer first with the page
and a box that htmx fills from the same address; the section alone answers the htmx request,
and ?complet=1 gives the whole page without JavaScript. Small contracts are sent whole."""

import pytest

from tests.changes.test_services import open_change
from tests.helpers import logged_in_client, page_text, statements_run

HTMX = {"HX-Request": "true"}


def deferred_box(text: str, url: str) -> bool:
    return (
        'class="deferred"' in text
        and f'hx-get="{url}"' in text
        and 'hx-trigger="load' in text
        and 'aria-busy="true"' in text
        and "complet=1" in text  # the <noscript> link to the whole page
    )


def assert_sent_after(client, url: str, marker: str, section_url: str | None = None):
    """The page without `marker` but with the box; the box's request gets the section alone;
    the whole page without JavaScript has it."""
    section_url = section_url or url
    page = client.get(url)
    text = page_text(page)
    assert page.status_code == 200 and "<html" in text
    assert marker not in text and deferred_box(text, section_url)
    section = client.get(section_url, headers=HTMX)
    assert section.status_code == 200 and "<html" not in page_text(section)
    assert marker in page_text(section) and 'class="deferred"' not in page_text(section)
    whole = client.get(url + ("&" if "?" in url else "?") + "complet=1")
    assert "<html" in page_text(whole) and marker in page_text(whole)
    return page_text(section)


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        ("tableau-de-bord/", "Statut de chaque indicateur"),
        ("indicateurs/", "Part recyclée"),
        ("planning/", "Sourcer du fil recyclé"),
    ],
)
def test_contract_pages_of_a_large_plan_send_their_big_section_after(
    app, world, draft, path, marker
):
    client = logged_in_client(app, world.supplier_lead)
    assert_sent_after(client, f"/contrats/{world.contract.id}/{path}", marker)


def test_the_plan_page_sends_its_objectives_and_completeness_after(app, world, in_force):
    client = logged_in_client(app, world.supplier_lead)
    url = f"/contrats/{world.contract.id}/plan/"
    section = assert_sent_after(client, url, "30 % de recyclé", url + "?partie=contenu")
    # The completeness, in the page's aside, comes in the same answer (out of band).
    assert 'id="completude" hx-swap-oob="true"' in section and "parties sur 7" in section
    # A link to one item opens its objective in the page itself (its anchor must be there).
    linked = page_text(client.get(f"{url}?objectif={in_force.objective.id}"))
    assert "Sourcer du fil recyclé" in linked and 'class="deferred"' not in linked


def test_a_draft_before_the_baseline_is_sent_whole(app, world, draft):
    """Its visas are given on the hash of the whole content, shown beside the form."""
    page = page_text(logged_in_client(app, world.supplier_lead).get(
        f"/contrats/{world.contract.id}/plan/"))  # fmt: skip
    assert "30 % de recyclé" in page and 'class="deferred"' not in page


def test_an_indicator_sends_its_chart_and_values_after(app, world, in_force):
    client = logged_in_client(app, world.supplier_lead)
    url = f"/contrats/{world.contract.id}/indicateurs/{in_force.indicator.uid}/"
    page = page_text(client.get(url))
    assert "Part recyclée" in page  # its definition is in the page…
    assert "Valeurs par période" not in page  # …its chart and values come after
    assert deferred_box(page, url + "valeurs") and 'hx-trigger="load, sse:mesures-' in page
    assert "Valeurs par période" in page_text(client.get(url + "valeurs", headers=HTMX))


def test_a_change_request_sends_its_change_set_after(app, world, member, in_force):
    change = open_change(world, member, in_force)
    client = logged_in_client(app, world.buyer_lead)
    url = f"/contrats/{world.contract.id}/modifications/{change.id}/"
    section = assert_sent_after(client, url, "Part recyclée", url + "?vue=ligne&partie=ecarts")
    assert 'id="ecarts-liste"' in section and "35" in section  # the new target


def test_my_contracts_send_their_table_after(app, world, draft):
    client = logged_in_client(app, world.buyer_lead)
    assert_sent_after(client, "/", world.contract.reference)


def test_the_page_before_its_section_reads_little(app, world, draft, count_queries):
    """What makes the first answer small: the frame, the member, the plan's size, the bell."""
    client = logged_in_client(app, world.supplier_lead)
    url = f"/contrats/{world.contract.id}/tableau-de-bord/"
    client.get(url)
    with count_queries() as queries:
        client.get(url)
        assert queries() <= 8


@pytest.mark.parametrize("path", ["tableau-de-bord/", "indicateurs/", "planning/"])
@pytest.mark.parametrize("stage", ["draft", "in_force"])
def test_the_page_before_its_section_reads_the_plan_once_for_itself_and_its_band(
    app, world, request, path, stage
):
    """The version these pages read to judge the plan's size (the plan in force, else the
    draft) tells the band where the plan stands: it is not read again for the band."""
    request.getfixturevalue(stage)
    client = logged_in_client(app, world.supplier_lead)
    url = f"/contrats/{world.contract.id}/{path}"
    client.get(url)
    with statements_run() as statements:
        page = page_text(client.get(url))
    assert len([s for s in statements if "FROM plan_version" in s]) == 1, statements
    band = page.split('class="contract-band"')[1].split("</dl>")[0]
    if stage == "in_force":
        assert "Version 1" in band and "En vigueur" in band
    else:
        assert "À élaborer avant le" in band and "En vigueur" not in band
