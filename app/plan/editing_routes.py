"""Editing the plan's items in place: add, edit and save (merge or 409), delete, move, and the
pulls of the live page (a changed card, new items, a large plan's objective contents). On the
plan blueprint, with the loaders and renderers of `routes`."""

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.forms import database_int
from app.permissions import MEMBER, Permission, allow
from app.plan import presence, services, versions
from app.plan.errors import EditConflict
from app.plan.forms import FORMS, PositionForm, add_prefix, editor_prefix
from app.plan.models import ITEM_MODELS
from app.plan.routes import (
    ITEM_TEMPLATE,
    bp,
    editor_form,
    item_or_404,
    item_response,
    list_parent_or_404,
    page_url,
    plan_page,
    version_or_404,
)
from app.rendering import render, render_fragment, wants_fragment


@bp.post("/versions/<int:version_id>/<kind>")
@allow(Permission.EDIT_PLAN)
def create(version_id: int, kind: str):
    version = version_or_404(version_id)
    parent = list_parent_or_404(version, kind, request.form.get("parent_id", type=database_int))
    key = parent.id if parent else version.id
    form = FORMS[kind](prefix=add_prefix(kind, key))
    if not form.validate_on_submit():
        if not wants_fragment():  # without JavaScript: the page, this add form open, its errors
            return plan_page(version, status=422, forms={("nouveau", kind, key): form},
                             shown=versions.objective_of(parent) if parent else None)  # fmt: skip
        response = render(
            ITEM_TEMPLATE, "add_form", status=422, kind=kind, version=version, parent=parent,
            form=form,
        )  # fmt: skip
        return response
    item = services.create_item(version, kind, form.values(), parent=parent, actor=current_user)
    if not wants_fragment():
        return redirect(page_url(item))
    # A fresh form; the new item reaches every page, this one included, through the list's
    # sentinel (one path, so nothing appears twice).
    response = render(ITEM_TEMPLATE, "add_form", kind=kind, version=version, parent=parent,
                      form=None, added=True)  # fmt: skip
    response.headers["HX-Trigger"] = f"added-{kind}-{key}"
    return response


@bp.get("/objectif/<int:item_id>/contenu")
@allow(MEMBER)
def objective_contents(item_id: int):
    """An objective's indicators and actions, pulled when it scrolls into view on a large
    plan; without JavaScript, the plan page with this objective's contents shown."""
    objective = item_or_404("objectif", item_id)
    if not wants_fragment():
        return redirect(page_url(objective))
    version = objective.plan_version
    return render_fragment(
        ITEM_TEMPLATE, "contents", item=objective, version=version, editing=None, forms={},
        may_edit=versions.is_editable(version) and g.membership.may(Permission.EDIT_PLAN),
        editing_now=presence.editing_map(g.contract.id, current_user),
    )  # fmt: skip


@bp.get("/<kind>/<int:item_id>")
@allow(MEMBER)
def card(kind: str, item_id: int):
    """Pulled by the item's <article> when the stream says it changed (or by « Annuler »)."""
    editing_base = request.args.get("editing_base", type=int)
    if (
        kind in ITEM_MODELS
        and wants_fragment()
        and db.session.get(ITEM_MODELS[kind], item_id) is None
    ):
        deletion = services.deletion_of(g.contract, kind, item_id)
        if deletion is None:
            abort(404)
        if editing_base is not None:  # never remove an editor under the user's fingers
            return _notice(kind, deleted=deletion)
        return "", 200, {"HX-Retarget": f"#{kind}-{item_id}", "HX-Reswap": "delete"}
    item = item_or_404(kind, item_id)
    if not wants_fragment():
        return redirect(page_url(item))
    if editing_base is not None:
        return _notice(kind, item=item, changes=services.changes_by_others(item, editing_base,
                                                                            current_user))  # fmt: skip
    if request.args.get("full"):  # the editor closes: the whole card, tools included
        presence.stop_editing(item, current_user)
        return item_response(item)
    if request.args.get("seen") == presence.card_state(item, current_user):
        return "", 204  # already up to date: nothing moves, focus stays
    return item_response(item, only_view=True)


def _notice(kind, item=None, changes=(), deleted=None):
    return render_fragment(ITEM_TEMPLATE, "notice", kind=kind, item=item, changes=changes,
                           deleted=deleted)  # fmt: skip


@bp.post("/<kind>/<int:item_id>/presence")
@allow(Permission.EDIT_PLAN)
def editing_heartbeat(kind: str, item_id: int):
    """The open editor says every few seconds that someone is still on it."""
    presence.start_editing(
        item_or_404(kind, item_id), current_user, g.membership.side, announce=False
    )
    return "", 204


