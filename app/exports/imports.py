"""Importing indicator values from a CSV or XLSX file: read, check every row, show the verdict,
then write in one transaction through `enter_value(..., source="import", commit=False)`.

The rules, as the import page states them:
- columns `indicateur` (its identifier, or its exact name), `periode` (the first day of the
  period, « 01/01/2027 » or « 2027-01-01 », or its label, « T1 2027 »), `valeur` (« 12,5 »),
  `commentaire` (optional); other columns are ignored, the header's case and accents too;
- a CSV is UTF-8 (with or without BOM), separated by « ; » or « , »; an XLSX is read from its
  first sheet, and nothing in it is ever evaluated: a formula cell is refused;
- a row without a value is ignored (the downloadable template lists every period to fill);
- a value already entered is refused: a correction is made on the indicator's page, where the
  person sees the value they replace (the version check of `enter_value`);
- nothing is imported while a row is wrong, unless the person asks for the valid rows only."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.attachments.models import Attachment
from app.attachments.services import file_path
from app.audit.services import record
from app.contracts.models import Contract, Membership
from app.difficulties.deadlines import today_in_paris
from app.errors import DomainError
from app.extensions import db
from app.indicators import services as values
from app.indicators.periods import Period
from app.plan.models import Indicator

MAX_ROWS = 5_000
MAX_COLUMNS = 30
REQUIRED = ("indicateur", "periode", "valeur")
OPTIONAL = ("commentaire",)
EXTENSIONS = ("csv", "xlsx")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")

OK, ERROR, IGNORED = "ok", "erreur", "ignoree"


class ImportFileError(DomainError):
    """The file as a whole cannot be read as an import (422): the message says why."""


# --- reading ------------------------------------------------------------------------------------


@dataclass
class RawRow:
    line: int  # as the spreadsheet numbers it: the header is line 1
    cells: dict[str, object]


def column_key(header) -> str:
    """« Période » → « periode », « Commentaire » → « commentaire »."""
    text = unicodedata.normalize("NFKD", str(header or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def extension_of(attachment: Attachment) -> str:
    name = attachment.display_name
    return name.rpartition(".")[2].lower() if "." in name else ""


def read_rows(data: bytes, extension: str) -> list[RawRow]:
    """The file's rows under their column names; raises ImportFileError for a file that cannot
    be an import (format, missing columns, too many rows or columns)."""
    if extension == "csv":
        table = _csv_table(data)
    elif extension == "xlsx":
        table = _xlsx_table(data)
    else:
        raise ImportFileError(_("Importez un fichier CSV ou XLSX."), field="file")
    header, *body = table or [[]]
    keys = [column_key(cell) for cell in header]
    missing = [name for name in REQUIRED if name not in keys]
    if missing:
        raise ImportFileError(
            _("Colonnes manquantes : %(columns)s. La première ligne doit nommer les colonnes "
              "indicateur, periode, valeur et, si besoin, commentaire.",
              columns=", ".join(missing)),
            field="file",
        )  # fmt: skip
    rows = []
    for number, cells in enumerate(body, start=2):
        row = {
            key: (cells[i] if i < len(cells) else None)
            for i, key in enumerate(keys)
            if key in REQUIRED + OPTIONAL
        }
        if all(_blank(v) for v in row.values()):
            continue
        rows.append(RawRow(number, row))
    if not rows:
        raise ImportFileError(_("Le fichier ne contient aucune ligne de valeurs."), field="file")
    return rows


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        _("Le fichier compte plus de %(max)s lignes : découpez-le en plusieurs fichiers.",
          max=f"{MAX_ROWS:,}".replace(",", "\u202f")),
        field="file",
    )  # fmt: skip


def _too_many_columns() -> ImportFileError:
    return ImportFileError(
        _("Le fichier compte plus de %(max)d colonnes : gardez indicateur, periode, valeur et "
          "commentaire.", max=MAX_COLUMNS),
        field="file",
    )  # fmt: skip


def _csv_table(data: bytes) -> list[list[object]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("Le fichier CSV doit être encodé en UTF-8 (enregistrez-le en « CSV UTF-8 »)."),
            field="file",
        ) from error
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    table = []
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            if len(cells) > MAX_COLUMNS and any(c.strip() for c in cells[MAX_COLUMNS:]):
                raise _too_many_columns()
            table.append(cells[:MAX_COLUMNS])
            if len(table) > MAX_ROWS + 1:
                raise _too_many_rows()
    except csv.Error as error:
        raise ImportFileError(
            _("Le fichier CSV est mal formé (guillemets non refermés ?) : %(error)s.",
              error=str(error)),
            field="file",
        ) from error  # fmt: skip
    return table


class _Formula(str):
    """A cell that held a formula: kept as its text, refused by the checks."""


def _xlsx_table(data: bytes) -> list[list[object]]:
    # openpyxl evaluates nothing. `data_only=False` on purpose: a formula cell then shows as
    # its formula (and is refused) instead of slipping in as the result Excel last cached.
    # XML entities: openpyxl parses with defusedxml when it is installed (it is a dependency).
    from openpyxl import load_workbook

    unreadable = ImportFileError(
        _("Le fichier XLSX n'a pas pu être lu : enregistrez-le à nouveau depuis votre tableur."),
        field="file",
    )
    table = []
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            sheet = workbook.worksheets[0]
            for cells in sheet.iter_rows(max_col=MAX_COLUMNS + 1):
                if len(cells) > MAX_COLUMNS and not _blank(getattr(cells[MAX_COLUMNS], "value", None)):  # fmt: skip
                    raise _too_many_columns()
                table.append([_xlsx_value(c) for c in cells[:MAX_COLUMNS]])
                if len(table) > MAX_ROWS + 1:
                    raise _too_many_rows()
        finally:
            workbook.close()
    except ImportFileError:
        raise
    except Exception as error:  # a broken zip, broken XML, or XML that defusedxml refuses
        raise unreadable from error
    while table and all(_blank(v) for v in table[-1]):
        table.pop()
    return table


def _xlsx_value(cell) -> object:
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f" or not isinstance(
        value, str | int | float | Decimal | date | type(None)
    ):
        return _Formula(str(getattr(value, "text", value)))  # ArrayFormula and the like
    return value


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- checking -----------------------------------------------------------------------------------


@dataclass
class ImportRow:
    line: int
    indicator_text: str
    period_text: str
    value_text: str
    comment: str
    status: str = OK
    message: str = ""
    indicator: Indicator | None = None
    period: Period | None = None
    value: Decimal | None = None

    def refuse(self, message: str) -> ImportRow:
        self.status, self.message = ERROR, message
        return self


@dataclass
class Preview:
    rows: list[ImportRow] = field(default_factory=list)

    @property
    def valid(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == OK]

    @property
    def errors(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == ERROR]

    @property
    def ignored(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == IGNORED]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f").replace(".", ",")
    return str(value).strip()


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


class _Indicators:
    """The contract's indicators by identifier and by name (a name two indicators share is
    ambiguous: the identifier is then required)."""

    def __init__(self, contract: Contract):
        self.all = values.indicators_of(contract)
        self.by_uid = {i.uid: i for i in self.all}
        self.by_name: dict[str, list[Indicator]] = {}
        for indicator in self.all:
            self.by_name.setdefault(_squash(indicator.name), []).append(indicator)

    def find(self, text: str) -> Indicator | str:
        """The indicator, or why none."""
        if not text:
            return _("Indicateur manquant.")
        if text in self.by_uid:
            return self.by_uid[text]
        found = self.by_name.get(_squash(text), [])
        if len(found) == 1:
            return found[0]
        if found:
            return _("Plusieurs indicateurs portent ce nom : indiquez son identifiant (modèle à télécharger).")  # fmt: skip
        return _("Indicateur inconnu dans le plan de ce marché : « %(text)s ».", text=text[:120])


def _period(raw, indicator: Indicator, contract: Contract, today: date) -> Period | str:
    """The indicator's period named by `raw` (its first day or its label), or why none."""
    known = values.all_periods(indicator, contract, today)
    if _blank(raw):
        return _("Période manquante.")
    day = None
    if isinstance(raw, datetime):
        day = raw.date()
    elif isinstance(raw, date):
        day = raw
    elif isinstance(raw, str):
        for pattern in DATE_FORMATS:
            try:
                day = datetime.strptime(raw.strip(), pattern).date()
                break
            except ValueError:
                continue
    if day is not None:
        period = next((p for p in known if p.start == day), None)
        if period is None:
            around = next((p for p in known if p.start <= day <= p.end), None)
            if around is not None:
                return _("Le %(day)s n'est pas le premier jour d'une période : %(label)s commence le %(start)s.",
                         day=day.strftime("%d/%m/%Y"), label=around.label,
                         start=around.start.strftime("%d/%m/%Y"))  # fmt: skip
            return _("Le %(day)s n'est pas une période de mesure de cet indicateur.",
                     day=day.strftime("%d/%m/%Y"))  # fmt: skip
    else:
        label = _squash(_text(raw))
        period = next((p for p in known if _squash(p.label) == label), None)
        if period is None:
            return _("Période illisible : « %(text)s ». Écrivez le premier jour de la période (01/01/2027) ou son libellé (T1 2027).",
                     text=_text(raw)[:40])  # fmt: skip
    if period.start > today:
        return _("La période %(label)s n'a pas encore commencé.", label=period.label)
    return period


