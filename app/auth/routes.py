"""Log in and out, password reset, invitation links, « Mon compte »."""

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import services
from app.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ForgottenPasswordForm,
    LoginForm,
    NewAccountForm,
    ResetPasswordForm,
)
from app.contracts import services as contracts
from app.errors import DomainError
from app.extensions import db, limiter
from app.forms import attach_error, is_local_url
from app.permissions import LOGGED_IN, PUBLIC, allow
from app.rendering import render

bp = Blueprint("auth", __name__, template_folder="templates")


def _login_attempt_email() -> str:
    return services.normalize_email(request.form.get("email", ""))[:254] or "-"


def _failed(response) -> bool:
    return response.status_code != 302


def _open_session(user, remember: bool) -> None:
    locale = session.get("locale")
    session.clear()  # nothing from before the login survives it (fixation)
    if locale:
        session["locale"] = locale
    services.start_session(
        user,
        remember=remember,
        user_agent=request.user_agent.string,
        ip_address=request.remote_addr or "",
    )
    login_user(user, remember=remember)


@bp.route("/connexion", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_PER_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_PER_ACCOUNT"],
    key_func=_login_attempt_email,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("contracts.index"))
    if not form.validate_on_submit():
        return render("auth/login.html", form=form, status=422 if form.is_submitted() else 200)
    user = services.authenticate(form.email.data, form.password.data)
    if user is None:
        services.record_failed_login(form.email.data)
        form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect."))
        return render("auth/login.html", form=form, status=422)
    _open_session(user, form.remember.data)
    target = form.next.data if is_local_url(form.next.data) else url_for("contracts.index")
    return redirect(target)


@bp.post("/deconnexion")
@allow(LOGGED_IN)
def logout():
    services.end_session(current_user)
    logout_user()
    session.clear()
    flash(_("Vous êtes déconnecté."), "success")
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["RATELIMIT_EMAIL_LINKS"], methods=["POST"])
def forgotten_password():
    form = ForgottenPasswordForm()
    if not form.validate_on_submit():
        return render("auth/forgotten.html", form=form, status=422 if form.is_submitted() else 200)
    services.request_password_reset(form.email.data)
    # The same answer whether or not the account exists.
    flash(
        _(
            "Si un compte existe pour %(email)s, un lien de réinitialisation vient d'y être "
            "envoyé. Il est valable 30 minutes.",
            email=form.email.data,
        ),
        "success",
    )
    return redirect(url_for("auth.login"))


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def reset_password(token: str):
    services.valid_reset_token(token)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except DomainError as error:
            if error.status != 422:
                raise
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(_("Votre mot de passe est changé. Connectez-vous avec le nouveau."), "success")
            return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render("auth/reset.html", form=form, status=status)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def invitation(token: str):
    """Show the invitation; only a submitted form creates an account or a membership."""
    invitation = contracts.valid_invitation(token)
    has_account = services.user_by_email(invitation.email) is not None
    creates_account = not has_account and not current_user.is_authenticated
    form = NewAccountForm(full_name=invitation.full_name) if creates_account else ConfirmForm()
    if form.validate_on_submit():
        try:
            if current_user.is_authenticated:
                contracts.accept_invitation(token, current_user)
                target = url_for("contract.overview.show", contract_id=invitation.contract_id)
            elif not has_account:
                user = contracts.accept_invitation_with_new_account(
                    token, full_name=form.full_name.data, password=form.password.data
                )
                _open_session(user, remember=False)
                target = url_for("contract.overview.show", contract_id=invitation.contract_id)
            else:
                return redirect(url_for("auth.login", next=request.path))
        except DomainError as error:
            if error.status != 422:
                raise
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(
                _("Bienvenue sur le marché %(ref)s.", ref=invitation.contract.reference), "success"
            )
            return redirect(target)
    status = 422 if form.is_submitted() else 200
    return render(
        "auth/invitation.html",
        invitation=invitation,
        has_account=has_account,
        form=form,
        status=status,
    )


def _account_page(password_form=None, status=200):
    return render(
        "auth/account.html",
        password_form=password_form or ChangePasswordForm(),
        confirm_form=ConfirmForm(),
        sessions=services.live_sessions(current_user),
        status=status,
    )


@bp.get("/compte")
@allow(LOGGED_IN)
def account():
    return _account_page()


@bp.post("/compte/mot-de-passe")
@allow(LOGGED_IN)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(_("Mot de passe changé. Vos autres sessions ont été fermées."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(form, status=422)


@bp.post("/compte/sessions/<session_id>/fin")
@allow(LOGGED_IN)
def end_other_session(session_id: str):
    services.revoke_session(current_user, session_id)
    flash(_("La session a été fermée."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/compte/deconnexion-partout")
@allow(LOGGED_IN)
def log_out_everywhere():
    services.log_out_everywhere(current_user)
    logout_user()
    session.clear()
    flash(_("Toutes vos sessions ont été fermées, y compris celle-ci."), "success")
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.post("/langue")
@allow(PUBLIC)
def choose_language():
    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    target = request.form.get("next", "")
    return redirect(target if is_local_url(target) else url_for("contracts.index"))
