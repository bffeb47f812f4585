"""The bell, the list of notifications and each person's e-mail preferences."""

from flask import Blueprint, abort, flash, has_request_context, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.forms import FlaskForm, database_int, is_local_url
from app.notifications import services
from app.notifications.models import KINDS, MODES
from app.permissions import LOGGED_IN, allow
from app.rendering import render, render_fragment

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")


@bp.app_context_processor
def bell():
    """The bell's count on every page of a logged-in person (one small query)."""
    if not has_request_context() or not current_user or not current_user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: services.unread_count_shown(current_user)}


@bp.get("/")
@allow(LOGGED_IN)
def index():
    return render("notifications/index.html", "notification_list",
                  notifications=services.latest(current_user), form=FlaskForm())  # fmt: skip


@bp.get("/cloche")
@allow(LOGGED_IN)
def bell_fragment():
    return render_fragment("notifications/bell.html", "bell")


@bp.post("/ouvrir")
@allow(LOGGED_IN)
def open_one():
    """Mark one notification read and go to what it is about. A POST, since reading changes
    state; its id travels in the body and is looked up among the person's own only."""
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    notification = services.notification_of(
        current_user, request.form.get("notification", type=database_int)
    )
    if notification is None:  # someone else's, or of a contract one has left: nothing to open
        flash(_("Cette notification n'est plus disponible."), "info")
        return redirect(url_for(".index"))
    path = notification.path
    services.mark_read(current_user, notification)
    return redirect(path if is_local_url(path) else url_for(".index"))


@bp.post("/tout-lu")
@allow(LOGGED_IN)
def mark_all_read():
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    services.mark_read(current_user)
    flash(_("Toutes vos notifications sont marquées comme lues."), "success")
    return redirect(url_for(".index"))


@bp.route("/preferences", methods=["GET", "POST"])
@allow(LOGGED_IN)
def preferences():
    form = FlaskForm()
    chosen = services.preferences_of(current_user)
    errors = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        # A kind left out keeps its mode; a value that is not one of the choices is an error.
        posted = {
            kind: request.form[f"mode-{kind}"] for kind in KINDS if f"mode-{kind}" in request.form
        }
        errors = {
            k: _("Choisissez une des options proposées.")
            for k, v in posted.items()
            if v not in MODES
        }
        chosen = {**chosen, **{k: v for k, v in posted.items() if v in MODES}}
        if not errors:
            services.set_preferences(current_user, posted)
            flash(_("Vos préférences de notification sont enregistrées."), "success")
            return redirect(url_for(".preferences"))
        db.session.rollback()
    return render("notifications/preferences.html", status=422 if errors else 200, form=form,
                  kinds=KINDS, modes=MODES, chosen=chosen, errors=errors)  # fmt: skip
