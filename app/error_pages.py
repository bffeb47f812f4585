"""French error pages, and the same messages as fragments for htmx requests."""

import logging

from flask import Flask, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import DomainError
from app.extensions import db, htmx
from app.rendering import render

log = logging.getLogger("progres.errors")

MESSAGES = {
    400: (_l("Requête invalide"), _l("La demande n'a pas pu être comprise. Rechargez la page et réessayez.")),
    401: (_l("Connexion requise"), _l("Connectez-vous pour continuer.")),
    403: (_l("Accès refusé"), _l("Votre rôle sur ce marché ne permet pas cette action.")),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou vous n'y avez pas accès.")),
    405: (_l("Action impossible"), _l("Cette adresse n'accepte pas ce type de demande.")),
    409: (_l("Modification concurrente"), _l("Quelqu'un a modifié ces données entre-temps : rechargez la page, votre saisie n'a pas été enregistrée.")),
    410: (_l("Lien expiré"), _l("Ce lien n'est plus valable.")),
    413: (_l("Fichier trop volumineux"), _l("Le fichier envoyé dépasse la taille autorisée.")),
    422: (_l("Saisie à corriger"), _l("Certaines informations sont à corriger.")),
    429: (_l("Trop de tentatives"), _l("Trop de demandes en peu de temps : patientez quelques minutes avant de réessayer.")),
    500: (_l("Erreur inattendue"), _l("Une erreur s'est produite de notre côté. Votre saisie n'a pas été enregistrée ; réessayez dans un instant.")),
}  # fmt: skip
CSRF_MESSAGE = _l(
    "Votre session a expiré ou le formulaire est trop ancien : rechargez la page, puis "
    "recommencez (copiez d'abord le texte que vous veniez de saisir)."
)


def error_response(status: int, detail: str | None = None):
    title, message = MESSAGES.get(status, MESSAGES[500])
    if request.path.startswith("/api/"):  # even before a route matched: the API answers JSON
        response = jsonify({"erreur": {"code": f"http_{status}", "message": str(detail or message),
                                       "champ": None}})  # fmt: skip
        response.status_code = status
        return response
    response = render(
        "errors/error.html",
        "error_message",
        status=status,
        title=title,
        message=detail or message,
    )
    if htmx and status not in (409, 422):
        # Shown in the page's notice area, never in place of the fragment being edited.
        response.headers["HX-Retarget"] = "#notifications"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def handle_http_error(error: HTTPException):
    if error.code == 401 or error.code is None or error.code < 400:
        return error
    return error_response(error.code)


def handle_csrf_error(error: CSRFError):
    log.warning("csrf.refused endpoint=%s reason=%s", request.endpoint, error.description)
    return error_response(400, str(CSRF_MESSAGE))


def handle_domain_error(error: DomainError):
    db.session.rollback()
    return error_response(error.status, error.message)


def handle_unexpected(error: Exception):
    db.session.rollback()
    log.exception("error.unexpected endpoint=%s", request.endpoint)
    return error_response(500)


def init_error_pages(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
