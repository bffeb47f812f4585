"""The OpenAPI 3.1 description of `/api/v1`, built here as a dict and served as JSON.

The schemas are strict on purpose (every object closed with `additionalProperties: false`,
every key required): the API's answers must be exactly these keys (ASVS 15.3.1), and the
schemathesis test in tests/api checks each answer against them. Decimals travel as strings
(« 12.5 ») so that no value is rounded through a binary float; a pushed value may be a JSON
number or such a string."""

from __future__ import annotations

from app.api.services import EXPIRY_DAYS, KEY_MAX, TOKEN_PREFIX
from app.indicators.services import COMMENT_MAX

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["12.5"]}
NULLABLE_DECIMAL = {"type": ["string", "null"], "pattern": DECIMAL["pattern"]}
DAY = {"type": "string", "format": "date"}
NULLABLE_DAY = {"type": ["string", "null"], "format": "date"}
MOMENT = {"type": "string", "format": "date-time"}
SIDE = {"type": "string", "enum": ["acheteur", "titulaire"]}


def _closed(properties: dict, description: str = "") -> dict:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "Erreur": _closed(
        {
            "erreur": _closed(
                {
                    "code": {"type": "string", "description": "Code stable, pour les programmes."},
                    "message": {"type": "string", "description": "Message en français."},
                    "champ": {
                        "type": ["string", "null"],
                        "description": "Le champ ou l'en-tête en cause, s'il y en a un.",
                    },
                }
            )
        },
        "Toute réponse 4xx.",
    ),
    "Partie": _closed({"name": {"type": "string"}, "siret": {"type": "string"}}),
    "Contrat": _closed(
        {
            "reference": {"type": "string"},
            "object": {"type": "string"},
            "category": {"type": "string", "enum": ["travaux", "fournitures", "services"]},
            "notification_date": DAY,
            "duration_months": {"type": "integer"},
            "buyer": _ref("Partie"),
            "supplier": _ref("Partie"),
            "token": _closed(
                {
                    "side": SIDE,
                    "scope": {"type": "string", "enum": ["lecture", "ecriture"]},
                    "expires_at": MOMENT,
                },
                "Le jeton utilisé : la partie de son titulaire, sa portée, son expiration.",
            ),
        }
    ),
    "Indicateur": _closed(
        {
            "uid": {"type": "string", "description": "Stable d'une version du plan à l'autre."},
            "name": {"type": "string"},
            "unit": {"type": "string"},
            "direction": {"type": "string", "enum": ["hausse", "baisse"]},
            "periodicity": {
                "type": "string",
                "enum": ["mensuelle", "trimestrielle", "semestrielle", "annuelle"],
            },
            "reporting_side": {"type": "string", "enum": ["acheteur", "titulaire", "les_deux"]},
            "baseline_value": NULLABLE_DECIMAL,
            "baseline_date": NULLABLE_DAY,
            "target_value": NULLABLE_DECIMAL,
            "target_date": NULLABLE_DAY,
            "status": {
                "type": "string",
                "enum": ["sur_la_trajectoire", "sous_la_trajectoire", "non_renseigne"],
            },
            "missing_periods": {
                "type": "integer",
                "minimum": 0,
                "description": "Périodes échues sans valeur.",
            },
        }
    ),
    "Indicateurs": _closed({"indicators": {"type": "array", "items": _ref("Indicateur")}}),
    "Valeur": _closed(
        {
            "period_start": DAY,
            "period_end": DAY,
            "value": DECIMAL,
            "comment": {"type": "string"},
            "validation": {"type": "string", "enum": ["a_valider", "validee", "questionnee"]},
            "source": {"type": "string", "enum": ["saisie", "import", "api"]},
            "entered_by_side": SIDE,
            "entered_at": MOMENT,
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "À renvoyer dans `version` pour corriger cette valeur.",
            },
        }
    ),
    "Periode": _closed({"period_start": DAY, "period_end": DAY}),
    "Valeurs": _closed(
        {
            "indicator": {"type": "string"},
            "values": {"type": "array", "items": _ref("Valeur")},
            "missing_periods": {
                "type": "array",
                "items": _ref("Periode"),
                "description": "Périodes échues sans valeur.",
            },
        }
    ),
    "NouvelleValeur": {
        "type": "object",
        "additionalProperties": False,
        "required": ["period_start", "value"],
        "properties": {
            "period_start": {
                **DAY,
                "description": "Premier jour d'une période de mesure de l'indicateur déjà commencée.",
            },
            "value": {
                "anyOf": [
                    {"type": "number"},
                    {"type": "string", "maxLength": 40, "examples": ["12.5", "12,5"]},
                ],
                "description": "Un nombre JSON, ou une chaîne (« 12.5 » ou « 12,5 ») pour ne rien arrondir.",
            },
            "comment": {"type": "string", "maxLength": COMMENT_MAX},
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "Pour corriger une valeur : la version lue dans la liste. Sans elle, une période qui a déjà une valeur répond 409.",
            },
        },
    },
}


def _error(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Erreur")}},
    }
    if headers:
        response["headers"] = headers
    return response


