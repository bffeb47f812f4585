"""Login attempts are rate limited, per IP and per account, in memory or shared in Redis."""

import uuid

import pytest
import redis

from app.extensions import db
from tests.factories import PASSWORD


def fail_login(client, email="claire@acheteur.example"):
    return client.post("/connexion", data={"email": email, "password": "mauvais-mot-de-passe"})


def test_ten_failures_a_minute_from_one_address_then_429_in_french(client, world):
    statuses = [fail_login(client, f"personne{n}@x.example").status_code for n in range(10)]
    assert statuses == [422] * 10
    blocked = fail_login(client)
    assert blocked.status_code == 429
    assert "Trop de demandes" in blocked.get_data(as_text=True)


def test_successful_logins_do_not_count(client, world):
    for _ in range(12):
        response = client.post("/connexion", data={"email": world.buyer_lead.email,
                                                   "password": PASSWORD})  # fmt: skip
        assert response.status_code == 302
        client.post("/deconnexion")


def test_one_account_is_throttled_across_addresses_without_a_lockout_forever(app, world):
    for n in range(20):
        client = app.test_client()
        response = client.post("/connexion", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
                               data={"email": world.buyer_lead.email, "password": "non"})  # fmt: skip
        assert response.status_code == 422
    blocked = app.test_client().post("/connexion", environ_base={"REMOTE_ADDR": "10.0.1.1"},
                                     data={"email": world.buyer_lead.email, "password": "non"})  # fmt: skip
    assert blocked.status_code == 429
    # Another account from the same addresses is not affected (no global lockout).
    other = app.test_client().post("/connexion", environ_base={"REMOTE_ADDR": "10.0.1.1"},
                                   data={"email": world.supplier_lead.email, "password": PASSWORD})  # fmt: skip
    assert other.status_code == 302


def test_two_app_instances_share_the_count_through_redis(make_app, world, redis_url):
    db.session.commit()  # release SQLite's write lock for the two other apps
    config = {"RATELIMIT_STORAGE_URI": redis_url,
              "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4()}"}  # fmt: skip
    first, second = make_app(**config), make_app(**config)
    statuses = []
    for n in range(11):
        app = first if n % 2 == 0 else second
        statuses.append(fail_login(app.test_client(), f"p{n}@x.example").status_code)
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def redis_down_app(make_app):
    return make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")


def test_login_still_works_when_redis_is_down(redis_down_app, world):
    email = world.buyer_lead.email
    db.session.commit()
    response = redis_down_app.test_client().post(
        "/connexion", data={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 302
