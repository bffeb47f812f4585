"""Two-factor authentication through the pages: « Mon compte », the QR code and the first code,
the recovery codes shown once, the login's second step, turning it off."""

import re

import pyotp
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth import two_factor
from app.auth.models import UserSession
from app.error_pages import MESSAGES
from app.extensions import db
from tests.factories import PASSWORD
from tests.helpers import logged_in_client, page_text
from tests.two_factor import Phone, log_in_with_code, turn_on_two_factor

SETTINGS = "/compte/double-authentification"


def sessions_of(user) -> int:
    return db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )


def setup_shown(page: str) -> tuple[str, str]:
    """The secret as the page shows it (grouped by 4) and the setup token its form carries."""
    secret = re.search(r'class="secret-key"><code>([A-Z2-7 ]+)</code>', page).group(1)
    setup = re.search(r'name="setup" type="hidden" value="([^"]+)"', page).group(1)
    return secret, setup


def turn_on_through_the_page(client, **extra) -> tuple[Phone, str]:
    page = page_text(client.get(SETTINGS))
    secret, setup = setup_shown(page)
    secret = secret.replace(" ", "")
    response = client.post(SETTINGS, data={"setup": setup, "code": pyotp.TOTP(secret).at(two_factor.clock()),
                                           "password": PASSWORD, **extra})  # fmt: skip
    assert response.status_code == 200, page_text(response)[:800]
    shown = page_text(response)
    codes = re.findall(r"<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>", shown)
    return Phone(secret, codes), shown


# --- « Mon compte » -------------------------------------------------------------------------


def test_my_account_says_whether_two_factor_is_on_and_links_to_it(client, world, log_in):
    log_in(world.buyer_lead)
    page = page_text(client.get("/compte"))
    assert "Double authentification" in page and "Désactivée" in page
    assert f'href="{SETTINGS}"' in page and "Activer la double authentification" in page


def test_the_setup_page_shows_a_qr_code_and_the_key_grouped_by_four(client, world, log_in):
    log_in(world.buyer_lead)
    response = client.get(SETTINGS)
    page = page_text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    svg = re.search(r'<svg role="img" [^>]*class="qr-code">.*?</svg>', page, re.S).group(0)
    assert 'role="img"' in svg and "<title>Code QR à scanner" in svg
    assert "style=" not in page and "data:image" not in page  # within the CSP
    secret, setup = setup_shown(page)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)
    assert two_factor.secret_of_setup(world.buyer_lead, setup) == secret.replace(" ", "")
    # Nothing is stored until a first code confirms it, and a new visit draws a new secret.
    db.session.refresh(world.buyer_lead)
    assert world.buyer_lead.totp_secret is None
    assert setup_shown(page_text(client.get(SETTINGS)))[0] != secret


def test_turning_on_with_a_wrong_code_keeps_the_same_qr_code_and_says_why(client, world, log_in):
    log_in(world.buyer_lead)
    secret, setup = setup_shown(page_text(client.get(SETTINGS)))
    response = client.post(SETTINGS, data={"setup": setup, "code": "000000", "password": PASSWORD})
    assert response.status_code == 422
    page = page_text(response)
    assert "Ce code ne correspond pas" in page and setup_shown(page)[0] == secret
    no_password = client.post(SETTINGS, data={"setup": setup, "code": "123456", "password": ""})
    assert no_password.status_code == 422
    assert "Indiquez votre mot de passe." in page_text(no_password)
    wrong_password = client.post(SETTINGS, data={
        "setup": setup, "code": pyotp.TOTP(secret.replace(" ", "")).now(), "password": "non"})  # fmt: skip
    assert wrong_password.status_code == 422 and "Mot de passe incorrect." in page_text(
        wrong_password
    )
    db.session.refresh(world.buyer_lead)
    assert not world.buyer_lead.has_two_factor


def test_a_forged_setup_is_refused_and_a_new_qr_code_shown(client, world, log_in):
    log_in(world.buyer_lead)
    response = client.post(SETTINGS, data={"setup": "faux", "code": "123456", "password": PASSWORD})
    assert response.status_code == 422
    assert "La mise en place n'est pas valable" in page_text(response)
    assert setup_shown(page_text(response))  # a fresh one to scan


def test_turning_on_shows_ten_recovery_codes_once(client, world, log_in, clock):
    log_in(world.buyer_lead)
    phone, shown = turn_on_through_the_page(client)
    assert "La double authentification est activée" in shown
    assert len(phone.recovery_codes) == 10
    account = page_text(client.get("/compte"))
    assert "Activée" in account and "10 codes de secours restants" in account
    settings = page_text(client.get(SETTINGS))
    assert not any(code in settings for code in phone.recovery_codes)
    assert "Il vous reste 10 codes de secours sur 10." in settings


