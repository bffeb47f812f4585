"""The schedule (planning) of actions and their follow-up: status, progress and actual dates
are execution data, kept by action uid outside the frozen plan versions."""

from app.schedule import models  # noqa: F401
