"""TEST ONLY: Progrès without its lost-update guard, for the negative control of
test_no_lost_update.py (`gunicorn tests.security.naive_wsgi:app`). The app never imports it.

The one change: a save's base is whatever is stored now instead of the version the user saw
(`base_version` is still posted, and ignored). Nothing the user changed can then clash with
someone else's save, so every save is accepted and writes its whole form over the row: the
« last write wins » server the harness must prove it catches."""

from app import create_app
from app.plan import services


def _base_is_what_is_stored_now(item, version_number):
    return item.values()


services.snapshot_at = _base_is_what_is_stored_now
app = create_app()
