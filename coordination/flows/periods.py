"""The periods of the flows: whole UTC days, runs of consecutive days and whole months."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def utc_today() -> date:
    return datetime.now(tz=UTC).date()


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as half-open runs of consecutive days: ``[(first, last + 1 day), ...]``."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def whole_months(days: set[date]) -> list[date]:
    """The months (first days) all of whose days are among ``days``."""
    months = {day.replace(day=1) for day in days}
    return sorted(
        month
        for month in months
        if all(month + timedelta(days=n) in days for n in range((next_month(month) - month).days))
    )
