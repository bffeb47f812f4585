"""Language choice: French unless the person chose English."""

from functools import lru_cache

from babel.support import Translations
from flask import current_app, has_request_context, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs speak French
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def bound_gettext() -> dict:
    """Templates' `_()` and `ngettext()` bound to this render's catalogue (a context processor).

    Flask-Babel's template globals look the catalogue up at every call (14 µs each, 80 to 100
    calls a page: 1 ms, twice a bare response; bench/RESULTS.md). Jinja's `_` resolves
    `gettext` from the render's context before the globals, so these are used by the page, its
    includes and the macros imported with context; others keep Flask-Babel's. Read when the
    render starts, so `force_locale` (e-mails, documents) is honoured.
    """
    translations = get_translations()
    ugettext, ungettext = translations.ugettext, translations.ungettext

    # Jinja's « newstyle » semantics (jinja2.ext._make_new_gettext): always a format string
    # (so « %% » means « % »), marked safe when autoescaping, the number given as `num`. The
    # text is our catalogue's; Markup's « % » escapes the variables.
    @pass_context
    def gettext(context, string, **variables):
        text = ugettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # noqa: S704

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # noqa: S704

    return {"gettext": gettext, "ngettext": ngettext}


@lru_cache(maxsize=8)
def _wtforms_catalogue(locale: str) -> Translations:
    from wtforms.i18n import messages_path

    return Translations.load(messages_path(), [locale], domain="wtforms")


class WTFormsMessages:
    """WTForms' own messages (« Not a valid choice »…) in the reader's language, for the
    forms' `Meta.get_translations` (app/forms.py). Flask-WTF's loaded the catalogue from its
    file once per request that built a form: 0.2 ms, an eighth of the login page (bench/); it
    does not change while the process runs."""

    def gettext(self, string: str) -> str:
        return _wtforms_catalogue(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n)


wtforms_messages = WTFormsMessages()