@bp.get("/versions/<int:version_id>/<kind>/nouveaux")
@allow(MEMBER)
def new_items(version_id: int, kind: str):
    """Items of one list created after the page's cursor (pulled by the list's sentinel)."""
    version = version_or_404(version_id)
    parent = list_parent_or_404(version, kind, request.args.get("parent_id", type=int))
    after = request.args.get("after", type=int) or 0
    found = [i for i in services.list_items(version, kind, parent) if i.id > after]
    if not found:
        return "", 204
    return render_fragment(
        ITEM_TEMPLATE, "new_items", kind=kind, items=found, parent=parent, version=version,
        cursor=max(i.id for i in found), mode="card", editing=None, forms={},
        may_edit=versions.is_editable(version) and g.membership.may(Permission.EDIT_PLAN),
    )  # fmt: skip


@bp.get("/<kind>/<int:item_id>/modifier")
@allow(Permission.EDIT_PLAN)
def edit(kind: str, item_id: int):
    item = item_or_404(kind, item_id)
    if not versions.is_editable(item.plan_version):
        abort(409)
    form = editor_form(item)
    if not wants_fragment():
        return plan_page(item.plan_version, editing=(kind, item.id), forms={(kind, item.id): form},
                         shown=versions.objective_of(item))  # fmt: skip
    presence.start_editing(item, current_user, g.membership.side)
    return item_response(item, mode="editor", form=form)


@bp.post("/<kind>/<int:item_id>")
@allow(Permission.EDIT_PLAN)
def save(kind: str, item_id: int):
    item = item_or_404(kind, item_id)
    form = FORMS[kind](prefix=editor_prefix(kind, item_id))
    base_version = form.base()
    if base_version is None:
        abort(400)
    if not form.validate_on_submit():
        if not wants_fragment():  # without JavaScript: the page, this editor open, its errors
            return plan_page(item.plan_version, status=422, editing=(kind, item.id),
                             forms={(kind, item.id): form},
                             shown=versions.objective_of(item))  # fmt: skip
        return item_response(item, mode="editor", form=form, status=422)
    posted = form.values()
    if request.form.get("resolution") == "theirs":
        conflict_fields = request.form.getlist("conflict_field")
        posted = {f: v for f, v in posted.items() if f not in conflict_fields}
    # Off the card before the save announces itself: a viewer's refresh must not show the
    # person still editing (with announce=True after it, a slow server showed the marker on).
    presence.stop_editing(item, current_user, announce=False)
    try:
        item, merged = services.update_item(
            item, posted, base_version=base_version, actor=current_user
        )
    except EditConflict as conflict:
        presence.start_editing(conflict.item, current_user, g.membership.side)  # still at it
        rebased = editor_form(conflict.item)
        for name, value in conflict.posted.items():
            getattr(rebased, name).data = value  # the user's own input, kept whole
        return item_response(conflict.item, mode="editor", form=rebased, status=409,
                             conflict=conflict)  # fmt: skip
    if not wants_fragment():
        return redirect(page_url(item))
    merged_by = sorted({c.actor.full_name for c in services.changes_since(item, base_version)
                        if c.actor and c.actor_id != current_user.id}) if merged else []  # fmt: skip
    return item_response(item, merged=merged, merged_by=merged_by, saved=True)


@bp.post("/<kind>/<int:item_id>/suppression")
@allow(Permission.EDIT_PLAN)
def delete(kind: str, item_id: int):
    item = item_or_404(kind, item_id)
    base_version = request.form.get("base_version", type=database_int)
    if base_version is None:
        abort(400)
    version_id = item.plan_version_id
    services.delete_item(item, base_version=base_version, actor=current_user)
    if not wants_fragment():
        flash(_("Élément supprimé."), "success")
        return redirect(url_for(".version_page", version_id=version_id))
    return "", 200, {"HX-Reswap": "delete"}


@bp.post("/<kind>/<int:item_id>/deplacement")
@allow(Permission.EDIT_PLAN)
def move(kind: str, item_id: int):
    item = item_or_404(kind, item_id)
    form = PositionForm()
    if not form.validate_on_submit() or form.direction.data == 0:
        abort(400)
    services.move_item(item, form.direction.data, actor=current_user)
    if not wants_fragment():
        return redirect(page_url(item))
    # The reordered list, focus back on the same button so the keyboard user can go on.
    return render(
        ITEM_TEMPLATE, "item_list", kind=kind, items=services.siblings(item), parent=item.parent,
        version=item.plan_version, moved=(kind, item.id, form.direction.data),
        may_edit=True, editing=None, forms={},
    )  # fmt: skip
