"""Flask-Login wiring: the cookie carries a session reference, checked on every request."""

from urllib.parse import urlsplit

from flask import Flask, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from app.extensions import htmx, login_manager


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str):
        from app.auth.services import resume_session, resume_session_for_page
        from app.database import is_read_request

        if is_read_request():
            return resume_session_for_page(session_id, g.get("contract_id"))
        return resume_session(session_id)

    @login_manager.unauthorized_handler
    def ask_to_log_in():
        if htmx:  # a 302 would be followed and the login page swapped into a fragment
            page = urlsplit(htmx.current_url or "/")
            return "", 401, {"HX-Redirect": url_for("auth.login", next=page.path)}
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
