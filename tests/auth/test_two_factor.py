"""Two-factor authentication, the services: turning it on with a first code, codes that serve
once, recovery codes, turning it off (SECURITY.md 6.3.3, 6.5.1, 7.5.1)."""

import pyotp
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth import two_factor
from app.auth.models import RecoveryCode, UserSession
from app.auth.services import start_session
from app.errors import Conflict, DomainError
from app.extensions import db
from app.tokens import token_hash
from tests.factories import PASSWORD
from tests.two_factor import turn_on_two_factor


def _setup(user, secret=None):
    secret = secret or two_factor.new_secret()
    return secret, two_factor.setup_token(user, secret)


def _audited(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_turning_on_keeps_the_secret_once_a_first_code_and_the_password_are_right(world, clock):
    user = world.buyer_lead
    secret, setup = _setup(user)
    with pytest.raises(DomainError) as wrong_code:
        two_factor.turn_on(user, password=PASSWORD, setup=setup, code="000000")
    assert wrong_code.value.field == "code" and "ne correspond pas" in wrong_code.value.message
    db.session.rollback()
    with pytest.raises(DomainError) as wrong_password:
        two_factor.turn_on(user, password="pas-le-bon", setup=setup, code=pyotp.TOTP(secret).now())
    assert wrong_password.value.field == "password"
    db.session.rollback()
    assert not user.has_two_factor

    codes = two_factor.turn_on(user, password=PASSWORD, setup=setup,
                               code=pyotp.TOTP(secret).at(clock()))  # fmt: skip
    assert user.has_two_factor and user.totp_secret == secret
    assert len(codes) == 10 and len(set(codes)) == 10
    assert _audited("double_authentification.activee")


def test_recovery_codes_are_stored_as_sha256_only(world, clock):
    phone = turn_on_two_factor(world.buyer_lead)
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10
    for code in phone.recovery_codes:
        assert code not in stored
        assert token_hash(code.replace("-", "")) in stored
    assert all(len(code) == 14 and code.count("-") == 2 for code in phone.recovery_codes)


def test_a_setup_is_bound_to_its_person_and_expires(world, clock):
    secret, setup_of_claire = _setup(world.buyer_lead)
    with pytest.raises(DomainError, match="pas valable"):
        two_factor.secret_of_setup(world.supplier_lead, setup_of_claire)
    with pytest.raises(DomainError, match="pas valable"):
        two_factor.secret_of_setup(world.buyer_lead, setup_of_claire[:-2] + "xx")
    assert two_factor.secret_of_setup(world.buyer_lead, setup_of_claire) == secret


def test_an_old_setup_is_refused(world, monkeypatch):
    _secret, setup = _setup(world.buyer_lead)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: 10**10)
    with pytest.raises(DomainError, match="expiré"):
        two_factor.secret_of_setup(world.buyer_lead, setup)


