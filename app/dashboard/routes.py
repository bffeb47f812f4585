"""The contract's dashboard (tableau de bord)."""

from flask import Blueprint, g

from app.changes.models import STATUSES as CHANGE_STATUSES
from app.dashboard.services import summaries
from app.difficulties.deadlines import today_in_paris
from app.indicators.services import STATUSES, reference_version_shown
from app.permissions import MEMBER, allow
from app.plan.tree import is_large
from app.rendering import deferred, render

bp = Blueprint("dashboard", __name__, url_prefix="/tableau-de-bord", template_folder="templates")


@bp.get("/")
@allow(MEMBER)
def show():
    if deferred(is_large(reference_version_shown(g.contract))):
        return render("dashboard/show.html", deferred=True)
    today = today_in_paris()
    (summary,) = summaries([g.contract], today, {g.contract.id: g.membership})
    return render("dashboard/show.html", "dashboard", summary=summary, today=today,
                  indicator_statuses=STATUSES, change_statuses=CHANGE_STATUSES)  # fmt: skip
