"""Password policy and storage (ASVS 6.2, 11.4.2)."""

import pytest
from argon2 import PasswordHasher

from app import create_app
from app.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from app.auth.services import set_password
from app.errors import DomainError
from tests import factories

STRONG = "jonquille-brouette-orage-81"
TWELVE = "zorbec-palu7"  # not common, not a name, nothing but its length near the limit
TOO_SHORT = "au moins 12 caractères"
COMMON = "fait partie des plus courants"
NAMED = "ne doit pas reposer sur un nom lié à Progrès ou à vous"


def reason(password: str, *context: str) -> str:
    """Why the policy refuses `password`, or « accepté »."""
    return password_problem(password, list(context)) or "accepté"


@pytest.mark.parametrize(
    "password",
    [
        "court-trop",  # 10 characters
        "a" * 11,
        "motdepasse123",
        "azertyuiop",
        "Azertyuiop!!",
        "progres-2026-lyon",
        "textiles-rhone-1",
    ],
)
def test_weak_or_short_passwords_are_refused_with_a_french_reason(app, password):
    problem = password_problem(password, ["Textiles Rhône SAS"])
    assert problem is not None
    assert problem[0].isupper() and problem.endswith(".")


@pytest.mark.parametrize(
    "password",
    [
        STRONG,
        "qmzvtrwkplxbnhdgfsjcyaeuoiqmzvtrwkplxbnhdgfsjcyaeuoiwkplxbnhdgfs",  # 64, one class
        "Les ours polaires dansent sous la pluie de novembre, puis vont dormir tranquilles",
        "Ferme-la-porte-du-cellier-avant-que-le-chat-noir-ne-file-vers-la-forêt-de-Chaux-ou-la-brume-tombe-tôt-9x",  # 101
    ],
)
def test_long_passwords_are_accepted_without_composition_rules(app, password):
    assert password_problem(password) is None


def test_exactly_twelve_characters_are_enough_and_eleven_are_not(app):
    assert len(TWELVE) == 12
    assert reason(TWELVE, "Textiles Rhône SAS") == "accepté"
    for eleven in (TWELVE[:11], "Zq7!vR2#kL9"):  # however random
        assert len(eleven) == 11
        assert TOO_SHORT in reason(eleven)


def test_a_common_password_of_twelve_characters_is_refused_as_common(app):
    for common in ("bienvenue123", "Bienvenue123!", "123456789012"):
        assert len(common) >= 12
        assert COMMON in reason(common, "Textiles Rhône SAS")


def test_a_password_built_on_the_organisation_name_is_refused_for_that_reason(app):
    assert reason("Textiles-Rhone") == "accepté"  # strong enough without the context
    assert NAMED in reason("Textiles-Rhone", "Textiles Rhône SAS")
    # Through the account service, the person's own organisation is the context (a newcomer,
    # on no contract yet: nothing else names it).
    organisation = factories.make_organisation("Textiles Rhône SAS")
    newcomer = factories.make_user("nina@titulaire.example", organisation=organisation)
    with pytest.raises(DomainError) as refused:
        set_password(newcomer, "Textiles-Rhone")
    assert NAMED in refused.value.message


def test_password_over_256_characters_is_refused(app):
    assert "256" in password_problem("k" * 257)


def test_hash_is_argon2id_and_password_is_checked_exactly(app):
    stored = hash_password(STRONG)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, STRONG)
    assert not verify_password(stored, STRONG[:-1])  # no truncation
    assert not verify_password(stored, STRONG.upper())  # no case folding
    assert not verify_password(None, STRONG)
    assert not verify_password("not-a-hash", STRONG)


def test_production_parameters_meet_owasp_minimums():
    config = create_app("production", SECRET_KEY="s" * 40).config
    assert config["ARGON2_MEMORY_COST"] >= 19_456
    assert config["ARGON2_TIME_COST"] >= 2
    assert config["ARGON2_PARALLELISM"] == 1


def test_an_outdated_hash_is_upgraded_at_login(client, world):
    from app.extensions import db

    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(
        "jonquille-brouette-orage-81"
    )
    world.buyer_lead.password_hash = weak
    db.session.commit()
    assert needs_rehash(weak)
    response = client.post(
        "/connexion",
        data={"email": world.buyer_lead.email, "password": "jonquille-brouette-orage-81"},
    )
    assert response.status_code == 302
    db.session.refresh(world.buyer_lead)
    assert world.buyer_lead.password_hash != weak
    assert not needs_rehash(world.buyer_lead.password_hash)


def test_a_128_character_password_round_trips(app):
    password = "Ferme-la-porte-du-cellier-avant-que-le-chat-noir-ne-file-" * 2 + "vers-la-forêt-9x"
    assert len(password) >= 128
    assert password_problem(password) is None
    assert verify_password(hash_password(password), password)
