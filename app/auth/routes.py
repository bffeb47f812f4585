"""Log in and out, password reset, invitation links, « Mon compte »."""

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import services, two_factor
from app.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ForgottenPasswordForm,
    LoginForm,
    NewAccountForm,
    RecoveryCodesForm,
    ResetPasswordForm,
    SecondFactorForm,
    TwoFactorOffForm,
    TwoFactorOnForm,
)
from app.contracts import services as contracts
from app.errors import DomainError
from app.extensions import db, htmx, limiter
from app.forms import attach_error, attempt, is_local_url
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
    target = form.next.data if is_local_url(form.next.data) else url_for("contracts.index")
    if user.has_two_factor:
        return _ask_second_factor(user, form.remember.data, target)
    _open_session(user, form.remember.data)
    return redirect(target)


# --- the login's second step (app/auth/two_factor.py) -----------------------------------------

PENDING_LOGIN = "connexion_en_attente"  # in the signed session cookie: bound to this browser


def _ask_second_factor(user, remember: bool, target: str):
    """The password was right: no session yet, the code first (within 5 minutes)."""
    pending = two_factor.begin_login(user, remember=remember, target=target)
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    session[PENDING_LOGIN] = pending
    return redirect(url_for("auth.login_code"))


def _second_factor_account() -> str:
    """The per-account key of code attempts: the person logged in, or whose password this
    browser just gave."""
    if current_user.is_authenticated:
        return f"compte-{current_user.id}"
    pending = session.get(PENDING_LOGIN)
    return f"compte-{pending.get('user')}" if isinstance(pending, dict) else "-"


def _refused(response) -> bool:
    return response.status_code >= 400


def _limit_codes_per_account():
    # One count per person across the login's second step and « Mon compte ».
    return limiter.shared_limit(
        lambda: current_app.config["RATELIMIT_SECOND_FACTOR_PER_ACCOUNT"],
        scope="code-second-facteur",
        key_func=_second_factor_account,
        methods=["POST"],
        deduct_when=_refused,
    )


def _back_to_login():
    """An expired or missing first step: the login page again (HX-Redirect for htmx)."""
    session.pop(PENDING_LOGIN, None)
    flash(
        _(
            "Votre connexion a expiré : saisissez à nouveau votre adresse e-mail et votre mot de passe."
        ),
        "info",
    )
    if htmx and not htmx.boosted:
        return "", 200, {"HX-Redirect": url_for("auth.login")}
    return redirect(url_for("auth.login"))


@bp.route("/connexion/code", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_SECOND_FACTOR_PER_IP"], methods=["POST"],
    deduct_when=_refused,
)  # fmt: skip
@_limit_codes_per_account()
def login_code():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("contracts.index"))
    pending = session.get(PENDING_LOGIN)
    user = two_factor.pending_user(pending)
    if user is None:
        return _back_to_login()
    form = SecondFactorForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render("auth/login_code.html", form=form, status=status)
    try:
        two_factor.finish_login(user, form.code.data)
    except DomainError as error:
        if error.status != 422:
            raise
        attach_error(form, error)
        form.code.data = ""
        return render("auth/login_code.html", form=form, status=422)
    _open_session(user, pending["remember"])
    target = pending.get("next", "")
    return redirect(target if is_local_url(target) else url_for("contracts.index"))


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
        recovery_codes_left=two_factor.recovery_codes_left(current_user),
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


# --- « Mon compte » : two-factor authentication -------------------------------------------------


def _setup(form: TwoFactorOnForm) -> dict:
    """The secret the form carries (a fresh one if it carries none, or an expired one)."""
    try:
        secret = two_factor.secret_of_setup(current_user, form.setup.data)
    except DomainError:
        secret = two_factor.new_secret()
        form.setup.data = two_factor.setup_token(current_user, secret)
    uri = two_factor.provisioning_uri(current_user, secret)
    return {"secret": two_factor.grouped(secret),
            "qr_code": two_factor.qr_code_svg(uri, _("Code QR à scanner avec votre application d'authentification"))}  # fmt: skip


def _two_factor_page(*, on_form=None, codes_form=None, off_form=None, status=200):
    changing = on_form is not None or request.args.get("changer") == "1"
    setting_up = not current_user.has_two_factor or changing
    on_form = on_form or TwoFactorOnForm(formdata=None)
    return render(
        "auth/two_factor.html",
        setting_up=setting_up,
        changing=current_user.has_two_factor and setting_up,
        setup=_setup(on_form) if setting_up else None,
        on_form=on_form,
        codes_form=codes_form or RecoveryCodesForm(formdata=None, prefix="codes"),
        off_form=off_form or TwoFactorOffForm(formdata=None, prefix="desactivation"),
        recovery_codes_left=two_factor.recovery_codes_left(current_user),
        status=status,
    )


def _recovery_codes_page(codes: list[str], *, just_turned_on: bool):
    return render("auth/recovery_codes.html", codes=codes, just_turned_on=just_turned_on)


@bp.get("/compte/double-authentification")
@allow(LOGGED_IN)
def two_factor_settings():
    return _two_factor_page()


@bp.post("/compte/double-authentification")
@allow(LOGGED_IN)
@_limit_codes_per_account()
def turn_on_two_factor():
    form = TwoFactorOnForm()
    was_on = current_user.has_two_factor
    codes = []
    if form.validate_on_submit():
        status = attempt(lambda: codes.extend(two_factor.turn_on(
            current_user, password=form.password.data, setup=form.setup.data, code=form.code.data,
            current_code=form.current_code.data, end_other_sessions=form.end_other_sessions.data)), form)  # fmt: skip
        if status is None:
            return _recovery_codes_page(codes, just_turned_on=not was_on)
    else:
        status = 422
    form.password.data = form.code.data = form.current_code.data = ""
    return _two_factor_page(on_form=form, status=status)


@bp.post("/compte/double-authentification/codes-de-secours")
@allow(LOGGED_IN)
@_limit_codes_per_account()
def renew_recovery_codes():
    form = RecoveryCodesForm(prefix="codes")
    codes = []
    if form.validate_on_submit():
        status = attempt(lambda: codes.extend(two_factor.renew_recovery_codes(
            current_user, password=form.password.data, code=form.code.data)), form)  # fmt: skip
        if status is None:
            return _recovery_codes_page(codes, just_turned_on=False)
    else:
        status = 422
    form.password.data = form.code.data = ""
    return _two_factor_page(codes_form=form, status=status)


@bp.post("/compte/double-authentification/desactivation")
@allow(LOGGED_IN)
@_limit_codes_per_account()
def turn_off_two_factor():
    form = TwoFactorOffForm(prefix="desactivation")
    if form.validate_on_submit():
        status = attempt(lambda: two_factor.turn_off(
            current_user, password=form.password.data, code=form.code.data,
            end_other_sessions=form.end_other_sessions.data), form)  # fmt: skip
        if status is None:
            flash(_("La double authentification est désactivée : la connexion ne demande plus que votre mot de passe."), "success")  # fmt: skip
            return redirect(url_for("auth.account"))
    else:
        status = 422
    form.password.data = form.code.data = ""
    return _two_factor_page(off_form=form, status=status)


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
