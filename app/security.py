"""Security headers, cache control and fetch-metadata checks (SECURITY.md §3)."""

from flask import Flask, abort, request
from flask_babel import gettext as _
from flask_login import current_user

from app.errors import DomainError
from app.extensions import talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def init_security(app: Flask) -> None:
    talisman.init_app(
        app,
        content_security_policy=CSP,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=True,
        strict_transport_security_max_age=31_536_000,
        strict_transport_security_include_subdomains=True,
        referrer_policy="strict-origin-when-cross-origin",
        frame_options="DENY",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
    app.before_request(refuse_cross_site_writes)
    app.before_request(refuse_nul_characters)
    app.after_request(no_store_for_people)


def refuse_cross_site_writes():
    """A browser tells us a write comes from another site: refuse it before anything else."""
    if request.method in UNSAFE_METHODS and request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)


class NulCharacter(DomainError):
    status = 400


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def refuse_nul_characters():
    """No keyboard types U+0000 and PostgreSQL text cannot store it: a request carrying one in
    its path, query, form, file names or JSON is refused here with a message (400), before
    anything is written. Before, each text field that reached the database with one came back
    as a 500 (« PostgreSQL text fields cannot contain NUL »)."""
    sent = [request.path, list(request.args.items(multi=True))]
    if request.method in UNSAFE_METHODS:
        sent.append(list(request.form.items(multi=True)))
        sent.append([(name, f.filename or "") for name, f in request.files.items(multi=True)])
        if request.is_json:
            sent.append(request.get_json(silent=True))
    if _holds_nul(sent):
        raise NulCharacter(
            _("Votre saisie contient un caractère nul (invisible), que Progrès n'accepte pas : "
              "retirez-le, puis recommencez.")
        )  # fmt: skip


def no_store_for_people(response):
    # Pages of a logged-in person must not stay in a shared or back-button cache (ASVS 14.2.2).
    if current_user.is_authenticated and request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response
