"""Difficulties (difficultés) raised by either side at any time, handled between reviews."""

from app.difficulties import models  # noqa: F401
