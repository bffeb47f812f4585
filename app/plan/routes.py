"""The plan page, its versions, diff and visas, and each item's history and discussion; the
in-place editing of items is in `editing_routes` (htmx fragments of the same templates)."""

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.changes.models import STATUSES as CHANGE_STATUSES
from app.changes.services import request_for_draft
from app.errors import DomainError
from app.extensions import db, limiter
from app.forms import attach_error, attempt
from app.markdown import render_markdown
from app.permissions import MEMBER, Permission, allow
from app.plan import presence, services, tree, versions
from app.plan.completeness import PARTS, ObjectiveSummary, check_plan, summarise
from app.plan.forms import (
    FORMS,
    VisaForm,
    add_prefix,
    display_value,
    editor_prefix,
    field_label,
)
from app.plan.models import ITEM_MODELS
from app.plan.tree import is_large, is_large_version_of
from app.rendering import deferred, render, render_fragment

bp = Blueprint("plan", __name__, url_prefix="/plan", template_folder="templates")
ITEM_TEMPLATE = "plan/item.html"
HISTORY_ACTIONS = {
    "creation": _l("Création"),
    "modification": _l("Modification"),
    "suppression": _l("Suppression"),
    "deplacement": _l("Déplacement"),
    "copie": _l("Reprise dans un nouveau projet de version"),
}
from app.plan.versions import DIFF_STATUSES, KIND_LABELS  # noqa: E402

PARENT_KINDS = {"objectif": "axe", "indicateur": "objectif", "jalon": "indicateur",
                "action": "objectif"}  # fmt: skip


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
        "on_demand": _on_demand,
        "summary_of": _summary_of,
    }


def _on_demand(objective) -> bool:
    """Whether this objective's contents come later (the page asked for them otherwise)."""
    return is_large_version_of(objective) and objective.id not in g.get("expanded", ())


def _summary_of(objective):
    """Its counts for a collapsed section: from the page's grouped queries when it made them."""
    if "objective_summaries" in g:
        return g.objective_summaries.get(objective.id, ObjectiveSummary())
    return summarise(objective)


def page_url(item):
    """The plan page at `item`, its objective's contents shown (even on a large plan)."""
    objective = versions.objective_of(item)
    return url_for(".version_page", version_id=item.plan_version_id,
                   objectif=objective.id if objective else None, _anchor=f"{item.KIND}-{item.id}")  # fmt: skip


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


def version_or_404(version_id: int):
    version = versions.version_in_contract(g.contract, version_id)
    if version is None:
        abort(404)
    return version


def item_or_404(kind: str, item_id: int):
    """An item of this contract's plan, whatever its version; 404 otherwise."""
    if kind not in ITEM_MODELS:
        abort(404)
    item = db.session.get(ITEM_MODELS[kind], item_id)
    if item is None or item.plan_version.plan.contract_id != g.contract.id:
        abort(404)
    return item


def list_parent_or_404(version, kind: str, parent_id: int | None):
    """The item whose list `kind` belongs to (None for axes and gain sharing), in `version`."""
    if kind not in FORMS:
        abort(404)
    if not ITEM_MODELS[kind].PARENT:
        return None
    if parent_id is None:
        abort(400)
    parent = item_or_404(PARENT_KINDS[kind], parent_id)
    if parent.plan_version_id != version.id:
        abort(404)
    return parent


