"""Working days in France: the response deadline of a difficulty counts neither weekends nor
public holidays (the `holidays` package's metropolitan calendar; Alsace-Moselle's two extra
days are not counted)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (a difficulty raised on Friday with 5 days is
    due the next Friday, later if a public holiday falls in between)."""
    day, left = start, count
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def today_in_paris(now: datetime | None = None) -> date:
    return (now or datetime.now(tz=PARIS)).astimezone(PARIS).date()