def test_turning_on_closes_my_other_sessions_when_i_tick_the_box(app, client, world, log_in, clock):
    log_in(world.buyer_lead)
    other = logged_in_client(app, world.buyer_lead)
    turn_on_through_the_page(client, end_other_sessions="y")
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_turning_on_without_the_box_keeps_my_other_sessions(app, client, world, log_in, clock):
    log_in(world.buyer_lead)
    other = logged_in_client(app, world.buyer_lead)
    turn_on_through_the_page(client)
    assert other.get("/").status_code == 200


def test_new_recovery_codes_need_a_code_and_the_password(client, world, log_in, clock):
    log_in(world.supplier_lead)
    phone, _shown = turn_on_through_the_page(client)
    clock.next_step()
    wrong = client.post(f"{SETTINGS}/codes-de-secours",
                        data={"codes-code": "999999", "codes-password": PASSWORD})  # fmt: skip
    assert wrong.status_code == 422 and "Code incorrect" in page_text(wrong)
    renewed = client.post(f"{SETTINGS}/codes-de-secours",
                          data={"codes-code": phone.code(), "codes-password": PASSWORD})  # fmt: skip
    assert renewed.status_code == 200
    fresh = re.findall(r"<li><code>([0-9a-z-]{14})</code></li>", page_text(renewed))
    assert len(fresh) == 10 and set(fresh).isdisjoint(phone.recovery_codes)


def test_turning_off_needs_the_password_and_a_code_or_a_recovery_code(client, world, log_in, clock):
    log_in(world.supplier_lead)
    phone, _shown = turn_on_through_the_page(client)
    off = f"{SETTINGS}/desactivation"
    no_password = client.post(off, data={"desactivation-code": phone.recovery_codes[0],
                                         "desactivation-password": "non"})  # fmt: skip
    assert no_password.status_code == 422 and "Mot de passe incorrect." in page_text(no_password)
    empty = client.post(off, data={"desactivation-password": PASSWORD})
    assert empty.status_code == 422 and "Indiquez le code affiché" in page_text(empty)
    done = client.post(off, data={"desactivation-code": phone.recovery_codes[0],
                                  "desactivation-password": PASSWORD})  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"] == "/compte"
    assert "La double authentification est désactivée" in page_text(client.get("/compte"))
    again = client.post(off, data={"desactivation-code": phone.recovery_codes[1],
                                   "desactivation-password": PASSWORD})  # fmt: skip
    assert again.status_code == 409 and "n'est pas activée" in page_text(again)
    # The next login asks the password only.
    client.post("/deconnexion")
    assert client.post("/connexion", data={"email": world.supplier_lead.email,
                                           "password": PASSWORD}).headers["Location"] == "/"  # fmt: skip


def test_moving_to_a_new_phone_from_the_page(client, world, log_in, clock):
    log_in(world.supplier_lead)
    old_phone, _shown = turn_on_through_the_page(client)
    page = page_text(client.get(SETTINGS, query_string={"changer": "1"}))
    assert "Code de votre application actuelle, ou un code de secours" in page
    secret, setup = setup_shown(page)
    new_code = pyotp.TOTP(secret.replace(" ", "")).at(two_factor.clock())
    refused = client.post(SETTINGS, data={"setup": setup, "code": new_code, "password": PASSWORD})
    assert refused.status_code == 422 and "Indiquez le code affiché" in page_text(refused)
    clock.next_step()
    new_code = pyotp.TOTP(secret.replace(" ", "")).at(two_factor.clock())
    moved = client.post(SETTINGS, data={"setup": setup, "code": new_code, "password": PASSWORD,
                                        "current_code": old_phone.code()})  # fmt: skip
    assert moved.status_code == 200 and "Vos codes de secours" in page_text(moved)
    db.session.refresh(world.supplier_lead)
    assert world.supplier_lead.totp_secret == secret.replace(" ", "")


# --- the login's second step ----------------------------------------------------------------


@pytest.fixture
def phone(world, clock) -> Phone:
    """Claire turned the two-factor authentication on a time-step ago."""
    return turn_on_two_factor(world.buyer_lead, steps_ago=1)


def test_the_password_alone_opens_no_session_and_the_code_does(client, world, phone):
    before = sessions_of(world.buyer_lead)
    first = client.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD,
                                            "next": "/compte"})  # fmt: skip
    assert first.status_code == 302 and first.headers["Location"] == "/connexion/code"
    assert sessions_of(world.buyer_lead) == before
    assert client.get("/compte").status_code == 302  # not logged in yet
    page = page_text(client.get("/connexion/code"))
    assert "Double authentification" in page and 'autocomplete="one-time-code"' in page
    second = client.post("/connexion/code", data={"code": phone.code()})
    assert second.status_code == 302 and second.headers["Location"] == "/compte"
    assert sessions_of(world.buyer_lead) == before + 1
    assert client.get("/compte").status_code == 200