def plan_page(version, *, status=200, editing=None, forms=None, visa_form=None, shown=None,
              all_versions=None):  # fmt: skip
    plan = version.plan
    g.expanded = {*request.args.getlist("objectif", type=int), *([shown.id] if shown else [])}
    large = is_large(version)
    all_versions = all_versions or versions.versions_of(plan)
    current = next((v for v in all_versions if v.status == "en_vigueur"), None)
    versions.remember_plan_in_force(g.contract, current)
    change_request = request_for_draft(version) if version.base_id else None
    page = {
        "status": status, "plan": plan, "version": version, "all_versions": all_versions,
        "current": current, "change_statuses": CHANGE_STATUSES, "change_request": change_request,
        "may_edit": versions.is_editable(version, change_request) and g.membership.may(Permission.EDIT_PLAN),
    }  # fmt: skip
    # A large plan's objectives and completeness come just after the page (the baseline's
    # visas, which need the whole content's hash, and a link to one item come whole).
    baseline_visas = version.is_draft and current is None
    if request.method == "GET" and not g.expanded and not baseline_visas and deferred(large):
        return render("plan/page.html", deferred=True, **page)
    axes = tree.axes_tree(version, cards=not large)
    objectives = [o for axis in axes for o in axis.objectives]
    if large:  # collapsed objectives are counted in SQL, the open ones loaded whole
        g.objective_summaries = tree.objective_summaries(version)
        tree.load_contents([o for o in objectives if o.id in g.expanded])
    gain_sharing = services.gain_sharing_of(version)
    digest = versions.content_hash(version) if baseline_visas else None
    contents = request.method == "GET" and request.args.get("partie") == "contenu"
    return render(
        "plan/page.html",
        *(("plan_items", "completeness") if contents else ()),
        **page,
        axes=axes,
        gain_sharing=gain_sharing,
        check=check_plan(objectives, gain_sharing, g.get("objective_summaries")),
        digest=digest,
        visas=versions.valid_visas(version, digest) if digest else {},
        visa_form=visa_form or VisaForm(),
        editing=editing,
        forms=forms or {},
        editing_now=presence.editing_map(g.contract.id, current_user),
        out_of_band=contents,
    )


def item_response(item, *, mode="card", form=None, status=200, only_view=False, **context):
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
        may_edit=versions.is_editable(item.plan_version) and g.membership.may(Permission.EDIT_PLAN),
        editors=presence.editors_of(item, current_user),
        state=presence.card_state(item, current_user),
        **context,
    )


def editor_form(item, base_version=None):
    form = FORMS[item.KIND](formdata=None, obj=item, prefix=editor_prefix(item.KIND, item.id))
    form.base_version.data = str(base_version if base_version is not None else item.version)
    return form


# --- pages ----------------------------------------------------------------------------------


@bp.get("/")
@allow(MEMBER)
def show():
    all_versions = versions.versions_of_contract(g.contract)
    plan = all_versions[0].plan
    return plan_page(versions.working_version(plan, all_versions), all_versions=all_versions)


@bp.get("/versions/<int:version_id>/")
@allow(MEMBER)
def version_page(version_id: int):
    # The page lists every version of the plan: read them all with it, and this one among
    # them (one query, where reading it, then its siblings, made two).
    all_versions = versions.versions_of_contract(g.contract)
    version = next((v for v in all_versions if v.id == version_id), None)
    if version is None:
        abort(404)
    return plan_page(version, all_versions=all_versions)


@bp.get("/versions/<int:version_id>/ecarts")
@allow(MEMBER)
def version_diff(version_id: int):
    version = version_or_404(version_id)
    other_id = request.args.get("depuis", type=int) or version.base_id
    other = version_or_404(other_id) if other_id is not None else None
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
    version = version_or_404(version_id)
    versions.require_open_to_visa(version)
    form = VisaForm()
    if form.validate_on_submit():
        try:
            baseline = versions.give_visa(version, g.membership, form.password.data, current_user,
                                          code=form.code.data)  # fmt: skip
        except DomainError as error:
            if error.field not in ("password", "code"):
                raise
            db.session.rollback()
            attach_error(form, error)
            form.code.data = ""
        else:
            flash(
                _("Les deux référents ont visé le plan : il devient la version 1, en vigueur.")
                if baseline
                else _("Votre visa est enregistré ; il reste celui de l'autre partie."),
                "success",
            )
            return redirect(url_for(".version_page", version_id=version.id))
    return plan_page(version, status=422, visa_form=form)


# --- history, discussion, preview -------------------------------------------------------


@bp.get("/<kind>/<int:item_id>/historique")
@allow(MEMBER)
def item_history(kind: str, item_id: int):
    item = item_or_404(kind, item_id)
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
    return _discussion(item_or_404(kind, item_id))


@bp.post("/<kind>/<int:item_id>/discussion")
@allow(Permission.COMMENT)
@limiter.limit("120/hour")
def post_in_discussion(kind: str, item_id: int):
    from app.threads import discussions
    from app.threads.forms import MessageForm

    item = item_or_404(kind, item_id)
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


# The item routes are on this blueprint too, in their own module.
from app.plan import editing_routes  # noqa: E402, F401
