"""The copy of a stored document shown with its valid visas' stamps: rendered again from the
request (same layout: the original holds pending boxes of the stamps' height), its stamps citing
the stored original's hash, and kept per process by what it is made of."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app

from app.changes.documents import build
from app.changes.formalisation import current_documents, valid_visas
from app.changes.models import ChangeDocument, ChangeVisa
from app.difficulties.deadlines import PARIS


class _StampedCache:
    """The last stamped PDFs of this process, by what they are made of. A visa is never edited
    and a regenerated document has a new hash, so an entry never goes stale; the render takes
    about a second (WeasyPrint) and both parties download the same copy again and again."""

    def __init__(self, size: int = 32):
        self.size, self.entries, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        return None

    def put(self, key, data: bytes) -> None:
        with self.lock:
            self.entries[key] = data
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _stamped_cache() -> _StampedCache:
    return current_app.extensions.setdefault("progres.stamped_pdfs", _StampedCache())


def stamped_pdf(document: ChangeDocument) -> bytes:
    """The stored document rendered again with its valid visas' stamps (same layout: the
    original holds pending boxes of the stamps' height)."""
    visas = valid_visas(document)
    letter = current_documents(document.change_request).get("lettre")
    key = (document.id, document.sha256, tuple(sorted(v.id for v in visas.values())),
           letter.sha256 if letter and document.kind == "acceptation" else None)  # fmt: skip
    cache = _stamped_cache()
    data = cache.get(key)
    if data is None:
        data = _render_stamped(document, list(visas.values()))
        cache.put(key, data)
    return data


def _render_stamped(document: ChangeDocument, visas: list[ChangeVisa]) -> bytes:
    from app.changes.documents.render import acceptance_pdf, amendment_pdf, letter_pdf

    change = document.change_request
    day = document.created_at.astimezone(PARIS).date()
    if document.kind == "avenant":
        return amendment_pdf(
            build.amendment_document(change, today=day, draft_date=day, visas=visas)
        )
    if document.kind == "lettre":
        return letter_pdf(build.letter_document(change, today=day, visas=visas))
    letter = current_documents(change).get("lettre")
    return acceptance_pdf(build.acceptance_document(
        change, letter_date=letter.created_at.astimezone(PARIS).date() if letter else day,
        letter_sha256=letter.sha256 if letter else "", today=day, visas=visas))  # fmt: skip
