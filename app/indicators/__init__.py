"""Indicator values (mesures): due periods, entry, validation by the other side, trajectory
status and chart. Values hang on the indicator's uid, so they survive new plan versions."""

from app.indicators import models  # noqa: F401
