from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.forms import FlaskForm

EMAIL_REQUIRED = _l("Indiquez votre adresse e-mail.")
EMAIL_INVALID = _l("Indiquez une adresse e-mail valide, par exemple nom@exemple.fr.")
PASSWORD_HINT = _l(
    "12 caractères au moins. Une phrase de plusieurs mots est plus sûre et plus facile à retenir."
)


EMAIL_LABEL = _l("Adresse e-mail")
NEW_PASSWORD_LABEL = _l("Nouveau mot de passe")


def email_field(label=EMAIL_LABEL, required_message=EMAIL_REQUIRED):
    return EmailField(
        label,
        validators=[
            DataRequired(required_message),
            Email(EMAIL_INVALID, check_deliverability=False),
            Length(max=254),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def new_password_field(label=NEW_PASSWORD_LABEL):
    return PasswordField(
        label,
        validators=[DataRequired(_l("Choisissez un mot de passe."))],
        description=PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Se souvenir de moi sur cet ordinateur (30 jours)"))
    next = HiddenField()


class ForgottenPasswordForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(FlaskForm):
    password = new_password_field()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(_l("Indiquez votre mot de passe actuel."))],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field()


class NewAccountForm(FlaskForm):
    full_name = StringField(
        _l("Prénom et nom"),
        validators=[DataRequired(_l("Indiquez votre prénom et votre nom.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    password = new_password_field(_l("Mot de passe"))


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: logout, accepting an invitation, revoking a session."""


# --- two-factor authentication (app/auth/two_factor.py) ---------------------------------------

CODE_REQUIRED = _l("Indiquez le code affiché par votre application d'authentification.")
CODE_LABEL = _l("Code de votre application d'authentification")
CODE_HINT = _l("Les 6 chiffres affichés pour Progrès, ou un de vos codes de secours.")
CONFIRM_PASSWORD_LABEL = _l("Votre mot de passe, pour confirmer")


def second_factor_field(label=CODE_LABEL, hint=CODE_HINT, required=True):
    """A code typed from the app (6 digits) or a recovery code (letters too: no numeric
    keyboard); the service says whether it is right."""
    return StringField(
        label,
        validators=[DataRequired(CODE_REQUIRED) if required else Optional(), Length(max=40)],
        description=hint,
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )


def current_password_field(label=CONFIRM_PASSWORD_LABEL):
    return PasswordField(
        label,
        validators=[DataRequired(_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )


END_OTHER_SESSIONS_LABEL = _l("Fermer mes autres sessions ouvertes")


class SecondFactorForm(FlaskForm):
    """The login's second step."""

    code = second_factor_field(_l("Code de vérification"))


class TwoFactorOnForm(FlaskForm):
    """Turning it on (or moving it to a new app): the secret rides in `setup`, signed."""

    setup = HiddenField()
    code = StringField(
        _l("Code à 6 chiffres affiché par l'application"),
        validators=[DataRequired(CODE_REQUIRED), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )
    current_code = second_factor_field(
        _l("Code de votre application actuelle, ou un code de secours"),
        hint=_l("L'application que vous remplacez, tant que vous l'avez encore."),
        required=False,
    )
    password = current_password_field()
    end_other_sessions = BooleanField(END_OTHER_SESSIONS_LABEL, default=True)


class RecoveryCodesForm(FlaskForm):
    code = second_factor_field()
    password = current_password_field()


class TwoFactorOffForm(FlaskForm):
    code = second_factor_field()
    password = current_password_field()
    end_other_sessions = BooleanField(END_OTHER_SESSIONS_LABEL, default=True)
