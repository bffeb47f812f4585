"""« Mes marchés » and a contract's home page: parties, members, key dates, the clause."""

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import ConfirmForm
from app.contracts import services
from app.contracts.forms import InvitationForm
from app.errors import DomainError
from app.extensions import db
from app.forms import attach_error
from app.permissions import LOGGED_IN, MEMBER, Permission, allow
from app.rendering import deferred, render, wants_fragment

bp = Blueprint("contracts", __name__, template_folder="templates")
overview_bp = Blueprint("overview", __name__)


@bp.get("/")
@allow(LOGGED_IN)
def index():
    """« Mes marchés »: the portfolio, one line per contract with its statuses."""
    from app.dashboard.services import portfolio
    from app.difficulties.deadlines import today_in_paris

    arguments = {"search": request.args.get("q", ""), "page": request.args.get("page", 1, type=int),
                 "per_page": current_app.config["PORTFOLIO_PAGE"]}  # fmt: skip
    counted = portfolio(current_user, today_in_paris(), with_lines=False, **arguments)
    if deferred(counted.total > current_app.config["PORTFOLIO_LAZY_FROM"]):
        return render("contracts/index.html", portfolio=counted, deferred=True)
    found = portfolio(current_user, today_in_paris(), total=counted.total, **arguments)
    return render("contracts/index.html", "lines", portfolio=found, lines=found.lines)


def _home(form=None, status=200, notice=None, fragment=False):
    """The contract's page; only the invitation panel when an htmx invitation was posted."""
    from app.difficulties.deadlines import today_in_paris
    from app.difficulties.register import counts
    from app.reviews.services import short_windows

    may_invite = g.membership.may(Permission.INVITE_MEMBERS)
    return render(
        "contracts/home.html",
        *(["invitation_panel"] if fragment else []),
        members=services.members(g.contract),
        invitations=services.pending_invitations(g.contract) if may_invite else [],
        form=form or (InvitationForm() if may_invite else None),
        confirm_form=ConfirmForm(),
        may_invite=may_invite,
        difficulty_counts=None if fragment else counts(g.contract),
        short_review_windows=[] if fragment else short_windows(g.contract, today_in_paris()),
        may_raise=g.membership.may(Permission.HANDLE_DIFFICULTIES),
        notice=notice,
        status=status,
    )


@overview_bp.get("/")
@allow(MEMBER)
def show():
    return _home()


@overview_bp.post("/invitations")
@allow(Permission.INVITE_MEMBERS)
def invite():
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            invitation = services.invite(
                g.contract,
                email=form.email.data,
                full_name=form.full_name.data or "",
                side=form.side.data,
                role=form.role.data,
                invited_by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            notice = _("Invitation envoyée à %(email)s.", email=invitation.email)
            if wants_fragment():
                return _home(InvitationForm(formdata=None), notice=notice, fragment=True)
            flash(notice, "success")
            return redirect(url_for(".show"))
    return _home(form, status=422, fragment=True)


@overview_bp.post("/invitations/<int:invitation_id>/annulation")
@allow(Permission.INVITE_MEMBERS)
def cancel_invitation(invitation_id: int):
    services.cancel_invitation(g.contract, invitation_id, actor=current_user)
    flash(_("Invitation annulée."), "success")
    return redirect(url_for(".show"))
