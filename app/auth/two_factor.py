"""Two-factor authentication by TOTP (RFC 6238; SECURITY.md 6.3.3, 6.5.1, 7.5.1).

A person turns it on from « Mon compte »: Progrès draws a fresh secret, shows it as a QR code
and as text, and keeps it only once the person typed a first code from their app and their
password again. Ten single-use recovery codes stand in for a lost phone. Once on, the login
asks a code after the password, and a contract may require it of its leads' visas.

Codes: 6 digits, 30-second steps, one step either side accepted (a phone's clock drifts). The
time-step of the last accepted code is stored and a code of that step or an earlier one is
refused, so a code serves once, even to two requests at the same moment (one conditional
UPDATE wins).

Recovery codes are hashed with SHA-256, not Argon2: they are 60 random bits from `secrets`
(not chosen by a person, so no dictionary to try), the TOTP secret beside them in the same
database has to be stored readable anyway (an attacker who reads the database makes codes
from it), and a hash of the code finds its row in one indexed lookup, where Argon2 would verify
up to ten 19 MiB hashes per attempt on a page anyone with the password can post to."""

from __future__ import annotations

import hmac
import logging
import secrets
import time

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.audit import services as audit
from app.auth.models import RecoveryCode, User
from app.auth.passwords import verify_password
from app.auth.services import _revoke_all
from app.db_types import utcnow
from app.errors import Conflict, DomainError
from app.extensions import db
from app.tokens import claim_once, token_hash

log = logging.getLogger("progres.auth")

ISSUER = "Progrès"
INTERVAL = 30  # seconds per code (RFC 6238's default, what every app expects)
DIGITS = 6
VALID_WINDOW = 1  # time-steps accepted either side of now
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 12  # 12 characters of a 32-letter alphabet: 60 bits
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32: no i, l, o, u
# What people type for the letters left out of the alphabet.
RECOVERY_LOOKALIKES = str.maketrans({"i": "1", "l": "1", "o": "0"})
SETUP_MAX_AGE = 15 * 60  # seconds to scan the QR code and type a first code
SETUP_SALT = "progres.double-authentification"
SETUP_EXPIRED = _l(
    "La mise en place a expiré : un nouveau code QR est affiché, ajoutez-le à votre application."
)
SETUP_INVALID = _l(
    "La mise en place n'est pas valable : un nouveau code QR est affiché, ajoutez-le à votre application."
)
VISA_NEEDS_TWO_FACTOR = _l(
    "Ce marché exige la double authentification pour donner un visa : activez-la dans « Mon compte », puis revenez viser."
)


def clock() -> float:
    """Now, in seconds (tests move it to the next time-step)."""
    return time.time()


# --- turning it on ----------------------------------------------------------------------------


def new_secret() -> str:
    """160 random bits in base32, the length RFC 4226 recommends."""
    return pyotp.random_base32()


def grouped(text: str, size: int = 4) -> str:
    """« JBSW Y3DP EHPK 3PXP »: easier to type by hand than one block of 32 letters."""
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, interval=INTERVAL, digits=DIGITS).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )


def qr_code_svg(uri: str, title: str) -> Markup:
    """The QR code as inline SVG markup: presentation attributes only (no `style`, no `data:`
    URL), so the page stays within the CSP."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5,
        border=4,
        dark="#1e1e1e",
        light="#ffffff",
        title=title,
        svgclass="qr-code",
        omitsize=True,
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 (segno's own markup, the title escaped by segno)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SETUP_SALT)


def setup_token(user: User, secret: str) -> str:
    """The secret being set up, signed for this person, carried by the form until confirmed
    (nothing is stored before the first code, and a GET writes nothing)."""
    return _serializer().dumps({"user": user.id, "secret": secret})


def secret_of_setup(user: User, token: str) -> str:
    """The secret a setup form carries; DomainError when it is too old or not this person's."""
    try:
        data = _serializer().loads(token or "", max_age=SETUP_MAX_AGE)
    except SignatureExpired as error:
        raise DomainError(str(SETUP_EXPIRED), "code") from error
    except BadSignature as error:
        raise DomainError(str(SETUP_INVALID), "code") from error
    if not isinstance(data, dict) or data.get("user") != user.id:
        raise DomainError(str(SETUP_INVALID), "code")
    return str(data.get("secret", ""))


