"""Failed logins are limited per address (10 a minute) and per account (20 an hour); the count
is shared by every process through Redis (SECURITY.md §7; ASVS 6.1.1, 6.3.1, 2.4.1).

Each test builds its own app, hence its own memory counters: Flask-Limiter keeps one storage
on its extension object, replaced by each `create_app`. For the same reason two app instances
in one process would share a count even on `memory://`; the second instance of the Redis test
therefore runs in a process of its own, like a second gunicorn worker."""

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from app.error_pages import MESSAGES
from app.extensions import db
from tests.factories import PASSWORD
from tests.helpers import page_text

ROOT = Path(__file__).resolve().parents[2]


WRONG_PASSWORD = "mauvais-mot-de-passe"


def attempt(client, email, password=WRONG_PASSWORD, address="192.0.2.1"):
    return client.post(
        "/connexion",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_eleventh_failure_from_one_address_gets_429_in_french(app, client):
    # Ten different accounts, so that only the per-address limit can be reached.
    statuses = [attempt(client, f"personne{n}@x.example").status_code for n in range(10)]
    assert statuses == [422] * 10
    blocked = attempt(client, "personne10@x.example")
    assert blocked.status_code == 429
    assert str(MESSAGES[429][1]) in page_text(blocked)
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    # The limit is the address's, not everyone's.
    assert attempt(client, "personne10@x.example", address="192.0.2.2").status_code == 422


def test_successful_logins_do_not_count(app, world):
    for _ in range(12):
        response = attempt(app.test_client(), world.buyer_lead.email, PASSWORD)
        assert response.status_code == 302
    client = app.test_client()
    statuses = [attempt(client, f"personne{n}@x.example").status_code for n in range(11)]
    assert statuses == [422] * 10 + [429]


def test_the_account_limit_follows_the_submitted_email_from_any_address(app, world):
    email = world.buyer_lead.email
    for n in range(20):
        assert attempt(app.test_client(), email, address=f"198.51.100.{n}").status_code == 422
    # The same account, written differently, from a new address: still the same account.
    variant = f"  {email.upper()} "
    assert attempt(app.test_client(), variant, address="203.0.113.9").status_code == 429
    assert attempt(app.test_client(), email, PASSWORD, address="203.0.113.9").status_code == 429
    # Another account from that address is not touched: no lockout of everyone.
    other = attempt(app.test_client(), world.supplier_lead.email, PASSWORD, "203.0.113.9")
    assert other.status_code == 302


class LimiterClock:
    """The clock of the limits library's memory storage, moved forward at will (the test app
    counts in `memory://`); the rest of the app keeps the real time."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


def test_the_account_throttle_expires_after_its_hour_no_permanent_lockout(app, world, monkeypatch):
    import limits.storage.memory

    assert app.config["RATELIMIT_LOGIN_PER_ACCOUNT"] == "20/hour"  # the production setting
    clock = LimiterClock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    email = world.buyer_lead.email
    for n in range(20):
        assert attempt(app.test_client(), email, address=f"198.51.100.{n}").status_code == 422
    blocked = attempt(app.test_client(), email, PASSWORD, address="203.0.113.9")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 3600  # a time box, and it says how long
    clock.offset = 59 * 60  # still inside the hour: still throttled, even with the password
    assert attempt(app.test_client(), email, PASSWORD, address="203.0.113.10").status_code == 429
    clock.offset = 60 * 60 + 1
    assert attempt(app.test_client(), email, PASSWORD, address="203.0.113.11").status_code == 302


SECOND_INSTANCE = """
import sys
from app import create_app

app = create_app("test", SQLALCHEMY_DATABASE_URI=sys.argv[1], RATELIMIT_STORAGE_URI=sys.argv[2],
                 RATELIMIT_KEY_PREFIX=sys.argv[3])
client = app.test_client()
for line in sys.stdin:
    response = client.post("/connexion", data={"email": line.strip(), "password": "mauvais"},
                           environ_base={"REMOTE_ADDR": "192.0.2.1"})
    print(response.status_code, flush=True)
"""


@pytest.fixture
def redis_prefix(redis_url):
    prefix = f"progres-test-{uuid.uuid4().hex}"
    yield prefix
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)


def test_two_app_instances_share_the_count_through_redis(
    make_app, database_url, redis_url, redis_prefix
):
    first = make_app(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=redis_prefix)
    second = subprocess.Popen(
        [sys.executable, "-c", SECOND_INSTANCE, database_url, redis_url, redis_prefix],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def on_second(email):
        second.stdin.write(email + "\n")
        second.stdin.flush()
        return int(second.stdout.readline())

    try:
        statuses = []
        for n in range(10):  # the failures split between the two instances
            if n % 2:
                statuses.append(on_second(f"p{n}@x.example"))
            else:
                statuses.append(attempt(first.test_client(), f"p{n}@x.example").status_code)
        assert statuses == [422] * 10
        assert attempt(first.test_client(), "p10@x.example").status_code == 429
        assert on_second("p11@x.example") == 429
    finally:
        second.stdin.close()
        second.wait(timeout=10)
        second.stdout.close()


def test_when_redis_is_down_logins_still_work_and_are_limited_per_process(make_app, world):
    email = world.buyer_lead.email
    db.session.commit()  # release SQLite's write lock for the other app
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    assert attempt(app.test_client(), email, PASSWORD).status_code == 302
    client = app.test_client()
    statuses = [attempt(client, f"personne{n}@x.example").status_code for n in range(11)]
    assert statuses == [422] * 10 + [429]