def test_a_wrong_code_is_a_french_422_and_is_audited(client, world, phone):
    client.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD})
    response = client.post("/connexion/code", data={"code": "314159"})
    assert response.status_code == 422
    assert "Code incorrect" in page_text(response)
    assert "314159" not in page_text(response)  # the code is not typed back
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "connexion.echec_second_facteur")
    ).all()
    assert len(events) == 1 and "314159" not in events[0].payload
    empty = client.post("/connexion/code", data={"code": ""})
    assert empty.status_code == 422 and "Indiquez le code affiché" in page_text(empty)
    assert client.post("/connexion/code", data={"code": phone.code()}).status_code == 302


def test_the_code_that_turned_it_on_cannot_log_in(client, world, clock):
    phone = turn_on_two_factor(world.buyer_lead)  # this very time-step
    client.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD})
    replay = client.post("/connexion/code", data={"code": phone.code()})
    assert replay.status_code == 422 and "Ce code vient déjà de servir" in page_text(replay)
    clock.next_step()
    assert client.post("/connexion/code", data={"code": phone.code()}).status_code == 302


def test_a_recovery_code_logs_in_once(app, world, phone):
    first = app.test_client()
    first.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD})
    assert first.post("/connexion/code", data={"code": phone.recovery_codes[0]}).status_code == 302
    second = app.test_client()
    second.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD})
    again = second.post("/connexion/code", data={"code": phone.recovery_codes[0]})
    assert again.status_code == 422


def test_the_second_step_expires_after_five_minutes(client, world, phone, clock):
    client.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD})
    clock.advance(5 * 60 + 1)
    response = client.post("/connexion/code", data={"code": phone.code()})
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    assert "Votre connexion a expiré" in page_text(client.get("/connexion"))
    assert client.get("/compte").status_code == 302


def test_an_expired_second_step_answers_htmx_with_hx_redirect(client, world, phone, clock):
    client.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD})
    clock.advance(6 * 60)
    response = client.post("/connexion/code", data={"code": phone.code()},
                           headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/connexion"
    # A boosted form follows the redirect like a page would.
    boosted = client.get("/connexion/code", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert boosted.status_code == 302


def test_the_second_step_belongs_to_the_browser_that_gave_the_password(app, client, world, phone):
    client.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD})
    other_browser = app.test_client()
    response = other_browser.post("/connexion/code", data={"code": phone.code()})
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    assert sessions_of(world.buyer_lead) == 0
    # The browser that gave the password still may.
    assert client.post("/connexion/code", data={"code": phone.code()}).status_code == 302


def test_remember_me_and_next_survive_the_second_step(client, world, phone):
    log_in_with_code(client, world.buyer_lead, phone, remember="y")
    assert db.session.scalar(select(UserSession.remember)) is True


def test_a_new_password_voids_a_pending_second_step(client, world, phone):
    from app.auth.services import set_password

    client.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD})
    set_password(world.buyer_lead, "rhubarbe-lanterne-falaise-27")
    db.session.commit()
    response = client.post("/connexion/code", data={"code": phone.code()})
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"


def test_wrong_codes_are_limited_per_account_whatever_the_address(app, world, phone):
    def attempt(address):
        browser = app.test_client()
        browser.post("/connexion", data={"email": world.buyer_lead.email, "password": PASSWORD},
                     environ_base={"REMOTE_ADDR": address})  # fmt: skip
        return browser.post("/connexion/code", data={"code": "000000"},
                            environ_base={"REMOTE_ADDR": address})  # fmt: skip

    statuses = [attempt(f"198.51.100.{n}").status_code for n in range(10)]
    assert statuses == [422] * 10
    blocked = attempt("203.0.113.7")
    assert blocked.status_code == 429
    assert str(MESSAGES[429][1]) in page_text(blocked)


def test_wrong_codes_are_limited_per_address(app, world, clock):
    people = [world.buyer_lead, world.supplier_lead, world.observer, world.buyer_contributor,
              world.supplier_contributor, world.outsider]  # fmt: skip
    for person in people:
        turn_on_two_factor(person)
    browser = app.test_client()
    statuses = []
    for n in range(11):
        browser.post("/connexion", data={"email": people[n % 6].email, "password": PASSWORD})
        statuses.append(browser.post("/connexion/code", data={"code": "000000"}).status_code)
    assert statuses == [422] * 10 + [429]


def test_the_account_forms_share_the_per_account_limit(client, world, log_in, clock):
    log_in(world.supplier_lead)
    turn_on_through_the_page(client)
    off = f"{SETTINGS}/desactivation"
    statuses = [
        client.post(
            off,
            data={"desactivation-code": "000000", "desactivation-password": PASSWORD},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        ).status_code
        for n in range(11)
    ]
    assert statuses == [422] * 10 + [429]