def test_a_code_serves_once_even_within_its_window(world, clock):
    user = world.supplier_lead
    phone = turn_on_two_factor(user)
    # The code that confirmed the setup cannot be used again, even right away.
    with pytest.raises(DomainError, match="déjà de servir"):
        two_factor.check_code(user, phone.code(), purpose="test")
    clock.next_step()
    code = phone.code()
    assert two_factor.check_code(user, code, purpose="test") == "totp"
    with pytest.raises(DomainError, match="déjà de servir"):
        two_factor.check_code(user, code, purpose="test")
    # Nor does an older code of the window, once a newer one was used.
    earlier = phone.code(at=clock() - two_factor.INTERVAL)
    with pytest.raises(DomainError, match="déjà de servir"):
        two_factor.check_code(user, earlier, purpose="test")
    db.session.commit()
    assert user.totp_last_step == int(clock() // two_factor.INTERVAL)


def test_a_phone_one_step_off_is_accepted_two_steps_are_not(world, clock):
    user = world.supplier_lead
    phone = turn_on_two_factor(user)
    clock.advance(10 * two_factor.INTERVAL)
    assert two_factor.check_code(user, phone.code(at=clock() + 30), purpose="test") == "totp"
    with pytest.raises(DomainError, match="Code incorrect"):
        two_factor.check_code(user, phone.code(at=clock() + 90), purpose="test")
    with pytest.raises(DomainError, match="Code incorrect"):
        two_factor.check_code(user, phone.code(at=clock() - 60), purpose="test")


def test_spaces_in_a_typed_code_do_not_matter_and_an_empty_one_is_asked_for(world, clock):
    user = world.supplier_lead
    phone = turn_on_two_factor(user)
    clock.next_step()
    code = phone.code()
    assert two_factor.check_code(user, f" {code[:3]} {code[3:]} ", purpose="test") == "totp"
    with pytest.raises(DomainError, match="Indiquez le code"):
        two_factor.check_code(user, "  ", purpose="test")


def test_a_recovery_code_serves_once_whatever_its_case_and_dashes(world, clock):
    user = world.buyer_lead
    phone = turn_on_two_factor(user)
    first, second = phone.recovery_codes[:2]
    assert two_factor.check_code(user, first.upper(), purpose="test") == "recovery"
    db.session.commit()
    with pytest.raises(DomainError, match="Code incorrect"):
        two_factor.check_code(user, first, purpose="test")
    assert two_factor.check_code(user, second.replace("-", " "), purpose="test") == "recovery"
    db.session.commit()
    assert two_factor.recovery_codes_left(user) == 8


def test_someone_elses_recovery_code_is_refused(world, clock):
    claire = turn_on_two_factor(world.buyer_lead)
    turn_on_two_factor(world.supplier_lead)
    with pytest.raises(DomainError, match="Code incorrect"):
        two_factor.check_code(world.supplier_lead, claire.recovery_codes[0], purpose="test")


def test_new_recovery_codes_replace_the_old_ones(world, clock):
    user = world.buyer_lead
    phone = turn_on_two_factor(user)
    clock.next_step()
    with pytest.raises(DomainError) as wrong:
        two_factor.renew_recovery_codes(user, password="pas-le-bon", code=phone.code())
    assert wrong.value.field == "password"
    db.session.rollback()
    fresh = two_factor.renew_recovery_codes(user, password=PASSWORD, code=phone.code())
    assert set(fresh).isdisjoint(phone.recovery_codes) and len(fresh) == 10
    with pytest.raises(DomainError, match="Code incorrect"):
        two_factor.check_code(user, phone.recovery_codes[0], purpose="test")
    assert two_factor.check_code(user, fresh[0], purpose="test") == "recovery"


def test_turning_off_needs_the_password_and_a_code_then_forgets_everything(world, clock):
    user = world.buyer_lead
    phone = turn_on_two_factor(user)
    clock.next_step()
    with pytest.raises(DomainError) as no_code:
        two_factor.turn_off(user, password=PASSWORD, code="123456")
    assert no_code.value.field == "code"
    db.session.rollback()
    with pytest.raises(DomainError) as no_password:
        two_factor.turn_off(user, password="pas-le-bon", code=phone.code())
    assert no_password.value.field == "password"
    db.session.rollback()
    two_factor.turn_off(user, password=PASSWORD, code=phone.recovery_codes[3])
    assert not user.has_two_factor and user.totp_secret is None and user.totp_last_step is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert _audited("double_authentification.desactivee")
    with pytest.raises(Conflict, match="pas activée"):
        two_factor.turn_off(user, password=PASSWORD, code=phone.code())


def test_moving_to_a_new_phone_needs_a_code_of_the_current_one(world, clock):
    user = world.supplier_lead
    old_phone = turn_on_two_factor(user)
    clock.next_step()
    secret, setup = _setup(user)
    new_code = pyotp.TOTP(secret).at(clock())
    with pytest.raises(DomainError) as without:
        two_factor.turn_on(user, password=PASSWORD, setup=setup, code=new_code)
    assert without.value.field == "current_code"
    db.session.rollback()
    codes = two_factor.turn_on(user, password=PASSWORD, setup=setup, code=new_code,
                               current_code=old_phone.code())  # fmt: skip
    assert user.totp_secret == secret and set(codes).isdisjoint(old_phone.recovery_codes)
    assert _audited("double_authentification.changee")
    clock.next_step()
    with pytest.raises(DomainError, match="Code incorrect"):
        two_factor.check_code(user, old_phone.code(), purpose="test")


def test_other_sessions_end_only_when_the_person_asks(app, world, clock):
    user = world.buyer_lead
    elsewhere = start_session(user, remember=False, user_agent="Téléphone", ip_address="")
    here = start_session(user, remember=False, user_agent="Bureau", ip_address="")
    secret, setup = _setup(user)
    two_factor.turn_on(user, password=PASSWORD, setup=setup, code=pyotp.TOTP(secret).at(clock()),
                       end_other_sessions=True)  # fmt: skip
    assert db.session.get(UserSession, elsewhere.id).revoked_at is not None
    assert db.session.get(UserSession, here.id).revoked_at is None  # the one it ran under


def test_the_pending_login_lasts_five_minutes_and_dies_with_a_new_password(world, clock):
    from app.auth.services import set_password

    user = world.buyer_lead
    turn_on_two_factor(user)
    pending = two_factor.begin_login(user, remember=True, target="/compte")
    assert two_factor.pending_user(pending) == user
    clock.advance(4 * 60 + 59)
    assert two_factor.pending_user(pending) == user
    clock.advance(2)
    assert two_factor.pending_user(pending) is None
    clock.advance(-10)
    set_password(user, "rhubarbe-lanterne-falaise-27")
    db.session.commit()
    assert two_factor.pending_user(pending) is None
    assert two_factor.pending_user({"user": user.id, "since": "hier"}) is None
    assert two_factor.pending_user(None) is None


def test_a_wrong_code_at_login_is_audited_without_the_code(world, clock):
    user = world.buyer_lead
    turn_on_two_factor(user)
    with pytest.raises(DomainError):
        two_factor.finish_login(user, "424242")
    [event] = _audited("connexion.echec_second_facteur")
    assert event.actor_id == user.id and event.object_id == str(user.id)
    assert "424242" not in event.payload + event.actor_label


def test_the_qr_code_is_inline_svg_the_csp_allows(world):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    uri = two_factor.provisioning_uri(world.buyer_lead, secret)
    assert uri.startswith(f"otpauth://totp/Progr%C3%A8s:claire%40acheteur.example?secret={secret}")
    svg = str(two_factor.qr_code_svg(uri, "Code QR à scanner"))
    assert svg.startswith('<svg role="img" viewBox=') and "<title>Code QR à scanner</title>" in svg
    assert "style=" not in svg and "data:" not in svg and "<script" not in svg
    assert two_factor.grouped("JBSWY3DPEHPK3PXP") == "JBSW Y3DP EHPK 3PXP"


def test_an_administrator_resets_the_two_factor_of_someone_who_lost_everything(app, world, clock):
    user = world.supplier_lead
    turn_on_two_factor(user)
    session = start_session(user, remember=False, user_agent="Téléphone perdu", ip_address="")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["admin", "reset-2fa", "--email", user.email.upper()])
    assert result.exit_code == 0, result.output
    assert "Double authentification désactivée pour sophie@titulaire.example" in result.output
    db.session.expire_all()
    assert not user.has_two_factor and two_factor.recovery_codes_left(user) == 0
    assert db.session.get(UserSession, session.id).revoked_at is not None
    assert _audited("double_authentification.reinitialisee")
    again = runner.invoke(args=["admin", "reset-2fa", "--email", user.email])
    assert again.exit_code != 0 and "n'est pas activée" in again.output
    unknown = runner.invoke(args=["admin", "reset-2fa", "--email", "personne@x.example"])
    assert unknown.exit_code != 0 and "Aucun compte" in unknown.output
