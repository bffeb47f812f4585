"""The changes pages: the list and the financial history, proposing a change, one change
request (its change set, its steps, documents and visas), and the contract's data that the
documents need."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.attachments.routes import DOWNLOAD_CSP
from app.changes import applying, formalisation, legal, services
from app.changes.documents import build
from app.changes.forms import (
    BASIS_CHOICES,
    QUESTION_LABELS,
    AcceptanceForm,
    ContractTermsForm,
    FormaliseForm,
    HolderForm,
    NewChangeForm,
    NotificationForm,
    RequestForm,
    SignatureForm,
    StepForm,
    TermsForm,
    VisaForm,
)
from app.changes.models import (
    DOCUMENT_KINDS,
    FORMALISATIONS,
    NOTIFICATION_MODES,
    SIGNATURE_KINDS,
    STATUSES,
)
from app.changes.stamped import stamped_pdf
from app.difficulties.deadlines import PARIS, today_in_paris
from app.extensions import limiter, talisman
from app.forms import PageForms, attempt
from app.permissions import MEMBER, Permission, allow
from app.plan import versions
from app.plan.tree import is_large
from app.rendering import deferred, render

bp = Blueprint("changes", __name__, url_prefix="/modifications", template_folder="templates")
PAGE = "changes/show.html"


@bp.context_processor
def labels_of_changes():
    return {"statuses": STATUSES, "formalisations": FORMALISATIONS, "document_kinds": DOCUMENT_KINDS,
            "signature_kinds": SIGNATURE_KINDS, "notification_modes": NOTIFICATION_MODES,
            "question_labels": QUESTION_LABELS, "basis_choices": BASIS_CHOICES,
            "kind_labels": versions.KIND_LABELS, "diff_statuses": versions.DIFF_STATUSES,
            "eur": legal.eur, "pct": legal.pct, "threshold_label": legal.threshold_label}  # fmt: skip


def _change(change_id: int, *, for_its_page: bool = False):
    if for_its_page:
        change = services.request_shown(g.contract, change_id)
    else:
        change = services.request_in_contract(g.contract, change_id)
    if change is None:
        abort(404)
    return change


def _seen(form) -> int:
    try:
        return int(form.version.data or -1)
    except ValueError:
        return -1


# --- the list ---------------------------------------------------------------------------------


def _index(form=None, status=200):
    changes = services.requests_of(g.contract)
    amendments = build.amendments_of(g.contract)
    history = []
    if amendments:
        today = today_in_paris()
        history = legal.history(build.contract_terms(g.contract), [build.figures(a, today) for a in amendments])  # fmt: skip
    return render("changes/index.html", status=status, changes=changes, history=history,
                  amendments={a.amendment_number: a for a in amendments},
                  in_force=versions.plan_in_force(g.contract),
                  form=form or NewChangeForm(formdata=None),
                  may_propose=g.membership.may(Permission.EDIT_PLAN))  # fmt: skip


@bp.get("/")
@allow(MEMBER)
def index():
    return _index()


@bp.post("/")
@allow(Permission.EDIT_PLAN)
@limiter.limit("30/hour")
def create():
    form = NewChangeForm()
    created = []
    if form.validate_on_submit():
        status = attempt(lambda: created.append(services.open_request(
            g.contract, g.membership, title=form.title.data, rationale=form.rationale.data)), form)  # fmt: skip
        if status is None:
            flash(_("Demande de modification n° %(n)d ouverte : modifiez son projet de plan, puis soumettez-la.",
                    n=created[0].number), "success")  # fmt: skip
            return redirect(url_for(".show", change_id=created[0].id))
        return _index(form, status)
    return _index(form, 422)


@bp.post("/revue/<int:review_id>")
@allow(Permission.EDIT_PLAN)
def from_review(review_id: int):
    """A review meeting turns its plan draft into a change request."""
    from app.reviews.services import review_in_contract

    review = review_in_contract(g.contract, review_id)
    if review is None:
        abort(404)
    form = NewChangeForm()
    created = []
    if form.validate_on_submit():
        status = attempt(lambda: created.append(services.open_from_review(
            review, g.membership, title=form.title.data)), form)  # fmt: skip
        if status is None:
            return redirect(url_for(".show", change_id=created[0].id))
    flash(" ".join(str(e) for e in [*form.form_errors, *(e for f in form for e in f.errors)]) or _("Donnez un titre à la demande de modification."), "error")  # fmt: skip
    return redirect(url_for("contract.reviews.show", review_id=review.id))


# --- one change request -----------------------------------------------------------------------


def _show(change, *, status=200, forms=None, failed=None, notice=None, view=None):
    forms, blocks = forms or {}, ()
    documents = formalisation.current_documents(change)
    if "request" in forms:
        forms["request"].version.data = change.version
    membership = g.membership
    assessment = None
    if change.is_amendment and change.amendment_number:
        assessment = build.assessment(change)
    # A large plan's change set comes just after the page (rendering.deferred), alone when asked;
    # the terms' form, folded once the documents exist, comes when it is unfolded. The plan's
    # size is its base's, a frozen version counted once per process (tree.of_frozen).
    base = services.base_of(change)
    later = request.method == "GET" and deferred(is_large(base or change.draft_version))
    part = request.args.get("partie") if request.method == "GET" else None
    if part == "ecarts":
        blocks = ("change_set_section",)
    elif part == "termes":
        blocks = ("terms_section",)
    return render(
        PAGE, *blocks, status=status, change=change,
        changes=None if later else services.change_set(change),
        base=base, needs_rebase=services.needs_rebase(change, versions.plan_in_force_shown),
        proposed=formalisation.proposed(change) if change.status != "brouillon" else None,
        documents=documents, visas={k: formalisation.valid_visas(d) for k, d in documents.items()},
        tampered={d.id for d in documents.values() if not formalisation.is_intact(d)},
        all_documents=sorted(change.documents, key=lambda d: (-d.generation, list(DOCUMENT_KINDS).index(d.kind))), assessment=assessment,
        forms=PageForms(
            forms,
            request=lambda: _request_form(change),
            step=lambda: StepForm(formdata=None),
            formalise=lambda: FormaliseForm(formdata=None, choice=formalisation.proposed(change)),
            terms=lambda: _terms_form(change),
            visa=lambda: VisaForm(formdata=None, qualite=membership.qualite),
            acceptance=lambda: AcceptanceForm(formdata=None),
            signature=lambda: _signature_form(change),
            notification=lambda: NotificationForm(formdata=None),
        ),
        terms_shown=failed == "terms" or not documents or part == "termes",
        failed=failed, notice=notice, view=view or request.args.get("vue", "ligne"),
        is_buyer_lead=membership.side == "acheteur" and membership.is_lead,
        is_author=change.author_id == membership.user_id,
        may_edit_plan=membership.may(Permission.EDIT_PLAN),
        r2194_7=legal.R2194_7_QUESTIONS, letter_notice=legal.LETTER_NOTICE,
        step_names=(*STEPS, *BUYER_STEPS),
    )  # fmt: skip


def _request_form(change):
    form = RequestForm(formdata=None, obj=change)
    form.fill(change)
    form.version.data = change.version
    return form


def _terms_form(change):
    lines = [{"article": m["article"], "text": m["text"], "impact_ht": Decimal(m["impact_ht"])}
             for m in change.modifications or []]  # fmt: skip
    names = ("legal_basis", "basis_justification", "revised_initial_ht", "touches_price_formula",
             "signatory_name", "signatory_qualite", "holder_signatory_name",
             "holder_signatory_qualite", "effective_date")  # fmt: skip
    form = TermsForm(formdata=None, data={**{n: getattr(change, n) for n in names}, "modifications": lines})  # fmt: skip
    while len(form.modifications) < max(3, len(lines) + 1):
        form.modifications.append_entry()
    form.version.data = change.version
    return form


def _signature_form(change):
    form = SignatureForm(formdata=None, data={"signatories": [
        {"name": change.holder_signatory_name, "qualite": change.holder_signatory_qualite, "side": "titulaire"},
        {"name": change.signatory_name, "qualite": change.signatory_qualite, "side": "acheteur"}]})  # fmt: skip
    return form


@bp.get("/<int:change_id>/")
@allow(MEMBER)
def show(change_id: int):
    return _show(_change(change_id, for_its_page=True))


def _done(change, notice: str):
    flash(notice, "success")
    return redirect(url_for(".show", change_id=change.id))


def _posted(change, form, key: str, call, notice, *, failed: str | None = None, refused=None):
    """A form of the request's page: `call()` through `attempt` (a 409 or 422 keeps what was
    typed), then the page with `notice` (or `notice(what call returned)`), or the page again
    with this form (`forms[key]`) and its errors; `refused()` runs before that page."""
    failed = failed or key
    if form.validate_on_submit():
        outcome = []
        status = attempt(lambda: outcome.append(call()), form)
        if status is None:
            return _done(change, str(notice(outcome[0]) if callable(notice) else notice))
        if refused:
            refused()
        return _show(
            _change(change.id, for_its_page=True),
            status=status,
            forms={key: form},
            failed=failed,
        )
    return _show(change, status=422, forms={key: form}, failed=failed)


@bp.post("/<int:change_id>/demande")
@allow(Permission.EDIT_PLAN)
def update(change_id: int):
    change, form = _change(change_id), RequestForm()
    return _posted(change, form, "request", lambda: services.update_request(
        change, g.membership, seen_version=_seen(form), title=form.title.data,
        rationale=form.rationale.data, answers=form.answers(),
        financial_impact_ht=form.financial_impact_ht.data), _("Demande enregistrée."))  # fmt: skip


# Steps of the people who build the change (either side), and of the buyer lead.
STEPS = {
    "soumettre": (
        lambda c, m, f: services.submit(c, m, seen_version=_seen(f)),
        _l("Demande soumise à l'acheteur."),
    ),
    "retirer": (
        lambda c, m, f: services.withdraw(c, m, seen_version=_seen(f)),
        _l("Demande retirée."),
    ),
    "brouillon": (
        lambda c, m, f: services.reopen(c, m, seen_version=_seen(f)),
        _l("Demande remise en brouillon : son projet peut de nouveau être modifié."),
    ),
    "mettre-a-jour": (
        lambda c, m, f: applying.rebase(c, m, seen_version=_seen(f)),
        _l("Projet mis à jour sur la version en vigueur."),
    ),
}
BUYER_STEPS = {
    "approuver": (lambda c, m, f: services.decide(c, m, seen_version=_seen(f), approve=True, comment=f.comment.data),
                  _l("Demande approuvée : choisissez sa formalisation.")),
    "refuser": (lambda c, m, f: services.decide(c, m, seen_version=_seen(f), approve=False, comment=f.comment.data),
                _l("Demande refusée.")),
    "generer": (lambda c, m, f: formalisation.generate(c, m, seen_version=_seen(f)),
                _l("Documents générés : ils attendent les visas.")),
    "transmettre": (lambda c, m, f: formalisation.transmit(c, m, seen_version=_seen(f)),
                    _l("Avenant transmis pour signature : téléchargez-le pour le parapheur.")),
    "appliquer": (lambda c, m, f: applying.apply_now(c, m, seen_version=_seen(f)),
                  _l("Modification appliquée : le plan a une nouvelle version en vigueur.")),
}  # fmt: skip


def _take(change_id: int, step: str, steps: dict):
    if step not in steps:
        abort(404)
    action, notice = steps[step]
    change, form = _change(change_id), StepForm()
    return _posted(change, form, "step", lambda: action(change, g.membership, form), notice,
                   failed=step)  # fmt: skip


@bp.post("/<int:change_id>/etape/<step>")
@allow(Permission.EDIT_PLAN)
@limiter.limit("60/hour")
def step(change_id: int, step: str):
    return _take(change_id, step, STEPS)


@bp.post("/<int:change_id>/acheteur/<buyer_step>")
@allow(Permission.APPROVE_PLAN)
@limiter.limit("60/hour")
def buyer_step(change_id: int, buyer_step: str):
    """The buyer lead's steps (the services refuse anyone else)."""
    return _take(change_id, buyer_step, BUYER_STEPS)


