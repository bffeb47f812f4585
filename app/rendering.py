"""Page or fragment from the same template (CONVENTIONS habit 5)."""

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_blocks

from app.extensions import htmx


def wants_fragment() -> bool:
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, *blocks: str, status: int = 200, **context) -> Response:
    """Full page for a normal, boosted or history-restore request; else only `blocks`."""
    if blocks and wants_fragment():
        body = render_blocks(template, list(blocks), **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def render_fragment(template: str, *blocks: str, status: int = 200, **context) -> Response:
    """Only `blocks`, whatever the request: for answers that only make sense inside a page."""
    response = make_response(render_blocks(template, list(blocks), **context), status)
    response.vary.add("HX-Request")
    return response


def deferred(large: bool) -> bool:
    """Whether to answer with the page and its big section still to come: htmx fetches that
    section from the same address as soon as the page is shown (macros/deferred.html), so the
    first response stays small. A fragment request gets the section itself; without JavaScript
    the <noscript> link asks for the whole page with ?complet=1."""
    return large and not wants_fragment() and "complet" not in request.args