RESPONSES = {
    "RequeteInvalide": _error(
        "Requête invalide : JSON mal formé, Idempotency-Key absente ou trop longue."
    ),
    "NonAuthentifie": _error(
        "Jeton absent, inconnu, expiré ou révoqué, jeton passé dans l'adresse, ou titulaire du "
        "jeton qui n'est plus membre du marché. Un cookie de session ne compte pas ici.",
        {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    ),
    "Interdit": _error("Jeton en lecture seule, ou partie qui ne renseigne pas cet indicateur."),
    "Introuvable": _error("Aucun indicateur de ce marché ne porte cet identifiant."),
    "Conflit": _error(
        "La période a déjà une valeur (renvoyez sa `version` pour la corriger), ou elle a changé depuis."
    ),
    "TypeDeContenu": _error("Le corps n'est pas du JSON (`Content-Type: application/json`)."),
    "SaisieInvalide": _error(
        "Champ inconnu (`contract_id`, `validation`…), valeur, période ou commentaire à corriger, "
        "ou Idempotency-Key déjà utilisée pour une autre requête."
    ),
    "TropDeRequetes": _error(
        "Trop de requêtes pour ce jeton.",
        {"Retry-After": {"schema": {"type": "string"}}},
    ),
}


def _responses(*names: str, **ok: dict) -> dict:
    codes = {
        "RequeteInvalide": "400",
        "NonAuthentifie": "401",
        "Interdit": "403",
        "Introuvable": "404",
        "Conflit": "409",
        "TypeDeContenu": "415",
        "SaisieInvalide": "422",
        "TropDeRequetes": "429",
    }
    answers = {status.removeprefix("s"): body for status, body in ok.items()}
    for name in ("NonAuthentifie", *names, "TropDeRequetes"):
        answers[codes[name]] = {"$ref": f"#/components/responses/{name}"}
    return answers


def _ok(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


UID = {
    "name": "uid",
    "in": "path",
    "required": True,
    "description": "L'identifiant `uid` d'un indicateur, lu dans GET /indicateurs.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,36}$"},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": (
        "Un identifiant unique de cette écriture (un UUID par exemple). Renvoyée avec le même "
        "corps, la requête reçoit la réponse déjà donnée, avec le même statut, et rien n'est "
        "enregistré une seconde fois ; avec un autre corps : 422."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": "^[!-~]+$"},
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` quand la réponse est celle, déjà donnée, d'une même Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def document() -> dict:
    """The OpenAPI 3.1 document of the API (the same for everyone: it holds no data)."""
    written = _ok("Valeur corrigée (avec `version`).", "Valeur")
    created = _ok("Valeur enregistrée.", "Valeur")
    written["headers"] = created["headers"] = REPLAYED
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "API Progrès",
            "version": "1.0.0",
            "description": (
                "Lire le plan de progrès d'un marché et y envoyer les valeurs des indicateurs "
                "depuis un système d'information (ERP, logistique). Authentification : "
                f"`Authorization: Bearer {TOKEN_PREFIX}…`, un jeton personnel créé sur la page "
                "« Accès API » du marché, propre à ce marché, en lecture seule ou en écriture, "
                f"valable {', '.join(map(str, EXPIRY_DAYS))} jours au choix. Les nombres "
                "décimaux sont rendus en chaînes (« 12.5 »). Les messages d'erreur sont en "
                "français, avec un `code` stable."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"jeton": []}],
        "paths": {
            "/contrat": {
                "get": {
                    "operationId": "lireContrat",
                    "summary": "Le marché du jeton : référence, objet, parties.",
                    "responses": _responses(s200=_ok("Le marché.", "Contrat")),
                }
            },
            "/indicateurs": {
                "get": {
                    "operationId": "listerIndicateurs",
                    "summary": "Les indicateurs du plan en vigueur (avant le premier visa : du projet), avec leur état.",
                    "responses": _responses(s200=_ok("Les indicateurs.", "Indicateurs")),
                }
            },
            "/indicateurs/{uid}/valeurs": {
                "parameters": [UID],
                "get": {
                    "operationId": "listerValeurs",
                    "summary": "Les valeurs d'un indicateur et ses périodes échues sans valeur.",
                    "responses": _responses("Introuvable", s200=_ok("Les valeurs.", "Valeurs")),
                },
                "post": {
                    "operationId": "envoyerValeur",
                    "summary": "Enregistrer la valeur d'une période, ou la corriger (avec `version`).",
                    "description": (
                        "Jeton en écriture. Les valeurs d'un indicateur sont envoyées par la "
                        "partie qui le renseigne ; l'autre partie les valide dans Progrès."
                    ),
                    "parameters": [IDEMPOTENCY_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NouvelleValeur")}},
                    },
                    "responses": _responses(
                        "RequeteInvalide",
                        "Interdit",
                        "Introuvable",
                        "Conflit",
                        "TypeDeContenu",
                        "SaisieInvalide",
                        s200=written,
                        s201=created,
                    ),
                },
            },
        },
        "components": {
            "securitySchemes": {
                "jeton": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": f"Jeton personnel « {TOKEN_PREFIX}… » (page « Accès API » du marché).",
                }
            },
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }
