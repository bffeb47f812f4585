"""Accounts, logins and server-side sessions, password reset."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, null, select, update
from sqlalchemy.orm import joinedload

from app.audit import services as audit
from app.auth.models import PasswordResetToken, User, UserSession
from app.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.database import built_once, writing
from app.db_types import utcnow
from app.errors import DomainError, InvalidLink
from app.extensions import db
from app.links import external_url
from app.outbox.services import queue_email
from app.tokens import claim_once, new_token, token_hash

# Verified when the e-mail is unknown, so timing does not tell which accounts exist.
_DUMMY_HASH: str | None = None
# Writing last_seen on every request would make every page a write; a minute is precise enough.
LAST_SEEN_PRECISION = timedelta(minutes=1)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def password_context(user: User | None, extra: tuple[str, ...] = ()) -> list[str]:
    words = list(extra)
    if user is not None:
        words += [user.email.split("@")[0], user.full_name]
        if user.organisation:
            words.append(user.organisation.name)
        words += [m.contract.buyer.name for m in user.memberships]
        words += [m.contract.supplier.name for m in user.memberships]
    return words


def set_password(user: User, password: str, *, context: tuple[str, ...] = ()) -> None:
    """Check the policy, then store the Argon2id hash. Raises DomainError on the field."""
    problem = password_problem(password, password_context(user, context))
    if problem:
        raise DomainError(problem, field="password")
    user.password_hash = hash_password(password)


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Upgrades an outdated hash."""
    global _DUMMY_HASH
    user = user_by_email(email)
    if user is None or not user.password_hash:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_urlsafe(16))
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_failed_login(email: str) -> None:
    audit.record("connexion.echec", actor_label=normalize_email(email)[:254], object_type="user")
    db.session.commit()


def start_session(user: User, *, remember: bool, user_agent: str, ip_address: str) -> UserSession:
    """Open a new server-side session (a fresh random id, so no fixation) and commit."""
    user_session = UserSession(
        id=secrets.token_urlsafe(32),
        user=user,
        remember=remember,
        user_agent=(user_agent or "")[:255],
        ip_address=(ip_address or "")[:45],
    )
    db.session.add(user_session)
    audit.record("connexion", actor=user, object_type="user", object_id=user.id)
    db.session.commit()
    user.current_session = user_session
    return user_session


def _limits(user_session: UserSession) -> tuple[timedelta, timedelta]:
    config = current_app.config
    if user_session.remember:
        return config["REMEMBER_IDLE_TIMEOUT"], config["REMEMBER_ABSOLUTE_TIMEOUT"]
    return config["SESSION_IDLE_TIMEOUT"], config["SESSION_ABSOLUTE_TIMEOUT"]


def is_session_valid(user_session: UserSession, now: datetime) -> bool:
    idle, absolute = _limits(user_session)
    return (
        user_session.revoked_at is None
        and user_session.user.active
        and now - user_session.last_seen_at < idle
        and now - user_session.created_at < absolute
    )


@built_once
def _session_with_user():
    return (
        select(UserSession)
        .where(UserSession.id == bindparam("session_id"))
        .options(_user_and_organisation())
    )


def _user_and_organisation():
    """The session's person and their organisation, which the header of every page shows
    (read alone, it was one more query wherever no party of the page's contract is theirs)."""
    return joinedload(UserSession.user).joinedload(User.organisation)


def resume_session(session_id: str) -> User | None:
    """The user of a live session (for Flask-Login's loader); None if revoked or expired."""
    return _resumed(db.session.scalar(_session_with_user(), {"session_id": session_id}))


def resume_session_for_page(session_id: str, contract_id: int | None) -> User | None:
    """resume_session for a read request, with what every page reads next in the same query:
    the person's membership of the page's contract (its contract and both parties), read by
    permissions.load_membership, and the bell's count (notifications.unread_count_shown).
    Two round trips fewer on every page; a write request reads them when it needs them."""

    row = db.session.execute(
        _session_for_page(contract_id is not None),
        {"session_id": session_id, "contract_id": contract_id},
    ).first()
    if row is None:
        return None
    user_session, membership, unread = row
    user = _resumed(user_session)
    if user is not None:
        g.read_with_session = {"user_id": user.id, "contract_id": contract_id,
                               "membership": membership, "unread": unread}  # fmt: skip
    return user