@bp.post("/<int:change_id>/formalisation")
@allow(Permission.APPROVE_PLAN)
def formalise(change_id: int):
    change, form = _change(change_id), FormaliseForm()
    return _posted(change, form, "formalise", lambda: formalisation.formalise(
        change, g.membership, seen_version=_seen(form), choice=form.choice.data, reason=form.reason.data),
        _("Formalisation choisie : complétez puis générez les documents."))  # fmt: skip


@bp.post("/<int:change_id>/documents/donnees")
@allow(Permission.APPROVE_PLAN)
def terms(change_id: int):
    change, form = _change(change_id), TermsForm()

    def update():
        data = {**form.data, "modifications": list(form.modifications.data)}
        for name, _label in legal.R2194_7_QUESTIONS:
            data[f"r7_{name}"] = request.form.get(f"r7_{name}") == "oui"
        return formalisation.update_terms(change, g.membership, seen_version=_seen(form), data=data)

    return _posted(change, form, "terms", update,
                   _("Données des documents enregistrées : générez les documents."))  # fmt: skip


def _document(change, document_id: int):
    document = formalisation.document_in_request(change, document_id)
    if document is None:
        abort(404)
    return document


@bp.get("/<int:change_id>/documents/<int:document_id>/vise.pdf")
@allow(MEMBER)
@talisman(content_security_policy=DOWNLOAD_CSP)
def stamped(change_id: int, document_id: int):
    """The document with its visa stamps (rendered again; the stamps cite the stored hash)."""
    change = _change(change_id)
    document = _document(change, document_id)
    if document.kind == "avenant_docx":
        abort(404)
    body = stamped_pdf(document)
    name = document.attachment.display_name.replace(".pdf", "-vise.pdf")
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})  # fmt: skip


