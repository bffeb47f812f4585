"""`/contrats/<id>/donnees/…`: import values (form, preview, confirm, templates to fill), export
values (CSV, XLSX) and the plan (PDF)."""

import io
import logging
import time

from flask import Blueprint, abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.attachments.services import attachment_for, file_path, store_upload
from app.audit.services import record
from app.difficulties.deadlines import today_in_paris
from app.errors import DomainError
from app.exports import imports, pdf, spreadsheets
from app.exports.forms import ConfirmForm, UploadForm
from app.extensions import db, limiter
from app.forms import attach_error
from app.indicators import services as values
from app.permissions import MEMBER, Permission, allow
from app.rendering import render

bp = Blueprint("exports", __name__, url_prefix="/donnees", template_folder="templates")
log = logging.getLogger("progres.exports")
PAGE = "exports/import.html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, mimetype: str, name: str):
    """An attachment with an RFC 6266 file name, never cached."""
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=name, max_age=0, etag=False)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.vary.add("HX-Request")  # the same answer either way, said as every page says it
    return response


def _indicator_pages() -> bool:
    """The indicator pages are another feature: link to them only once they exist."""
    return "contract.indicators.show" in current_app.view_functions


def _form_page(form=None, status=200):
    return render(
        PAGE, status=status, form=form or UploadForm(), preview=None,
        max_rows=imports.MAX_ROWS, max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        indicators=values.indicators_of(g.contract), indicator_pages=_indicator_pages(),
    )  # fmt: skip


def _preview_page(attachment, preview, status=200, error=None):
    return render(
        PAGE, status=status, form=None, preview=preview, attachment=attachment, error=error,
        confirm=ConfirmForm(formdata=None, attachment_id=attachment.id,
                            expected=len(preview.valid)),
        indicator_pages=_indicator_pages(),
    )  # fmt: skip


# --- import -------------------------------------------------------------------------------------


@bp.get("/import")
@allow(Permission.ENTER_VALUES)
def import_form():
    return _form_page()


@bp.post("/import")
@allow(Permission.ENTER_VALUES)
@limiter.limit("60/hour")
def upload():
    """Store the file (checked by the attachments' rules), read it, show every row's verdict."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _form_page(form, status=422)
    try:
        attachment = store_upload(g.contract, form.file.data, current_user)
        db.session.flush()
        rows = imports.read_rows(file_path(attachment).read_bytes(),
                                 imports.extension_of(attachment))  # fmt: skip
    except DomainError as error:
        db.session.rollback()  # the stored file goes with it
        attach_error(form, error)
        return _form_page(form, status=422)
    # The file stays in the contract's storage even if the import is never confirmed.
    record("mesures.fichier_depose", actor=current_user, contract_id=g.contract.id,
           object_type="piece", object_id=attachment.id,
           after={"fichier": attachment.display_name, "sha256": attachment.sha256,
                  "taille": attachment.size})  # fmt: skip
    db.session.commit()
    return _preview_page(attachment, imports.check(g.contract, g.membership, rows))


@bp.post("/import/confirmer")
@allow(Permission.ENTER_VALUES)
@limiter.limit("60/hour")
def confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        form = UploadForm(formdata=None)
        form.form_errors.append(_("La demande d'import est incomplète : déposez le fichier à nouveau."))  # fmt: skip
        return _form_page(form, status=422)
    attachment = attachment_for(g.contract, form.attachment_id.data)
    if attachment is None:
        abort(404)
    try:
        rows = imports.import_file(attachment, g.membership)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".import_form"), code=303)
    preview = imports.check(g.contract, g.membership, rows)
    if len(preview.valid) != form.expected.data:
        return _preview_page(attachment, preview, status=409, error=_(
            "Des valeurs ont été saisies depuis l'aperçu : rien n'a été importé. Vérifiez le nouvel aperçu."))  # fmt: skip
    try:
        count = imports.apply(g.contract, g.membership, preview, attachment,
                              valid_only=form.mode.data == "valides")  # fmt: skip
    except DomainError as error:
        return _preview_page(attachment, preview, status=error.status, error=error.message)
    flash(_("%(num)d valeur(s) importée(s) depuis « %(name)s ».", num=count,
            name=attachment.display_name), "success")  # fmt: skip
    return redirect(url_for(".import_form"), code=303)


@bp.get("/import/modele.csv")
@allow(Permission.ENTER_VALUES)
def template_csv():
    body = spreadsheets.to_csv(imports.TEMPLATE_HEADERS,
                               imports.template_rows(g.contract, g.membership))  # fmt: skip
    return _download(body, "text/csv; charset=utf-8", f"modele-import-valeurs-{g.contract.reference}.csv")  # fmt: skip


@bp.get("/import/modele.xlsx")
@allow(Permission.ENTER_VALUES)
def template_xlsx():
    body = spreadsheets.to_xlsx(imports.TEMPLATE_HEADERS,
                                imports.template_rows(g.contract, g.membership), _("Valeurs"))  # fmt: skip
    return _download(body, XLSX, f"modele-import-valeurs-{g.contract.reference}.xlsx")


# --- exports ------------------------------------------------------------------------------------


def _values_table():
    uid = request.args.get("indicateur") or None
    if uid is not None and values.indicator_by_uid(g.contract, uid[:36]) is None:
        abort(404)
    name = f"valeurs-{g.contract.reference}-{today_in_paris():%Y-%m-%d}"
    return spreadsheets.value_headers(), spreadsheets.value_rows(g.contract, uid), name


@bp.get("/valeurs.csv")
@allow(MEMBER)
def values_csv():
    headers, rows, name = _values_table()
    return _download(spreadsheets.to_csv(headers, rows), "text/csv; charset=utf-8", f"{name}.csv")


@bp.get("/valeurs.xlsx")
@allow(MEMBER)
def values_xlsx():
    headers, rows, name = _values_table()
    return _download(spreadsheets.to_xlsx(headers, rows, _("Valeurs")), XLSX, f"{name}.xlsx")


@bp.get("/plan.pdf")
@allow(MEMBER)
@limiter.limit("60/hour")
def plan_pdf():
    started = time.perf_counter()
    body = pdf.plan_pdf(g.contract)
    log.info("pdf.plan contract=%s bytes=%d seconds=%.2f", g.contract.id, len(body),
             time.perf_counter() - started)  # fmt: skip
    return _download(body, "application/pdf",
                     f"plan-de-progres-{g.contract.reference}-{today_in_paris():%Y-%m-%d}.pdf")  # fmt: skip