def turn_on(user: User, *, password: str, setup: str, code: str, current_code: str = "",
            end_other_sessions: bool = False) -> list[str]:  # fmt: skip
    """Keep the secret of `setup` once `code` shows the app has it and the password is right
    (ASVS 7.5.1). Already on: this replaces the app (a new phone), which also needs a code of
    the current one or a recovery code. Returns the new recovery codes, shown once; optionally
    ends the person's other sessions (ASVS 7.4.3)."""
    secret = secret_of_setup(user, setup)
    _check_password(user, password)
    changing = user.has_two_factor
    if changing:
        check_code(user, current_code, purpose="changement", field="current_code")
    step = _matching_step(secret, _normalized(code), clock())
    if step is None:
        log.warning("auth.second_factor.refused user=%s purpose=activation", user.id)
        raise DomainError(
            _(
                "Ce code ne correspond pas : saisissez le code que votre application affiche pour Progrès, avant qu'il change."
            ),
            "code",
        )
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, utcnow(), step
    codes = _replace_recovery_codes(user)
    if end_other_sessions:
        _end_other_sessions(user)
    action = "double_authentification.changee" if changing else "double_authentification.activee"
    audit.record(action, actor=user, object_type="user", object_id=user.id)
    db.session.commit()
    return codes


# --- checking a code --------------------------------------------------------------------------


