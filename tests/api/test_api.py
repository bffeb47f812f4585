"""The JSON API as a supplier's ERP sees it: tokens, scope, errors, idempotent pushes
(SECURITY.md catalogue 26, 28, 29)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.api.services import token_hash
from app.audit.models import AuditEvent
from app.contracts.models import Membership
from app.db_types import utcnow
from app.extensions import db
from app.indicators.models import ApiToken, IdempotentRequest, Measurement
from tests.api.conftest import bearer

VALUES = "/api/v1/indicateurs/{uid}/valeurs"


def measurements() -> int:
    return db.session.scalar(select(func.count(Measurement.id)))


def push(client, secret, uid, body, key="cle-1", **headers):
    return client.post(VALUES.format(uid=uid), json=body,
                       headers=bearer(secret, **{"Idempotency-Key": key, **headers}))  # fmt: skip


def error_of(response) -> dict:
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    return response.get_json()["erreur"]


# --- reading ----------------------------------------------------------------------------------


def test_erp_reads_its_contract_indicators_and_values(client, world, indicator, issue, q1):
    secret = issue(scope="lecture")
    contract = client.get("/api/v1/contrat", headers=bearer(secret))
    assert contract.status_code == 200
    assert contract.get_json()["reference"] == "2025-0142"
    assert contract.get_json()["token"] == {**contract.get_json()["token"], "side": "titulaire",
                                            "scope": "lecture"}  # fmt: skip
    listed = client.get("/api/v1/indicateurs", headers=bearer(secret)).get_json()["indicators"]
    assert [(i["uid"], i["name"], i["target_value"], i["status"]) for i in listed] == [
        (indicator.uid, "Part recyclée", "30", "non_renseigne")
    ]
    values = client.get(VALUES.format(uid=indicator.uid), headers=bearer(secret)).get_json()
    assert values["values"] == []
    assert values["missing_periods"][0] == {"period_start": q1.isoformat(),
                                            "period_end": q1.replace(month=3, day=31).isoformat()}  # fmt: skip
    assert contract.headers["Cache-Control"] == "no-store"


def test_a_pushed_value_keeps_every_decimal_and_reads_back_as_a_string(
    client, world, indicator, issue, q1
):
    secret = issue()
    response = push(client, secret, indicator.uid,
                    {"period_start": q1.isoformat(), "value": 12.3456, "comment": "Relevé ERP"})  # fmt: skip
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["value"] == "12.3456"
    assert response.get_json()["source"] == "api"
    stored = db.session.scalar(select(Measurement))
    assert stored.value == Decimal("12.3456") and stored.source == "api"
    assert stored.entered_by_id == world.supplier_lead.id
    values = client.get(VALUES.format(uid=indicator.uid), headers=bearer(secret)).get_json()
    assert [v["value"] for v in values["values"]] == ["12.3456"]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mesure.saisie"))
    assert audit is not None and audit.actor_id == world.supplier_lead.id


def test_a_correction_needs_the_version_read(client, world, indicator, issue, q1):
    secret = issue()
    first = push(client, secret, indicator.uid, {"period_start": q1.isoformat(), "value": "15,5"})
    assert first.status_code == 201 and first.get_json()["value"] == "15.5"
    again = push(client, secret, indicator.uid, {"period_start": q1.isoformat(), "value": "16"},
                 key="cle-2")  # fmt: skip
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflit"
    corrected = push(client, secret, indicator.uid,
                     {"period_start": q1.isoformat(), "value": "16", "version": 1}, key="cle-3")  # fmt: skip
    assert corrected.status_code == 200
    assert corrected.get_json()["value"] == "16" and corrected.get_json()["version"] == 2
    stale = push(client, secret, indicator.uid,
                 {"period_start": q1.isoformat(), "value": "17", "version": 1}, key="cle-4")  # fmt: skip
    assert stale.status_code == 409
    assert db.session.scalar(select(Measurement.value)) == Decimal("16")


# --- authentication ---------------------------------------------------------------------------


def test_a_cookie_session_alone_gets_401_on_the_api(client, world, indicator, log_in, q1):
    log_in(world.supplier_lead)
    for response in (
        client.get("/api/v1/contrat"),
        client.get(VALUES.format(uid=indicator.uid)),
        client.post(VALUES.format(uid=indicator.uid), json={"period_start": q1.isoformat(),
                    "value": "1"}, headers={"Idempotency-Key": "k"}),
    ):  # fmt: skip
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert error_of(response)["code"] == "authentification_requise"
    assert measurements() == 0


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "left_the_contract",
                                 "basic_scheme", "in_the_query_string"])  # fmt: skip
def test_refused_tokens_get_401_and_write_nothing(client, world, indicator, issue, q1, how):
    secret = issue()
    token = db.session.scalar(select(ApiToken))
    headers = bearer(secret, **{"Idempotency-Key": "k"})
    url = VALUES.format(uid=indicator.uid)
    if how == "revoked":
        token.revoked_at = utcnow()
    elif how == "expired":
        token.expires_at = utcnow() - timedelta(seconds=1)
    elif how == "unknown":
        headers["Authorization"] = f"Bearer {secret[:-2]}xx"
    elif how == "left_the_contract":
        db.session.delete(db.session.scalar(select(Membership).where(
            Membership.user_id == world.supplier_lead.id,
            Membership.contract_id == world.contract.id)))  # fmt: skip
    elif how == "basic_scheme":
        headers["Authorization"] = f"Basic {secret}"
    else:
        del headers["Authorization"]
        url += f"?access_token={secret}"
    db.session.commit()
    body = {"period_start": q1.isoformat(), "value": "1"}
    for response in (client.get(url, headers=headers), client.post(url, json=body, headers=headers)):  # fmt: skip
        assert response.status_code == 401, how
        assert "Bearer" in response.headers["WWW-Authenticate"]
        assert secret not in response.get_data(as_text=True)
    assert measurements() == 0


def test_a_token_in_the_query_string_is_refused_even_with_the_header(client, indicator, issue):
    secret = issue()
    response = client.get(f"/api/v1/contrat?jeton={secret}", headers=bearer(secret))
    assert response.status_code == 401
    assert error_of(response)["code"] == "jeton_dans_l_adresse"


def test_the_database_keeps_only_the_hash_and_a_short_prefix(world, issue):
    secret = issue()
    token = db.session.scalar(select(ApiToken))
    assert secret.startswith("prg_") and len(secret) >= 4 + 43  # 256 random bits
    assert token.token_hash == token_hash(secret) and len(token.token_hash) == 64
    assert token.prefix == secret[:12]
    columns = [str(getattr(token, c.key)) for c in ApiToken.__table__.columns]
    assert not [c for c in columns if secret in c]


def test_last_use_is_recorded(client, issue):
    secret = issue(scope="lecture")
    assert client.get("/api/v1/contrat", headers=bearer(secret)).status_code == 200
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


# --- scope and isolation ----------------------------------------------------------------------


def test_a_read_token_cannot_write(client, indicator, issue, q1):
    secret = issue(scope="lecture")
    response = push(client, secret, indicator.uid, {"period_start": q1.isoformat(), "value": "3"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "portee_insuffisante"
    assert measurements() == 0


def test_a_buyer_token_cannot_push_values_the_supplier_reports(client, world, indicator, issue, q1):
    secret = issue(world.buyer_lead)
    response = push(client, secret, indicator.uid, {"period_start": q1.isoformat(), "value": "3"})
    assert response.status_code == 403
    assert "titulaire" in error_of(response)["message"]
    assert measurements() == 0


def test_a_token_of_contract_a_sees_nothing_of_contract_b(
    client, world, indicator, other_indicator, issue, q1
):
    secret = issue()
    listed = client.get("/api/v1/indicateurs", headers=bearer(secret)).get_json()["indicators"]
    assert [i["uid"] for i in listed] == [indicator.uid]
    assert client.get("/api/v1/contrat", headers=bearer(secret)).get_json()["reference"] == "2025-0142"  # fmt: skip
    read = client.get(VALUES.format(uid=other_indicator.uid), headers=bearer(secret))
    assert read.status_code == 404 and error_of(read)["code"] == "introuvable"
    written = push(client, secret, other_indicator.uid, {"period_start": q1.isoformat(), "value": "9"})  # fmt: skip
    assert written.status_code == 404
    assert "Indicateur du marché B" not in read.get_data(as_text=True)
    assert measurements() == 0
    assert db.session.scalar(select(func.count(IdempotentRequest.id))) == 0


# --- what a push must look like ---------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])  # fmt: skip
def test_a_body_that_is_not_json_gets_415(client, indicator, issue, q1, content_type):
    secret = issue()
    response = client.post(VALUES.format(uid=indicator.uid),
                           data=f'{{"period_start": "{q1.isoformat()}", "value": "3"}}',
                           headers=bearer(secret, **{"Idempotency-Key": "k",
                                                     "Content-Type": content_type}))  # fmt: skip
    assert response.status_code == 415
    assert error_of(response)["code"] == "type_de_contenu"
    assert measurements() == 0


@pytest.mark.parametrize("extra", [{"contract_id": 2}, {"validation": "validee"},
                                   {"status": "sur_la_trajectoire"}, {"source": "saisie"},
                                   {"entered_by_id": 1}, {"indicator_uid": "x"}])  # fmt: skip
def test_fields_outside_the_allowlist_get_422(client, indicator, issue, q1, extra):
    secret = issue()
    response = push(client, secret, indicator.uid,
                    {"period_start": q1.isoformat(), "value": "3", **extra})  # fmt: skip
    assert response.status_code == 422
    assert error_of(response)["champ"] == next(iter(extra))
    assert measurements() == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"value": "3"}, "period_start"),
    ({"period_start": "2020-13-01", "value": "3"}, "period_start"),
    ({"period_start": "+{q1}", "value": "3"}, "period_start"),
    ({"period_start": "{q2}", "value": "3"}, "period_start"),  # not the start of a period
    ({"period_start": "2999-01-01", "value": "3"}, "period_start"),  # not begun
    ({"period_start": "{q1}"}, "value"),
    ({"period_start": "{q1}", "value": True}, "value"),
    ({"period_start": "{q1}", "value": "douze"}, "value"),
    ({"period_start": "{q1}", "value": "NaN"}, "value"),
    ({"period_start": "{q1}", "value": 1e20}, "value"),
    ({"period_start": "{q1}", "value": "3", "comment": ["x"]}, "comment"),
    ({"period_start": "{q1}", "value": "3", "comment": "x" * 5001}, "comment"),
    ({"period_start": "{q1}", "value": "3", "version": 0}, "version"),
])  # fmt: skip
def test_invalid_values_get_422_with_the_field(client, indicator, issue, q1, body, field):
    secret = issue()
    dates = {"q1": q1.isoformat(), "q2": q1.replace(day=2).isoformat()}
    body = {k: v.format(**dates) if isinstance(v, str) and len(v) < 20 else v
            for k, v in body.items()}  # fmt: skip
    response = push(client, secret, indicator.uid, body)
    assert response.status_code == 422, response.get_json()
    assert error_of(response)["champ"] == field
    assert measurements() == 0


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'"texte"', b'{"value": NaN}', b"\xff"])
def test_a_body_that_is_not_a_json_object_is_refused(client, indicator, issue, raw):
    secret = issue()
    response = client.post(VALUES.format(uid=indicator.uid), data=raw,
                           headers=bearer(secret, **{"Idempotency-Key": "k",
                                                     "Content-Type": "application/json"}))  # fmt: skip
    assert response.status_code in (400, 422)
    assert error_of(response)["code"] in ("json_invalide", "saisie_invalide")


# --- idempotency and rate limit ---------------------------------------------------------------


def test_a_retried_push_is_answered_the_same_and_stored_once(client, indicator, issue, q1):
    secret = issue()
    body = {"period_start": q1.isoformat(), "value": "21.5"}
    first = push(client, secret, indicator.uid, body, key="erp-42")
    second = push(client, secret, indicator.uid, body, key="erp-42")
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert measurements() == 1
    assert db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.action.like("mesure.%"))) == 1  # fmt: skip
    other_body = push(client, secret, indicator.uid, {**body, "value": "22"}, key="erp-42")
    assert other_body.status_code == 422
    assert error_of(other_body)["code"] == "cle_idempotence_reutilisee"
    assert db.session.scalar(select(Measurement.value)) == Decimal("21.5")


def test_a_push_without_an_idempotency_key_is_refused(client, indicator, issue, q1):
    secret = issue()
    body = {"period_start": q1.isoformat(), "value": "1"}
    missing = client.post(VALUES.format(uid=indicator.uid), json=body, headers=bearer(secret))
    too_long = push(client, secret, indicator.uid, body, key="k" * 101)
    assert missing.status_code == too_long.status_code == 400
    assert error_of(missing)["champ"] == "Idempotency-Key"
    assert measurements() == 0


@pytest.fixture
def app_config():
    return {"RATELIMIT_API": "5/minute"}


def test_a_burst_over_the_token_limit_gets_429_in_json(client, world, issue):
    secret, other = issue(scope="lecture"), issue(world.buyer_lead, scope="lecture")
    statuses = [client.get("/api/v1/contrat", headers=bearer(secret)).status_code
                for _ in range(6)]  # fmt: skip
    assert statuses == [200] * 5 + [429]
    blocked = client.get("/api/v1/contrat", headers=bearer(secret))
    assert error_of(blocked)["code"] == "trop_de_requetes"
    assert int(blocked.headers["Retry-After"]) > 0
    # The limit is the token's, not everyone's.
    assert client.get("/api/v1/contrat", headers=bearer(other)).status_code == 200


def test_the_api_refuses_plain_http_in_production_instead_of_redirecting(make_app):
    """ASVS 4.1.2: a redirect would have sent the token in clear already, and teaches clients to
    follow it; the API answers 403 in JSON, the pages keep their HTTPS redirect."""
    production = make_app("production", SECRET_KEY="k" * 40, RATELIMIT_STORAGE_URI="memory://")
    client = production.test_client()
    plain = client.get("/api/v1/indicateurs", headers={"Authorization": "Bearer prg_inconnu"})
    assert plain.status_code == 403 and plain.get_json()["erreur"]["code"] == "https_requis"
    secure = client.get("/api/v1/indicateurs", base_url="https://localhost",
                        headers={"Authorization": "Bearer prg_inconnu"})  # fmt: skip
    assert secure.status_code == 401
    assert client.get("/connexion").status_code == 302  # pages: redirected to HTTPS
