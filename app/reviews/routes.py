"""Review pages: the list (with the 12-month warning and the backlog of topics), scheduling,
one review (agenda, meeting, assessments, minutes) and its files (.ics, minutes PDF)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.contracts.models import Membership
from app.difficulties.deadlines import today_in_paris
from app.errors import DomainError
from app.extensions import db
from app.forms import attach_error, attempt
from app.permissions import LOGGED_IN, MEMBER, Permission, allow
from app.rendering import render, wants_fragment
from app.reviews import agenda as review_agenda
from app.reviews import meeting as review_meeting
from app.reviews import minutes as review_minutes
from app.reviews import services
from app.reviews.forms import (
    AssessmentForm,
    ItemForm,
    NotesForm,
    OutcomeForm,
    ReasonForm,
    ReviewForm,
    SummaryForm,
    TopicForm,
)
from app.reviews.models import (
    BUYER_DECISIONS,
    KINDS,
    MINUTES_STATUSES,
    OUTCOMES,
    SOURCES,
    STATUSES,
    AgendaItem,
    ResultAssessment,
)

bp = Blueprint("reviews", __name__, url_prefix="/revues", template_folder="templates")
PAGE = "reviews/show.html"
MINUTES_STEPS = ("relais", "synthese", "soumettre", "reprendre", "approuver")
MEETING_STEPS = ("ouvrir", "clore", "projet")


@bp.context_processor
def review_labels():
    return {"review_kinds": KINDS, "review_statuses": STATUSES, "minutes_statuses": MINUTES_STATUSES,
            "item_sources": SOURCES, "outcomes": OUTCOMES, "buyer_decisions": BUYER_DECISIONS,
            "change_for_draft": _change_for_draft}  # fmt: skip


def _change_for_draft(version_id: int):
    """The change request a review's plan draft became, if any."""
    from app.changes.models import ChangeRequest

    return db.session.scalar(
        select(ChangeRequest).where(ChangeRequest.draft_version_id == version_id)
    )


def _review(review_id: int):
    review = services.review_in_contract(g.contract, review_id)
    if review is None:
        abort(404)
    return review


def _point(review, point_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, point_id)
    if item is None or item.review_id != review.id:
        abort(404)
    return item


def _version(raw) -> int:
    return int(raw) if str(raw or "").isdigit() else -1


# --- the list and scheduling ----------------------------------------------------------------


def _index(topic_form=None, status=200):
    reviews = services.reviews_of(g.contract)
    return render("reviews/index.html", status=status, reviews=reviews,
                  short=services.short_windows(g.contract, today_in_paris(), reviews),
                  backlog=review_agenda.backlog(g.contract), topic_form=topic_form or TopicForm(formdata=None),
                  may_organise=g.membership.may(Permission.ORGANISE_REVIEWS))  # fmt: skip


@bp.get("/")
@allow(MEMBER)
def index():
    return _index()


@bp.post("/sujets")
@allow(Permission.COMMENT)
def propose_topic():
    form = TopicForm()
    if form.validate_on_submit():
        review_agenda.propose_topic(g.contract, g.membership, form.title.data, form.details.data)
        flash(
            _("Sujet proposé : il sera inscrit à l'ordre du jour de la prochaine revue."), "success"
        )
        return redirect(url_for(".index"))
    return _index(form, 422)


def _review_form(form=None) -> ReviewForm:
    form = form or ReviewForm()
    members = db.session.scalars(
        select(Membership).where(Membership.contract_id == g.contract.id)
    ).all()
    form.members.choices = [
        SelectChoice(m.user_id, f"{m.user.full_name} ({m.side})") for m in members
    ]
    if form.members.data is None and request.method == "GET":
        form.members.data = [m.user_id for m in members]
    return form


