"""« Accès API »: a member creates a token, sees it once, lists and revokes it (catalogue 27)."""

import base64
import re
import secrets
from types import SimpleNamespace

from sqlalchemy import select

from app.api import services
from app.api.services import TOKEN_PREFIX, token_hash
from app.audit.models import AuditEvent
from app.extensions import db
from app.indicators.models import ApiToken
from tests.api.conftest import bearer
from tests.helpers import logged_in_client, page_text


def tokens_url(world) -> str:
    return f"/contrats/{world.contract.id}/jetons-api/"


def create(client, world, **fields):
    return client.post(tokens_url(world), data={"name": "ERP logistique", "scope": "ecriture",
                                                "days": "90", **fields})  # fmt: skip


def test_token_is_shown_once_stored_hashed_and_works(client, world, log_in):
    log_in(world.supplier_lead)
    response = create(client, world)
    assert response.status_code == 200
    secret = re.search(r'value="(prg_[A-Za-z0-9_-]{43})"', response.get_data(as_text=True))[1]
    token = db.session.scalar(select(ApiToken))
    assert (token.name, token.scope, token.user_id) == ("ERP logistique", "ecriture",
                                                         world.supplier_lead.id)  # fmt: skip
    assert token.token_hash == token_hash(secret)
    assert 89 <= (token.expires_at - token.created_at).days <= 90
    page = client.get(tokens_url(world)).get_data(as_text=True)
    assert secret not in page and token.prefix in page  # never shown again
    assert client.get("/api/v1/contrat", headers=bearer(secret)).status_code == 200
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "jeton_api.creation"))
    assert audit.actor_id == world.supplier_lead.id and secret not in audit.payload


def test_revoked_token_stops_working_at_once(client, world, log_in):
    log_in(world.supplier_lead)
    create(client, world)
    secret = re.search(r'value="(prg_[^"]+)"', client.post(tokens_url(world), data={
        "name": "Second", "scope": "lecture", "days": "30"}).get_data(as_text=True))[1]  # fmt: skip
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "Second"))
    response = client.post(f"{tokens_url(world)}{token.id}/revoquer")
    assert response.status_code == 302
    assert "révoqué" in page_text(client.get(tokens_url(world)))
    assert client.get("/api/v1/contrat", headers=bearer(secret)).status_code == 401
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "jeton_api.revocation"))


def test_nobody_revokes_someone_elses_token(client, world, log_in, app):
    log_in(world.supplier_lead)
    create(client, world)
    token = db.session.scalar(select(ApiToken))
    buyer = logged_in_client(app, world.buyer_lead)
    assert buyer.post(f"{tokens_url(world)}{token.id}/revoquer").status_code == 404
    assert token_of_buyer_page(buyer, world, token) is False
    assert db.session.scalar(select(ApiToken.revoked_at)) is None


def token_of_buyer_page(client, world, token) -> bool:
    return token.prefix in client.get(tokens_url(world)).get_data(as_text=True)


def test_an_observer_may_only_create_read_tokens(client, world, log_in):
    log_in(world.observer)
    refused = create(client, world, scope="ecriture")
    assert refused.status_code == 422
    assert "lecture seule" in page_text(refused)
    assert db.session.scalar(select(ApiToken)) is None
    assert create(client, world, scope="lecture").status_code == 200
    assert db.session.scalar(select(ApiToken.scope)) == "lecture"


def test_a_token_needs_a_name_and_an_offered_duration(client, world, log_in):
    log_in(world.supplier_lead)
    assert create(client, world, name="").status_code == 422
    assert create(client, world, days="3650").status_code == 422
    assert db.session.scalar(select(ApiToken)) is None


def test_the_secret_is_drawn_from_token_urlsafe_with_at_least_32_bytes(
    client, world, log_in, monkeypatch
):
    real, draws = secrets.token_urlsafe, []

    def token_urlsafe(*args, **kwargs):
        draws.append(real(*args, **kwargs))
        return draws[-1]

    monkeypatch.setattr(services.secrets, "token_urlsafe", token_urlsafe)
    log_in(world.supplier_lead)
    page = create(client, world).get_data(as_text=True)
    secret = re.search(r'value="(prg_[^"]+)"', page)[1]
    # The whole random part is one draw of the CSPRNG, of 32 bytes (256 bits) or more.
    assert [value for value in draws if value in secret] == [secret.removeprefix(TOKEN_PREFIX)]
    random_part = secret.removeprefix(TOKEN_PREFIX)
    assert len(base64.urlsafe_b64decode(random_part + "=" * (-len(random_part) % 4))) >= 32


def test_authentication_compares_the_stored_hash_in_constant_time(client, issue, monkeypatch):
    secret = issue(scope="lecture")
    stored = db.session.scalar(select(ApiToken.token_hash))
    real, comparisons = services.hmac.compare_digest, []

    def compare_digest(a, b):
        comparisons.append((a, b))
        return real(a, b)

    monkeypatch.setattr(services, "hmac", SimpleNamespace(compare_digest=compare_digest))
    assert client.get("/api/v1/contrat", headers=bearer(secret)).status_code == 200
    assert comparisons == [(stored, token_hash(secret))]
    # Two values, the stored hash and the request's, not one of them compared with itself.
    assert comparisons[0][0] is not comparisons[0][1]
