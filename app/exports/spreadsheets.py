"""Values as CSV and XLSX (and the import template in both formats).

Every text cell a spreadsheet would run as a formula, one starting with = + - @ tab or CR,
is written with a leading « ' » (SECURITY.md, ASVS 1.2.10, L3 adopted). Numbers stay numbers
and dates stay dates, so a negative value is never mistaken for text."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _

from app.contracts.models import Contract
from app.difficulties.deadlines import today_in_paris
from app.indicators import services as values
from app.indicators.models import SOURCES, VALIDATIONS
from app.indicators.periods import MONTHS as PERIOD_MONTHS
from app.indicators.periods import period_containing

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """« =HYPERLINK(…) » → « '=HYPERLINK(…) » (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def french_number(value: Decimal) -> str:
    """« 12,5 »: a decimal comma, no group separator (spreadsheets read it back as a number)."""
    return format(value.normalize(), "f").replace(".", ",")


def to_csv(headers, rows) -> bytes:
    """`;`-separated, UTF-8 with a BOM (Excel then reads the accents), CRLF line ends."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(str(h)) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return french_number(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int | float):
        return str(value)
    return neutralise(str(value))


def to_xlsx(headers, rows, title: str) -> bytes:
    """One sheet, bold header frozen at the top, dates as dates, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([neutralise(str(h)) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(str(h)) for h in headers]
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in row])
        for i, value in enumerate(row):
            widths[i] = max(widths[i], min(60, len(_csv_cell(value))))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width + 2
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(value):
    if value is None or isinstance(value, Decimal | int | float | date):
        return value
    return neutralise(str(value))


# --- the values of a contract -------------------------------------------------------------------


def value_headers() -> list[str]:
    return [_("Objectif"), _("Indicateur"), _("Identifiant de l'indicateur"), _("Unité"),
            _("Période"), _("Début de période"), _("Fin de période"), _("Valeur"),
            _("Commentaire"), _("Source"), _("Saisie par"), _("Partie"), _("Saisie le"),
            _("Validation"), _("Note de validation")]  # fmt: skip


def value_rows(contract: Contract, uid: str | None = None) -> list[list[object]]:
    """Every value of the plan's indicators (or of one), indicator by indicator, oldest first."""
    sides = {"acheteur": _("Acheteur"), "titulaire": _("Titulaire")}
    by_uid: dict[str, list] = {}
    for m in values.measurements_of(contract, uid):
        by_uid.setdefault(m.indicator_uid, []).append(m)
    rows = []
    for indicator in values.indicators_of(contract):
        if uid is not None and indicator.uid != uid:
            continue
        months = PERIOD_MONTHS[indicator.periodicity]
        for m in by_uid.get(indicator.uid, []):
            rows.append([
                indicator.objective.title, indicator.name, indicator.uid, indicator.unit,
                period_containing(m.period_start, months).label, m.period_start, m.period_end,
                m.value, m.comment, str(SOURCES.get(m.source, m.source)),
                m.entered_by.full_name if m.entered_by else "", sides.get(m.entered_by_side, ""),
                today_in_paris(m.entered_at), str(VALIDATIONS.get(m.validation, m.validation)),
                m.validation_note,
            ])  # fmt: skip
    return rows
