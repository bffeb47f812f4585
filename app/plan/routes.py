"""The plan page and the in-place editing of its items (htmx fragments of the same templates)."""

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors import DomainError
from app.extensions import db, limiter
from app.forms import attach_error, attempt
from app.markdown import render_markdown
from app.permissions import MEMBER, Permission, allow
from app.plan import presence, services, versions
from app.plan.completeness import PARTS, check_plan
from app.plan.errors import EditConflict
from app.plan.forms import (
    FORMS,
    PositionForm,
    VisaForm,
    add_prefix,
    display_value,
    editor_prefix,
    field_label,
)
from app.plan.models import ITEM_MODELS
from app.rendering import render, render_fragment, wants_fragment

bp = Blueprint("plan", __name__, url_prefix="/plan", template_folder="templates")
ITEM_TEMPLATE = "plan/item.html"
HISTORY_ACTIONS = {
    "creation": _l("Création"),
    "modification": _l("Modification"),
    "suppression": _l("Suppression"),
    "deplacement": _l("Déplacement"),
    "copie": _l("Reprise dans un nouveau projet de version"),
}
KIND_LABELS = {"axe": _l("Axe"), "objectif": _l("Objectif"), "indicateur": _l("Indicateur"),
               "jalon": _l("Jalon"), "action": _l("Action"), "partage": _l("Partage des gains")}  # fmt: skip
DIFF_STATUSES = {"ajoute": _l("ajouté"), "supprime": _l("supprimé"), "modifie": _l("modifié"),
                 "deplace": _l("déplacé")}  # fmt: skip


def new_form(kind: str, key: int):
    return FORMS[kind](formdata=None, prefix=add_prefix(kind, key))


@bp.context_processor
def plan_helpers():
    return {
        "new_form": new_form,
        "part_labels": PARTS,
        "permission": Permission,
        "history_actions": HISTORY_ACTIONS,
        "kind_labels": KIND_LABELS,
        "diff_statuses": DIFF_STATUSES,
        "open_difficulties": _open_difficulties,
        "discussion_counts": _discussion_counts,
    }


def _discussion_counts() -> dict:
    """Messages the member may read in each item's thread (one query per request)."""
    from app.threads.discussions import counts

    if "discussion_counts" not in g:
        g.discussion_counts = counts(g.contract, g.membership)
    return g.discussion_counts


def _open_difficulties() -> dict:
    """Each item's unresolved difficulties (by uid), read once per request."""
    from app.difficulties.register import open_by_item

    if "open_difficulties" not in g:
        g.open_difficulties = open_by_item(g.contract)
    return g.open_difficulties


bp.add_app_template_filter(field_label, "field_label")
bp.add_app_template_filter(display_value, "field_value")


# --- loading, always through the contract ---------------------------------------------------


def _version(version_id: int):
    version = versions.version_in_contract(g.contract, version_id)
    if version is None:
        abort(404)
    return version


def _item(kind: str, item_id: int):
    """An item of this contract's plan, whatever its version; 404 otherwise."""
    if kind not in ITEM_MODELS:
        abort(404)
    item = db.session.get(ITEM_MODELS[kind], item_id)
    if item is None or item.plan_version.plan.contract_id != g.contract.id:
        abort(404)
    return item


def _list_parent(version, kind: str, parent_id: int | None):
    """The item whose list `kind` belongs to (None for axes and gain sharing), in `version`."""
    if kind not in FORMS:
        abort(404)
    if not ITEM_MODELS[kind].PARENT:
        return None
    if parent_id is None:
        abort(400)
    parent = _item(PARENT_KINDS[kind], parent_id)
    if parent.plan_version_id != version.id:
        abort(404)
    return parent


def _page(version, *, status=200, editing=None, forms=None, visa_form=None):
    plan = version.plan
    axes = versions.axes_tree(version)
    objectives = [o for axis in axes for o in axis.objectives]
    gain_sharing = services.gain_sharing_of(version)
    digest = versions.content_hash(version)
    return render(
        "plan/page.html",
        status=status,
        plan=plan,
        version=version,
        all_versions=versions.versions_of(plan),
        current=versions.current_version(plan),
        axes=axes,
        gain_sharing=gain_sharing,
        check=check_plan(objectives, gain_sharing),
        digest=digest,
        visas=versions.valid_visas(version, digest) if version.is_draft else {},
        visa_form=visa_form or VisaForm(),
        may_edit=version.is_draft and g.membership.may(Permission.EDIT_PLAN),
        editing=editing,
        forms=forms or {},
        editing_now=presence.editing_map(g.contract.id, current_user),
    )


def _item_response(item, *, mode="card", form=None, status=200, only_view=False, **context):
    """The inside of an item's <article>: its card or its editor (or only the card's view,
    for a live refresh that must not touch the buttons)."""
    return render(
        ITEM_TEMPLATE,
        "item_view" if only_view else "item_body",
        status=status,
        item=item,
        kind=item.KIND,
        mode=mode,
        form=form,
        may_edit=item.plan_version.is_draft and g.membership.may(Permission.EDIT_PLAN),
        editors=presence.editors_of(item, current_user),
        state=presence.card_state(item, current_user),
        **context,
    )


