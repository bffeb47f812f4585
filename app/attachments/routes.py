"""Downloading an attachment of the contract: `/contrats/<id>/pieces/<attachment_id>`."""

import logging

from flask import Blueprint, abort, g, send_file

from app.attachments import init_attachments, services
from app.extensions import talisman
from app.permissions import MEMBER, allow

bp = Blueprint("attachments", __name__, url_prefix="/pieces")
log = logging.getLogger("progres.attachments")
bp.record_once(lambda state: init_attachments(state.app))  # the app's antivirus scanner

# The file is never a page of ours: nothing in it may run, load or be framed (ASVS 3.2.1).
# `sandbox` without `allow-scripts` stops every script, so `script-src 'self'` adds nothing;
# it is there with the app-wide base-uri, object-src and frame-ancestors so that the
# invariants every response keeps (tests/security/test_headers.py) hold here too.
DOWNLOAD_CSP = (
    "default-src 'none'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; sandbox"
)


@bp.get("/<int:attachment_id>")
@allow(MEMBER)
@talisman(content_security_policy=DOWNLOAD_CSP)  # Talisman sets the CSP after every view
def download(attachment_id: int):
    attachment = services.attachment_for(g.contract, attachment_id)
    if attachment is None:
        abort(404)
    path = services.file_path(attachment)
    if not path.is_file():
        log.error(
            "attachment.file_missing id=%s contract=%s key=%s",
            attachment.id,
            attachment.contract_id,
            attachment.storage_key,
        )
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.mime,
        as_attachment=True,
        download_name=attachment.display_name,
        max_age=0,
        conditional=False,
        etag=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # `no-store` alone already keeps it out of every cache, shared or private; the app-wide
    # after_request sets exactly this value for a logged-in person (security.no_store_for_people).
    response.headers["Cache-Control"] = "no-store"
    return response
