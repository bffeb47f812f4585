"""API tokens (issue, list, revoke, authenticate) and what the API reads and writes.

A token is `prg_` + `secrets.token_urlsafe(32)` (256 random bits), shown once; the database
keeps its SHA-256 and its first characters (to tell tokens apart in lists). Each call checks
the token (known, not revoked, not expired) and, again, that its holder is still a member of
the token's contract. Writes go through `indicators.services.enter_value`, like the pages, and
are stored with their `Idempotency-Key` in the same transaction: a retried push is answered
from what was stored and writes nothing twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.audit.services import canonical_json, record
from app.contracts.models import Contract, Membership
from app.database import writing
from app.db_types import utcnow
from app.difficulties.deadlines import today_in_paris
from app.errors import DomainError, NotAllowed
from app.extensions import db
from app.indicators import services as indicators
from app.indicators.models import ApiToken, IdempotentRequest, Measurement
from app.permissions import Permission
from app.plan.models import Indicator

TOKEN_PREFIX = "prg_"  # noqa: S105  (a public marker, not a secret)
PREFIX_LENGTH = 12  # « prg_ » and 8 random characters: enough to tell tokens apart
SCOPES = {"lecture": _l("Lecture seule"), "ecriture": _l("Lecture et écriture")}
EXPIRY_DAYS = (30, 90, 365)
NAME_MAX = 100
KEY_MAX = 100
WRITE_FIELDS = ("period_start", "value", "comment", "version")
LAST_USED_EVERY = timedelta(minutes=1)  # `last_used_at` is refreshed at most this often
# Query-string names under which a client might put its token: refused, never looked up.
QUERY_TOKEN_NAMES = frozenset({"token", "access_token", "jeton", "api_key", "apikey", "bearer"})


class ApiError(Exception):
    """A refusal of the API: its status, a stable code, a French message and the field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict | None = None):  # fmt: skip
        super().__init__(message)
        self.status, self.code, self.message = status, code, str(message)
        self.field, self.headers = field, headers or {}

    def body(self) -> dict:
        return {"erreur": {"code": self.code, "message": self.message, "champ": self.field}}


# --- tokens -----------------------------------------------------------------------------------


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once to its owner, never stored


def may_create(membership: Membership, scope: str) -> bool:
    """Any member may read through the API; writing needs the right to enter values."""
    return scope == "lecture" or membership.may(Permission.ENTER_VALUES)


def create_token(contract: Contract, membership: Membership, *, name: str, scope: str,
                 days: int, now: datetime | None = None) -> IssuedToken:  # fmt: skip
    """Issue a token of `membership`'s person on `contract`; audited, committed."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Donnez un nom au jeton, par exemple « ERP logistique »."), field="name")  # fmt: skip
    if len(name) > NAME_MAX:
        raise DomainError(_("Le nom tient en %(max)d caractères au plus.", max=NAME_MAX), field="name")  # fmt: skip
    if scope not in SCOPES:
        raise DomainError(_("Choisissez la portée du jeton."), field="scope")
    if days not in EXPIRY_DAYS:
        raise DomainError(_("Choisissez une durée de validité proposée."), field="days")
    if not may_create(membership, scope):
        raise NotAllowed(_("Votre rôle sur ce marché ne permet pas de saisir des valeurs : créez un jeton en lecture seule."))  # fmt: skip
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        contract_id=contract.id, user_id=membership.user_id, name=name,
        token_hash=token_hash(secret), prefix=secret[:PREFIX_LENGTH], scope=scope,
        expires_at=(now or utcnow()) + timedelta(days=days),
    )  # fmt: skip
    db.session.add(token)
    db.session.flush()
    record("jeton_api.creation", actor=membership.user, contract_id=contract.id,
           object_type="jeton_api", object_id=token.id,
           after={"nom": name, "portee": scope, "expire_le": token.expires_at})  # fmt: skip
    db.session.commit()
    return IssuedToken(token, secret)


def tokens_of(contract: Contract, membership: Membership) -> list[ApiToken]:
    """The person's own tokens on this contract, newest first."""
    return db.session.scalars(
        select(ApiToken).where(ApiToken.contract_id == contract.id,
                               ApiToken.user_id == membership.user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()  # fmt: skip


def own_token(contract: Contract, membership: Membership, token_id: int) -> ApiToken | None:
    return db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.contract_id == contract.id,
                               ApiToken.user_id == membership.user_id)
    )  # fmt: skip


