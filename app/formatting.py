"""French (or English) formats for amounts, dates and the domain's labels."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import format_currency, format_date, format_datetime, format_decimal
from flask_babel import lazy_gettext as _l

PARIS = ZoneInfo("Europe/Paris")

LABELS = {
    "side": {"acheteur": _l("Acheteur"), "titulaire": _l("Titulaire")},
    "role": {
        "referent": _l("Référent"),
        "contributeur": _l("Contributeur"),
        "observateur": _l("Observateur"),
    },
    "category": {
        "travaux": _l("Travaux"),
        "fournitures": _l("Fournitures"),
        "services": _l("Services"),
    },
    "kind": {"acheteur_public": _l("Acheteur public"), "entreprise": _l("Entreprise")},
}


def money(amount: Decimal | None) -> str:
    return "" if amount is None else format_currency(amount, "EUR")


def day(value: date | None) -> str:
    """« 31 décembre 2027 », for prose."""
    return "" if value is None else format_date(value, "d MMMM y")  # « 1 July 2026 » in English too


def day_short(value: date | None) -> str:
    """« 30 avr. 2026 », for tables."""
    return "" if value is None else format_date(value, "d MMM y")


def moment(value: datetime | None) -> str:
    """« 25 novembre 2026 à 14:05 », in Paris time."""
    return "" if value is None else format_datetime(value, "d MMMM y HH:mm")


def days_until(value: date) -> int:
    return (value - datetime.now(PARIS).date()).days


def decimal(value: Decimal | None) -> str:
    """« 12 345,5 »: French digits, no useless trailing zeros."""
    return "" if value is None else format_decimal(value, format="#,##0.##")


def hour(value: datetime | None) -> str:
    """« 14:32 », in Paris time."""
    return "" if value is None else format_datetime(value, "HH:mm")
