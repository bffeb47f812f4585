"""The indicators of a contract, one indicator's page (chart, summary, values), and entering
and validating values in place (htmx rows of the same template)."""

from datetime import date

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from app.difficulties.deadlines import today_in_paris
from app.errors import DomainError
from app.extensions import db
from app.forms import attempt
from app.indicators import services
from app.indicators.forms import ValidationForm, ValueForm
from app.indicators.models import SOURCES, VALIDATIONS, Measurement
from app.permissions import MEMBER, Permission, allow
from app.plan.tree import is_large
from app.rendering import deferred, render, wants_fragment

bp = Blueprint("indicators", __name__, url_prefix="/indicateurs", template_folder="templates")
PAGE = "indicators/show.html"


@bp.context_processor
def indicator_labels():
    return {"indicator_statuses": services.STATUSES, "validations": VALIDATIONS,
            "sources": SOURCES, "permission_enter": Permission.ENTER_VALUES}  # fmt: skip


def _indicator(uid: str):
    indicator = services.indicator_by_uid(g.contract, uid)
    if indicator is None:
        abort(404)
    # Read through the plan in force, or the draft before the baseline (reference_version).
    services.remember_reference(g.contract, indicator.plan_version)
    return indicator


def _period_start(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(404)


def _measurement(indicator, measurement_id: int) -> Measurement:
    measurement = db.session.get(Measurement, measurement_id)
    if (measurement is None or measurement.contract_id != g.contract.id
            or measurement.indicator_uid != indicator.uid):  # fmt: skip
        abort(404)
    return measurement


@bp.get("/")
@allow(MEMBER)
def index():
    version = services.reference_version_shown(g.contract)
    if deferred(is_large(version)):
        return render("indicators/index.html", deferred=True)
    return render("indicators/index.html", "indicators", today=today_in_paris(),
                  states=services.states(g.contract, version=version))  # fmt: skip


def _page(indicator, *blocks, status=200, editing=None, form=None, validating=None,
          validation_form=None, notice=None):  # fmt: skip
    """The page, or one of its blocks; `editing` (a period start) opens that row's editor,
    `validating` (a measurement id) that row's validation form."""
    today = today_in_paris()
    values = services.measurements_of(g.contract, indicator.uid)
    return render(
        PAGE, *blocks, status=status, indicator=indicator, today=today,
        state=services.state_of(indicator, g.contract, values, today),
        rows=services.rows(indicator, g.contract, values, today),
        geometry=services.chart(indicator, g.contract, values, today),
        may_enter=services.may_enter(g.membership, indicator),
        may_validate=lambda m: services.may_validate(g.membership, m),
        editing=editing, form=form, validating=validating, validation_form=validation_form,
        notice=notice, baseline=services.baseline_of(indicator, g.contract),
    )  # fmt: skip


@bp.get("/<uid>/")
@allow(MEMBER)
def show(uid: str):
    indicator = _indicator(uid)
    periods = services.all_periods(indicator, g.contract, today_in_paris())
    if deferred(len(periods) > current_app.config["INDICATOR_LAZY_FROM"]):
        return render(PAGE, deferred=True, indicator=indicator,
                      baseline=services.baseline_of(indicator, g.contract))  # fmt: skip
    return _page(indicator)


@bp.get("/<uid>/valeurs")
@allow(MEMBER)
def values(uid: str):
    """The chart and the values table, pulled again when the live stream says they changed."""
    return _page(_indicator(uid), "live_values")


@bp.get("/<uid>/valeurs/<period>/saisie")
@allow(Permission.ENTER_VALUES)
def value_editor(uid: str, period: str):
    indicator, start = _indicator(uid), _period_start(period)
    existing = next((r.measurement for r in services.rows(
        indicator, g.contract, services.measurements_of(g.contract, indicator.uid), today_in_paris())
        if r.period.start == start), None)  # fmt: skip
    form = ValueForm(formdata=None)
    form.period_start.data = start.isoformat()
    if existing is not None:
        form.value.data = str(existing.value.normalize()).replace(".", ",")
        form.comment.data, form.version.data = existing.comment, str(existing.version)
    return _page(indicator, "live_values", editing=start, form=form)


@bp.post("/<uid>/valeurs")
@allow(Permission.ENTER_VALUES)
def enter(uid: str):
    indicator = _indicator(uid)
    form = ValueForm()
    start = _period_start(form.period_start.data or "")
    if form.validate_on_submit():

        def enter_value():
            services.enter_value(
                g.contract, g.membership, indicator, period_start=start,
                value=form.value.data, comment=form.comment.data,
                evidence=_evidence(request.files.get(form.evidence.name)),
                seen_version=int(form.version.data) if (form.version.data or "").isdigit() else None,
            )  # fmt: skip

        status = attempt(enter_value, form)
        if status is None:
            notice = _("Valeur enregistrée : l'autre partie peut la valider.")
            if wants_fragment():
                return _page(indicator, "live_values", notice=notice)
            flash(notice, "success")
            return redirect(url_for(".show", uid=uid))
        return _page(indicator, "live_values", status=status, editing=start, form=form)
    return _page(indicator, "live_values", status=422, editing=start, form=form)


def _evidence(file):
    """The optional evidence file, checked and stored like any attachment (or None)."""
    from app.attachments.services import store_upload

    if file is None or not file.filename:
        return None
    try:
        return store_upload(g.contract, file, g.membership.user)
    except DomainError as error:
        error.field = "evidence"  # shown next to the file input
        raise


@bp.get("/<uid>/valeurs/<int:measurement_id>/avis")
@allow(Permission.ENTER_VALUES)
def validation_editor(uid: str, measurement_id: int):
    indicator = _indicator(uid)
    measurement = _measurement(indicator, measurement_id)
    form = ValidationForm(formdata=None)
    form.version.data = str(measurement.version)
    return _page(indicator, "live_values", validating=measurement.id, validation_form=form)


@bp.post("/<uid>/valeurs/<int:measurement_id>/avis")
@allow(Permission.ENTER_VALUES)
def validate(uid: str, measurement_id: int):
    indicator = _indicator(uid)
    measurement = _measurement(indicator, measurement_id)
    form = ValidationForm()
    if form.validate_on_submit():
        status = attempt(lambda: services.validate_value(
            g.contract, g.membership, measurement, decision=form.decision.data, note=form.note.data,
            seen_version=int(form.version.data) if (form.version.data or "").isdigit() else -1,
        ), form)  # fmt: skip
        if status is None:
            notice = _("Votre avis sur la valeur est enregistré.")
            if wants_fragment():
                return _page(indicator, "live_values", notice=notice)
            flash(notice, "success")
            return redirect(url_for(".show", uid=uid))
        return _page(indicator, "live_values", status=status, validating=measurement_id,
                     validation_form=form)  # fmt: skip
    return _page(indicator, "live_values", status=422, validating=measurement_id,
                 validation_form=form)  # fmt: skip