def check(contract: Contract, membership: Membership, raw_rows: list[RawRow],
          today: date | None = None) -> Preview:  # fmt: skip
    """Every row's verdict, in the file's order; nothing is written."""
    today = today or today_in_paris()
    indicators = _Indicators(contract)
    entered = {(m.indicator_uid, m.period_start): m for m in values.measurements_of(contract)}
    seen: dict[tuple[str, date], int] = {}
    preview = Preview()
    for raw in raw_rows:
        cells = raw.cells
        row = ImportRow(
            raw.line,
            _text(cells.get("indicateur")),
            _text(cells.get("periode")),
            _text(cells.get("valeur")),
            _text(cells.get("commentaire")),
        )
        preview.rows.append(row)
        if any(isinstance(v, _Formula) or _text(v).startswith("=") for v in cells.values()):
            row.refuse(_("Les formules ne sont pas acceptées : saisissez la valeur elle-même."))
            continue
        found = indicators.find(row.indicator_text)
        if isinstance(found, str):
            row.refuse(found)
            continue
        row.indicator, row.indicator_text = found, found.name
        if not values.may_enter(membership, found):
            row.refuse(_("Les valeurs de cet indicateur sont renseignées par l'autre partie."))
            continue
        period = _period(cells.get("periode"), found, contract, today)
        if isinstance(period, str):
            row.refuse(period)
            continue
        row.period, row.period_text = period, period.label
        if _blank(cells.get("valeur")):
            row.status, row.message = IGNORED, _("Pas de valeur : ligne ignorée.")
            continue
        raw_value = cells.get("valeur")
        if isinstance(raw_value, bool):
            row.refuse(_("Indiquez un nombre, par exemple 12,5."))
            continue
        try:
            row.value = values.parse_value(
                Decimal(repr(raw_value)) if isinstance(raw_value, float) else raw_value
            )
        except DomainError as error:
            row.refuse(error.message)
            continue
        if len(row.comment) > values.COMMENT_MAX:
            row.refuse(_("Le commentaire tient en %(max)d caractères au plus.", max=values.COMMENT_MAX))  # fmt: skip
            continue
        key = (found.uid, period.start)
        if key in seen:
            row.refuse(_("Ligne en double : la ligne %(line)d porte déjà cet indicateur et cette période.", line=seen[key]))  # fmt: skip
            continue
        seen[key] = row.line
        if key in entered:
            row.refuse(_("Une valeur est déjà saisie pour %(label)s (%(value)s) : une correction se fait sur la page de l'indicateur, pas par import.",
                         label=period.label, value=_text(entered[key].value)))  # fmt: skip
            continue
    return preview


