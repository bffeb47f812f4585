"""Public pages every site owes its users: the accessibility statement."""

from flask import Blueprint

from app.permissions import PUBLIC, allow
from app.rendering import render

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/accessibilite")
@allow(PUBLIC)
def accessibility():
    return render("pages/accessibility.html")
