"""Duration histograms: the buckets of a duration, the aggregate columns that count them in
the database (live rows and rollup rows' JSON alike), and percentiles read from them.

Percentiles
-----------
From duration histograms over ``DURATION_BUCKETS`` (upper bounds, seconds; the last bucket is
open): the rank ``q * n`` is located in the cumulative bucket counts and the value is linearly
interpolated within that bucket. The estimate always falls in the same bucket as the true
percentile, so it is accurate to that bucket's width: within a minute under 1 minute, within
15 minutes up to 30 minutes, within an hour up to 2 hours, within 4 hours up to 12 hours, within
a day up to 3 days, within a week up to 3 weeks, within 15 to 30 days up to 3 months, within
90 to 185 days beyond. Past 365 days (the open bucket) the value given is 365 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import BigIntegerField, Case, Q, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from coordination.flows.suppression import SMALL_CELL
from coordination.models import DURATION_BUCKETS

BUCKET_COUNT = len(DURATION_BUCKETS) + 1  # the last bucket is open

PERCENTILE_METHOD = (
    "Estimated from duration histograms (bucket upper bounds in seconds: "
    + ", ".join(str(b) for b in DURATION_BUCKETS)
    + ", then open), interpolated linearly within the bucket holding the rank; accurate to "
    "that bucket's width (e.g. a value of 3 to 5 days is within 2 days). Past 365 days the "
    "value given is 365 days."
)


def histogram_percentile(histogram: Sequence[int], q: float) -> int | None:
    """The ``q`` quantile (0 < q < 1) of a duration histogram, in whole seconds; None for
    groups under ``SMALL_CELL``."""
    total = sum(histogram)
    if total < SMALL_CELL:
        return None
    rank = q * total
    cumulative = 0
    for index, in_bucket in enumerate(histogram):
        if in_bucket and cumulative + in_bucket >= rank:
            lower = 0 if index == 0 else DURATION_BUCKETS[index - 1]
            if index >= len(DURATION_BUCKETS):
                return lower
            upper = DURATION_BUCKETS[index]
            return round(lower + (upper - lower) * (rank - cumulative) / in_bucket)
        cumulative += in_bucket
    return None  # pragma: no cover - the loop always reaches the rank


def bucket_index(seconds: int) -> int:
    for index, upper in enumerate(DURATION_BUCKETS):
        if seconds <= upper:
            return index
    return len(DURATION_BUCKETS)


def _bucket_condition(field_name: str, index: int) -> Q:
    condition = Q()
    if index > 0:
        condition &= Q(**{f"{field_name}__gt": DURATION_BUCKETS[index - 1]})
    if index < len(DURATION_BUCKETS):
        condition &= Q(**{f"{field_name}__lte": DURATION_BUCKETS[index]})
    return condition


def histogram_sums(field_name: str, prefix: str, only: Q | None = None) -> dict[str, Sum]:
    """One ``Sum(Case(When(...)))`` per duration bucket: the histogram of ``field_name`` as
    aggregate columns ``<prefix>0 .. <prefix>23`` (NULL durations fall in no bucket)."""
    sums = {}
    for index in range(BUCKET_COUNT):
        condition = _bucket_condition(field_name, index)
        if only is not None:
            condition &= only
        sums[f"{prefix}{index}"] = Sum(
            Case(When(condition, then=Value(1)), default=Value(0)), output_field=BigIntegerField()
        )
    return sums


def rollup_histogram_sums(json_field: str, prefix: str, only: Q | None = None) -> dict[str, Sum]:
    """The same columns summed from rollup rows' JSON histograms, element by element."""
    sums = {}
    for index in range(BUCKET_COUNT):
        element = Cast(KeyTextTransform(str(index), json_field), BigIntegerField())
        value = element if only is None else Case(When(only, then=element), default=None)
        sums[f"{prefix}{index}"] = Sum(value, output_field=BigIntegerField())
    return sums


def histogram_from_row(row: dict[str, Any], prefix: str) -> list[int]:
    return [int(row.get(f"{prefix}{i}") or 0) for i in range(BUCKET_COUNT)]


def compact_histogram(histogram: Sequence[int]) -> list[int]:
    """Trailing empty buckets dropped (readers treat missing buckets as empty)."""
    values = list(histogram)
    while values and not values[-1]:
        values.pop()
    return values
