"""Password hashing (Argon2id) and the password policy (ASVS 6.2).

No composition rule and no rotation: at least 12 characters, up to 256, and not guessable —
refused when zxcvbn rates it weak, given the context words (product, organisations, the
person's own name and e-mail), or when it is a common French password."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_ZXCVBN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72
CONTEXT_WORDS = ("progres", "progrès", "plan de progrès", "grandlyon", "grand lyon", "marché")
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords_fr.txt")


def hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _core(password: str) -> str:
    """The password without the digits and symbols people add around a word."""
    return _fold(password).strip("0123456789!?.*-_@#$&+= ")


def _mostly_context(password: str, words: list[str]) -> bool:
    """True when, once the context words are taken out, fewer than 10 letters or digits
    remain: « textiles-rhone-1 » for Textiles Rhône SAS, « progres-2026 »."""
    folded = _fold(password)
    parts = {_fold(w) for w in words} | {p for w in words for p in re.split(r"\W+", _fold(w))}
    remaining = folded
    for part in sorted((p for p in parts if len(p) >= 4), key=len, reverse=True):
        remaining = remaining.replace(part, " ")
    return remaining != folded and sum(c.isalnum() for c in remaining) < MIN_LENGTH - 2


def password_problem(password: str, context: list[str] | tuple[str, ...] = ()) -> str | None:
    """Return the French reason why `password` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return str(_l("Le mot de passe doit comporter au moins 12 caractères."))
    if len(password) > MAX_LENGTH:
        return str(_l("Le mot de passe ne peut pas dépasser 256 caractères."))
    if _fold(password) in _common_passwords() or _core(password) in _common_passwords():
        return str(_l("Ce mot de passe fait partie des plus courants : choisissez-en un autre."))
    words = [w for w in (*CONTEXT_WORDS, *context) if w]
    if _mostly_context(password, words):
        return str(_l("Le mot de passe ne doit pas reposer sur un nom lié à Progrès ou à vous."))
    # zxcvbn refuses more than 72 characters; its judgement of the start is enough.
    if zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=words)["score"] < MIN_ZXCVBN_SCORE:
        return str(
            _l(
                "Ce mot de passe est trop facile à deviner : allongez-le, par exemple avec "
                "plusieurs mots sans rapport entre eux."
            )
        )
    return None
