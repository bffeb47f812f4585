from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

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
