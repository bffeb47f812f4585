"""The person's phone in tests: their authenticator app's codes, and a clock tests can move
(the `clock` fixture, made available to every test by tests/conftest.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
import pytest

from app.auth import two_factor
from tests.factories import PASSWORD


class Clock:
    """Stands in for `two_factor.clock`: time stands still until the test moves it."""

    def __init__(self) -> None:
        # The start of a time-step, so that « the same step » is unambiguous in a test.
        self.now = float(int(time.time()) // two_factor.INTERVAL * two_factor.INTERVAL)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def next_step(self) -> None:
        self.advance(two_factor.INTERVAL)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(two_factor, "clock", fake)
    return fake


@dataclass
class Phone:
    """The authenticator app of one person, and the recovery codes they noted."""

    secret: str
    recovery_codes: list[str]

    def code(self, at: float | None = None) -> str:
        """The code the app shows now (by the app's clock), or at `at`."""
        return pyotp.TOTP(self.secret).at(two_factor.clock() if at is None else at)


def turn_on_two_factor(user, password: str = PASSWORD, *, steps_ago: int = 0) -> Phone:
    """Turn it on through the service, as the person does on « Mon compte ». `steps_ago`: the
    confirming code is that many time-steps old (still accepted), so the current step's code
    is still free for the next use."""
    secret = two_factor.new_secret()
    at = two_factor.clock() - steps_ago * two_factor.INTERVAL
    codes = two_factor.turn_on(
        user,
        password=password,
        setup=two_factor.setup_token(user, secret),
        code=pyotp.TOTP(secret).at(at),
    )
    return Phone(secret, codes)


def log_in_with_code(client, user, phone: Phone, password: str = PASSWORD, **data):
    """Both steps of the login form: the password, then the app's code."""
    first = client.post("/connexion", data={"email": user.email, "password": password, **data})
    assert first.headers.get("Location") == "/connexion/code", first.status_code
    second = client.post("/connexion/code", data={"code": phone.code()})
    assert second.status_code == 302, second.get_data(as_text=True)[:500]
    return second
