"""The plan as a PDF: one HTML template and its print stylesheet, rendered by WeasyPrint.

WeasyPrint fetches every URL the HTML names (images, stylesheets, `rel=attachment` files).
Text written by users reaches this HTML through Markdown sanitised by nh3, and WeasyPrint is
given a fetcher that serves only files under `app/static` and refuses everything else, so no
request ever leaves the process and no local file is read or embedded (SECURITY.md §4,
ASVS 1.3.6; WeasyPrint ≥ 61.2 for GHSA-35jj-wx47-4w8r)."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from sqlalchemy import select

from app.contracts.models import Contract
from app.difficulties.deadlines import today_in_paris
from app.extensions import db
from app.indicators import services as values
from app.indicators.models import VALIDATIONS, Measurement
from app.plan.completeness import MISSING, PARTS, check_plan
from app.plan.models import Action, GainSharing, Indicator, Objective
from app.plan.tree import axes_tree
from app.plan.versions import content_hash, version_label

log = logging.getLogger("progres.exports")


# --- the fetcher --------------------------------------------------------------------------------


def static_fetcher(static_folder: str | Path):
    """A WeasyPrint URL fetcher that serves files under `static_folder` (as `file:` URLs) and
    refuses every other URL: http(s), data, other files. `refused` lists what it refused."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = Path(static_folder).resolve()

    class StaticOnlyFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols={"file"}, allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(root) and path.is_file():
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
            self.refused.append(url)
            log.warning("pdf.fetch_refused url=%r", url[:200])
            raise ValueError(f"URL refusée dans un PDF : {url[:200]}")

    return StaticOnlyFetcher()


def render_pdf(html: str, fetcher=None) -> bytes:
    """HTML to PDF bytes with the static-only fetcher (or the one given, for tests)."""
    from weasyprint import HTML

    static = Path(current_app.static_folder)
    fetcher = fetcher or static_fetcher(static)
    return HTML(string=html, base_url=static.as_uri() + "/", url_fetcher=fetcher).write_pdf()


# --- the document -------------------------------------------------------------------------------


# The values table of an indicator prints its latest periods; the chart above it draws them all
# and the values export holds every one. Three years of monthly values on 150 indicators made
# a 337-page document that took WeasyPrint a minute (bench/RESULTS.md).
PDF_LATEST_VALUES = 12


@dataclass
class IndicatorPart:
    indicator: Indicator
    chart: dict | None
    measurements: list[Measurement]  # the latest PDF_LATEST_VALUES
    chart_desc: str
    earlier: int = 0  # values before those, not in the table


@dataclass
class ObjectivePart:
    number: str
    objective: Objective
    indicators: list[IndicatorPart]
    supplier_actions: list[Action]
    buyer_actions: list[Action]
    missing: list[str] = field(default_factory=list)


def plan_context(contract: Contract, today: date | None = None) -> dict:
    """What the template prints: the plan in force (or, before the baseline, the draft)."""
    today = today or today_in_paris()
    version = values.reference_version(contract)
    context = {"contract": contract, "version": version, "today": today, "parts": PARTS,
               "missing_labels": MISSING, "axes": [], "objectives": [], "check": None,
               "gain_sharing": None, "names": _names()}  # fmt: skip
    if version is None:
        return context
    axes = axes_tree(version)
    gain_sharing = db.session.scalar(
        select(GainSharing).where(GainSharing.plan_version_id == version.id)
    )
    objectives = [o for a in axes for o in a.objectives]
    check = check_plan(objectives, gain_sharing)
    missing = {c.objective.id: c.missing for c in check.objectives}
    by_uid: dict[str, list[Measurement]] = {}
    for m in values.measurements_of(contract):
        by_uid.setdefault(m.indicator_uid, []).append(m)
    blocks = []
    for a_index, axis in enumerate(axes, start=1):
        for o_index, objective in enumerate(axis.objectives, start=1):
            indicators = []
            for indicator in objective.indicators:
                measured = by_uid.get(indicator.uid, [])
                indicators.append(IndicatorPart(
                    indicator, values.chart(indicator, contract, measured, today, 640, 240),
                    measured[-PDF_LATEST_VALUES:], _chart_desc(indicator, measured),
                    max(0, len(measured) - PDF_LATEST_VALUES),
                ))  # fmt: skip
            blocks.append(ObjectivePart(
                f"{a_index}.{o_index}", objective, indicators,
                [x for x in objective.actions if x.owner_side in ("titulaire", "les_deux")],
                [x for x in objective.actions if x.owner_side in ("acheteur", "les_deux")],
                missing.get(objective.id, []),
            ))  # fmt: skip
    context.update(
        axes=axes, objectives=blocks, check=check, gain_sharing=gain_sharing,
        label=version_label(version),
        digest=version.content_hash or content_hash(version),
    )  # fmt: skip
    return context