def revoke_token(contract: Contract, membership: Membership, token: ApiToken) -> ApiToken:
    """Revoke at once (a second revocation changes nothing); audited, committed."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("jeton_api.revocation", actor=membership.user, contract_id=contract.id,
               object_type="jeton_api", object_id=token.id, after={"nom": token.name})  # fmt: skip
        db.session.commit()
    return token


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    if token.revoked_at is not None:
        return "revoque"
    return "expire" if token.expires_at <= (now or utcnow()) else "actif"


# --- authentication ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    token: ApiToken
    membership: Membership

    @property
    def contract(self) -> Contract:
        return self.membership.contract


def _unauthorized(code: str, message: str) -> ApiError:
    challenge = 'Bearer realm="progres"'
    if code == "jeton_invalide":
        challenge += ', error="invalid_token"'
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def authenticate(authorization: str | None, query: dict[str, list[str]]) -> Caller:
    """The caller behind `Authorization: Bearer <token>`; cookies are never looked at."""
    for key, values in query.items():
        if key.lower() in QUERY_TOKEN_NAMES or any(v.startswith(TOKEN_PREFIX) for v in values):
            raise _unauthorized("jeton_dans_l_adresse", _("Le jeton se transmet dans l'en-tête Authorization, jamais dans l'adresse : révoquez ce jeton, il a pu être enregistré dans des journaux."))  # fmt: skip
    scheme, _space, secret = (authorization or "").strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise _unauthorized("authentification_requise", _("Jeton d'accès manquant : envoyez l'en-tête « Authorization: Bearer <jeton> »."))  # fmt: skip
    invalid = _unauthorized("jeton_invalide", _("Ce jeton d'accès est inconnu, expiré ou révoqué."))  # fmt: skip
    if len(secret) > 200:
        raise invalid
    digest = token_hash(secret)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    now = utcnow()
    if (token is None or not hmac.compare_digest(token.token_hash, digest)
            or token.revoked_at is not None or token.expires_at <= now):  # fmt: skip
        raise invalid
    membership = db.session.scalar(
        select(Membership).where(Membership.contract_id == token.contract_id,
                                 Membership.user_id == token.user_id)
    )  # fmt: skip
    if membership is None or not membership.user.is_active:  # left the contract, or disabled
        raise invalid
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        with writing():
            db.session.execute(update(ApiToken).where(ApiToken.id == token.id)
                               .values(last_used_at=now))  # fmt: skip
    return Caller(token, membership)


# --- reading ----------------------------------------------------------------------------------


def decimal_text(value: Decimal | None) -> str | None:
    """« 12.5 », never « 12.5000 » nor « 1.25E+1 »: decimals travel as strings."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


def _party(organisation) -> dict:
    return {"name": organisation.name, "siret": organisation.siret}


def contract_payload(caller: Caller) -> dict:
    contract = caller.contract
    return {
        "reference": contract.reference,
        "object": contract.object,
        "category": contract.category,
        "notification_date": _day(contract.notification_date),
        "duration_months": contract.duration_months,
        "buyer": _party(contract.buyer),
        "supplier": _party(contract.supplier),
        "token": {"side": caller.membership.side, "scope": caller.token.scope,
                  "expires_at": _moment(caller.token.expires_at)},
    }  # fmt: skip


def _indicator_payload(state: indicators.IndicatorState) -> dict:
    ind = state.indicator
    return {
        "uid": ind.uid,
        "name": ind.name,
        "unit": ind.unit or "",
        "direction": ind.direction,
        "periodicity": ind.periodicity,
        "reporting_side": ind.reporting_side,
        "baseline_value": decimal_text(ind.baseline_value),
        "baseline_date": _day(ind.baseline_date),
        "target_value": decimal_text(ind.target_value),
        "target_date": _day(ind.target_date),
        "status": state.status,
        "missing_periods": len(state.missing),
    }


def indicators_payload(contract: Contract, today: date | None = None) -> dict:
    return {"indicators": [_indicator_payload(s) for s in indicators.states(contract, today)]}


def measurement_payload(m: Measurement) -> dict:
    return {
        "period_start": _day(m.period_start),
        "period_end": _day(m.period_end),
        "value": decimal_text(m.value),
        "comment": m.comment or "",
        "validation": m.validation,
        "source": m.source,
        "entered_by_side": m.entered_by_side,
        "entered_at": _moment(m.entered_at),
        "version": m.version,
    }


def find_indicator(contract: Contract, uid: str) -> Indicator:
    """The indicator of *this* contract's plan; any other uid is not found (never 403)."""
    indicator = indicators.indicator_by_uid(contract, uid) if len(uid) <= 36 else None
    if indicator is None:
        raise ApiError(404, "introuvable", _("Aucun indicateur de ce marché ne porte cet identifiant."), field="uid")  # fmt: skip
    return indicator


def values_payload(contract: Contract, indicator: Indicator, today: date | None = None) -> dict:
    values = indicators.measurements_of(contract, indicator.uid)
    state = indicators.state_of(indicator, contract, values, today or today_in_paris())
    return {
        "indicator": indicator.uid,
        "values": [measurement_payload(m) for m in values],
        "missing_periods": [{"period_start": _day(p.start), "period_end": _day(p.end)}
                            for p in state.missing],
    }  # fmt: skip


# --- writing ----------------------------------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(name)


