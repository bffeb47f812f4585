"""« Accès API » of a contract: a member's personal API tokens (create, shown once; revoke)."""

from flask import Blueprint, abort, flash, g, redirect, url_for
from flask_babel import gettext as _

from app.api import services
from app.api.forms import TokenForm
from app.errors import DomainError
from app.extensions import db, limiter
from app.forms import attach_error
from app.permissions import MEMBER, Permission, allow
from app.rendering import render

bp = Blueprint("api_tokens", __name__, url_prefix="/jetons-api", template_folder="templates")


def _page(form: TokenForm, issued: services.IssuedToken | None = None, status: int = 200):
    may_write = g.membership.may(Permission.ENTER_VALUES)
    if not may_write:
        form.scope.choices = [c for c in form.scope.choices if c.value == "lecture"]
    return render("api/tokens.html", status=status, form=form, issued=issued,
                  tokens=services.tokens_of(g.contract, g.membership), may_write=may_write,
                  scopes=services.SCOPES, state_of=services.token_state)  # fmt: skip


@bp.get("/")
@allow(MEMBER)
def index():
    return _page(TokenForm())


@bp.post("/")
@allow(MEMBER)
@limiter.limit("20/hour")
def create():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            issued = services.create_token(g.contract, g.membership, name=form.name.data,
                                           scope=form.scope.data, days=form.days.data)  # fmt: skip
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            # Shown in this answer only: never in a redirect, a flash message or a log.
            return _page(TokenForm(formdata=None), issued=issued)
    return _page(form, status=422)


@bp.post("/<int:token_id>/revoquer")
@allow(MEMBER)
def revoke(token_id: int):
    token = services.own_token(g.contract, g.membership, token_id)
    if token is None:
        abort(404)
    services.revoke_token(g.contract, g.membership, token)
    flash(_("Jeton « %(name)s » révoqué : il ne donne plus accès à l'API.", name=token.name), "success")  # fmt: skip
    return redirect(url_for(".index"))
