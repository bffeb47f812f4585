"""The JSON API, `/api/v1`: read the contract, its indicators and their values; push values.

Only `Authorization: Bearer <token>` authenticates here; a session cookie counts for nothing
(so these views are exempt from CSRF: a browser cannot be made to send the header). Every
answer is JSON, errors included: `{"erreur": {"code", "message", "champ"}}`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.api import openapi, services
from app.api.services import ApiError
from app.errors import DomainError
from app.extensions import csrf, db, limiter, talisman
from app.permissions import API_TOKEN, LOGGED_IN, allow

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated only: cookies are ignored, see token_required

DEFAULT_RATE = "120/minute"


def _rate() -> str:
    return current_app.config.get("RATELIMIT_API", DEFAULT_RATE)


def _per_token() -> str:
    return f"jeton-api:{g.api_caller.token.id}"


def token_required(view: Callable) -> Callable:
    """Authenticate the bearer token (401 otherwise), then count the call against the token's
    rate limit (429), then run the view with `g.api_caller`."""
    limited = limiter.limit(_rate, key_func=_per_token)(view)

    @allow(API_TOKEN)
    @talisman(force_https=False)  # refused below, never redirected (ASVS 4.1.2)
    @wraps(view)
    def authenticated(*args, **kwargs):
        if current_app.config["FORCE_HTTPS"] and not request.is_secure:
            raise services.ApiError(403, "https_requis", _("L'API ne répond qu'en HTTPS."))
        g.api_caller = services.authenticate(
            request.headers.get("Authorization"), request.args.to_dict(flat=False)
        )
        return limited(*args, **kwargs)

    return authenticated


HTTP_ERRORS = {
    400: ("requete_invalide", lambda: _("La requête n'a pas pu être comprise.")),
    401: ("authentification_requise", lambda: _("Jeton d'accès manquant : envoyez l'en-tête « Authorization: Bearer <jeton> ».")),
    403: ("interdit", lambda: _("Cette action n'est pas permise.")),
    404: ("introuvable", lambda: _("Cette ressource n'existe pas ou vous n'y avez pas accès.")),
    405: ("methode_non_permise", lambda: _("Cette adresse n'accepte pas ce type de requête.")),
    413: ("trop_volumineux", lambda: _("Le corps de la requête est trop volumineux.")),
    415: ("type_de_contenu", lambda: _("Envoyez du JSON : en-tête « Content-Type: application/json ».")),
    429: ("trop_de_requetes", lambda: _("Trop de requêtes pour ce jeton : patientez avant de réessayer.")),
}  # fmt: skip


def _json(error: ApiError):
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    if error.status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = 'Bearer realm="progres"'
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return _json(error)


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    db.session.rollback()
    return _json(ApiError(error.status, "refus", error.message, error.field))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    code, message = HTTP_ERRORS.get(error.code or 500, ("erreur", lambda: str(error.name)))
    return _json(ApiError(error.code or 500, code, message()))


@bp.after_request
def never_cached(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the endpoints ----------------------------------------------------------------------------


@bp.get("/openapi.json")
@allow(LOGGED_IN)
def openapi_document():
    """For integrators, logged in (SECURITY.md 13.4.5): the description of everything below."""
    return jsonify(openapi.document())


@bp.get("/contrat")
@token_required
def contract():
    return jsonify(services.contract_payload(g.api_caller))


@bp.get("/indicateurs")
@token_required
def indicators():
    return jsonify(services.indicators_payload(g.api_caller.contract))


@bp.get("/indicateurs/<uid>/valeurs")
@token_required
def values(uid: str):
    contract = g.api_caller.contract
    return jsonify(services.values_payload(contract, services.find_indicator(contract, uid)))


@bp.post("/indicateurs/<uid>/valeurs")
@token_required
def push(uid: str):
    services.require_write(g.api_caller)  # a read token is refused before the body is read
    if request.mimetype != "application/json":
        raise ApiError(415, "type_de_contenu", HTTP_ERRORS[415][1]())
    key = services.check_idempotency_key(request.headers.get("Idempotency-Key"))
    body = services.parse_json_object(request.get_data())
    answer = services.push_value(g.api_caller, uid, body, key)
    response = jsonify(answer.body)
    response.status_code = answer.status
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
