"""Notifications: in-app (the bell) and by e-mail through the outbox, immediately or in a
daily digest as each person chooses per kind."""

from app.notifications import models  # noqa: F401
