"""A large plan's page sends its objectives closed: each loads its indicators and actions when
it scrolls into view (htmx), or on a link without JavaScript; editing and saving land on the
item with its objective open."""

import pytest

from app.plan import services as items
from app.plan import tree, versions
from tests.changes.conftest import membership_of
from tests.factories import PASSWORD
from tests.helpers import logged_in_client, page_text

HTMX = {"HX-Request": "true"}


@pytest.fixture
def app_config():
    return {"PLAN_LAZY_FROM": 1}  # the draft fixture's two cards make it « large »


def plan_url(world, draft, query=""):
    return f"/contrats/{world.contract.id}/plan/versions/{draft.version.id}/{query}"


def test_a_large_plan_sends_its_objectives_closed(app, world, draft):
    page = page_text(logged_in_client(app, world.supplier_lead).get(plan_url(world, draft)))
    assert "30 % de recyclé" in page  # the objective's card is there…
    assert "Sourcer du fil recyclé" not in page  # …its actions come later
    contents = f"/contrats/{world.contract.id}/plan/objectif/{draft.objective.id}/contenu"
    assert f'hx-get="{contents}"' in page and 'hx-trigger="intersect once"' in page
    assert "Afficher ses indicateurs et ses actions" in page and "1 indicateur, 1 action" in page


def test_an_objective_scrolled_into_view_gets_its_indicators_and_actions(app, world, draft):
    client = logged_in_client(app, world.supplier_lead)
    contents = client.get(
        f"/contrats/{world.contract.id}/plan/objectif/{draft.objective.id}/contenu", headers=HTMX
    )
    text = page_text(contents)
    assert contents.status_code == 200 and "<html" not in text
    assert "Sourcer du fil recyclé" in text and "Part recyclée" in text
    assert f'id="action-{draft.action.id}"' in text  # live refresh and editing work as usual
    assert "Ajouter une action" in text


def test_without_javascript_the_link_opens_the_plan_with_that_objective(app, world, draft):
    client = logged_in_client(app, world.supplier_lead)
    contents = client.get(
        f"/contrats/{world.contract.id}/plan/objectif/{draft.objective.id}/contenu"
    )
    assert contents.status_code == 302
    assert f"objectif={draft.objective.id}" in contents.location
    page = page_text(client.get(plan_url(world, draft, f"?objectif={draft.objective.id}")))
    assert "Sourcer du fil recyclé" in page


def test_editing_without_javascript_opens_the_items_objective(app, world, draft):
    client = logged_in_client(app, world.supplier_lead)
    page = page_text(
        client.get(f"/contrats/{world.contract.id}/plan/action/{draft.action.id}/modifier")
    )
    assert 'class="editor"' in page and "Premier texte" in page


def test_an_item_added_without_javascript_is_shown_in_its_version(app, world, draft):
    client = logged_in_client(app, world.supplier_lead)
    prefix = f"nouveau-action-{draft.objective.id}-"
    response = client.post(
        f"/contrats/{world.contract.id}/plan/versions/{draft.version.id}/action",
        data={"parent_id": draft.objective.id, prefix + "title": "Trier les chutes de tissu",
              prefix + "owner_side": "titulaire", prefix + "mode": "immediate",
              prefix + "status": "proposee"},
    )  # fmt: skip
    assert response.status_code == 302, page_text(response)[:400]
    assert f"/plan/versions/{draft.version.id}/" in response.location
    assert f"objectif={draft.objective.id}" in response.location
    assert "Trier les chutes de tissu" in page_text(client.get(response.location))


def test_a_small_plan_is_sent_whole(app, world, draft):
    app.config["PLAN_LAZY_FROM"] = 150
    page = page_text(logged_in_client(app, world.supplier_lead).get(plan_url(world, draft)))
    assert "Sourcer du fil recyclé" in page and "contents-later" not in page


def test_a_frozen_versions_content_is_kept_and_stays_right(app, world, draft):
    for user in (world.buyer_lead, world.supplier_lead):
        versions.give_visa(draft.version, membership_of(world, user), PASSWORD, user)
    in_force = versions.current_version(draft.version.plan)
    first = versions.content(in_force)
    assert versions.content(in_force) is first  # kept
    assert first == versions._content(in_force)
    draft_2 = versions.open_draft(draft.version.plan, label="Projet", actor=world.buyer_lead)
    action = versions.items_of(draft_2)["action"][0]
    items.update_item(action, {"title": "Sourcer du fil recyclé certifié"},
                      base_version=action.version, actor=world.buyer_lead)  # fmt: skip
    changed = versions.diff(in_force, draft_2)
    assert [(d.kind, d.status) for d in changed] == [("action", "modifie")]


def test_the_counted_completeness_matches_the_loaded_one(app, world, draft):
    """A large plan's page counts its objectives' contents in SQL instead of loading them: the
    seven parts come out the same, an empty objective and an action without means included."""
    from app.plan.completeness import check_plan, summarise

    lead = membership_of(world, world.supplier_lead)
    axis = draft.objective.axis
    empty = items.create_item(draft.version, "objectif", {"title": "Sans rien"}, parent=axis,
                              actor=lead.user)  # fmt: skip
    items.create_item(draft.version, "action", {"title": "Sans moyens", "owner_side": "acheteur"},
                      parent=draft.objective, actor=lead.user)  # fmt: skip
    objectives = [o for a in tree.axes_tree(draft.version) for o in a.objectives]
    counted = tree.objective_summaries(draft.version)
    assert {o.id: summarise(o) for o in objectives if o.id != empty.id} == counted
    loaded, by_sql = check_plan(objectives, None), check_plan(objectives, None, counted)
    assert by_sql.parts == loaded.parts
    assert [c.parts for c in by_sql.objectives] == [c.parts for c in loaded.objectives]


def test_a_frozen_versions_counts_are_kept_a_drafts_follow_its_edits(app, world, draft):
    lead = membership_of(world, world.supplier_lead)
    counted = tree.objective_summaries(draft.version)
    items.create_item(draft.version, "action", {"title": "Encore une", "owner_side": "acheteur"},
                      parent=draft.objective, actor=lead.user)  # fmt: skip
    after = tree.objective_summaries(draft.version)  # a draft: counted again
    assert after[draft.objective.id].actions == counted[draft.objective.id].actions + 1
    for user in (world.buyer_lead, world.supplier_lead):
        versions.give_visa(draft.version, membership_of(world, user), PASSWORD, user)
    in_force = versions.current_version(draft.version.plan)
    assert in_force.frozen_at is not None
    kept = tree.objective_summaries(in_force)
    assert tree.objective_summaries(in_force) is kept == after  # frozen: counted once
    assert tree.is_large(in_force)  # PLAN_LAZY_FROM = 1, its size kept the same way
