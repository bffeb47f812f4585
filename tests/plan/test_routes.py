"""The plan page and in-place editing, as each role sees it."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.plan import services as items
from app.plan.models import Action, Objective
from tests.helpers import page_text

HX = {"HX-Request": "true"}


def url(world, path):
    return f"/contrats/{world.contract.id}/plan/{path}"


def action_form(draft, **values):
    prefix = f"action-{draft.action.id}-"
    data = {
        "title": draft.action.title, "owner_side": "titulaire", "description": "Premier texte",
        "resources": "Acheteur textile", "mode": "immediate", "status": "proposee",
        "planned_start": "2027-01-01", "planned_end": "2027-06-30", "cost_estimate": "",
        "abandon_reason": "", "base_version": str(draft.action.version),
    }  # fmt: skip
    data.update(values)
    return {prefix + name: value for name, value in data.items()}


@pytest.mark.parametrize("role", ["buyer_lead", "supplier_contributor", "observer"])
def test_every_member_sees_the_plan(client, world, draft, log_in, role):
    log_in(world.role(role))
    page = page_text(client.get(url(world, "")))
    assert "Sourcer du fil recyclé" in page and "30 % de recyclé" in page
    assert "Complétude du plan" in page
    assert ("Modifier" in page) == (role != "observer")


def test_observer_cannot_edit(client, world, draft, log_in):
    log_in(world.observer)
    assert (
        client.get(url(world, f"action/{draft.action.id}/modifier"), headers=HX).status_code == 403
    )
    response = client.post(
        url(world, f"action/{draft.action.id}"), data=action_form(draft, title="x")
    )
    assert response.status_code == 403


def test_editor_opens_in_place_and_save_returns_the_card(client, world, draft, log_in):
    log_in(world.supplier_contributor)
    editor = client.get(url(world, f"action/{draft.action.id}/modifier"), headers=HX)
    assert editor.status_code == 200
    assert f'name="action-{draft.action.id}-title"' in editor.get_data(as_text=True)
    assert "<html" not in editor.get_data(as_text=True)
    saved = client.post(url(world, f"action/{draft.action.id}"), headers=HX,
                        data=action_form(draft, title="Sourcer du fil GRS"))  # fmt: skip
    body = page_text(saved)
    assert saved.status_code == 200
    assert "Enregistré." in body and "Sourcer du fil GRS" in body
    assert db.session.get(Action, draft.action.id).title == "Sourcer du fil GRS"


def test_without_javascript_the_editor_is_a_page_and_save_redirects(client, world, draft, log_in):
    log_in(world.buyer_lead)
    page = client.get(url(world, f"action/{draft.action.id}/modifier"))
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    saved = client.post(url(world, f"action/{draft.action.id}"), data=action_form(draft, title="T"))
    assert saved.status_code == 302 and saved.headers["Location"].endswith(
        f"#action-{draft.action.id}"
    )


def test_invalid_input_is_a_422_with_the_text_kept(client, world, draft, log_in):
    log_in(world.buyer_lead)
    response = client.post(
        url(world, f"action/{draft.action.id}"), headers=HX,
        data=action_form(draft, title="", description="Mon long texte", planned_end="2026-01-01",
                         cost_estimate="beaucoup"),
    )  # fmt: skip
    body = page_text(response)
    assert response.status_code == 422
    assert "Décrivez l'action en une phrase." in body
    assert "La fin prévue doit suivre le début prévu." in body
    assert "Mon long texte" in body and 'value="beaucoup"' in body


def test_concurrent_save_of_another_field_merges_and_says_so(client, world, draft, log_in):
    base = draft.action.version
    items.update_item(draft.action, {"title": "Titre de l'acheteur"}, base_version=base,
                      actor=world.buyer_lead)  # fmt: skip
    log_in(world.supplier_lead)
    response = client.post(
        url(world, f"action/{draft.action.id}"), headers=HX,
        data=action_form(draft, base_version=str(base), title="Sourcer du fil recyclé",
                         description="Texte du titulaire"),
    )  # fmt: skip
    body = page_text(response)
    assert response.status_code == 200
    assert "fusionnées" in body and "Action" in body
    action = db.session.get(Action, draft.action.id)
    assert (action.title, action.description) == ("Titre de l'acheteur", "Texte du titulaire")


def test_conflict_on_the_same_field_shows_both_texts_and_keeps_mine(client, world, draft, log_in):
    base = draft.action.version
    items.update_item(draft.action, {"description": "Texte de l'acheteur"}, base_version=base,
                      actor=world.buyer_lead)  # fmt: skip
    log_in(world.supplier_lead)
    response = client.post(
        url(world, f"action/{draft.action.id}"), headers=HX,
        data=action_form(draft, base_version=str(base), description="Texte du titulaire"),
    )  # fmt: skip
    body = page_text(response)
    assert response.status_code == 409
    assert "Texte du titulaire" in body  # my input, in the form
    assert "Texte de l'acheteur" in body  # their version beside it
    assert "Premier texte" in body  # where we both started
    assert "Enregistrer ma version" in body
    rebased = body.split(f'name="action-{draft.action.id}-base_version"')[1][:40]
    assert f'value="{base + 1}"' in rebased  # a second save is a deliberate choice
    assert db.session.get(Action, draft.action.id).description == "Texte de l'acheteur"
    # Keeping my version now succeeds.
    again = client.post(
        url(world, f"action/{draft.action.id}"), headers=HX,
        data={**action_form(draft, base_version=str(base + 1), description="Texte du titulaire"),
              "resolution": "mine"},
    )  # fmt: skip
    assert again.status_code == 200
    assert db.session.get(Action, draft.action.id).description == "Texte du titulaire"


def test_taking_their_version_keeps_my_other_changes(client, world, draft, log_in):
    base = draft.action.version
    items.update_item(draft.action, {"description": "Texte de l'acheteur"}, base_version=base,
                      actor=world.buyer_lead)  # fmt: skip
    log_in(world.supplier_lead)
    response = client.post(
        url(world, f"action/{draft.action.id}"), headers=HX,
        data={**action_form(draft, base_version=str(base + 1), description="Mon texte",
                            title="Mon titre"),
              "resolution": "theirs", "conflict_field": "description"},
    )  # fmt: skip
    assert response.status_code == 200
    action = db.session.get(Action, draft.action.id)
    assert (action.title, action.description) == ("Mon titre", "Texte de l'acheteur")


def test_an_item_of_another_contract_is_not_found(client, world, draft, log_in):
    from app.plan import versions

    other_version = versions.working_version(versions.plan_of(world.other_contract))
    axis = items.create_item(other_version, "axe", {"kind": "technique", "title": "Autre"},
                             actor=world.outsider)  # fmt: skip
    log_in(world.buyer_lead)
    assert client.get(url(world, f"versions/{other_version.id}/")).status_code == 404
    assert client.get(url(world, f"versions/{draft.version.id}/")).status_code == 200
    assert client.get(url(world, f"axe/{axis.id}"), headers=HX).status_code == 404
    assert client.get(url(world, f"axe/{axis.id}/historique"), headers=HX).status_code == 404
    response = client.post(url(world, f"versions/{other_version.id}/axe"),
                           data={f"nouveau-axe-{other_version.id}-title": "x"})  # fmt: skip
    assert response.status_code == 404
    # a parent from another contract is refused too
    response = client.post(url(world, f"versions/{draft.version.id}/objectif"),
                           data={"parent_id": axis.id})  # fmt: skip
    assert response.status_code == 404


def test_adding_an_objective_goes_through_the_lists_sentinel(client, world, draft, log_in):
    log_in(world.supplier_lead)
    prefix = f"nouveau-objectif-{draft.axis.id}-"
    response = client.post(
        url(world, f"versions/{draft.version.id}/objectif"), headers=HX,
        data={"parent_id": draft.axis.id, prefix + "title": "Réduire les emballages",
              prefix + "obligation": "moyens", prefix + "accountable_side": "titulaire"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == f"added-objectif-{draft.axis.id}"
    assert f'id="ajout-objectif-{draft.axis.id}"' in page_text(response)  # a fresh form
    objective = db.session.scalar(
        select(Objective).where(Objective.title == "Réduire les emballages")
    )
    pulled = client.get(
        url(world, f"versions/{draft.version.id}/objectif/nouveaux"), headers=HX,
        query_string={"parent_id": draft.axis.id, "after": draft.objective.id},
    )  # fmt: skip
    body = page_text(pulled)
    assert f'<article id="objectif-{objective.id}"' in body
    assert f'id="curseur-objectif-{draft.axis.id}"' in body and 'hx-swap-oob="true"' in body
    again = client.get(
        url(world, f"versions/{draft.version.id}/objectif/nouveaux"), headers=HX,
        query_string={"parent_id": draft.axis.id, "after": objective.id},
    )  # fmt: skip
    assert again.status_code == 204


def test_an_invalid_addition_is_sent_back_to_its_form(client, world, draft, log_in):
    log_in(world.supplier_lead)
    response = client.post(
        url(world, f"versions/{draft.version.id}/objectif"), headers=HX,
        data={"parent_id": draft.axis.id, f"nouveau-objectif-{draft.axis.id}-title": ""},
    )  # fmt: skip
    assert response.status_code == 422
    assert (
        page_text(response)
        .lstrip()
        .startswith(f'<details class="add" id="ajout-objectif-{draft.axis.id}" open')
    )
    assert "Décrivez l'objectif en une phrase." in page_text(response)


def test_delete_and_move(client, world, draft, log_in):
    log_in(world.buyer_lead)
    second = items.create_item(draft.version, "action", {"title": "Seconde"}, parent=draft.objective,
                               actor=world.buyer_lead)  # fmt: skip
    second_id = second.id
    moved = client.post(url(world, f"action/{second.id}/deplacement"), data={"direction": "-1"})
    assert moved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Objective, draft.objective.id).actions[0].title == "Seconde"
    stale = client.post(url(world, f"action/{second.id}/suppression"), headers=HX,
                        data={"base_version": "0"})  # fmt: skip
    assert stale.status_code == 409
    deleted = client.post(url(world, f"action/{second.id}/suppression"), headers=HX,
                          data={"base_version": str(second.version)})  # fmt: skip
    assert deleted.status_code == 200 and deleted.headers["HX-Reswap"] == "delete"
    assert db.session.get(Action, second_id) is None


def test_history_panel_shows_the_readable_diff(client, world, draft, log_in):
    items.update_item(draft.action, {"description": "Nouveau texte"},
                      base_version=draft.action.version, actor=world.buyer_lead)  # fmt: skip
    log_in(world.observer)
    body = page_text(client.get(url(world, f"action/{draft.action.id}/historique"), headers=HX))
    assert "Modification" in body and "Création" in body
    assert "<del>Premier texte</del>" in body and "<ins>Nouveau texte</ins>" in body
    assert "Description" in body  # the field's label, not its code name


def test_markdown_preview_is_sanitised(client, world, draft, log_in):
    log_in(world.buyer_lead)
    response = client.post(url(world, "apercu"), headers=HX,
                           data={"x": "**gras** <script>alert(1)</script>"})  # fmt: skip
    body = response.get_data(as_text=True)
    assert "<strong>gras</strong>" in body and "<script" not in body


def test_visa_form_asks_for_the_password_and_only_leads_have_it(client, world, draft, log_in):
    log_in(world.buyer_contributor)
    assert "Viser le plan" not in page_text(client.get(url(world, "")))
    response = client.post(url(world, f"versions/{draft.version.id}/visa"),
                           data={"password": "jonquille-brouette-orage-81"})  # fmt: skip
    assert response.status_code == 403
    client.post("/deconnexion")
    log_in(world.buyer_lead)
    assert "Viser le plan pour la partie acheteur" in page_text(client.get(url(world, "")))
    wrong = client.post(url(world, f"versions/{draft.version.id}/visa"), data={"password": "non"})
    assert wrong.status_code == 422 and "Mot de passe incorrect" in page_text(wrong)
    ok = client.post(url(world, f"versions/{draft.version.id}/visa"),
                     data={"password": "jonquille-brouette-orage-81"})  # fmt: skip
    assert ok.status_code == 302
    assert "visé par" in page_text(client.get(url(world, "")))


def test_version_pages_and_diff(client, world, draft, log_in):
    from app.contracts.models import Membership
    from app.plan import versions
    from tests.factories import PASSWORD

    for lead in (world.buyer_lead, world.supplier_lead):
        membership = db.session.scalar(
            select(Membership).filter_by(contract_id=world.contract.id, user_id=lead.id)
        )
        versions.give_visa(draft.version, membership, PASSWORD, lead)
    second = versions.open_draft(versions.plan_of(world.contract), label="Projet de version 2",
                                 actor=world.buyer_lead)  # fmt: skip
    action = versions.items_of(second)["action"][0]
    items.update_item(action, {"title": "Titre v2"}, base_version=action.version,
                      actor=world.buyer_lead)  # fmt: skip
    log_in(world.supplier_contributor)
    # The plan page opens on the version in force; a later draft is listed and has its page.
    working = page_text(client.get(url(world, "")))
    assert "Version 1" in working and "Projet de version 2" in working and "Titre v2" not in working
    assert "Titre v2" in page_text(client.get(url(world, f"versions/{second.id}/")))
    frozen = page_text(client.get(url(world, f"versions/{draft.version.id}/")))
    assert "Empreinte SHA-256" in frozen and draft.version.content_hash in frozen
    assert "Modifier</a>" not in frozen  # a frozen version shows no editing tool
    diff = page_text(client.get(url(world, f"versions/{second.id}/ecarts")))
    assert "Titre v2" in diff and "Sourcer du fil recyclé" in diff and "modifié" in diff
    no_base = page_text(client.get(url(world, f"versions/{draft.version.id}/ecarts")))
    assert "pas de version antérieure" in no_base


def test_plan_page_queries_do_not_grow_with_the_plan(client, world, draft, log_in, count_queries):
    log_in(world.observer)
    counts = []
    for round_ in range(2):
        with count_queries() as queries:
            assert client.get(url(world, "")).status_code == 200
        counts.append(queries())
        for n in range(5):  # a bigger plan: more objectives, each with indicators and actions
            objective = items.create_item(draft.version, "objectif", {"title": f"O{round_}{n}"},
                                          parent=draft.axis, actor=world.buyer_lead)  # fmt: skip
            indicator = items.create_item(draft.version, "indicateur", {"name": "I"},
                                          parent=objective, actor=world.supplier_lead)  # fmt: skip
            items.create_item(draft.version, "jalon", {"due_date": date(2027, 1, 1),
                                                       "value": Decimal("1")},
                              parent=indicator, actor=world.supplier_lead)  # fmt: skip
            items.create_item(draft.version, "action", {"title": "A"}, parent=objective,
                              actor=world.buyer_contributor)  # fmt: skip
    with count_queries() as queries:
        assert client.get(url(world, "")).status_code == 200
    counts.append(queries())
    assert counts[1] == counts[2], counts


def test_htmx_move_returns_the_reordered_list_with_focus_kept(client, world, draft, log_in):
    log_in(world.buyer_lead)
    second = items.create_item(draft.version, "action", {"title": "Seconde"}, parent=draft.objective,
                               actor=world.buyer_lead)  # fmt: skip
    response = client.post(url(world, f"action/{second.id}/deplacement"), headers=HX,
                           data={"direction": "-1"})  # fmt: skip
    body = page_text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith(
        f'<div class="item-list item-list--action" id="liste-action-{draft.objective.id}"'
    )
    assert body.index("Seconde") < body.index("Sourcer du fil recyclé")
    assert body.count("data-autofocus") == 1


def test_history_and_diff_show_values_as_people_read_them(client, world, draft, log_in):
    items.update_item(draft.indicator, {"target_value": Decimal("35.5"), "direction": "baisse"},
                      base_version=draft.indicator.version, actor=world.buyer_lead)  # fmt: skip
    log_in(world.observer)
    body = page_text(
        client.get(url(world, f"indicateur/{draft.indicator.id}/historique"), headers=HX)
    )
    assert "<ins>35,5</ins>" in body and "<del>30</del>" in body
    assert "À la baisse (moins, c'est mieux)" in body and "baisse</" not in body


def test_a_partial_post_changes_only_what_it_carries(client, world, draft, log_in):
    log_in(world.supplier_lead)
    prefix = f"action-{draft.action.id}-"
    response = client.post(url(world, f"action/{draft.action.id}"), headers=HX, data={
        prefix + "title": "Seulement le titre", prefix + "owner_side": "titulaire",
        prefix + "mode": "immediate", prefix + "status": "proposee",
        prefix + "base_version": str(draft.action.version)})  # fmt: skip
    assert response.status_code == 200
    action = db.session.get(Action, draft.action.id)
    assert (action.title, action.description, action.resources) == (
        "Seulement le titre", "Premier texte", "Acheteur textile")  # fmt: skip


def test_live_pull_answers_204_when_up_to_date_and_the_view_otherwise(client, world, draft, log_in):
    log_in(world.supplier_lead)
    card = url(world, f"action/{draft.action.id}")
    fresh = client.get(card, headers=HX, query_string={"seen": f"{draft.action.version};"})
    assert fresh.status_code == 204
    items.update_item(draft.action, {"title": "Nouveau titre"}, base_version=draft.action.version,
                      actor=world.buyer_lead)  # fmt: skip
    stale = client.get(card, headers=HX, query_string={"seen": "1;"})
    body = page_text(stale)
    assert stale.status_code == 200 and "Nouveau titre" in body
    assert "Modifier</a>" not in body  # only the view: the buttons stay where they are


def test_an_open_editor_gets_a_notice_never_the_card(client, world, draft, log_in):
    base = draft.action.version
    items.update_item(draft.action, {"description": "Texte de l'acheteur"}, base_version=base,
                      actor=world.buyer_lead)  # fmt: skip
    log_in(world.supplier_lead)
    response = client.get(url(world, f"action/{draft.action.id}"), headers=HX,
                          query_string={"editing_base": base})  # fmt: skip
    body = page_text(response)
    assert "Modifié par Claire" in body and "Description" in body
    assert "<form" not in body and "Texte de l'acheteur" not in body  # ids and names, no text


def test_a_deleted_item_disappears_but_never_from_under_an_editor(client, world, draft, log_in):
    action_id = draft.action.id
    items.delete_item(draft.action, base_version=draft.action.version, actor=world.buyer_lead)
    log_in(world.supplier_lead)
    gone = client.get(url(world, f"action/{action_id}"), headers=HX)
    assert gone.status_code == 200
    assert (gone.headers["HX-Reswap"], gone.headers["HX-Retarget"]) == (
        "delete",
        f"#action-{action_id}",
    )
    editing = client.get(url(world, f"action/{action_id}"), headers=HX,
                         query_string={"editing_base": 1})  # fmt: skip
    assert "Supprimé par Claire" in page_text(editing) and "HX-Reswap" not in editing.headers
    assert client.get(url(world, "action/999999"), headers=HX).status_code == 404


def test_a_saved_card_is_announced_once_its_editor_has_left(app, client, world, draft, log_in):
    """The viewers' refresh that the save triggers must not show the saver still editing: on a
    slow server it used to come before the editing marker was cleared, and stayed there."""
    from app.live import live

    log_in(world.supplier_contributor)
    client.get(url(world, f"action/{draft.action.id}/modifier"), headers=HX)
    bus, seen, key = live().bus, [], f"action-{draft.action.id}"
    contract_id, viewer_id = world.contract.id, world.buyer_lead.id  # no query in the hook
    assert live().presence.editors_of(contract_id, key, except_user=viewer_id)
    publish = bus.publish

    def recording(channel, event):
        if event.name == f"item-{key}":
            editors = live().presence.editors_of(contract_id, key, except_user=viewer_id)
            seen.append([p["name"] for p in editors])
        publish(channel, event)

    path, data = (
        url(world, f"action/{draft.action.id}"),
        action_form(draft, title="Sourcer du fil GRS"),
    )
    bus.publish = recording
    try:
        saved = client.post(path, headers=HX, data=data)
    finally:
        bus.publish = publish
    assert saved.status_code == 200 and seen == [[]]
