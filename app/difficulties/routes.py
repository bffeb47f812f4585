"""The register of difficulties, raising one, its page (status, actions, thread) and export."""

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from app.difficulties import register, services
from app.difficulties.deadlines import today_in_paris
from app.difficulties.forms import DifficultyForm, MessageForm, TransitionForm
from app.difficulties.models import CATEGORIES, LINKABLE, SEVERITIES, STATUSES
from app.errors import DomainError
from app.extensions import db, limiter
from app.forms import attach_error, attempt
from app.permissions import MEMBER, Permission, allow
from app.rendering import render, wants_fragment

bp = Blueprint("difficulties", __name__, url_prefix="/difficultes", template_folder="templates")
PAGE = "difficulties/show.html"


@bp.context_processor
def labels_of_difficulties():
    return {"statuses": STATUSES, "categories": CATEGORIES, "severities": SEVERITIES,
            "linkable": LINKABLE, "transitions": services.TRANSITIONS,
            "event_labels": services.EVENT_LABELS, "today": today_in_paris()}  # fmt: skip


def _difficulty(difficulty_id: int):
    difficulty = services.difficulty_in_contract(g.contract, difficulty_id)
    if difficulty is None:
        abort(404)
    return difficulty


# --- the register ---------------------------------------------------------------------------


@bp.get("/")
@allow(MEMBER)
def index():
    filters = register.Filters.from_args(request.args)
    return render(
        "difficulties/index.html",
        "register",
        filters=filters,
        difficulties=register.register(g.contract, filters),
        counts=register.counts(g.contract),
        items=register.linkable_items(g.contract),
        titles=register.item_titles(g.contract),
        may_raise=g.membership.may(Permission.HANDLE_DIFFICULTIES),
    )


@bp.get("/export.csv")
@allow(MEMBER)
def export():
    filters = register.Filters.from_args(request.args)
    body = register.register_csv(
        g.contract, register.register(g.contract, filters), today_in_paris()
    )
    name = f"difficultes-{g.contract.reference}-{today_in_paris():%Y-%m-%d}.csv"
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


# --- raising one ----------------------------------------------------------------------------


def _raise_form(form=None):
    form = form or DifficultyForm()
    form.items.choices = [
        SelectChoice(uid, title) for _kind, uid, title in register.linkable_items(g.contract)
    ]
    return form


def _raise_page(form, status=200):
    from app.attachments.services import ACCEPT_ATTRIBUTE, accepted_formats_text

    return render("difficulties/new.html", status=status, form=form,
                  items=register.linkable_items(g.contract), accept=ACCEPT_ATTRIBUTE,
                  formats=accepted_formats_text())  # fmt: skip


@bp.get("/nouvelle")
@allow(Permission.HANDLE_DIFFICULTIES)
def new():
    form = _raise_form()
    if request.args.get("element"):  # « Signaler une difficulté » from a plan item
        form.items.data = [request.args["element"][:36]]
    return _raise_page(form)


@bp.post("/nouvelle")
@allow(Permission.HANDLE_DIFFICULTIES)
@limiter.limit("30/hour")
def create():
    form = _raise_form()
    if form.validate_on_submit():
        files = [f for f in request.files.getlist(form.files.name) if f and f.filename]
        try:
            difficulty = services.raise_difficulty(
                g.contract, g.membership, form.data, form.items.data or [], files
            )
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(_("Difficulté n° %(n)d signalée : l'autre partie est prévenue.", n=difficulty.number), "success")  # fmt: skip
            return redirect(url_for(".show", difficulty_id=difficulty.id))
    if request.files.getlist(form.files.name) and any(
        f.filename for f in request.files.getlist(form.files.name)
    ):
        form.files.errors = [*form.files.errors, _("Pour votre sécurité, le navigateur ne garde pas les fichiers choisis : choisissez-les à nouveau.")]  # fmt: skip
    return _raise_page(form, status=422)


# --- one difficulty -------------------------------------------------------------------------


def _show(difficulty, *blocks, status=200, transition_form=None, failed_action=None,
          message_form=None, notice=None):  # fmt: skip
    return render(
        PAGE,
        *blocks,
        status=status,
        difficulty=difficulty,
        titles=register.item_titles(g.contract),
        actions=services.available_actions(g.membership, difficulty),
        transition_form=transition_form,
        failed_action=failed_action,
        messages=services.thread(difficulty, g.membership),
        message_form=message_form or MessageForm(formdata=None),
        may_comment=g.membership.may(Permission.COMMENT),
        notice=notice,
    )


@bp.get("/<int:difficulty_id>")
@allow(MEMBER)
def show(difficulty_id: int):
    return _show(_difficulty(difficulty_id))


@bp.get("/<int:difficulty_id>/suivi")
@allow(MEMBER)
def follow_up(difficulty_id: int):
    """The status, the actions and the history: pulled again when the live stream says so."""
    return _show(_difficulty(difficulty_id), "follow_up")


@bp.get("/<int:difficulty_id>/fil")
@allow(MEMBER)
def thread(difficulty_id: int):
    return _show(_difficulty(difficulty_id), "thread_messages")


@bp.post("/<int:difficulty_id>/<action>")
@allow(Permission.HANDLE_DIFFICULTIES)
def transition(difficulty_id: int, action: str):
    if action not in services.TRANSITIONS:
        abort(404)
    difficulty = _difficulty(difficulty_id)
    form = TransitionForm()
    if form.validate_on_submit():
        try:
            seen = int(form.version.data or -1)
        except ValueError:
            seen = -1
        status = attempt(lambda: services.apply_transition(
            difficulty, g.membership, action, seen_version=seen, note=form.note.data), form)  # fmt: skip
        if status is not None:
            return _show(_difficulty(difficulty_id), "follow_up", status=status,
                         transition_form=form, failed_action=action)  # fmt: skip
        notice = _("C'est enregistré : la difficulté est désormais « %(status)s ».",
                   status=STATUSES[difficulty.status])  # fmt: skip
        if wants_fragment():
            return _show(difficulty, "follow_up", notice=notice)
        flash(notice, "success")
        return redirect(url_for(".show", difficulty_id=difficulty.id))
    return _show(difficulty, "follow_up", status=422, transition_form=form, failed_action=action)


@bp.post("/<int:difficulty_id>/messages")
@allow(Permission.COMMENT)
@limiter.limit("120/hour")
def post_message(difficulty_id: int):
    difficulty = _difficulty(difficulty_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            services.post_message(difficulty, g.membership, form.body.data,
                                  internal=form.internal.data)  # fmt: skip
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            if wants_fragment():
                return _show(difficulty, "thread")
            flash(_("Message envoyé."), "success")
            return redirect(url_for(".show", difficulty_id=difficulty.id) + "#fil")
    return _show(difficulty, "thread", status=422, message_form=form)