# --- the stored file ----------------------------------------------------------------------------


class NotAnImport(DomainError):
    """The attachment named is not a file this person uploaded for an import."""


def import_file(attachment: Attachment, membership: Membership) -> list[RawRow]:
    """The rows of an uploaded import file: only the uploader's own CSV or XLSX (the id comes
    back from the browser; another member's file is never read or shown here)."""
    if (
        attachment.uploaded_by_id != membership.user_id
        or extension_of(attachment) not in EXTENSIONS
    ):
        raise NotAnImport(_("Ce fichier ne peut pas être importé : déposez-le à nouveau."))
    path = file_path(attachment)
    if not path.is_file():
        raise NotAnImport(_("Ce fichier n'est plus disponible : déposez-le à nouveau."))
    return read_rows(path.read_bytes(), extension_of(attachment))


# --- writing ------------------------------------------------------------------------------------


def apply(contract: Contract, membership: Membership, preview: Preview, attachment: Attachment,
          *, valid_only: bool, today: date | None = None) -> int:  # fmt: skip
    """Write the valid rows in one transaction, or none: with `valid_only` False, any row in
    error refuses the whole file. Returns the number of values written."""
    today = today or today_in_paris()
    if preview.errors and not valid_only:
        raise DomainError(
            _("%(num)d ligne(s) en erreur : rien n'a été importé. Corrigez le fichier, ou importez seulement les lignes valides.",
              num=len(preview.errors))
        )  # fmt: skip
    if not preview.valid:
        raise DomainError(_("Aucune ligne valide à importer."))
    try:
        for row in preview.valid:
            try:
                values.enter_value(
                    contract, membership, row.indicator, period_start=row.period.start,
                    value=row.value, comment=row.comment, source="import", commit=False,
                    today=today,
                )  # fmt: skip
            except DomainError as error:
                raise type(error)(
                    _("Ligne %(line)d : %(message)s Rien n'a été importé.", line=row.line,
                      message=error.message)
                ) from error  # fmt: skip
        record(
            "mesures.import", actor=membership.user, contract_id=contract.id,
            object_type="piece", object_id=attachment.id,
            after={"fichier": attachment.display_name, "sha256": attachment.sha256,
                   "lignes": len(preview.valid), "ecartees": len(preview.errors)},
        )  # fmt: skip
        db.session.commit()
    except IntegrityError as error:  # someone entered the same period meanwhile
        db.session.rollback()
        raise DomainError(
            _("Une valeur a été saisie entre-temps pour l'une de ces périodes : rien n'a été importé, vérifiez l'aperçu à nouveau.")
        ) from error  # fmt: skip
    except DomainError:
        db.session.rollback()
        raise
    return len(preview.valid)


# --- the template to fill -----------------------------------------------------------------------

TEMPLATE_HEADERS = ("indicateur", "periode", "valeur", "commentaire", "nom_indicateur",
                    "libelle_periode", "unite")  # fmt: skip


def template_rows(contract: Contract, membership: Membership,
                  today: date | None = None) -> list[list[object]]:  # fmt: skip
    """One row per period begun and still without a value, for each indicator this person's
    side reports; `valeur` and `commentaire` are left to fill."""
    today = today or today_in_paris()
    entered = {(m.indicator_uid, m.period_start) for m in values.measurements_of(contract)}
    rows = []
    for indicator in values.indicators_of(contract):
        if not values.may_enter(membership, indicator):
            continue
        for period in values.all_periods(indicator, contract, today):
            if period.start <= today and (indicator.uid, period.start) not in entered:
                rows.append([indicator.uid, period.start, None, "", indicator.name,
                             period.label, indicator.unit])  # fmt: skip
    return rows
