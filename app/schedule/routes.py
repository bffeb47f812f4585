"""The schedule of actions: the page, one row (shown or being updated), the update in place,
and the deadlines as an iCalendar file."""

import re

from flask import Blueprint, Response, current_app, flash, g, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.forms import attach_error
from app.indicators.services import reference_version_shown
from app.permissions import MEMBER, Permission, allow
from app.plan.tree import is_large
from app.rendering import deferred, render, wants_fragment
from app.schedule import services
from app.schedule.forms import FollowUpForm

bp = Blueprint("schedule", __name__, url_prefix="/planning", template_folder="templates")
PAGE = "schedule/index.html"


@bp.context_processor
def labels_of_the_schedule():
    return {"statuses": services.STATUSES, "sides": services.SIDES,
            "month_name": lambda d: format_date(d, "MMMM y"),
            "month_letter": lambda d: format_date(d, "MMMMM").upper()}  # fmt: skip


def _show(*blocks, row=None, status=200, editing=None, form=None, notice=None, saved=False):
    """The page (or the blocks asked for); `row` is the one a row fragment shows."""
    filters = services.Filters.from_args(request.args)
    today = services.today_in_paris()
    planning = services.planning(g.contract, today, filters)
    if editing:
        form = (form or _form_for(row)).for_row(row.uid, g.membership.side == "acheteur",
                                                row.status)  # fmt: skip
    start = min(max(request.args.get("depuis", 0, type=int), 0), len(planning.rows))
    return render(PAGE, *blocks, status=status, planning=planning, timeline=planning.timeline,
                  start=start, chunk=current_app.config["SCHEDULE_CHUNK"],
                  today=today, filters=filters, row=row, editing=editing, form=form,
                  notice=notice, saved=saved,
                  may_edit=g.membership.may(Permission.EDIT_PLAN),
                  may_validate=g.membership.side == "acheteur")  # fmt: skip


def _form_for(row: services.Row) -> FollowUpForm:
    form = FollowUpForm(formdata=None, data=row.values())
    form.version.data = "" if row.version is None else str(row.version)
    return form


def _row(action_uid: str) -> services.Row:
    return services.row_of(g.contract, action_uid, services.today_in_paris())


@bp.get("/")
@allow(MEMBER)
def index():
    # `?depuis=` asks for the rows after the first ones (a long plan's next chunk).
    if deferred(is_large(reference_version_shown(g.contract))):
        return render(PAGE, deferred=True, filters=services.Filters.from_args(request.args))
    return _show("chunk" if "depuis" in request.args else "planning")


@bp.get("/<action_uid>/")
@allow(MEMBER)
def row(action_uid: str):
    """One action's row; with `?modifier=1`, its update form open under it."""
    found = _row(action_uid)
    editing = request.args.get("modifier") == "1" and g.membership.may(Permission.EDIT_PLAN)
    return _show("row", row=found, editing=found.uid if editing else None)


@bp.post("/<action_uid>/")
@allow(Permission.EDIT_PLAN)
def update(action_uid: str):
    found = _row(action_uid)
    form = FollowUpForm()
    status = 422
    if form.validate_on_submit():
        try:
            services.update_follow_up(g.contract, g.membership, found.uid, form.values(),
                                      form.seen_version())  # fmt: skip
        except Conflict as error:
            db.session.rollback()
            found = _row(action_uid)  # what it is now; the person's values stay in the form
            form.version.data = "" if found.version is None else str(found.version)
            form.form_errors.append(error.message)
            status = 409
        except NotAllowed as error:
            db.session.rollback()
            attach_error(form, error)
            status = 403
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                raise
            attach_error(form, error)
        else:
            if wants_fragment():
                return _show("row", row=_row(action_uid), saved=True)
            flash(_("Suivi de l'action enregistré."), "success")
            return redirect(url_for(".index", **request.args) + f"#action-{found.uid}")
    return _show("row", row=found, status=status, editing=found.uid, form=form)


@bp.get("/echeances.ics")
@allow(MEMBER)
def deadlines():
    reference = re.sub(r"[^A-Za-z0-9_-]", "-", g.contract.reference)
    return Response(
        services.ics_of_deadlines(g.contract),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="echeances-{reference}.ics"'},
    )