def _guests(text: str) -> list[tuple[str, str, str]]:
    found = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split(";")]
        if parts and parts[0]:
            found.append(
                (parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")
            )
    return found


@bp.route("/nouvelle", methods=["GET", "POST"])
@allow(Permission.ORGANISE_REVIEWS)
def new():
    form = _review_form()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                review = services.schedule_review(
                    g.contract, g.membership, kind=form.kind.data, day=form.day.data, at=form.at.data,
                    duration_minutes=form.duration.data, place=form.place.data or "",
                    video_link=form.video_link.data or "", member_ids=form.members.data or [],
                    guests=_guests(form.guests.data),
                )  # fmt: skip
            except DomainError as error:
                db.session.rollback()
                attach_error(form, error)
            else:
                flash(
                    _(
                        "Revue n° %(n)d planifiée : les participants reçoivent leur invitation.",
                        n=review.number,
                    ),
                    "success",
                )
                return redirect(url_for(".show", review_id=review.id))
    return render("reviews/new.html", status=status, form=form)


# --- one review -----------------------------------------------------------------------------


def _show(review, *blocks, status=200, forms=None, notice=None):
    return render(
        PAGE, *blocks, status=status, review=review, forms=forms or {}, notice=notice,
        total=review_agenda.total_minutes(review), objectives=_objectives(review),
        may_organise=g.membership.may(Permission.ORGANISE_REVIEWS) and not review.minutes_frozen,
        may_comment=g.membership.may(Permission.COMMENT) and not review.minutes_frozen,
        may_write=review_minutes.may_write_minutes(review, g.membership),
        may_judge=review_minutes.may_judge_minutes(review, g.membership),
        may_hand_over=(g.membership.side == "acheteur" and g.membership.is_lead
                       and not review.minutes_frozen and review.minutes_status != "soumis"),
        side=g.membership.side,
    )  # fmt: skip


@bp.get("/<int:review_id>/")
@allow(MEMBER)
def show(review_id: int):
    return _show(_review(review_id))


@bp.get("/<int:review_id>/revue.ics")
@allow(MEMBER)
def ics(review_id: int):
    from app.reviews.invitations import ics_of

    review = _review(review_id)
    return Response(ics_of([review]), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="revue-{review.number}.ics"'})  # fmt: skip


@bp.get("/<int:review_id>/compte-rendu.pdf")
@allow(MEMBER)
def minutes_pdf(review_id: int):
    """The frozen PDF once approved; before, a draft rendered on the fly (marked as such)."""
    from app.attachments.services import file_path
    from app.reviews.minutes import file_name
    from app.reviews.minutes import minutes_pdf as render_minutes

    review = _review(review_id)
    if review.minutes_frozen and review.minutes_pdf_id:
        from app.attachments.models import Attachment

        data = file_path(db.session.get(Attachment, review.minutes_pdf_id)).read_bytes()
    else:
        data = render_minutes(review)
    response = Response(data, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{file_name(review)}"'})  # fmt: skip
    response.vary.add("HX-Request")  # rendered from a template, like a page
    return response


def _act(review, block: str, action, form, *, notice: str, key: str = ""):
    """A form of the page: 200 with its block, 409/422 with the form and its text kept
    (htmx), or a redirect (plain form)."""
    status = attempt(action, form)
    if status is not None:
        return _show(_review(review.id), block, status=status, forms={key: form} if key else None)
    if wants_fragment():
        return _show(review, block, notice=notice)
    flash(notice, "success")
    return redirect(url_for(".show", review_id=review.id))


@bp.post("/<int:review_id>/ordre-du-jour")
@allow(Permission.ORGANISE_REVIEWS)
def build_agenda(review_id: int):
    review = _review(review_id)
    return _act(review, "agenda",
                lambda: review_agenda.build_agenda(review, g.membership, today_in_paris()),
                ReasonForm(formdata=None),
                notice=_("Ordre du jour préparé à partir de ce qui s'est passé depuis la revue précédente."))  # fmt: skip


@bp.post("/<int:review_id>/points")
@allow(Permission.ORGANISE_REVIEWS)
def add_point(review_id: int):
    review = _review(review_id)
    form = ItemForm()
    form.validate_on_submit()
    return _act(review, "agenda", lambda: review_agenda.add_item(review, g.membership, form.title.data,
                                                              form.duration_minutes.data or 10),
                form, notice=_("Point ajouté."), key="nouveau")  # fmt: skip


@bp.get("/<int:review_id>/points/<int:point_id>")
@allow(MEMBER)
def point(review_id: int, point_id: int):
    review = _review(review_id)
    item = _point(review, point_id)
    return _item_response(review, item, editing=bool(request.args.get("modifier")))


def _objectives(review):
    """Objectives an action decided in the meeting may go under: the meeting's draft if opened,
    else the plan in force (same uids: the draft is opened on the first such action)."""
    from app.plan.models import Objective
    from app.plan.versions import plan_in_force

    version_id = review.draft_version_id
    if version_id is None:
        in_force = plan_in_force(review.contract)
        version_id = in_force.id if in_force else None
    if version_id is None or review.status != "en_seance":
        return []
    return db.session.scalars(select(Objective).where(Objective.plan_version_id == version_id)
                              .order_by(Objective.id)).all()  # fmt: skip


def _item_context(review, item, *, editing=False, forms=None, notice=None, status_text=None):
    objectives = _objectives(review)
    return {"review": review, "item": item, "editing": editing, "forms": forms or {}, "notice": notice,
            "objectives": objectives, "total": review_agenda.total_minutes(review),
            "may_organise": g.membership.may(Permission.ORGANISE_REVIEWS) and not review.minutes_frozen,
            "may_comment": g.membership.may(Permission.COMMENT) and not review.minutes_frozen,
            "side": g.membership.side}  # fmt: skip


def _item_response(review, item, *, status=200, editing=False, forms=None, notice=None):
    return render(PAGE, "agenda_item", status=status,
                  **_item_context(review, item, editing=editing, forms=forms, notice=notice))  # fmt: skip


def _item_act(review, item, action, form, key: str, notice: str, editing=False):
    """Like `_act`, for one agenda item (its fragment)."""
    status = attempt(action, form)
    if status is not None:
        return _item_response(_review(review.id), _point(review, item.id), status=status,
                              editing=editing, forms={key: form})  # fmt: skip
    if wants_fragment():
        return _item_response(review, item, notice=notice)
    flash(notice, "success")
    return redirect(url_for(".show", review_id=review.id) + f"#point-{item.id}")


@bp.post("/<int:review_id>/points/<int:point_id>")
@allow(Permission.ORGANISE_REVIEWS)
def edit_point(review_id: int, point_id: int):
    review = _review(review_id)
    item = _point(review, point_id)
    form = ItemForm()
    form.validate_on_submit()
    return _item_act(review, item, lambda: review_agenda.edit_item(
        item, g.membership, title=form.title.data, duration_minutes=form.duration_minutes.data,
        presenter=form.presenter.data, details=form.details.data, seen_version=_version(form.version.data)),
        form, "item", _("Point enregistré."), editing=True)  # fmt: skip


@bp.post("/<int:review_id>/points/<int:point_id>/deplacer")
@allow(Permission.ORGANISE_REVIEWS)
def move_point(review_id: int, point_id: int):
    review = _review(review_id)
    item = _point(review, point_id)
    review_agenda.move_item(item, g.membership, -1 if request.form.get("direction") == "-1" else 1)
    if wants_fragment():
        return _show(review, "agenda")
    return redirect(url_for(".show", review_id=review.id) + "#ordre-du-jour")


@bp.post("/<int:review_id>/points/<int:point_id>/retirer")
@allow(Permission.ORGANISE_REVIEWS)
def remove_point(review_id: int, point_id: int):
    review = _review(review_id)
    review_agenda.remove_item(_point(review, point_id), g.membership)
    if wants_fragment():
        return _show(review, "agenda", notice=_("Point retiré de l'ordre du jour."))
    flash(_("Point retiré de l'ordre du jour."), "success")
    return redirect(url_for(".show", review_id=review.id))


@bp.post("/<int:review_id>/points/<int:point_id>/notes")
@allow(Permission.COMMENT)
def save_notes(review_id: int, point_id: int):
    review = _review(review_id)
    item = _point(review, point_id)
    form = NotesForm()
    return _item_act(review, item, lambda: review_meeting.save_notes(
        item, g.membership, form.notes.data, _version(form.version.data)), form, "notes",
        _("Notes enregistrées."))  # fmt: skip


@bp.post("/<int:review_id>/points/<int:point_id>/suite")
@allow(Permission.ORGANISE_REVIEWS)
def record_outcome(review_id: int, point_id: int):
    review = _review(review_id)
    item = _point(review, point_id)
    form = OutcomeForm()
    return _item_act(review, item, lambda: review_meeting.record_outcome(
        item, g.membership, kind=form.outcome_kind.data, text=form.outcome_text.data,
        seen_version=_version(form.version.data), objective_uid=form.objective_uid.data or "",
        owner_side=form.owner_side.data, due=form.due.data if form.due.validate(form) else None),
        form, "outcome", _("Suite enregistrée."))  # fmt: skip


@bp.post("/<int:review_id>/evaluations/<int:assessment_id>")
@allow(Permission.ORGANISE_REVIEWS)
def assess(review_id: int, assessment_id: int):
    review = _review(review_id)
    assessment = db.session.get(ResultAssessment, assessment_id)
    if assessment is None or assessment.review_id != review.id:
        abort(404)
    form = AssessmentForm()
    if g.membership.side == "titulaire":
        values = {"justification": form.justification.data or ""}
    else:
        met = {"oui": True, "non": False}.get(form.met.data or "")
        values = {"met": met, "decision": form.decision.data or None, "note": form.note.data or ""}
    return _act(review, "assessments", lambda: review_meeting.assess(
        assessment, g.membership, seen_version=_version(form.version.data), **values),
        form, notice=_("Évaluation enregistrée."), key=f"evaluation-{assessment.id}")  # fmt: skip


@bp.post("/<int:review_id>/seance/<meeting_step>")
@allow(Permission.ORGANISE_REVIEWS)
def meeting(review_id: int, meeting_step: str):
    step = meeting_step
    if step not in MEETING_STEPS:
        abort(404)
    review = _review(review_id)
    form = ReasonForm(formdata=None)
    action = {"ouvrir": review_meeting.start_meeting, "clore": review_meeting.close_meeting,
              "projet": review_meeting.open_meeting_draft}[step]  # fmt: skip
    notice = {"ouvrir": _("La séance est ouverte : les notes s'écrivent à plusieurs, en direct."),
              "clore": _("La séance est close : la partie dont c'est le tour rédige le compte-rendu."),
              "projet": _("Un projet de plan est ouvert pour la revue : les modifications du plan faites en séance y vont.")}[step]  # fmt: skip
    return _act(review, "header", lambda: action(review, g.membership), form, notice=notice)


@bp.post("/<int:review_id>/annuler")
@allow(Permission.ORGANISE_REVIEWS)
def cancel(review_id: int):
    review = _review(review_id)
    form = ReasonForm()
    form.validate_on_submit()
    return _act(review, "header", lambda: services.cancel_review(review, g.membership, form.reason.data),
                form, notice=_("Revue annulée : les participants sont prévenus."), key="annuler")  # fmt: skip


@bp.post("/<int:review_id>/compte-rendu/<minutes_step>")
@allow(Permission.ORGANISE_REVIEWS)
def minutes(review_id: int, minutes_step: str):
    step = minutes_step
    if step not in MINUTES_STEPS:
        abort(404)
    review = _review(review_id)
    form = (
        SummaryForm()
        if step == "synthese"
        else ReasonForm(formdata=None if step in ("soumettre", "approuver") else request.form)
    )
    form.validate_on_submit()
    me = g.membership

    def run():
        if step == "synthese":
            review_minutes.save_summary(review, me, form.summary.data, _version(form.version.data))
        elif step == "relais":
            review_minutes.hand_over(review, me, form.reason.data)
        elif step == "reprendre":
            review_minutes.request_changes(review, me, form.reason.data)
        elif step == "soumettre":
            review_minutes.submit_minutes(review, me)
        else:
            review_minutes.approve_minutes(review, me)

    notice = {
        "synthese": _("Synthèse enregistrée."),
        "relais": _("La rédaction du compte-rendu est confiée à l'autre partie."),
        "reprendre": _(
            "Le compte-rendu est renvoyé à la partie qui le rédige, avec votre commentaire."
        ),
        "soumettre": _("Compte-rendu soumis à l'autre partie."),
        "approuver": _("Compte-rendu approuvé : il est figé et envoyé aux participants."),
    }[step]
    return _act(review, "minutes", run, form, notice=notice, key=step)


# --- across contracts -----------------------------------------------------------------------

calendar_bp = Blueprint("calendar", __name__, url_prefix="/agenda", template_folder="templates")


@calendar_bp.get("/")
@allow(LOGGED_IN)
def upcoming():
    """The calendar of my coming reviews, all contracts together."""
    return render("reviews/calendar.html", reviews=services.upcoming_for(current_user))


@calendar_bp.get("/revues.ics")
@allow(LOGGED_IN)
def upcoming_ics():
    from app.reviews.invitations import ics_of

    return Response(ics_of(services.upcoming_for(current_user), name=_("Mes revues Progrès")),
                    mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="mes-revues.ics"'})  # fmt: skip
