"""The periods an indicator is measured over, and the trajectory it should follow.

Rule (shown to users on the indicator page): periods are calendar months, quarters, half-years
or years, by the indicator's periodicity. The first is the first one starting on or after the
baseline date (a period already under way at the baseline is what the baseline measured); the
last is the one holding the target date.
A period is due once it has ended. Without a baseline date, the contract's notification date
stands in for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise

from flask_babel import format_date
from flask_babel import gettext as _

MONTHS = {"mensuelle": 1, "trimestrielle": 3, "semestrielle": 6, "annuelle": 12}
MAX_PERIODS = 240  # twenty years of months: a typo in a date never loops for long


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    months: int

    @property
    def label(self) -> str:
        if self.months == 1:
            return format_date(self.start, "MMM y")
        if self.months == 3:
            return _("T%(n)d %(year)d", n=(self.start.month - 1) // 3 + 1, year=self.start.year)
        if self.months == 6:
            return _("S%(n)d %(year)d", n=(self.start.month - 1) // 6 + 1, year=self.start.year)
        return str(self.start.year)

    def is_due(self, today: date) -> bool:
        return self.end < today


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_containing(day: date, months: int) -> Period:
    start = date(day.year, (day.month - 1) // months * months + 1, 1)
    return Period(start, _add_months(start, months) - timedelta(days=1), months)


@lru_cache(maxsize=4096)  # indicators of a contract share a few (periodicity, baseline, today)
def periods(periodicity: str, baseline: date, until: date) -> tuple[Period, ...]:
    """From the first period starting on or after the baseline to the one holding `until`."""
    months = MONTHS[periodicity]
    current = period_containing(baseline, months)
    found = [current] if current.start >= baseline else []
    while current.end < until and len(found) < MAX_PERIODS:
        current = period_containing(current.end + timedelta(days=1), months)
        found.append(current)
    return tuple(found)


def trajectory_points(indicator) -> list[tuple[date, Decimal, bool]]:
    """(date, expected value, is a milestone): baseline, milestones (montée en puissance), target."""
    points = []
    if indicator.baseline_date and indicator.baseline_value is not None:
        points.append((indicator.baseline_date, indicator.baseline_value, False))
    points += [(m.due_date, m.value, True) for m in indicator.milestones
               if m.due_date and m.value is not None]  # fmt: skip
    if indicator.target_date and indicator.target_value is not None:
        points.append((indicator.target_date, indicator.target_value, False))
    return sorted(points, key=lambda p: p[0])


def expected_at(indicator, day: date) -> Decimal | None:
    """The trajectory's value on `day`: straight lines between its points, flat after the last
    one, none before the first."""
    points = trajectory_points(indicator)
    if not points or day < points[0][0]:
        return None
    for (d0, v0, _m0), (d1, v1, _m1) in pairwise(points):
        if d0 <= day <= d1:
            if d1 == d0:
                return v1
            share = Decimal((day - d0).days) / Decimal((d1 - d0).days)
            return v0 + (v1 - v0) * share
    return points[-1][1]