def _names() -> dict[str, dict[str, str]]:
    """The labels of the plan's choices, as the plan's forms show them."""
    from app.plan import forms

    choices = {"axis_kind": forms.AXIS_KINDS, "priority": forms.PRIORITIES,
               "obligation": forms.OBLIGATIONS, "side": forms.SIDES,
               "direction": forms.DIRECTIONS, "periodicity": forms.PERIODICITIES,
               "mode": forms.MODES, "action_status": forms.ACTION_STATUSES}  # fmt: skip
    names = {key: {c.value: str(c.label) for c in found} for key, found in choices.items()}
    names["validation"] = {k: str(v) for k, v in VALIDATIONS.items()}
    return names


def _chart_desc(indicator: Indicator, measured: list[Measurement]) -> str:
    from flask_babel import gettext as _

    from app.formatting import day, decimal

    unit = f" {indicator.unit}" if indicator.unit else ""
    target = (
        _("cible %(value)s%(unit)s au %(date)s", value=decimal(indicator.target_value),
          unit=unit, date=day(indicator.target_date))
        if indicator.target_value is not None and indicator.target_date else _("pas de cible datée")
    )  # fmt: skip
    if not measured:
        return _("Aucune valeur mesurée ; %(target)s.", target=target)
    last = max(measured, key=lambda m: m.period_start)
    return _("Dernière valeur %(value)s%(unit)s au %(date)s ; %(target)s.",
             value=decimal(last.value), unit=unit, date=day(last.period_end), target=target)  # fmt: skip


def plan_pdf(contract: Contract, today: date | None = None) -> bytes:
    return pdf_of(contract, render_template("exports/plan.html", **plan_context(contract, today)))


# The plan's PDF takes WeasyPrint about 20 s for a large plan (bench/RESULTS.md) and the HTML
# it is made from a third of a second: each PDF is kept in the contract's storage (shared by
# every worker) under its HTML's hash, so the same plan, values, day and language are rendered
# once, whoever asks next. The contract keeps its CACHED_PLAN_PDFS latest.
CACHED_PREFIX = "planpdf"
CACHED_PLAN_PDFS = 3


def pdf_of(contract: Contract, html: str) -> bytes:
    """The PDF of this exact HTML: the one kept for it, else rendered and kept."""
    import weasyprint

    from app.attachments.storage import storage

    # The stylesheet is in the HTML; what else makes the PDF is WeasyPrint and our fonts.
    made_of = f"{weasyprint.__version__}\n{html}".encode()
    kept, key = storage(), CACHED_PREFIX + hashlib.sha256(made_of).hexdigest()
    try:
        data = kept.load(contract.id, key)
    except FileNotFoundError:
        data = None
    if data is not None and data.startswith(b"%PDF-"):
        kept.touch(contract.id, key)  # the latest used, kept the longest
        return data
    data = render_pdf(html)
    kept.save(contract.id, key, data)
    for stale in kept.keys(contract.id, CACHED_PREFIX)[CACHED_PLAN_PDFS:]:
        kept.delete(contract.id, stale)
    return data