def _normalized(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time-step within the window whose code is `code`, or None."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=INTERVAL, digits=DIGITS)
    current = int(now // INTERVAL)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record `step` as the last one used, unless it (or a later one) already was."""
    result = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        set_committed_value(user, "totp_last_step", step)
        return True
    return False


def _use_recovery_code(user: User, code: str) -> bool:
    code = code.translate(RECOVERY_LOOKALIKES)
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    row_id = db.session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == token_hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    return row_id is not None and claim_once(RecoveryCode, row_id)


def check_code(user: User, code: str | None, *, purpose: str, field: str = "code") -> str:
    """Accept a code of the person's app, or one of their recovery codes (used up). Does not
    commit: the caller's transaction keeps the code's use with what it allowed. Returns
    "totp" or "recovery"; raises DomainError on `field` otherwise, and logs the refusal
    (never the code)."""
    if not user.has_two_factor:
        raise Conflict(_("La double authentification n'est pas activée sur votre compte."))
    typed = _normalized(code)
    if not typed:
        raise DomainError(
            _("Indiquez le code affiché par votre application d'authentification."), field
        )
    step = _matching_step(user.totp_secret, typed, clock())
    if step is not None:
        if _claim_step(user, step):
            return "totp"
        log.warning(
            "auth.second_factor.refused user=%s purpose=%s reason=deja_utilise", user.id, purpose
        )
        raise DomainError(
            _(
                "Ce code vient déjà de servir : attendez que votre application en affiche un nouveau (30 secondes au plus)."
            ),
            field,
        )
    if _use_recovery_code(user, typed):
        log.info("auth.second_factor.recovery_code_used user=%s purpose=%s", user.id, purpose)
        return "recovery"
    log.warning("auth.second_factor.refused user=%s purpose=%s reason=incorrect", user.id, purpose)
    raise DomainError(
        _(
            "Code incorrect : saisissez le code à 6 chiffres que votre application affiche pour Progrès, ou un de vos codes de secours."
        ),
        field,
    )


def check_for_visa(user: User, visa_requires_2fa: bool, code: str | None) -> None:
    """What a visa needs besides the password: a current code from any lead who turned the
    two-factor authentication on (whether or not the contract requires it: the person chose
    the stronger proof); a contract that requires it refuses leads who have not. Does not
    commit (the visa's transaction does)."""
    if user.has_two_factor:
        check_code(user, code, purpose="visa")
    elif visa_requires_2fa:
        raise DomainError(str(VISA_NEEDS_TWO_FACTOR), "code")


# --- the login's second step ------------------------------------------------------------------


def _password_mark(user: User) -> str:
    # A new password since the first step (a reset, say) voids the pending step.
    return token_hash(user.password_hash or "")[:16]


def begin_login(user: User, *, remember: bool, target: str) -> dict:
    """The password was right and the person has the two-factor authentication: what the
    browser keeps (in its signed session cookie) until the code. No session is opened yet.
    Commits the password hash `authenticate` may have upgraded."""
    db.session.commit()
    return {"user": user.id, "since": int(clock()), "remember": bool(remember), "next": target,
            "mark": _password_mark(user)}  # fmt: skip


def pending_user(pending: object) -> User | None:
    """The person whose password this browser gave less than 5 minutes ago, still active and
    still with the two-factor authentication; None otherwise."""
    if not isinstance(pending, dict) or not isinstance(pending.get("since"), int):
        return None
    lifetime = current_app.config["SECOND_FACTOR_PENDING_LIFETIME"].total_seconds()
    if not 0 <= clock() - pending["since"] < lifetime:
        return None
    user = (
        db.session.get(User, pending.get("user")) if isinstance(pending.get("user"), int) else None
    )
    if user is None or not user.active or not user.has_two_factor:
        return None
    if not hmac.compare_digest(_password_mark(user), str(pending.get("mark", ""))):
        return None
    return user


def finish_login(user: User, code: str | None) -> None:
    """The code of the second step; a refusal is audited (without the code) and committed."""
    try:
        check_code(user, code, purpose="connexion")
    except DomainError:
        db.session.rollback()
        audit.record(
            "connexion.echec_second_facteur", actor=user, object_type="user", object_id=user.id
        )
        db.session.commit()
        raise
    # The code's use is committed with the session that start_session opens next.


# --- recovery codes, turning it off -----------------------------------------------------------


def _new_recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


def formatted(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=token_hash(c)) for c in codes)
    return [formatted(c) for c in codes]


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def renew_recovery_codes(user: User, *, password: str, code: str) -> list[str]:
    """Ten new recovery codes for the password and a current code; the old ones stop working."""
    _check_password(user, password)
    check_code(user, code, purpose="codes_de_secours")
    codes = _replace_recovery_codes(user)
    audit.record("double_authentification.codes_renouveles", actor=user, object_type="user",
                 object_id=user.id)  # fmt: skip
    db.session.commit()
    return codes


def turn_off(user: User, *, password: str, code: str, end_other_sessions: bool = False) -> None:
    """Forget the secret and the recovery codes, for the password and a current code or a
    recovery code (ASVS 7.5.1); optionally end the other sessions (ASVS 7.4.3)."""
    _check_password(user, password)
    check_code(user, code, purpose="desactivation")
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if end_other_sessions:
        _end_other_sessions(user)
    audit.record("double_authentification.desactivee", actor=user, object_type="user",
                 object_id=user.id)  # fmt: skip
    db.session.commit()


# --- shared ---------------------------------------------------------------------------------


def _check_password(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password or ""):
        raise DomainError(_("Mot de passe incorrect."), "password")


def _end_other_sessions(user: User) -> None:
    _revoke_all(user, keep=user.current_session)


def reset_by_administrator(user: User) -> None:
    """For a person who lost both their phone and their recovery codes (`flask admin
    reset-2fa`): the two-factor authentication off and every session of theirs ended, since
    the lost phone may be in someone else's hands."""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _revoke_all(user)
    audit.record("double_authentification.reinitialisee", actor_label="administrateur (commande flask)",
                 object_type="user", object_id=user.id)  # fmt: skip
    db.session.commit()
