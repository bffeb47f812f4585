from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.forms import FlaskForm
from app.schedule.services import COMMENT_MAX, STATUSES


class FollowUpForm(FlaskForm):
    """Where an action stands. The rules (who may validate, 0–100 %, dates in order) are the
    service's; the form only parses what was typed, and gives it back on an error."""

    version = HiddenField()  # empty: the action was never followed yet
    status = SelectField(
        _l("Statut"),
        choices=[SelectChoice(k, v) for k, v in STATUSES.items()],
        validate_choice=False,  # the service answers in French, next to the field
    )
    # A text input with a numeric keyboard, not type=number (which silently drops « 40 % »).
    progress = StringField(
        _l("Avancement (%)"),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 4},
    )
    actual_start = DateField(_l("Début réel"), validators=[Optional()])
    actual_end = DateField(_l("Fin réelle"), validators=[Optional()])
    comment = TextAreaField(
        _l("Commentaire"), validators=[Length(max=COMMENT_MAX)], render_kw={"rows": 2}
    )

    def for_row(self, uid: str, may_validate: bool, current_status: str) -> "FollowUpForm":
        """Ids unique on the page (one form per open row), and « Validée » offered only to
        the buyer (or kept as it is, when the action is already validated)."""
        for f in self:
            f.id = f"{f.name}-{uid}"
            f.label.field_id = f.id
        if not may_validate and current_status != "validee":
            self.status.choices = [
                SelectChoice(k, v, render_kw={"disabled": True} if k == "validee" else {})
                for k, v in STATUSES.items()
            ]
            self.status.description = _l(
                "« Validée » est réservé à l'acheteur : son comité de pilotage valide les actions."
            )
        if not self.errors and not self.form_errors:  # keyboard users land in the form
            self.status.render_kw = {"data-autofocus": True}
        return self

    def seen_version(self) -> int | None:
        try:
            return int(self.version.data) if self.version.data else None
        except ValueError:
            return -1  # never a row's version: answered as a conflict

    def values(self) -> dict:
        return {name: getattr(self, name).data
                for name in ("status", "progress", "actual_start", "actual_end", "comment")}  # fmt: skip