@bp.post("/<int:change_id>/documents/<int:document_id>/visa")
@allow(Permission.APPROVE_PLAN)
@limiter.limit("10/minute")
def visa(change_id: int, document_id: int):
    change = _change(change_id)
    document = _document(change, document_id)
    form = VisaForm()

    def forget_secrets():
        form.password.data = form.code.data = ""

    return _posted(change, form, "visa", lambda: formalisation.give_visa(
        document, g.membership, password=form.password.data, qualite=form.qualite.data,
        seen_sha256=form.sha256.data or "", code=form.code.data),
        _("Visa donné : il est lié à l'empreinte SHA-256 du document."),
        failed=f"visa-{document_id}", refused=forget_secrets)  # fmt: skip


@bp.post("/<int:change_id>/accord")
@allow(Permission.APPROVE_PLAN)
@limiter.limit("30/hour")
def acceptance(change_id: int):
    change, form = _change(change_id), AcceptanceForm()
    return _posted(change, form, "acceptance", lambda: formalisation.record_acceptance_letter(
        change, g.membership, seen_version=_seen(form), file=form.file.data,
        received_on=form.received_on.data), _("Accord du titulaire enregistré."))  # fmt: skip


@bp.post("/<int:change_id>/signature")
@allow(Permission.APPROVE_PLAN)
@limiter.limit("30/hour")
def signature(change_id: int):
    change, form = _change(change_id), SignatureForm()
    return _posted(change, form, "signature", lambda: formalisation.record_signature(
        change, g.membership, seen_version=_seen(form), file=form.file.data,
        kind=form.signature_kind.data, signatories=form.signatories.data),
        _("Avenant signé enregistré : reste à enregistrer sa notification."))  # fmt: skip