def parse_json_object(raw: bytes) -> dict:
    """The request body as a JSON object, numbers kept as Decimal (never a float)."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_float=Decimal,
                          parse_constant=_reject_constant)  # fmt: skip
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "json_invalide", _("Le corps de la requête n'est pas un JSON valide.")) from error  # fmt: skip
    if not isinstance(body, dict):
        raise ApiError(422, "saisie_invalide", _("Le corps de la requête doit être un objet JSON."))  # fmt: skip
    return body


@dataclass(frozen=True)
class Push:
    period_start: date
    value: Decimal | str
    comment: str
    version: int | None


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "saisie_invalide", message, field=field)


def parse_push(body: dict) -> Push:
    """Only the allowed fields (no `contract_id`, `validation`, `source`…), each checked."""
    unknown = sorted(set(body) - set(WRITE_FIELDS))
    if unknown:
        raise _invalid(unknown[0], _("Champ non accepté : « %(name)s ». Champs acceptés : %(fields)s.", name=unknown[0][:50], fields=", ".join(WRITE_FIELDS)))  # fmt: skip
    raw_start = body.get("period_start")
    if not isinstance(raw_start, str):
        raise _invalid("period_start", _("Indiquez le premier jour de la période, au format AAAA-MM-JJ."))  # fmt: skip
    try:
        period_start = date.fromisoformat(raw_start)
    except ValueError as error:
        raise _invalid("period_start", _("Indiquez le premier jour de la période, au format AAAA-MM-JJ.")) from error  # fmt: skip
    if len(raw_start) != 10:
        raise _invalid("period_start", _("Indiquez le premier jour de la période, au format AAAA-MM-JJ."))  # fmt: skip
    value = body.get("value")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _invalid("value", _("Indiquez la valeur : un nombre, ou une chaîne comme « 12.5 »."))
    if isinstance(value, str) and len(value) > 40:
        raise _invalid("value", _("Indiquez un nombre, par exemple 12,5."))
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        raise _invalid("comment", _("Le commentaire est un texte."))
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or version < 1):  # fmt: skip
        raise _invalid("version", _("La version est un entier positif, lu dans la liste des valeurs."))  # fmt: skip
    number = Decimal(value) if isinstance(value, int) else value
    return Push(period_start, number, comment, version)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    replayed: bool = False


def check_idempotency_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise ApiError(400, "cle_idempotence_manquante", _("Chaque écriture porte un en-tête Idempotency-Key (un identifiant unique de la requête, par exemple un UUID)."), field="Idempotency-Key")  # fmt: skip
    if len(key) > KEY_MAX or not key.isprintable() or not key.isascii():
        raise ApiError(400, "cle_idempotence_invalide", _("L'en-tête Idempotency-Key tient en %(max)d caractères ASCII imprimables au plus.", max=KEY_MAX), field="Idempotency-Key")  # fmt: skip
    return key


def _earlier(caller: Caller, key: str) -> IdempotentRequest | None:
    return db.session.scalar(
        select(IdempotentRequest).where(IdempotentRequest.token_id == caller.token.id,
                                        IdempotentRequest.key == key)
    )  # fmt: skip


def _replay(earlier: IdempotentRequest, request_hash: str) -> Answer:
    if not hmac.compare_digest(earlier.request_hash, request_hash):
        raise ApiError(422, "cle_idempotence_reutilisee", _("Cette clé Idempotency-Key a déjà servi pour une autre requête : utilisez une nouvelle clé pour chaque écriture."), field="Idempotency-Key")  # fmt: skip
    return Answer(earlier.status, earlier.response, replayed=True)


def require_write(caller: Caller) -> None:
    if caller.token.scope != "ecriture":
        raise ApiError(403, "portee_insuffisante", _("Ce jeton est en lecture seule : créez un jeton en écriture pour envoyer des valeurs."))  # fmt: skip


_DOMAIN_CODES = {403: "interdit", 409: "conflit", 422: "saisie_invalide"}


def push_value(caller: Caller, uid: str, body: dict, key: str,
               today: date | None = None) -> Answer:  # fmt: skip
    """Enter or correct one value through the API: 201 created, 200 corrected, or the stored
    answer of the same key and body (nothing written). One transaction holds the value, its
    history, the audit entry and the idempotency record."""
    require_write(caller)
    request_hash = hashlib.sha256(canonical_json({"uid": uid, "body": body}).encode()).hexdigest()
    earlier = _earlier(caller, key)
    if earlier is not None:
        return _replay(earlier, request_hash)
    indicator = find_indicator(caller.contract, uid)
    push = parse_push(body)
    created = push.version is None
    try:
        measurement = indicators.enter_value(
            caller.contract, caller.membership, indicator, period_start=push.period_start,
            value=push.value, comment=push.comment, source="api", seen_version=push.version,
            commit=False, today=today,
        )  # fmt: skip
        answer = Answer(201 if created else 200, measurement_payload(measurement))
        db.session.add(IdempotentRequest(token_id=caller.token.id, key=key,
                                         request_hash=request_hash, status=answer.status,
                                         response=answer.body))  # fmt: skip
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise ApiError(error.status, _DOMAIN_CODES.get(error.status, "refus"), error.message,
                       field=error.field) from error  # fmt: skip
    except IntegrityError as error:  # a concurrent request took the same key or period first
        db.session.rollback()
        earlier = _earlier(caller, key)
        if earlier is not None:
            return _replay(earlier, request_hash)
        raise ApiError(409, "conflit", _("Une autre requête vient d'enregistrer une valeur pour cette période : relisez-la avant de la corriger."), field="period_start") from error  # fmt: skip
    return answer