def _editor_form(item, base_version=None):
    form = FORMS[item.KIND](formdata=None, obj=item, prefix=editor_prefix(item.KIND, item.id))
    form.base_version.data = str(base_version if base_version is not None else item.version)
    return form


# --- pages ----------------------------------------------------------------------------------


@bp.get("/")
@allow(MEMBER)
def show():
    return _page(versions.working_version(versions.plan_of(g.contract)))


@bp.get("/versions/<int:version_id>/")
@allow(MEMBER)
def version_page(version_id: int):
    return _page(_version(version_id))


@bp.get("/versions/<int:version_id>/ecarts")
@allow(MEMBER)
def version_diff(version_id: int):
    version = _version(version_id)
    other_id = request.args.get("depuis", type=int) or version.base_id
    other = _version(other_id) if other_id is not None else None
    return render(
        "plan/diff.html",
        version=version,
        other=other,
        changes=versions.diff(other, version) if other else [],
        all_versions=versions.versions_of(version.plan),
    )


@bp.post("/versions/<int:version_id>/visa")
@allow(Permission.APPROVE_PLAN)
@limiter.limit("10/minute")
def give_visa(version_id: int):
    version = _version(version_id)
    form = VisaForm()
    if form.validate_on_submit():
        try:
            baseline = versions.give_visa(version, g.membership, form.password.data, current_user)
        except DomainError as error:
            if error.field != "password":
                raise
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(
                _("Les deux référents ont visé le plan : il devient la version 1, en vigueur.")
                if baseline
                else _("Votre visa est enregistré ; il reste celui de l'autre partie."),
                "success",
            )
            return redirect(url_for(".version_page", version_id=version.id))
    return _page(version, status=422, visa_form=form)


# --- items ----------------------------------------------------------------------------------


@bp.post("/versions/<int:version_id>/<kind>")
@allow(Permission.EDIT_PLAN)
def create(version_id: int, kind: str):
    version = _version(version_id)
    parent = _list_parent(version, kind, request.form.get("parent_id", type=int))
    key = parent.id if parent else version.id
    form = FORMS[kind](prefix=add_prefix(kind, key))
    if not form.validate_on_submit():
        response = render(
            ITEM_TEMPLATE, "add_form", status=422, kind=kind, version=version, parent=parent,
            form=form,
        )  # fmt: skip
        return response
    item = services.create_item(version, kind, form.values(), parent=parent, actor=current_user)
    if not wants_fragment():
        return redirect(url_for(".show", _anchor=f"{kind}-{item.id}"))
    # A fresh form; the new item reaches every page, this one included, through the list's
    # sentinel (one path, so nothing appears twice).
    response = render(ITEM_TEMPLATE, "add_form", kind=kind, version=version, parent=parent,
                      form=None, added=True)  # fmt: skip
    response.headers["HX-Trigger"] = f"added-{kind}-{key}"
    return response


PARENT_KINDS = {"objectif": "axe", "indicateur": "objectif", "jalon": "indicateur",
                "action": "objectif"}  # fmt: skip


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
    item = _item(kind, item_id)
    if not wants_fragment():
        return redirect(url_for(".version_page", version_id=item.plan_version_id,
                                _anchor=f"{kind}-{item.id}"))  # fmt: skip
    if editing_base is not None:
        return _notice(kind, item=item, changes=services.changes_by_others(item, editing_base,
                                                                            current_user))  # fmt: skip
    if request.args.get("full"):  # the editor closes: the whole card, tools included
        presence.stop_editing(item, current_user)
        return _item_response(item)
    if request.args.get("seen") == presence.card_state(item, current_user):
        return "", 204  # already up to date: nothing moves, focus stays
    return _item_response(item, only_view=True)


def _notice(kind, item=None, changes=(), deleted=None):
    return render_fragment(ITEM_TEMPLATE, "notice", kind=kind, item=item, changes=changes,
                           deleted=deleted)  # fmt: skip


@bp.post("/<kind>/<int:item_id>/presence")
@allow(Permission.EDIT_PLAN)
def editing_heartbeat(kind: str, item_id: int):
    """The open editor says every few seconds that someone is still on it."""
    presence.start_editing(_item(kind, item_id), current_user, g.membership.side, announce=False)
    return "", 204


@bp.get("/versions/<int:version_id>/<kind>/nouveaux")
@allow(MEMBER)
def new_items(version_id: int, kind: str):
    """Items of one list created after the page's cursor (pulled by the list's sentinel)."""
    version = _version(version_id)
    parent = _list_parent(version, kind, request.args.get("parent_id", type=int))
    after = request.args.get("after", type=int) or 0
    found = [i for i in services.list_items(version, kind, parent) if i.id > after]
    if not found:
        return "", 204
    return render_fragment(
        ITEM_TEMPLATE, "new_items", kind=kind, items=found, parent=parent, version=version,
        cursor=max(i.id for i in found), mode="card", editing=None, forms={},
        may_edit=version.is_draft and g.membership.may(Permission.EDIT_PLAN),
    )  # fmt: skip