@bp.post("/<int:change_id>/notification")
@allow(Permission.APPROVE_PLAN)
def notification(change_id: int):
    change, form = _change(change_id), NotificationForm()
    return _posted(change, form, "notification", lambda: formalisation.record_notification(
        change, g.membership, seen_version=_seen(form), mode=form.mode.data,
        notified_at=datetime.combine(form.day.data, form.at.data, tzinfo=PARIS)),
        lambda applied: _("Notification enregistrée : l'avenant est appliqué au plan.") if applied
        else _("Notification enregistrée : mettez le projet à jour pour appliquer l'avenant."))  # fmt: skip


# --- the contract's data for the documents ------------------------------------------------------


def _data_page(terms_form=None, holder_form=None, status=200):
    contract = g.contract
    if terms_form is None:
        terms_form = ContractTermsForm(formdata=None, obj=contract)
        terms_form.vat_rate.data = contract.vat_rate * 100
    return render("changes/data.html", status=status, terms_form=terms_form,
                  holder_form=holder_form or HolderForm(formdata=None, obj=contract.supplier),
                  is_buyer_lead=g.membership.side == "acheteur" and g.membership.is_lead,
                  is_holder_lead=g.membership.side == "titulaire" and g.membership.is_lead)  # fmt: skip


@bp.get("/donnees")
@allow(MEMBER)
def data():
    return _data_page()


@bp.post("/donnees/marche")
@allow(Permission.APPROVE_PLAN)
def contract_terms():
    form = ContractTermsForm()
    if form.validate_on_submit():
        status = attempt(
            lambda: services.update_contract_terms(g.contract, g.membership, form.data), form
        )
        if status is None:
            flash(_("Données du marché enregistrées."), "success")
            return redirect(url_for(".data"))
        return _data_page(terms_form=form, status=status)
    return _data_page(terms_form=form, status=422)


@bp.post("/donnees/titulaire")
@allow(Permission.APPROVE_PLAN)
def holder():
    form = HolderForm()
    if form.validate_on_submit():
        status = attempt(lambda: services.update_holder(g.contract, g.membership, form.data), form)
        if status is None:
            flash(_("Identification du titulaire enregistrée."), "success")
            return redirect(url_for(".data"))
        return _data_page(holder_form=form, status=status)
    return _data_page(holder_form=form, status=422)
