"""French formats and typography for the change documents (PDF and DOCX).

Locale-independent on purpose: the documents are always in French, whatever the reader's
language, so Babel is called with `fr_FR` here rather than through Flask-Babel."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from markupsafe import Markup

PARIS = ZoneInfo("Europe/Paris")
CENT = Decimal("0.01")
NBSP = "\u00a0"
NNBSP = "\u202f"
MINUS = "\u2212"


def money(x) -> Decimal:
    """A Decimal rounded to the cent (ROUND_HALF_UP). Floats are refused: build from strings."""
    if isinstance(x, float):
        raise TypeError("montant en float : construire les Decimal à partir de chaînes")
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio_pct(num, den) -> Decimal:
    """num / den × 100, unrounded: compare this with the legal limits."""
    return Decimal(num) / Decimal(den) * 100


def eur(x, signed: bool = False) -> str:
    """« 48 000,00 € » (U+202F between digit groups, U+00A0 before €); « + 48 000,00 € » when
    `signed` and positive; « − 48 000,00 € » (U+2212) when negative."""
    if x is None:
        return ""
    v = money(x)
    s = format_currency(abs(v), "EUR", locale="fr_FR")
    if v < 0:
        return f"{MINUS}{NBSP}{s}"
    if signed and v > 0:
        return f"+{NBSP}{s}"
    return s


def pct(x) -> str:
    """« 11,65 % » (two decimals, U+00A0 before %)."""
    if x is None:
        return ""
    q = Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)
    return format_decimal(q, format="#,##0.00", locale="fr_FR") + f"{NBSP}%"


def day(value: date | datetime | None) -> str:
    """« 25/11/2026 »."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = paris(value).date()
    return value.strftime("%d/%m/%Y")


def long_day(value: date | None) -> str:
    """« 20 octobre 2026 », « 1er mars 2027 », for the date line of a letter."""
    if value is None:
        return ""
    text = format_date(value, "d MMMM y", locale="fr_FR")
    return "1er" + text[1:] if value.day == 1 else text


def paris(dt: datetime) -> datetime:
    """A stored moment in Paris time; a naive datetime is taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(PARIS)


def moment_paris(dt: datetime | None) -> str:
    """« 20/10/2026 à 10:42 (heure de Paris) »."""
    if dt is None:
        return ""
    local = paris(dt)
    return f"{local:%d/%m/%Y} à {local:%H:%M} (heure de Paris)"


def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the end of a shorter month."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(start.day, last))
        except ValueError:
            continue
    raise ValueError(start)  # pragma: no cover


# --- French no-break spaces ----------------------------------------------------------------------

_BEFORE = re.compile(r"[ \t\r\n]+(?=[:;!?»%]|€|[—–](?:[ \t\r\n]|$))")
_AFTER_GUILLEMET = re.compile(r"«[ \t\r\n]+")
_NUMERO = re.compile(r"\b([nN]°)[ \t\r\n]+")
_DIGIT_GROUP = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


def fr(text: str) -> str:
    """Plain text with French no-break spaces: before : ; ! ? » % € and the dashes — –, after «
    and n°, and U+202F between digit groups (« 16 000 »). Only existing spaces are replaced:
    « 10:42 », URLs and hashes are left alone."""
    if not text:
        return text
    text = _BEFORE.sub(NBSP, text)
    text = _AFTER_GUILLEMET.sub("«" + NBSP, text)
    text = _DIGIT_GROUP.sub(NNBSP, text)
    return _NUMERO.sub(lambda m: m.group(1) + NBSP, text)


_RAW = re.compile(r"(<(style|script)\b.*?</\2\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I)


def fr_html(html: str) -> str:
    """The `fr` pass on the text nodes of an HTML document, never inside tags, attributes,
    comments, <style> or <script>. Character references are left intact (`fr` only replaces
    whitespace, and a reference holds none)."""
    parts = _RAW.split(html)
    out = []
    i = 0
    while i < len(parts):
        text = parts[i]
        out.append(fr(text))
        if i + 1 < len(parts):
            out.append(parts[i + 1])  # the tag, comment or raw-text element, as is
        i += 3  # re.split returns text, group 1, group 2, text…
    return "".join(out)


# --- CSS ------------------------------------------------------------------------------------------


def css_str(value) -> Markup:
    """A CSS string literal for a value printed inside <style> (margin boxes): typography
    applied, then \\ " < and line breaks escaped. Markup, so that autoescape leaves it alone
    (inside <style>, `&#34;` would be printed literally)."""
    text = fr(str(value if value is not None else ""))
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("<", "\\3c ")
        .replace("\n", "\\a ")
        .replace("\r", "")
    )
    # Safe: backslashes, double quotes, "<" and line breaks are escaped above, so the value
    # can end neither the CSS string nor the <style> element.
    return Markup(f'"{escaped}"')  # noqa: S704


def normalise(text: str) -> str:
    """Whitespace (including U+00A0 and U+202F) as single spaces: what tests compare."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()