@bp.get("/<kind>/<int:item_id>/modifier")
@allow(Permission.EDIT_PLAN)
def edit(kind: str, item_id: int):
    item = _item(kind, item_id)
    if not item.plan_version.is_draft:
        abort(409)
    form = _editor_form(item)
    if not wants_fragment():
        return _page(item.plan_version, editing=(kind, item.id), forms={(kind, item.id): form})
    presence.start_editing(item, current_user, g.membership.side)
    return _item_response(item, mode="editor", form=form)


@bp.post("/<kind>/<int:item_id>")
@allow(Permission.EDIT_PLAN)
def save(kind: str, item_id: int):
    item = _item(kind, item_id)
    form = FORMS[kind](prefix=editor_prefix(kind, item_id))
    base_version = form.base()
    if base_version is None:
        abort(400)
    if not form.validate_on_submit():
        return _item_response(item, mode="editor", form=form, status=422)
    posted = form.values()
    if request.form.get("resolution") == "theirs":
        conflict_fields = request.form.getlist("conflict_field")
        posted = {f: v for f, v in posted.items() if f not in conflict_fields}
    try:
        item, merged = services.update_item(
            item, posted, base_version=base_version, actor=current_user
        )
    except EditConflict as conflict:
        rebased = _editor_form(conflict.item)
        for name, value in conflict.posted.items():
            getattr(rebased, name).data = value  # the user's own input, kept whole
        return _item_response(conflict.item, mode="editor", form=rebased, status=409,
                              conflict=conflict)  # fmt: skip
    if not wants_fragment():
        return redirect(url_for(".version_page", version_id=item.plan_version_id,
                                _anchor=f"{kind}-{item.id}"))  # fmt: skip
    presence.stop_editing(item, current_user, announce=False)  # the save itself is announced
    merged_by = sorted({c.actor.full_name for c in services.changes_since(item, base_version)
                        if c.actor and c.actor_id != current_user.id}) if merged else []  # fmt: skip
    return _item_response(item, merged=merged, merged_by=merged_by, saved=True)


@bp.post("/<kind>/<int:item_id>/suppression")
@allow(Permission.EDIT_PLAN)
def delete(kind: str, item_id: int):
    item = _item(kind, item_id)
    base_version = request.form.get("base_version", type=int)
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
    item = _item(kind, item_id)
    form = PositionForm()
    if not form.validate_on_submit() or form.direction.data == 0:
        abort(400)
    services.move_item(item, form.direction.data, actor=current_user)
    if not wants_fragment():
        return redirect(url_for(".version_page", version_id=item.plan_version_id,
                                _anchor=f"{kind}-{item.id}"))  # fmt: skip
    # The reordered list, focus back on the same button so the keyboard user can go on.
    return render(
        ITEM_TEMPLATE, "item_list", kind=kind, items=services.siblings(item), parent=item.parent,
        version=item.plan_version, moved=(kind, item.id, form.direction.data),
        may_edit=True, editing=None, forms={},
    )  # fmt: skip


@bp.get("/<kind>/<int:item_id>/historique")
@allow(MEMBER)
def item_history(kind: str, item_id: int):
    item = _item(kind, item_id)
    return render(
        "plan/history.html",
        "history_panel",
        item=item,
        kind=kind,
        changes=services.history(kind, item.uid),
        version=item.plan_version,
    )


def _discussion(item, *, status=200, form=None):
    from app.threads import services as threads
    from app.threads.forms import MessageForm

    return render(
        "plan/discussion.html", "discussion_panel", status=status, item=item, kind=item.KIND,
        messages=threads.messages(g.contract.id, item.KIND, item.uid, g.membership),
        form=form or MessageForm(formdata=None), may_comment=g.membership.may(Permission.COMMENT),
        version=item.plan_version,
    )  # fmt: skip


@bp.get("/<kind>/<int:item_id>/discussion")
@allow(MEMBER)
def item_discussion(kind: str, item_id: int):
    """The item's thread: its shared messages and one's own side's internal notes."""
    return _discussion(_item(kind, item_id))


@bp.post("/<kind>/<int:item_id>/discussion")
@allow(Permission.COMMENT)
@limiter.limit("120/hour")
def post_in_discussion(kind: str, item_id: int):
    from app.threads import discussions
    from app.threads.forms import MessageForm

    item = _item(kind, item_id)
    form = MessageForm()
    if form.validate_on_submit():
        status = attempt(lambda: discussions.post(g.contract, g.membership, item, form.body.data,
                                                  internal=form.internal.data), form)  # fmt: skip
        if status is None:
            return _discussion(item)
        return _discussion(item, status=status, form=form)
    return _discussion(item, status=422, form=form)


@bp.post("/apercu")
@allow(Permission.EDIT_PLAN)
def preview():
    """Markdown preview of the field being edited (the first text field posted)."""
    text = next((v for k, v in request.form.items() if k != "csrf_token"), "")
    return render_fragment(ITEM_TEMPLATE, "markdown_preview", html=render_markdown(text[:50_000]))
