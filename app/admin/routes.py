"""Administration: organisations and contracts (the same services as the `flask` commands)."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin.forms import ContractForm, OrganisationForm
from app.contracts import services as contracts
from app.errors import DomainError
from app.extensions import db
from app.forms import attach_error
from app.organisations import services as organisations
from app.permissions import ADMIN, allow
from app.rendering import render

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.get("/")
@allow(ADMIN)
def index():
    return redirect(url_for(".contracts_list"))


def _organisations_page(form=None, status=200):
    return render(
        "admin/organisations.html",
        organisations=organisations.all_organisations(),
        form=form or OrganisationForm(),
        status=status,
    )


@bp.get("/organisations")
@allow(ADMIN)
def organisations_list():
    return _organisations_page()


@bp.post("/organisations")
@allow(ADMIN)
def organisation_create():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = organisations.create_organisation(
                name=form.name.data,
                siret=form.siret.data,
                kind=form.kind.data,
                size=form.size.data or None,
                ess=form.ess.data,
                actor=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(_("Organisation « %(name)s » créée.", name=organisation.name), "success")
            return redirect(url_for(".organisations_list"))
    return _organisations_page(form, status=422)


def _contract_form(form: ContractForm) -> ContractForm:
    orgs = organisations.all_organisations()
    form.buyer_organisation_id.choices = [(o.id, o.name) for o in orgs if o.is_public_buyer]
    form.supplier_organisation_id.choices = [(o.id, o.name) for o in orgs if not o.is_public_buyer]
    return form


@bp.get("/marches")
@allow(ADMIN)
def contracts_list():
    return render("admin/contracts.html", contracts=contracts.all_contracts())


@bp.route("/marches/nouveau", methods=["GET", "POST"])
@allow(ADMIN)
def contract_create():
    form = _contract_form(ContractForm())
    if form.validate_on_submit():
        data = contracts.ContractData(
            reference=form.reference.data,
            object=form.object.data,
            category=form.category.data,
            notification_date=form.notification_date.data,
            duration_months=form.duration_months.data,
            initial_amount_ht=form.initial_amount_ht.data,
            buyer_organisation_id=form.buyer_organisation_id.data,
            supplier_organisation_id=form.supplier_organisation_id.data,
            buyer_service=form.buyer_service.data or "",
            progress_clause=form.progress_clause.data or "",
            plan_deadline=form.plan_deadline.data,
            min_reviews_per_year=form.min_reviews_per_year.data,
        )
        try:
            contract = contracts.create_contract_with_lead(
                data,
                lead_email=form.lead_email.data,
                lead_name=form.lead_name.data or "",
                actor=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(
                _(
                    "Marché %(ref)s créé ; le référent acheteur a reçu son invitation.",
                    ref=contract.reference,
                ),
                "success",
            )
            return redirect(url_for(".contracts_list"))
    status = 422 if form.is_submitted() else 200
    return render("admin/contract_form.html", form=form, status=status)