@built_once
def _session_for_page(on_contract: bool):
    from app.contracts.models import Membership
    from app.notifications.services import unread_count_of
    from app.permissions import with_contract_and_parties

    on_this_contract = (Membership.user_id == UserSession.user_id) & (
        Membership.contract_id == bindparam("contract_id")
    )
    query = select(
        UserSession,
        Membership if on_contract else null(),
        unread_count_of(UserSession.user_id).scalar_subquery(),
    ).where(UserSession.id == bindparam("session_id"))
    query = query.options(_user_and_organisation())
    if on_contract:
        query = query.outerjoin(Membership, on_this_contract).options(*with_contract_and_parties())
    return query


def _resumed(user_session: UserSession | None) -> User | None:
    now = utcnow()
    if user_session is None or not is_session_valid(user_session, now):
        return None
    if now - user_session.last_seen_at >= LAST_SEEN_PRECISION:
        # A transaction of its own, so the request's own stays untouched (and a read request
        # takes the write lock only for this statement).
        with writing():
            db.session.execute(
                update(UserSession)
                .where(UserSession.id == user_session.id)
                .values(last_seen_at=now)
            )
    user = user_session.user
    user.current_session = user_session
    return user


def end_session(user: User) -> None:
    if user.current_session is not None:
        user.current_session.revoked_at = utcnow()
        audit.record("deconnexion", actor=user, object_type="user", object_id=user.id)
        db.session.commit()


def live_sessions(user: User) -> list[UserSession]:
    now = utcnow()
    sessions = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    )
    return [s for s in sessions if is_session_valid(s, now)]


def revoke_session(user: User, session_id: str) -> None:
    """End one of the user's own sessions (« Mes sessions »)."""
    target = db.session.scalar(
        select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    )
    if target is None:
        raise DomainError(_("Cette session n'existe pas ou est déjà terminée."))
    target.revoked_at = utcnow()
    audit.record("session.revoquee", actor=user, object_type="user", object_id=user.id)
    db.session.commit()


def _revoke_all(user: User, keep: UserSession | None = None) -> None:
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    db.session.execute(query.values(revoked_at=utcnow()))


def log_out_everywhere(user: User) -> None:
    _revoke_all(user)
    audit.record("deconnexion.partout", actor=user, object_type="user", object_id=user.id)
    db.session.commit()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Requires the current password; ends every other session (ASVS 6.2.3, 7.4.3)."""
    if not verify_password(user.password_hash, current_password):
        raise DomainError(_("Le mot de passe actuel est incorrect."), field="current_password")
    set_password(user, new_password)
    _revoke_all(user, keep=user.current_session)
    audit.record("mot_de_passe.change", actor=user, object_type="user", object_id=user.id)
    db.session.commit()


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists; the caller answers the same either way."""
    user = user_by_email(email)
    if user is None or not user.active or not user.password_hash:
        return
    token, hashed = new_token()
    lifetime = current_app.config["PASSWORD_RESET_LIFETIME"]
    db.session.add(PasswordResetToken(token_hash=hashed, user=user, expires_at=utcnow() + lifetime))
    link = external_url("auth.reset_password", token=token)
    # In the language the person chose, else French (not that of whoever asked: anyone may).
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        queue_email(
            user.email,
            _("Progrès : réinitialisation de votre mot de passe"),
            render_template(
                "auth/emails/reset.txt", user=user, link=link, minutes=lifetime.seconds // 60
            ),
            kind="reinitialisation",
        )
    audit.record("mot_de_passe.demande", actor=user, object_type="user", object_id=user.id)
    db.session.commit()


def valid_reset_token(token: str) -> PasswordResetToken:
    reset = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise InvalidLink(_("Ce lien n'est plus valable : demandez-en un nouveau."))
    return reset


def reset_password(token: str, new_password: str) -> User:
    """Use a reset link once: new password, every session ended, no automatic login."""
    reset = valid_reset_token(token)
    user = reset.user
    set_password(user, new_password)
    if not claim_once(PasswordResetToken, reset.id):
        raise InvalidLink(_("Ce lien n'est plus valable : demandez-en un nouveau."))
    _revoke_all(user)
    audit.record("mot_de_passe.reinitialise", actor=user, object_type="user", object_id=user.id)
    db.session.commit()
    return user


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))
